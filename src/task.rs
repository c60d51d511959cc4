//! Task handles: status, progress, cancellation, and the result as a future.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::task::{Context, Poll};

use futures::channel::oneshot;
use futures::task::AtomicWaker;

use crate::progress::ProgressCell;
use crate::{Error, Progress};

/// Where a task is in its life.
///
/// ```text
/// Pending ──first poll──▶ Running ──output──────▶ Finished
///    │                       ├──error or panic──▶ Failed
///    └──cancel or drop───────┴──cancel or drop──▶ Cancelled
/// ```
///
/// A task is `Pending` from its spawn until an executor first polls it; the
/// executor moves it to `Running`. The task itself moves to `Finished` when
/// it returns a value and to `Failed` when it returns an error or panics.
/// [`Task::cancel`], dropping the handle, or the executor shutting down move
/// it to `Cancelled` from either earlier state. The last three states are
/// terminal: once there, the status never changes again.
///
/// # Examples
///
/// ```
/// use quadpipe::{Executor, Status};
///
/// let executor = Executor::builder().threads(1).build()?;
/// let mut task = executor.spawn(async { 1 + 1 });
/// assert_eq!(executor.block_on(&mut task)?, 2);
/// assert_eq!(task.status(), Status::Finished);
/// assert!(task.status().is_finished() && task.status().is_terminal());
/// assert_eq!(task.status().to_string(), "finished");
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Spawned, not yet polled.
    Pending,
    /// Polled at least once, not yet ended.
    Running,
    /// Ended with a value.
    Finished,
    /// Ended by cancellation: [`Task::cancel`], a dropped handle, or its
    /// executor shutting down.
    Cancelled,
    /// Ended with an error or a panic.
    Failed,
}

impl Status {
    /// Whether the task is [`Status::Pending`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(quadpipe::Status::Pending.is_pending());
    /// ```
    pub fn is_pending(self) -> bool {
        self == Status::Pending
    }

    /// Whether the task is [`Status::Running`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(quadpipe::Status::Running.is_running());
    /// ```
    pub fn is_running(self) -> bool {
        self == Status::Running
    }

    /// Whether the task is [`Status::Finished`]: it ended with a value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(quadpipe::Status::Finished.is_finished());
    /// assert!(!quadpipe::Status::Failed.is_finished());
    /// ```
    pub fn is_finished(self) -> bool {
        self == Status::Finished
    }

    /// Whether the task is [`Status::Cancelled`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(quadpipe::Status::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(self) -> bool {
        self == Status::Cancelled
    }

    /// Whether the task is [`Status::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(quadpipe::Status::Failed.is_failed());
    /// ```
    pub fn is_failed(self) -> bool {
        self == Status::Failed
    }

    /// Whether the task has ended, in any of the three ways.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Status;
    /// assert!(Status::Cancelled.is_terminal());
    /// assert!(!Status::Running.is_terminal());
    /// ```
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Finished | Status::Cancelled | Status::Failed)
    }

    fn from_u8(value: u8) -> Status {
        match value {
            0 => Status::Pending,
            1 => Status::Running,
            2 => Status::Finished,
            3 => Status::Cancelled,
            _ => Status::Failed,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Finished => "finished",
            Status::Cancelled => "cancelled",
            Status::Failed => "failed",
        })
    }
}

/// What a task's work shares with its handle beyond the result: where it
/// publishes progress, and a flag that a cancel sets at once, so that work
/// running on other threads (an integral's chunks) stops without waiting
/// for the task itself to be polled.
#[derive(Clone, Debug, Default)]
pub(crate) struct TaskLink {
    pub(crate) progress: Arc<ProgressCell>,
    pub(crate) stop: Arc<AtomicBool>,
}

/// What a task and its handle share.
#[derive(Debug)]
struct TaskState {
    /// A `Status` as `u8`; only ever moves along the arrows of its diagram.
    status: AtomicU8,
    /// Set by `cancel()` or by dropping the handle; the task checks it at
    /// every poll and stops.
    cancel_requested: AtomicBool,
    /// The task's waker, so that a cancel wakes it to notice.
    waker: AtomicWaker,
    link: TaskLink,
}

impl TaskState {
    fn new(link: TaskLink) -> Self {
        TaskState {
            status: AtomicU8::new(Status::Pending as u8),
            cancel_requested: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            link,
        }
    }

    fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Acquire))
    }

    /// Moves the status from `from` to `to`; false if it was elsewhere.
    fn advance(&self, from: Status, to: Status) -> bool {
        self.status
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn request_cancel(&self) {
        self.cancel_requested.store(true, Ordering::Release);
        self.link.stop.store(true, Ordering::Relaxed);
        self.abandon();
        self.waker.wake();
    }

    fn is_cancel_requested(&self) -> bool {
        self.cancel_requested.load(Ordering::Acquire)
    }

    /// Moves a task that has not ended to `Cancelled`.
    fn abandon(&self) {
        let _ = self.advance(Status::Pending, Status::Cancelled)
            || self.advance(Status::Running, Status::Cancelled);
    }

    /// Records how the task ended and returns the outcome its handle sees.
    ///
    /// A cancel that lands after the work produced its outcome but before
    /// this call still wins: the handle then reports `Cancelled`, so that
    /// `status()` and the awaited result always agree.
    fn finish<T>(&self, outcome: Result<T, Error>) -> Result<T, Error> {
        let end = match &outcome {
            Ok(_) => Status::Finished,
            Err(Error::Cancelled) => Status::Cancelled,
            Err(_) => Status::Failed,
        };
        if self.advance(Status::Pending, end) || self.advance(Status::Running, end) {
            outcome
        } else {
            Err(Error::Cancelled)
        }
    }
}

/// A handle to a spawned task, and a future of its result.
///
/// Awaiting a `Task<T>` gives `Ok(T)` when the task finished, or the
/// [`Error`] that ended it: [`Error::Cancelled`] after a cancel (or when its
/// executor shut down), [`Error::Panicked`] with the panic message when it
/// panicked, or the task's own error.
///
/// Dropping the handle cancels the task (the convention of smol and
/// async-task); [`Task::detach`] lets it run to the end unobserved.
///
/// # Examples
///
/// ```
/// use quadpipe::{Error, Executor};
///
/// let executor = Executor::builder().threads(2).build()?;
/// let task = executor.spawn(async { 6 * 7 });
/// assert_eq!(executor.block_on(task)?, 42);
///
/// let task = executor.spawn(async { panic!("out of cheese") });
/// let err = executor.block_on(task).unwrap_err();
/// assert!(matches!(err, Error::Panicked(ref message) if message == "out of cheese"));
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[must_use = "dropping a Task cancels it; use .detach() to let it run"]
pub struct Task<T> {
    output: oneshot::Receiver<Result<T, Error>>,
    state: Arc<TaskState>,
    cancel_on_drop: bool,
}

impl<T> Task<T> {
    /// Wraps `future` so that it reports to a new handle, and returns both:
    /// the wrapped future goes to whatever runs it, the handle to the caller.
    pub(crate) fn tracked<F>(future: F, link: TaskLink) -> (Tracked<F, T>, Task<T>)
    where
        F: Future<Output = Result<T, Error>>,
    {
        let (sender, output) = oneshot::channel();
        let state = Arc::new(TaskState::new(link));
        let tracked = Tracked {
            future: Some(Box::pin(future)),
            state: state.clone(),
            output: Some(sender),
        };
        (tracked, Task::from_parts(output, state))
    }

    /// Wraps blocking `work` the same way, for a thread of its own.
    pub(crate) fn blocking<W>(work: W) -> (impl FnOnce() + Send + 'static, Task<T>)
    where
        W: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (sender, output) = oneshot::channel();
        let state = Arc::new(TaskState::new(TaskLink::default()));
        let task_state = state.clone();
        let job = move || {
            if task_state.is_cancel_requested() {
                // Dropping the sender tells the handle it was cancelled.
                return;
            }
            task_state.advance(Status::Pending, Status::Running);
            let outcome = catch_unwind(AssertUnwindSafe(work))
                .map_err(|payload| Error::Panicked(panic_message(payload.as_ref())));
            let _ = sender.send(task_state.finish(outcome));
        };
        (job, Task::from_parts(output, state))
    }

    /// A task that failed before it could start.
    pub(crate) fn failed(error: Error) -> Task<T> {
        let (sender, output) = oneshot::channel();
        let state = Arc::new(TaskState::new(TaskLink::default()));
        let _ = sender.send(state.finish(Err(error)));
        Task::from_parts(output, state)
    }

    fn from_parts(output: oneshot::Receiver<Result<T, Error>>, state: Arc<TaskState>) -> Self {
        Task {
            output,
            state,
            cancel_on_drop: true,
        }
    }

    /// Where the task is in its life; see [`Status`].
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Executor, Status};
    ///
    /// let executor = Executor::builder().threads(1).build()?;
    /// let mut task = executor.spawn(async {});
    /// executor.block_on(&mut task)?;
    /// assert_eq!(task.status(), Status::Finished);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn status(&self) -> Status {
        self.state.status()
    }

    /// A snapshot of the task's progress; cheap enough to call in a loop.
    ///
    /// Tasks that do not report progress (a plain future) show the default
    /// snapshot: nothing done, no total, no estimate.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Executor, Integral};
    ///
    /// let executor = Executor::builder().threads(2).build()?;
    /// let mut task = Integral::new(f64::sin, 0.0..3.0).samples(1 << 18).spawn_on(&executor);
    /// executor.block_on(&mut task)?;
    /// assert_eq!(task.progress().done, 1 << 18);
    /// assert_eq!(task.progress().total, Some(1 << 18));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn progress(&self) -> Progress {
        self.state.link.progress.get()
    }

    /// Cancels the task.
    ///
    /// Once this returns, [`status`](Task::status) is
    /// [`Cancelled`](Status::Cancelled) unless the task had already ended,
    /// and awaiting the handle gives [`Error::Cancelled`]. The task stops at
    /// its next poll; an integral starts no new chunk, and a chunk already
    /// running ends at its next check, a small fraction of a chunk later.
    /// The last [`progress`](Task::progress) snapshot stays readable.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Executor, Status};
    ///
    /// let executor = Executor::builder().threads(1).build()?;
    /// let task = executor.spawn(futures::future::pending::<()>());
    /// task.cancel();
    /// assert_eq!(task.status(), Status::Cancelled);
    /// assert!(matches!(executor.block_on(task), Err(Error::Cancelled)));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn cancel(&self) {
        self.state.request_cancel();
    }

    /// Lets the task run to the end without a handle; its result is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let executor = quadpipe::Executor::builder().threads(1).build()?;
    /// let (sender, receiver) = mpsc::channel();
    /// executor.spawn(async move { sender.send("done").unwrap() }).detach();
    /// assert_eq!(receiver.recv().unwrap(), "done");
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn detach(mut self) {
        self.cancel_on_drop = false;
    }

    /// Whether the task has ended: finished, failed or cancelled.
    ///
    /// Note that a cancelled task counts as ended at once, while its work
    /// winds down in the background.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(1).build()?;
    /// let task = executor.spawn(futures::future::pending::<()>());
    /// assert!(!task.is_finished());
    /// task.cancel();
    /// assert!(task.is_finished());
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.status().is_terminal()
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.output)
            .poll(cx)
            .map(|received| received.unwrap_or(Err(Error::Cancelled)))
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if self.cancel_on_drop {
            self.state.request_cancel();
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("status", &self.status())
            .field("progress", &self.progress())
            .finish()
    }
}

/// A task's future as an executor runs it: it moves the status, catches
/// panics, honours cancellation, and sends the outcome to the handle.
pub(crate) struct Tracked<F, T> {
    future: Option<Pin<Box<F>>>,
    state: Arc<TaskState>,
    output: Option<oneshot::Sender<Result<T, Error>>>,
}

impl<F, T> Future for Tracked<F, T>
where
    F: Future<Output = Result<T, Error>>,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(future) = this.future.as_mut() else {
            return Poll::Ready(());
        };
        this.state.waker.register(cx.waker());
        let outcome = if this.state.is_cancel_requested() {
            Err(Error::Cancelled)
        } else {
            this.state.advance(Status::Pending, Status::Running);
            match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(outcome)) => outcome,
                Err(payload) => Err(Error::Panicked(panic_message(payload.as_ref()))),
            }
        };
        // Drop the work before the handle can see the outcome, so that once
        // an await returns, nothing of the task is still running.
        this.future = None;
        let outcome = this.state.finish(outcome);
        if let Some(output) = this.output.take() {
            let _ = output.send(outcome);
        }
        Poll::Ready(())
    }
}

impl<F, T> Drop for Tracked<F, T> {
    fn drop(&mut self) {
        // Dropped before it ended: its executor shut down or dropped it.
        if self.output.is_some() {
            self.future = None;
            self.state.abandon();
        }
    }
}

/// The message of a panic payload: the `&str` or `String` that `panic!`
/// formats, which covers every panic but `panic_any`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic payload is not a string".to_owned()
    }
}
