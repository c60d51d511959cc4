//! Snapshots of how far a task has come, read by polling or as a stream.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::{Stream, StreamExt};

use crate::Estimate;
use crate::blocking::BlockingPool;

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
#[derive(Clone, Copy, Debug, Default, PartialEq)]
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
}

impl ProgressCell {
    fn lock(&self) -> MutexGuard<'_, CellState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self) -> Progress {
        self.lock().snapshot
    }

    /// Publishes `progress`; the same snapshot again is not news.
    pub(crate) fn set(&self, progress: Progress) {
        let watchers = {
            let mut state = self.lock();
            if state.snapshot == progress {
                return;
            }
            state.snapshot = progress;
            state.version += 1;
            std::mem::take(&mut state.watchers)
        };
        watchers.into_iter().for_each(Waker::wake);
    }

    /// Marks the end of the task: streams end after the current snapshot.
    pub(crate) fn close(&self) {
        let watchers = {
            let mut state = self.lock();
            state.closed = true;
            std::mem::take(&mut state.watchers)
        };
        watchers.into_iter().for_each(Waker::wake);
    }

    /// The snapshot after version `seen` (any snapshot if `None`), or the
    /// end, or a promise to wake `cx` when there is one of the two.
    fn poll_after(&self, seen: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<Option<Progress>> {
        let mut state = self.lock();
        if *seen != Some(state.version) {
            *seen = Some(state.version);
            return Poll::Ready(Some(state.snapshot));
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

/// Threads for [`watch`]: one per watched task while it runs, shared by
/// every executor, since a hook must not take a worker.
fn hook_threads() -> &'static BlockingPool {
    static HOOK_THREADS: OnceLock<BlockingPool> = OnceLock::new();
    HOOK_THREADS.get_or_init(|| BlockingPool::new("quadpipe-progress".to_owned()))
}

/// Calls `hook` with each item of `snapshots` on a thread of its own,
/// until the stream ends or the hook panics.
pub(crate) fn watch(
    mut snapshots: ProgressStream,
    mut hook: impl FnMut(&Progress) + Send + 'static,
) {
    let job = move || {
        while let Some(snapshot) = pollster::block_on(snapshots.next()) {
            if catch_unwind(AssertUnwindSafe(|| hook(&snapshot))).is_err() {
                break;
            }
        }
    };
    hook_threads()
        .submit(job)
        .expect("quadpipe: could not start a thread for a progress hook");
}
