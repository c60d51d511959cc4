//! How a worker thread waits for work: `pollster::block_on`'s loop, but a
//! worker whose tasks ran out keeps looking for a short while before it
//! sleeps. On a virtual machine, waking a thread whose virtual CPU has
//! halted costs tens of microseconds; a run that follows another (a
//! service's next request, a method's next pass, a batch of runs) finds
//! the workers still awake and starts at once. The cost is a short look
//! after each burst of work, yielding the core to any thread that wants
//! it.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long a worker looks for new work before it sleeps: a few wake-ups'
/// worth on a virtual machine, a small fraction of a millisecond.
pub(crate) const LOOK_BEFORE_SLEEP: Duration = Duration::from_micros(100);

/// Drives `future` on this thread to its end; between polls, looks for a
/// wake for `look` before it parks.
pub(crate) fn block_on_looking<F: Future>(future: F, look: Duration) -> F::Output {
    let signal = Arc::new(Signal {
        woken: AtomicBool::new(false),
        thread: thread::current(),
    });
    let waker = Waker::from(signal.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        let idle = Instant::now();
        while !signal.woken.swap(false, Ordering::Acquire) {
            if idle.elapsed() < look {
                thread::yield_now();
            } else {
                // A wake between the look and the park leaves the
                // thread's token set: the park returns at once.
                thread::park();
            }
        }
    }
}

/// A worker's waker: a flag it looks at, and its thread to unpark.
struct Signal {
    woken: AtomicBool,
    thread: Thread,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Once per wake: a flag already set will be seen before any park.
        if !self.woken.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::oneshot;

    #[test]
    fn a_wake_from_another_thread_ends_the_wait_looking_or_asleep() {
        for delay in [Duration::ZERO, Duration::from_millis(20)] {
            let (sender, receiver) = oneshot::channel();
            let (done, finished) = std::sync::mpsc::channel();
            // The wait on a thread of its own, so that a lost wake fails
            // the test instead of hanging it.
            thread::spawn(move || done.send(block_on_looking(receiver, LOOK_BEFORE_SLEEP)));
            thread::sleep(delay);
            sender.send(7).unwrap();
            let output = finished.recv_timeout(Duration::from_secs(10));
            assert_eq!(output, Ok(Ok(7)), "woken after {delay:?}");
        }
    }
}
