//! Task handles: status, progress, cancellation, callbacks, and the result
//! as a future.

mod handle;
mod outcome;
mod state;
mod status;
mod tracked;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};

use crate::runtime::job::Job;
use crate::runtime::progress::ProgressStream;
use crate::{Checkpoint, Error, Progress};
use outcome::Outcome;
use state::{TaskEnd, TaskState};

pub use handle::CancelHandle;
pub(crate) use state::TaskLink;
pub use status::Status;
pub(crate) use tracked::{Tracked, panic_message};

/// A handle to a spawned task, and a future of its result.
///
/// Awaiting a `Task<T>` gives `Ok(T)` when the task finished, or the
/// [`Error`] that ended it: [`Error::Cancelled`] after a cancel (or when its
/// executor shut down), [`Error::Panicked`] with the panic message when it
/// panicked, or the task's own error.
///
/// Dropping the handle cancels the task (the convention of smol and
/// async-task); [`Task::detach`] lets it run to the end unobserved.
/// [`cancel_handle`](Task::cancel_handle) gives a cloneable handle that
/// cancels it and reads its progress from anywhere, also while the task
/// itself is being awaited.
///
/// Every way of spawning gives the same `Task`: on the bundled pool
/// ([`Executor::spawn`](crate::Executor::spawn), [`spawn`](crate::spawn)),
/// on any runtime through a [`Spawner`](crate::Spawner)
/// ([`Spawner::spawn`](crate::Spawner::spawn),
/// [`Integral::spawn_on`](crate::Integral::spawn_on)), or
/// [`Inline`](crate::Inline), where the task runs inside whoever awaits it.
///
/// For code that does not poll, [`on_progress`](Task::on_progress) and
/// [`on_done`](Task::on_done) call back instead (asyncio's
/// `add_done_callback`).
///
/// # Panics
///
/// Polling the handle again after it returned its result panics, as for
/// most futures.
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
    outcome: Arc<Outcome<T>>,
    handle: CancelHandle,
    /// The task's work, when it runs where it is awaited ([`Inline`](crate::Inline)):
    /// polling the handle polls it. In a `Mutex` only so that the handle
    /// stays `Sync`; polling has `&mut` and never locks it.
    work: Option<Mutex<Job>>,
    cancel_on_drop: bool,
}

impl<T> Task<T> {
    /// Wraps `future` so that it reports to a new handle, and returns both:
    /// the wrapped future goes to whatever runs it, the handle to the caller.
    pub(crate) fn tracked<F>(future: F, link: TaskLink) -> (Tracked<F, T>, Task<T>)
    where
        F: Future<Output = Result<T, Error>>,
    {
        let task = Task::new(link);
        let end = TaskEnd::new(task.state(), &task.outcome);
        (Tracked::new(future, end), task)
    }

    /// A task whose work runs inside whoever awaits its handle: nothing
    /// runs it until then, and a handle dropped or detached unawaited
    /// cancels it.
    pub(crate) fn inline<F>(future: F, link: TaskLink) -> Task<T>
    where
        F: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let (tracked, mut task) = Task::tracked(future, link);
        task.work = Some(Mutex::new(Box::pin(tracked)));
        task
    }

    /// Wraps blocking `work` the same way, for a thread of its own.
    pub(crate) fn blocking<W>(work: W) -> (impl FnOnce() + Send + 'static, Task<T>)
    where
        W: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let task = Task::new(TaskLink::default());
        let end = TaskEnd::new(task.state(), &task.outcome);
        (move || tracked::run_blocking(work, end), task)
    }

    /// A task that failed before it could start.
    pub(crate) fn failed(error: Error) -> Task<T> {
        let task = Task::new(TaskLink::default());
        TaskEnd::new(task.state(), &task.outcome).finish(Err(error));
        task
    }

    /// A weak view of the task for its executor, which must not keep the
    /// task alive but may cancel it at shutdown.
    pub(crate) fn watch(&self) -> TaskWatch {
        TaskWatch(Arc::downgrade(self.state()))
    }

    fn new(link: TaskLink) -> Task<T> {
        Task {
            outcome: Outcome::new(),
            handle: CancelHandle::new(TaskState::new(link)),
            work: None,
            cancel_on_drop: true,
        }
    }

    fn state(&self) -> &Arc<TaskState> {
        self.handle.state()
    }

    /// A cheap, cloneable handle that cancels this task and reads its
    /// status, progress and checkpoint from any thread, also after the
    /// task was moved into an `.await`; see [`CancelHandle`].
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Integral};
    ///
    /// # pollster::block_on(async {
    /// let task = Integral::new(f64::sin, 0.0..1.0).samples(u64::MAX).spawn();
    /// let handle = task.cancel_handle();
    /// let stopper = handle.clone();
    /// std::thread::spawn(move || stopper.cancel()); // e.g. from a signal handler
    /// assert!(matches!(task.await, Err(Error::Cancelled)));
    /// assert!(handle.status().is_cancelled());
    /// # });
    /// ```
    pub fn cancel_handle(&self) -> CancelHandle {
        self.handle.clone()
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
        self.handle.status()
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
    /// assert_eq!(task.progress().total, Some(1 << 18)); // known from the start
    /// executor.block_on(&mut task)?;
    /// assert_eq!(task.progress().done, 1 << 18);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn progress(&self) -> Progress {
        self.handle.progress()
    }

    /// The latest checkpoint of an integral's merged prefix, to resume from
    /// with [`Integral::resume`](crate::Integral::resume): the state at
    /// the last chunk merge. A large state (VEGAS's, with many
    /// hypercubes), which takes 50 µs or more to checkpoint, is taken only
    /// when that cost at most a twentieth of the time since, and at the end
    /// of each pass that ends without a cancel: while such a run goes on,
    /// or once it is cancelled, a recent merge's. `None` before the first
    /// merge, and for tasks that are not integrals. It stays readable after
    /// the task ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Executor, Integral};
    ///
    /// let executor = Executor::builder().threads(2).build()?;
    /// let integral = Integral::new(f64::sin, 0.0..1.0).samples(1 << 18).chunk_size(1 << 16);
    /// let mut task = integral.spawn_on(&executor);
    /// let estimate = executor.block_on(&mut task)?;
    /// let checkpoint = task.checkpoint().unwrap();
    /// assert_eq!(checkpoint.samples_done(), 1 << 18);
    /// // Resuming a finished run just gives its estimate again.
    /// assert_eq!(executor.block_on(integral.resume(&checkpoint).spawn_on(&executor))?, estimate);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.handle.checkpoint()
    }

    /// The task's progress as a [`Stream`](futures::Stream) of snapshots,
    /// which coalesce for a slow consumer and end when the task ends; see
    /// [`ProgressStream`]. Any number of streams may watch one task, from
    /// any runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use quadpipe::Integral;
    ///
    /// # pollster::block_on(async {
    /// let task = Integral::new(f64::exp, 0.0..1.0).samples(1 << 20).spawn();
    /// let mut progress = task.progress_stream();
    /// while let Some(snapshot) = progress.next().await {
    ///     println!("{:.0}%", 100.0 * snapshot.fraction().unwrap_or(0.0));
    /// }
    /// let estimate = task.await?;
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn progress_stream(&self) -> ProgressStream {
        self.handle.progress_stream()
    }

    /// Calls `hook` with the current progress snapshot and each new one
    /// until the task ends: for code that does not poll.
    ///
    /// Calls run on a shared pool of threads kept for hooks, never on a
    /// worker, and a hook holds a thread only while it is being called:
    /// any number of tasks may have hooks. The task never waits for its
    /// hook, and a slow or blocked hook delays only its own later calls: a
    /// hook slower than the task sees the latest snapshot and skips the
    /// ones in between; it always sees the final one, unless it never
    /// returns. Calls to one hook never overlap. A hook that panics is not
    /// called again, and the task goes on unharmed: a hook watches the
    /// task, it is not part of its work. The hook is dropped after its last
    /// call. If no thread can be started for a call, that snapshot is
    /// skipped and the next one tries again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use quadpipe::Integral;
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let mut task = Integral::new(f64::cos, 0.0..1.0).samples(1 << 20).spawn();
    /// task.on_progress(move |progress| log.lock().unwrap().push(progress.done));
    /// pollster::block_on(&mut task)?;
    /// # while !seen.lock().unwrap().contains(&(1 << 20)) { std::thread::yield_now() }
    /// // The hook's last call, on a thread kept for hooks, sees the final snapshot.
    /// assert_eq!(seen.lock().unwrap().last(), Some(&(1 << 20)));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn on_progress(&self, hook: impl FnMut(&Progress) + Send + 'static) {
        self.state().link.progress.add_hook(hook);
    }

    /// Calls `callback` with the task's result when the task ends, on the
    /// thread that ends it (or now, on this thread, if it already has):
    /// asyncio's `add_done_callback`. The handle still returns the result
    /// afterwards; the callback gets a copy.
    ///
    /// Keep it short: it runs on a worker (send a message for slow work). A
    /// callback that panics does not disturb the task or the other
    /// callbacks. One registered after awaiting the handle took the result
    /// is never called.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use quadpipe::Integral;
    ///
    /// let (done, finished) = mpsc::channel();
    /// let task = Integral::new(|x| x * x, 0.0..1.0).spawn();
    /// task.on_done(move |result| done.send(result.map(|estimate| estimate.value)).unwrap());
    /// task.detach(); // runs on without a handle; the callback reports
    /// let value = finished.recv().unwrap()?;
    /// assert!((value - 1.0 / 3.0).abs() < 0.01);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn on_done(&self, callback: impl FnOnce(Result<T, Error>) + Send + 'static)
    where
        T: Clone,
    {
        self.outcome
            .on_delivery(move |outcome| callback(outcome.clone()));
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
        self.handle.cancel();
    }

    /// Lets the task run to the end without a handle; its result goes only
    /// to the [`on_done`](Task::on_done) callbacks, if any.
    ///
    /// A task spawned [`Inline`](crate::Inline) runs only while its handle
    /// is awaited: detached, it can never run, and ends as cancelled.
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
        self.handle.is_finished()
    }
}

/// A weak reference to a task, held by the executor that runs it.
#[derive(Debug)]
pub(crate) struct TaskWatch(Weak<TaskState>);

impl TaskWatch {
    /// Whether the task is still pending or running (and exists at all).
    pub(crate) fn is_live(&self) -> bool {
        self.0
            .upgrade()
            .is_some_and(|state| !state.status().is_terminal())
    }

    /// Cancels the task if it has not ended; true if it had not.
    pub(crate) fn cancel(&self) -> bool {
        match self.0.upgrade() {
            Some(state) if !state.status().is_terminal() => {
                state.request_cancel();
                true
            }
            _ => false,
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Work that runs where it is awaited delivers its outcome as it ends.
        if let Some(work) = self.work.as_mut() {
            let work = work.get_mut().unwrap_or_else(PoisonError::into_inner);
            if work.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.work = None;
        }
        self.outcome.poll_take(cx)
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if self.cancel_on_drop {
            self.handle.cancel();
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
