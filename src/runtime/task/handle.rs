//! A cheap, cloneable view of a task that can cancel it from anywhere.

use std::fmt;
use std::sync::Arc;

use super::Status;
use super::state::TaskState;
use crate::runtime::progress::ProgressStream;
use crate::{Checkpoint, Progress};

/// A handle that cancels a task and reads its status, progress and
/// checkpoint, from any thread, after the [`Task`](crate::Task) itself was
/// moved into an `.await`: for a signal handler, a timeout, or another task
/// (tokio's `AbortHandle`, a cancellation token).
///
/// Get one with [`Task::cancel_handle`](crate::Task::cancel_handle). It is
/// `Clone + Send + Sync` and a clone is one reference count. It does not
/// keep the task's work alive, nor receive its result: the result goes to
/// whoever awaits the `Task`, which sees [`Error::Cancelled`](crate::Error::Cancelled)
/// after a cancel. Every method reads the same shared state as the `Task`'s
/// method of the same name, and stays valid after the task ended.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use quadpipe::{Error, Integral, Status};
///
/// let task = Integral::new(f64::sin, 0.0..1.0).samples(u64::MAX).spawn();
/// let handle = task.cancel_handle();
/// let watcher = handle.clone();
/// // Another thread (a signal handler, a timeout) cancels once work is done.
/// thread::spawn(move || {
///     while watcher.progress().done == 0 {
///         thread::yield_now();
///     }
///     watcher.cancel();
/// });
/// // The task itself is awaited here, moved into the await.
/// assert!(matches!(pollster::block_on(task), Err(Error::Cancelled)));
/// assert_eq!(handle.status(), Status::Cancelled);
/// let partial = handle.progress().estimate.expect("chunks were merged");
/// assert!(partial.samples > 0);
/// ```
#[derive(Clone)]
pub struct CancelHandle {
    state: Arc<TaskState>,
}

impl CancelHandle {
    pub(super) fn new(state: Arc<TaskState>) -> Self {
        CancelHandle { state }
    }

    pub(super) fn state(&self) -> &Arc<TaskState> {
        &self.state
    }

    /// Cancels the task: as [`Task::cancel`](crate::Task::cancel).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Executor};
    ///
    /// let executor = Executor::builder().threads(1).build()?;
    /// let task = executor.spawn(futures::future::pending::<()>());
    /// let handle = task.cancel_handle();
    /// handle.cancel();
    /// assert!(matches!(executor.block_on(task), Err(Error::Cancelled)));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn cancel(&self) {
        self.state.request_cancel();
    }

    /// Where the task is in its life: as [`Task::status`](crate::Task::status).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Executor, Status};
    ///
    /// let executor = Executor::builder().threads(1).build()?;
    /// let task = executor.spawn(async { 2 });
    /// let handle = task.cancel_handle();
    /// assert_eq!(executor.block_on(task)?, 2);
    /// assert_eq!(handle.status(), Status::Finished);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn status(&self) -> Status {
        self.state.status()
    }

    /// Whether the task has ended: as [`Task::is_finished`](crate::Task::is_finished).
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(1).build()?;
    /// let task = executor.spawn(futures::future::pending::<()>());
    /// let handle = task.cancel_handle();
    /// assert!(!handle.is_finished());
    /// drop(task); // dropping the Task cancels it
    /// assert!(handle.is_finished());
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.status().is_terminal()
    }

    /// A snapshot of the task's progress: as [`Task::progress`](crate::Task::progress).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// let task = Integral::new(f64::exp, 0.0..1.0).samples(1 << 18).spawn();
    /// let handle = task.cancel_handle();
    /// let estimate = pollster::block_on(task)?;
    /// assert_eq!(handle.progress().estimate, Some(estimate));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn progress(&self) -> Progress {
        self.state.link.progress.get()
    }

    /// The task's progress as a stream: as
    /// [`Task::progress_stream`](crate::Task::progress_stream).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use quadpipe::Integral;
    ///
    /// let task = Integral::new(f64::exp, 0.0..1.0).samples(1 << 18).spawn();
    /// let snapshots = task.cancel_handle().progress_stream();
    /// pollster::block_on(task)?;
    /// let last = pollster::block_on(snapshots.collect::<Vec<_>>()).pop().unwrap();
    /// assert_eq!(last.done, 1 << 18);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn progress_stream(&self) -> ProgressStream {
        ProgressStream::new(self.state.link.progress.clone())
    }

    /// The latest checkpoint of an integral's merged prefix: as
    /// [`Task::checkpoint`](crate::Task::checkpoint).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// let task = Integral::new(f64::exp, 0.0..1.0).samples(1 << 18).spawn();
    /// let handle = task.cancel_handle();
    /// pollster::block_on(task)?;
    /// assert_eq!(handle.checkpoint().unwrap().samples_done(), 1 << 18);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.state.link.checkpoint()
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("status", &self.status())
            .field("progress", &self.progress())
            .finish()
    }
}
