//! Threads for blocking work, kept apart from the workers that run tasks.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

/// How long an idle blocking thread waits for more work before it exits.
/// Long enough that a burst of blocking calls reuses threads, short enough
/// that an idle process holds no extra threads for long (the `blocking`
/// crate waits 500 ms).
const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// At most this many blocking threads at once, by default; further work
/// queues. The cap guards against a runaway loop spawning threads without
/// bound (the `blocking` crate caps at 500 for the same reason).
const MAX_THREADS: usize = 512;

type Job = Box<dyn FnOnce() + Send>;

/// A pool that grows a thread whenever work arrives and none is idle, and
/// shrinks as threads sit idle. Blocking work therefore never waits for a
/// worker that runs tasks, and never holds one up.
#[derive(Debug)]
pub(crate) struct BlockingPool {
    shared: Arc<Shared>,
    name: String,
    max_threads: usize,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    work_or_shutdown: Condvar,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Threads alive, running a job or waiting for one.
    threads: usize,
    /// Threads running a job.
    busy: usize,
    shut_down: bool,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("queued", &self.queue.len())
            .field("threads", &self.threads)
            .field("busy", &self.busy)
            .field("shut_down", &self.shut_down)
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BlockingPool {
    pub(crate) fn new(name: String) -> Self {
        BlockingPool::with_max_threads(name, MAX_THREADS)
    }

    /// A pool of at most `max_threads` threads at once.
    pub(crate) fn with_max_threads(name: String, max_threads: usize) -> Self {
        BlockingPool {
            shared: Arc::default(),
            name,
            max_threads: max_threads.max(1),
        }
    }

    /// Queues `job`, starting a thread for it if none is idle.
    pub(crate) fn submit(&self, job: impl FnOnce() + Send + 'static) -> io::Result<()> {
        let mut state = self.shared.lock();
        state.queue.push_back(Box::new(job));
        // Every queued job needs a thread that is not busy to pick it up.
        let free = state.threads - state.busy;
        if state.queue.len() <= free || state.threads >= self.max_threads {
            self.shared.work_or_shutdown.notify_one();
        } else {
            let shared = self.shared.clone();
            thread::Builder::new()
                .name(self.name.clone())
                .spawn(move || shared.serve())
                .inspect_err(|_| {
                    state.queue.pop_back();
                })?;
            state.threads += 1;
        }
        Ok(())
    }
}

impl Drop for BlockingPool {
    /// Drops queued work (its handles see a cancel) and lets the threads
    /// exit. A closure already running cannot be interrupted: its thread
    /// exits when the closure returns, so threads are not joined here.
    fn drop(&mut self) {
        let queued = {
            let mut state = self.shared.lock();
            state.shut_down = true;
            std::mem::take(&mut state.queue)
        };
        self.shared.work_or_shutdown.notify_all();
        drop(queued);
    }
}

impl Shared {
    fn serve(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                state.busy += 1;
                drop(state);
                // Jobs catch their own panics (`Task::blocking`).
                job();
                state = self.lock();
                state.busy -= 1;
                continue;
            }
            if state.shut_down {
                break;
            }
            let (next, timeout) = self
                .work_or_shutdown
                .wait_timeout(state, IDLE_TIMEOUT)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}
