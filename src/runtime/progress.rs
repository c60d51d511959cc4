//! Snapshots of how far a task has come, read by polling or as a stream.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::Stream;

use crate::Estimate;
use crate::runtime::blocking::BlockingPool;

/// A snapshot of a task's progress: work done, the total when known, and
/// the running estimate when there is one.
///
/// For an integral the unit of work is one sample, `done` counts the samples
/// of the chunks merged so far, and `estimate` is the estimate of that
/// merged prefix (its `stop` is [`Stop::Partial`](crate::Stop::Partial)
/// until the run ends). A cancelled task keeps its last snapshot, so the
/// work it did is not lost.
///
/// # Examples
///
/// ```
/// use quadpipe::{Executor, Integral};
///
/// let executor = Executor::builder().threads(2).build()?;
/// let mut task = Integral::new(|x| x * x, 0.0..1.0).samples(1 << 20).spawn_on(&executor);
/// let estimate = executor.block_on(&mut task)?;
///
/// let progress = task.progress();
/// assert_eq!(progress.done, 1 << 20);
/// assert_eq!(progress.fraction(), Some(1.0));
/// assert_eq!(progress.estimate, Some(estimate));
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Units of work done.
    pub done: u64,
    /// Units of work in all, when known in advance.
    pub total: Option<u64>,
    /// The estimate from the work done so far, when the task makes one.
    pub estimate: Option<Estimate>,
}

impl Progress {
    /// `done / total` in `[0, 1]`, when the total is known and not zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let progress = quadpipe::Progress::default();
    /// assert_eq!(progress.fraction(), None);
    /// ```
    pub fn fraction(&self) -> Option<f64> {
        match self.total {
            Some(total) if total > 0 => Some(self.done as f64 / total as f64),
            _ => None,
        }
    }
}

/// Where a running task publishes its progress and its handles and streams
/// read it.
///
/// One writer (the task's driver) replaces the snapshot at each chunk merge
/// and wakes whoever watches: the writer never waits for a reader, and a
/// slow reader finds only the latest snapshot, never a backlog.
#[derive(Debug, Default)]
pub(crate) struct ProgressCell {
    state: Mutex<CellState>,
}

#[derive(Debug, Default)]
struct CellState {
    snapshot: Progress,
    /// Counts the snapshots published, so a stream knows what it has seen.
    version: u64,
    /// The task has ended; no snapshot comes after the current one.
    closed: bool,
    /// Streams waiting for the next snapshot.
    watchers: Vec<Waker>,
    /// Hooks from `Task::on_progress`, told of each snapshot.
    hooks: Vec<Arc<Hook>>,
}

impl ProgressCell {
    fn lock(&self) -> MutexGuard<'_, CellState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self) -> Progress {
        self.lock().snapshot.clone()
    }

    /// Publishes `progress`; the same snapshot again is not news.
    pub(crate) fn set(&self, progress: Progress) {
        let (watchers, hooks, version) = {
            let mut state = self.lock();
            if state.snapshot == progress {
                return;
            }
            state.snapshot = progress.clone();
            state.version += 1;
            // Cloning an empty list allocates nothing: tasks without hooks
            // pay nothing for them.
            (
                std::mem::take(&mut state.watchers),
                state.hooks.clone(),
                state.version,
            )
        };
        watchers.into_iter().for_each(Waker::wake);
        for hook in hooks {
            hook.post(version, progress.clone(), false);
        }
    }

    /// Marks the end of the task: streams end after the current snapshot,
    /// and hooks after it are dropped.
    pub(crate) fn close(&self) {
        let (watchers, hooks, version, snapshot) = {
            let mut state = self.lock();
            state.closed = true;
            (
                std::mem::take(&mut state.watchers),
                std::mem::take(&mut state.hooks),
                state.version,
                state.snapshot.clone(),
            )
        };
        watchers.into_iter().for_each(Waker::wake);
        for hook in hooks {
            hook.post(version, snapshot.clone(), true);
        }
    }

    /// Calls `hook` with the current snapshot and each later one; see
    /// [`Hook`].
    pub(crate) fn add_hook(&self, hook: impl FnMut(&Progress) + Send + 'static) {
        let hook = Arc::new(Hook {
            state: Mutex::new(HookState {
                hook: Some(Box::new(hook)),
                latest: None,
                seen: None,
                ended: false,
                scheduled: false,
            }),
        });
        let (version, snapshot, closed) = {
            let mut state = self.lock();
            if !state.closed {
                state.hooks.push(hook.clone());
            }
            (state.version, state.snapshot.clone(), state.closed)
        };
        hook.post(version, snapshot, closed);
    }

    /// The snapshot after version `seen` (any snapshot if `None`), or the
    /// end, or a promise to wake `cx` when there is one of the two.
    fn poll_after(&self, seen: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<Option<Progress>> {
        let mut state = self.lock();
        if *seen != Some(state.version) {
            *seen = Some(state.version);
            return Poll::Ready(Some(state.snapshot.clone()));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        if !state.watchers.iter().any(|w| w.will_wake(cx.waker())) {
            state.watchers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A task's progress as a [`Stream`] of snapshots, from
/// [`Task::progress_stream`](crate::Task::progress_stream).
///
/// The first item is the snapshot current when the stream is first polled;
/// after that, one item per new snapshot, coalesced: a consumer slower than
/// the task sees the latest snapshot and skips the ones in between, and the
/// task never waits for it. The stream ends after the task has ended and
/// its final snapshot has been yielded. It needs no particular runtime, and
/// any number of streams may watch one task.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use quadpipe::{Executor, Integral};
///
/// let executor = Executor::builder().threads(2).build()?;
/// let task = Integral::new(f64::sqrt, 0.0..1.0).samples(1 << 20).chunk_size(1 << 14).spawn_on(&executor);
/// let snapshots: Vec<_> = pollster::block_on(task.progress_stream().collect());
///
/// let last = snapshots.last().unwrap();
/// assert_eq!(last.done, 1 << 20);
/// assert!(snapshots.windows(2).all(|pair| pair[0].done <= pair[1].done));
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct ProgressStream {
    cell: Arc<ProgressCell>,
    seen: Option<u64>,
}

impl ProgressStream {
    pub(crate) fn new(cell: Arc<ProgressCell>) -> Self {
        ProgressStream { cell, seen: None }
    }
}

impl Stream for ProgressStream {
    type Item = Progress;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Progress>> {
        let this = &mut *self;
        this.cell.poll_after(&mut this.seen, cx)
    }
}

/// The most hook calls in progress at once, on threads of their own: far
/// more than hooks that return promptly ever need (a call holds a thread
/// only while it runs), so hooks that block, up to this many, do not
/// starve the others; beyond it, calls wait for a thread to free up.
const MAX_HOOK_THREADS: usize = 4096;

/// Threads that call progress hooks, shared by every task and executor,
/// since a hook must not take a worker. A thread is taken per call, not
/// per hook: a hook holds none between snapshots.
fn hook_threads() -> &'static BlockingPool {
    static HOOK_THREADS: OnceLock<BlockingPool> = OnceLock::new();
    HOOK_THREADS.get_or_init(|| {
        BlockingPool::with_max_threads("quadpipe-progress".to_owned(), MAX_HOOK_THREADS)
    })
}

type HookFn = Box<dyn FnMut(&Progress) + Send>;

/// One `on_progress` hook: a mailbox of one snapshot, and the hook.
///
/// The task posts each snapshot here (overwriting one not yet delivered,
/// so a slow hook sees the latest and skips the rest) and, if no call is
/// scheduled, schedules one on [`hook_threads`]. That call delivers
/// snapshots until the mailbox is empty, then gives its thread back. So
/// the task never waits for its hook, a hook needs no thread of its own
/// between snapshots, and a slow hook delays only itself.
pub(crate) struct Hook {
    state: Mutex<HookState>,
}

struct HookState {
    /// `None` while a call is running (it holds the hook), or once the
    /// hook panicked or saw the final snapshot.
    hook: Option<HookFn>,
    /// The newest snapshot not yet delivered, with its version.
    latest: Option<(u64, Progress)>,
    /// The version last delivered, so that one is never delivered twice.
    seen: Option<u64>,
    /// The task ended: after `latest`, nothing more comes.
    ended: bool,
    /// A call is queued or running.
    scheduled: bool,
}

impl Hook {
    fn lock(&self) -> MutexGuard<'_, HookState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Leaves snapshot `version` for the hook and makes sure a call will
    /// deliver it.
    fn post(self: &Arc<Self>, version: u64, snapshot: Progress, ended: bool) {
        let mut state = self.lock();
        let newer = match (&state.latest, state.seen) {
            (Some((latest, _)), _) => version > *latest,
            (None, Some(seen)) => version > seen,
            (None, None) => true,
        };
        if newer {
            state.latest = Some((version, snapshot));
        }
        state.ended |= ended;
        if state.scheduled {
            return;
        }
        state.scheduled = true;
        drop(state);
        let hook = self.clone();
        if hook_threads().submit(move || hook.deliver()).is_err() {
            // No thread could be started: the next snapshot tries again.
            self.lock().scheduled = false;
        }
    }

    /// Calls the hook with each snapshot posted, until none is waiting.
    fn deliver(&self) {
        loop {
            let (snapshot, mut hook) = {
                let mut state = self.lock();
                let next = state.latest.take();
                match next {
                    Some((version, snapshot)) if state.seen != Some(version) => {
                        state.seen = Some(version);
                        (snapshot, state.hook.take())
                    }
                    Some(_) => continue,
                    None => {
                        // Nothing comes after the final snapshot: drop the
                        // hook, outside the lock, since its captures' drops
                        // are user code.
                        let finished = if state.ended { state.hook.take() } else { None };
                        state.scheduled = false;
                        drop(state);
                        drop(finished);
                        return;
                    }
                }
            };
            let Some(call) = hook.as_mut() else {
                continue;
            };
            // A hook that panics is not called again; the task goes on.
            if catch_unwind(AssertUnwindSafe(|| call(&snapshot))).is_ok() {
                self.lock().hook = hook;
            }
        }
    }
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook").finish_non_exhaustive()
    }
}
