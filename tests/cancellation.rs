//! Cancelling or dropping a run stops its chunks, leaks nothing, and leaves
//! the executor ready for the next task.

mod common;

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use common::{DropGuard, eventually, watchdog};
use futures::FutureExt;
use quadpipe::{Error, Executor, Integral, Integrand, Method, Status, Stop};

/// A chunk looks at the cancel flag before every 1024 steps of 16 lanes,
/// and once after its first step: a chunk running when the cancel lands
/// evaluates at most this many more points.
const CALLS_PER_CHECK: u64 = 1024 * 16 + 16;

const THREADS: usize = 2;

/// An integral far too long to finish, that counts its integrand's calls
/// and whose integrand holds a drop guard.
fn endless(calls: &Arc<AtomicU64>, live: &Arc<AtomicUsize>) -> Integral<impl Integrand> {
    let counter = calls.clone();
    let guard = DropGuard::new(live);
    Integral::new(
        move |x| {
            let _holds = &guard;
            counter.fetch_add(1, Ordering::Relaxed);
            x
        },
        0.0..1.0,
    )
    .samples(1 << 50)
    .chunk_size(1 << 16)
}

/// Waits until the integrand's call count stops moving, and returns it.
fn settled(calls: &AtomicU64) -> u64 {
    let mut last = calls.load(Ordering::SeqCst);
    assert!(eventually(|| {
        thread::sleep(Duration::from_millis(20));
        let now = calls.load(Ordering::SeqCst);
        std::mem::replace(&mut last, now) == now
    }));
    last
}

/// Checks what a cancel at `at_cancel` integrand calls must leave behind:
/// only chunks already running went on, and only to their next check
/// (queued chunks never started); every copy of the integrand is gone, so
/// no chunk, job or task leaked; and the executor works as before.
fn assert_stopped_cleanly(
    calls: &AtomicU64,
    live: &AtomicUsize,
    at_cancel: u64,
    executor: &Executor,
) {
    let after = settled(calls);
    assert!(
        after - at_cancel <= THREADS as u64 * CALLS_PER_CHECK,
        "{} calls after the cancel",
        after - at_cancel
    );
    assert!(eventually(|| live.load(Ordering::SeqCst) == 0));
    executor_still_works(executor);
}

/// After a cancel, the executor gives the same bits as ever.
fn executor_still_works(executor: &Executor) {
    let integral = Integral::new(|x| x * x, 0.0..1.0).samples(1 << 18).seed(11);
    let reference = pollster::block_on(integral.run_inline()).unwrap();
    let again = executor.block_on(integral.spawn_on(executor)).unwrap();
    assert_eq!(again, reference);
}

#[test]
fn cancel_stops_chunks_at_once() {
    watchdog(|| {
        let executor = Executor::builder().threads(THREADS).build().unwrap();
        let (calls, live) = (Arc::default(), Arc::default());
        let integral = endless(&calls, &live);
        let mut task = integral.spawn_on(&executor);
        drop(integral);
        assert!(eventually(|| task.progress().done >= 2 << 16));

        task.cancel();
        let at_cancel = calls.load(Ordering::SeqCst);
        assert_eq!(task.status(), Status::Cancelled);
        assert!(matches!(
            executor.block_on(&mut task),
            Err(Error::Cancelled)
        ));
        assert_stopped_cleanly(&calls, &live, at_cancel, &executor);
    });
}

#[test]
fn dropping_the_handle_cancels() {
    watchdog(|| {
        let executor = Executor::builder().threads(THREADS).build().unwrap();
        let (calls, live) = (Arc::default(), Arc::default());
        let task = endless(&calls, &live).spawn_on(&executor);
        assert!(eventually(|| calls.load(Ordering::SeqCst) > 1 << 16));

        drop(task);
        let at_drop = calls.load(Ordering::SeqCst);
        assert_stopped_cleanly(&calls, &live, at_drop, &executor);
    });
}

#[test]
fn dropping_a_run_future_cancels() {
    watchdog(|| {
        let executor = Executor::builder().threads(THREADS).build().unwrap();
        let (calls, live) = (Arc::default(), Arc::default());
        let integral = endless(&calls, &live);
        let at_drop = pollster::block_on(async {
            let mut run = pin!(integral.run_on(&executor));
            // The first poll puts a window of chunks on the pool.
            assert!(run.as_mut().now_or_never().is_none());
            assert!(eventually(|| calls.load(Ordering::SeqCst) > 1 << 16));
            calls.load(Ordering::SeqCst)
            // `run` is dropped here.
        });
        drop(integral);
        assert_stopped_cleanly(&calls, &live, at_drop, &executor);
    });
}

#[test]
fn detached_tasks_run_to_the_end() {
    watchdog(|| {
        let executor = Executor::builder().threads(THREADS).build().unwrap();
        let calls = Arc::new(AtomicU64::new(0));
        let counter = calls.clone();
        Integral::new(
            move |x| {
                counter.fetch_add(1, Ordering::Relaxed);
                x
            },
            0.0..1.0,
        )
        .samples(1 << 20)
        .spawn_on(&executor)
        .detach();
        // Every sample, and the two probes of the task's checkpoints.
        assert!(eventually(|| calls.load(Ordering::SeqCst) == (1 << 20) + 2));
    });
}

/// A Gauss–Kronrod run cancelled mid-run stops there: its status is
/// cancelled, and its progress keeps the sum so far (± the sum of the
/// error estimates), marked partial, with the evaluations merged.
#[test]
fn a_cancelled_quadrature_keeps_its_partial_estimate() {
    watchdog(|| {
        let executor = Executor::builder().threads(THREADS).build().unwrap();
        // Every evaluation after the first 400 waits for the gate: 19
        // chunks of 21 have merged by then.
        let (calls, open) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (counter, gate) = (calls.clone(), open.clone());
        let integral = Integral::new(
            move |x: f64| {
                if counter.fetch_add(1, Ordering::SeqCst) >= 400 {
                    while !gate.load(Ordering::SeqCst) {
                        thread::sleep(Duration::from_millis(1));
                    }
                }
                (200.0 * x).cos()
            },
            0.0..1.0,
        )
        .method(Method::GAUSS_KRONROD)
        .tolerance(0.0, 1e-12);
        let task = integral.spawn_on(&executor);
        assert!(eventually(|| calls.load(Ordering::SeqCst) > 400));
        task.cancel();
        open.store(true, Ordering::SeqCst);
        assert!(eventually(|| task.status() == Status::Cancelled));
        let progress = task.progress();
        let estimate = progress.estimate.expect("a partial estimate");
        assert_eq!(estimate.stop, Stop::Partial);
        assert!(estimate.value.is_finite() && estimate.std_error > 0.0);
        assert_eq!(progress.total, None);
        assert_eq!(progress.done % 21, 0);
        assert!(
            progress.done > 0 && progress.done <= 400,
            "{}",
            progress.done
        );
        assert!(matches!(executor.block_on(task), Err(Error::Cancelled)));
        // Only the chunks held at the gate went on.
        assert!(settled(&calls) <= 400 + THREADS as u64 * 21);
        executor_still_works(&executor);
    });
}
