//! The bundled pool: async-executor driven by worker threads of its own.

use std::cell::Cell;
use std::env::{self, VarError};
use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::runtime::blocking::BlockingPool;
use crate::runtime::idle::{LOOK_BEFORE_SLEEP, block_on_looking};
use crate::runtime::job::Job;
use crate::runtime::task::{TaskLink, TaskWatch};
use crate::{Error, Task};

/// The environment variable that sets the default executor's thread count.
const THREADS_VAR: &str = "QUADPIPE_THREADS";

/// How long a shutdown waits, after cancelling, for the workers to end
/// before it leaves them running and returns. A cancelled chunk stops at
/// its next check, well within this; only an integrand call that does not
/// return (or takes longer than this) keeps a worker past it, and that
/// worker is detached: it exits by itself once the call returns.
const JOIN_BOUND: Duration = Duration::from_millis(500);

thread_local! {
    /// The id of the executor whose worker this thread is; 0 on any other
    /// thread. `block_on` reads it to refuse a call that would deadlock.
    static WORKER_OF: Cell<usize> = const { Cell::new(0) };
}

/// Executor ids start at 1 so that 0 can mean "not a worker".
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// A pool of worker threads that runs tasks: integrals and any other future.
///
/// Each worker drives one shared [`async_executor::Executor`]. A panic in a
/// task fails that task only ([`Error::Panicked`]); the worker lives on.
/// Blocking closures go to [`unblock`](Executor::unblock), on threads of
/// their own, so they never hold up the workers.
///
/// Dropping the executor cancels its tasks, drops the chunks still queued
/// (also those of integrals driven elsewhere with `run_on(&executor)`, which
/// then fail with [`Error::Cancelled`]) and joins its workers, waiting at
/// most half a second for a worker still inside an integrand call; such a
/// worker is detached and exits when that call returns. The current thread
/// is never joined, when it is one of the executor's own workers. Tasks
/// that had not ended end as [`Cancelled`](crate::Status::Cancelled).
///
/// # Examples
///
/// ```
/// use quadpipe::{Executor, Integral};
///
/// let executor = Executor::builder().threads(2).build()?;
/// let task = Integral::new(|x| x * x, 0.0..3.0).samples(1 << 20).spawn_on(&executor);
/// let estimate = executor.block_on(task)?;
/// assert!((estimate.value - 9.0).abs() < 5.0 * estimate.std_error);
/// # Ok::<(), quadpipe::Error>(())
/// ```
pub struct Executor {
    inner: Arc<Inner>,
    /// The workers, and one stop signal per worker (dropping them tells
    /// the workers to stop); empty once shut down. Behind a lock so that
    /// the default executor, which is never dropped, can be shut down.
    workers: Mutex<Workers>,
}

#[derive(Default)]
struct Workers {
    threads: Vec<thread::JoinHandle<()>>,
    stop: Vec<oneshot::Sender<()>>,
}

struct Inner {
    executor: async_executor::Executor<'static>,
    id: usize,
    threads: usize,
    /// Set when the executor shuts down: chunk jobs not yet started are
    /// dropped instead of run. Apart from `Inner`, so that a job does not
    /// hold the executor that holds it.
    closed: Arc<AtomicBool>,
    /// The tasks spawned here, so a shutdown can wait for them and cancel
    /// what is left.
    tasks: Registry,
    blocking: BlockingPool,
}

impl Inner {
    /// Whether the executor has shut down: it runs nothing more.
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn spawn_tracked<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, Error>> + Send + 'static,
        link: TaskLink,
    ) -> Task<T> {
        // A shut-down executor has no workers: its task would never run.
        if self.is_closed() {
            return Task::failed(Error::Cancelled);
        }
        let (tracked, task) = Task::tracked(future, link);
        self.tasks.add(task.watch());
        self.executor.spawn(tracked).detach();
        task
    }
}

impl Executor {
    /// The most worker threads an executor may have.
    ///
    /// Each worker reserves a stack (2 MiB of address space by default) and
    /// the operating system's per-process thread limit is usually in the
    /// thousands to tens of thousands; a request far beyond the cores there are
    /// is almost always a typo or an unchecked value, and past the system's
    /// limit the process aborts inside the thread library rather than getting
    /// an error. 4096 is above the hardware threads of any single machine
    /// today, yet far below those limits, so `build` refuses more with
    /// [`Error::TooManyThreads`] before allocating anything.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Executor};
    ///
    /// let err = Executor::builder().threads(Executor::MAX_THREADS + 1).build().unwrap_err();
    /// assert!(matches!(err, Error::TooManyThreads { threads: 4097, max: 4096 }));
    /// assert_eq!(err.to_string(), "4097 threads is more than the 4096 an executor may have");
    /// ```
    pub const MAX_THREADS: usize = 4096;

    /// An executor with one worker per available core.
    ///
    /// # Panics
    ///
    /// If the operating system refuses to start a thread; use
    /// [`Executor::builder`] to get that as an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::new();
    /// assert!(executor.threads() >= 1);
    /// ```
    pub fn new() -> Executor {
        Executor::builder()
            .build()
            .expect("quadpipe: could not start the executor's worker threads")
    }

    /// A builder to choose the thread count and thread names.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(3).name("integrals").build()?;
    /// assert_eq!(executor.threads(), 3);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// How many worker threads run tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(2).build()?;
    /// assert_eq!(executor.threads(), 2);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn threads(&self) -> usize {
        self.inner.threads
    }

    /// Runs `future` on the workers and returns its handle.
    ///
    /// The handle's output is `Ok` with the future's value, or
    /// [`Error::Panicked`] if it panicked, or [`Error::Cancelled`] if it was
    /// cancelled or the executor shut down first.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(2).build()?;
    /// let task = executor.spawn(async { "hello" });
    /// assert_eq!(executor.block_on(task)?, "hello");
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Task<T> {
        self.spawn_tracked(async move { Ok(future.await) }, TaskLink::default())
    }

    /// Spawns a future whose errors are its handle's, linked to it by `link`.
    pub(crate) fn spawn_tracked<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, Error>> + Send + 'static,
        link: TaskLink,
    ) -> Task<T> {
        self.inner.spawn_tracked(future, link)
    }

    /// Blocks the current thread until `future` completes, and returns its
    /// output. Built on [`pollster::block_on`]; the future may come from
    /// this executor or from anywhere else.
    ///
    /// # Panics
    ///
    /// If called on one of this executor's own worker threads. Blocking a
    /// worker on work that may need that same worker can deadlock, so this
    /// refuses at once with a clear message; in a task, `.await` instead.
    /// Inside a task the panic fails that task with [`Error::Panicked`] and
    /// the worker lives on.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(1).build()?;
    /// assert_eq!(executor.block_on(async { 7 }), 7);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            WORKER_OF.get() != self.inner.id,
            "quadpipe: Executor::block_on called on one of the executor's own worker \
             threads, which can deadlock; use .await inside tasks instead"
        );
        pollster::block_on(future)
    }

    /// Runs blocking, synchronous `work` on a thread of its own and returns
    /// its handle: asyncio's `run_in_executor`.
    ///
    /// Threads for blocking work are kept apart from the workers, started
    /// when all are busy and ended after a second idle, so a blocking closure
    /// never starves the tasks. A closure cannot be interrupted once it has
    /// started: cancelling its handle discards its result, and a closure
    /// still queued when the executor is dropped never runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(1).build()?;
    /// let contents = executor.unblock(|| std::fs::read_to_string("Cargo.toml"));
    /// assert!(executor.block_on(contents)?.is_ok());
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn unblock<T, W>(&self, work: W) -> Task<T>
    where
        W: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if self.inner.is_closed() {
            return Task::failed(Error::Cancelled);
        }
        let task = unblock_on(&self.inner.blocking, work);
        self.inner.tasks.add(task.watch());
        task
    }

    /// A weak handle for the pipeline, which must not keep the pool alive.
    pub(crate) fn handle(&self) -> PoolHandle {
        PoolHandle {
            inner: Arc::downgrade(&self.inner),
            id: self.inner.id,
            threads: self.inner.threads,
        }
    }

    fn start(builder: Builder, threads: usize) -> Result<Executor, Error> {
        let inner = Arc::new(Inner {
            executor: async_executor::Executor::new(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            threads,
            closed: Arc::default(),
            tasks: Registry::default(),
            blocking: BlockingPool::new(format!("{}-blocking", builder.name)),
        });
        let executor = Executor {
            inner,
            workers: Mutex::default(),
        };
        for index in 0..threads {
            let (stop, stopped) = oneshot::channel();
            let inner = executor.inner.clone();
            let worker = thread::Builder::new()
                .name(format!("{}-{index}", builder.name))
                .spawn(move || work(&inner, stopped))
                // Dropping `executor` here stops and joins the workers so far.
                .map_err(|err| Error::SpawnThread(Arc::new(err)))?;
            let mut workers = executor.workers();
            workers.threads.push(worker);
            workers.stop.push(stop);
        }
        Ok(executor)
    }
}

/// A worker's life: run tasks until told to stop.
fn work(inner: &Inner, mut stopped: oneshot::Receiver<()>) {
    WORKER_OF.set(inner.id);
    // Tasks catch their own panics, so one escaping here is a bug in a waker
    // or in a future's drop. Either way, keep serving: a pool that loses a
    // worker per panic (as futures' ThreadPool does) slowly stops.
    while catch_unwind(AssertUnwindSafe(|| {
        block_on_looking(inner.executor.run(&mut stopped), LOOK_BEFORE_SLEEP)
    }))
    .is_err()
    {}
}

impl Default for Executor {
    /// Same as [`Executor::new`].
    fn default() -> Self {
        Executor::new()
    }
}

impl Executor {
    /// Shuts the executor down: lets the tasks in flight finish for up to
    /// `grace`, cancels those still running then, stops and joins the
    /// workers, and reports what happened.
    ///
    /// It takes the executor by value, so nothing new can be spawned on it;
    /// work already in flight goes on during the grace period, including
    /// the chunks of integrals whose driver runs elsewhere. A cancelled
    /// integral stops its chunks at their next check, so the join does not
    /// wait for whole chunks, and chunks not yet started never start, also
    /// those of integrals driven elsewhere (which then fail with
    /// [`Error::Cancelled`]). The join waits at most half a second past the
    /// grace: a worker still inside a call that cannot be interrupted (an
    /// integrand evaluation that does not return) is detached, counted in
    /// [`Shutdown::abandoned`], and exits by itself when the call returns.
    /// So `shutdown` returns within `grace` plus about half a second,
    /// whatever the integrand does. A blocking closure from
    /// [`unblock`](Executor::unblock) cannot be interrupted and finishes on
    /// its own thread, its result discarded. Dropping an executor is a
    /// shutdown with no grace at all. A grace too long to add to the clock
    /// (`Duration::MAX`) waits for every task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use quadpipe::{Executor, Integral};
    ///
    /// let executor = Executor::builder().threads(2).build()?;
    /// let endless = Integral::new(f64::sin, 0.0..1.0).samples(u64::MAX).spawn_on(&executor);
    /// let report = executor.shutdown(Duration::from_millis(100));
    /// assert_eq!((report.finished, report.cancelled), (0, 1));
    /// assert!(matches!(pollster::block_on(endless), Err(quadpipe::Error::Cancelled)));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn shutdown(self, grace: Duration) -> Shutdown {
        self.stop_and_join(grace)
    }

    fn workers(&self) -> MutexGuard<'_, Workers> {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stop_and_join(&self, grace: Duration) -> Shutdown {
        let mut workers = std::mem::take(&mut *self.workers());
        if workers.threads.is_empty() {
            // Shut down already (the default executor, twice).
            return Shutdown {
                finished: 0,
                cancelled: 0,
                abandoned: 0,
            };
        }
        let live = self.inner.tasks.live();
        // A grace too long for an `Instant` (`Duration::MAX`) has no
        // deadline: it waits for every task, as asked.
        let deadline = Instant::now().checked_add(grace);
        // A task's end wakes nobody here; polling every millisecond is
        // cheap, and a grace period is not a hot path.
        while self.inner.tasks.live() > 0 && deadline.is_none_or(|end| Instant::now() < end) {
            thread::sleep(Duration::from_millis(1));
        }
        // From here on, chunks that have not started never will, whoever
        // drives their integral; then cancel the tasks and stop the workers.
        self.inner.closed.store(true, Ordering::Release);
        let cancelled = self.inner.tasks.cancel_all();
        workers.stop.clear();
        let current = thread::current().id();
        // Dropped from inside one of its own tasks: that worker exits when
        // the task's poll returns; joining it here would deadlock.
        let mut running: Vec<_> = workers
            .threads
            .drain(..)
            .filter(|worker| worker.thread().id() != current)
            .collect();
        // Join with a bound: a worker inside an integrand call that never
        // returns must not hold the caller forever. Polling
        // `is_finished` is how std offers a join with a time limit.
        let join_by = Instant::now() + JOIN_BOUND;
        loop {
            let (ended, still): (Vec<_>, Vec<_>) =
                running.into_iter().partition(|worker| worker.is_finished());
            ended.into_iter().for_each(|worker| {
                let _ = worker.join();
            });
            running = still;
            if running.is_empty() || Instant::now() >= join_by {
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
        // Dropping a handle detaches its thread, which exits by itself once
        // its call returns (its stop signal is already sent).
        let abandoned = running.len();
        drop(running);
        Shutdown {
            finished: live - cancelled.min(live),
            cancelled,
            abandoned,
        }
        // The last strong reference usually goes when `self` does, and with
        // it the async executor, which drops the futures that had not ended.
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.stop_and_join(Duration::ZERO);
    }
}

/// What [`Executor::shutdown`] did.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let executor = quadpipe::Executor::builder().threads(1).build()?;
/// let report = executor.shutdown(Duration::ZERO);
/// assert_eq!((report.finished, report.cancelled, report.abandoned), (0, 0, 0));
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Shutdown {
    /// Tasks in flight at the call that ended within the grace period.
    pub finished: usize,
    /// Tasks still running when the grace period ran out, now cancelled.
    pub cancelled: usize,
    /// Worker threads still inside a call that cannot be interrupted (an
    /// integrand evaluation, or a future's poll, that had not returned)
    /// half a second after the cancel. They were detached, not joined:
    /// each exits by itself when its call returns, and runs nothing more.
    pub abandoned: usize,
}

/// The tasks spawned on an executor, held weakly: a task that ends, or
/// whose handle and future are gone, simply drops out.
#[derive(Debug, Default)]
struct Registry {
    tasks: Mutex<Vec<TaskWatch>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Vec<TaskWatch>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self, task: TaskWatch) {
        let mut tasks = self.lock();
        // Forget ended tasks now and then, so the list stays as long as the
        // number of live tasks, not of all tasks ever spawned.
        if tasks.len() >= 64 && tasks.len().is_power_of_two() {
            tasks.retain(TaskWatch::is_live);
        }
        tasks.push(task);
    }

    fn live(&self) -> usize {
        self.lock().iter().filter(|task| task.is_live()).count()
    }

    /// Cancels every task that has not ended; how many there were.
    fn cancel_all(&self) -> usize {
        let tasks = std::mem::take(&mut *self.lock());
        tasks.iter().filter(|task| task.cancel()).count()
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("threads", &self.inner.threads)
            .finish_non_exhaustive()
    }
}

/// Configures an [`Executor`] before its threads start.
///
/// # Examples
///
/// ```
/// use quadpipe::{Error, Executor};
///
/// let executor = Executor::builder().threads(4).name("pricing").build()?;
/// assert_eq!(executor.threads(), 4);
/// assert!(matches!(Executor::builder().threads(0).build(), Err(Error::ZeroThreads)));
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    threads: Option<usize>,
    name: String,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            threads: None,
            name: "quadpipe-worker".to_owned(),
        }
    }
}

impl Builder {
    /// The number of worker threads; by default one per available core.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(1).build()?;
    /// assert_eq!(executor.threads(), 1);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn threads(mut self, threads: usize) -> Builder {
        self.threads = Some(threads);
        self
    }

    /// The prefix of the worker threads' names, `quadpipe-worker` by
    /// default: the workers are `<name>-0`, `<name>-1`, … and the threads
    /// for blocking work `<name>-blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(1).name("mc").build()?;
    /// let name = executor.block_on(executor.spawn(async {
    ///     std::thread::current().name().map(str::to_owned)
    /// }))?;
    /// assert_eq!(name.as_deref(), Some("mc-0"));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = name.into();
        self
    }

    /// Starts the worker threads.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroThreads`] if the thread count is zero;
    /// [`Error::TooManyThreads`] if it is above [`Executor::MAX_THREADS`];
    /// [`Error::InvalidThreadName`] if the name contains a NUL byte, which
    /// no operating system takes in a thread's name;
    /// [`Error::SpawnThread`] if the operating system refuses a thread (the
    /// threads started so far are stopped and joined).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Executor};
    ///
    /// let executor = Executor::builder().build()?;
    /// let err = Executor::builder().threads(usize::MAX).build().unwrap_err();
    /// assert!(matches!(err, Error::TooManyThreads { max: Executor::MAX_THREADS, .. }));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn build(self) -> Result<Executor, Error> {
        let threads = match self.threads {
            Some(0) => return Err(Error::ZeroThreads),
            Some(threads) if threads > Executor::MAX_THREADS => {
                return Err(Error::TooManyThreads {
                    threads: threads as u64,
                    max: Executor::MAX_THREADS,
                });
            }
            Some(threads) => threads,
            // A machine with more cores than the cap still gets a pool.
            None => thread::available_parallelism()
                .map_or(1, NonZeroUsize::get)
                .min(Executor::MAX_THREADS),
        };
        // std panics on a thread name with a NUL byte; refuse it here.
        if self.name.contains('\0') {
            return Err(Error::InvalidThreadName { name: self.name });
        }
        Executor::start(self, threads)
    }
}

/// What the pipeline holds to spawn chunks: a weak reference, so that a
/// running integral never keeps its executor alive (the executor owns the
/// task that owns the integral), and the thread count to size its window.
#[derive(Clone, Debug)]
pub(crate) struct PoolHandle {
    inner: Weak<Inner>,
    id: usize,
    threads: usize,
}

impl PoolHandle {
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Whether the calling thread is one of this pool's own workers.
    ///
    /// A driver that finds itself polled on one of its pool's workers may
    /// be blocked there (`pollster::block_on(integral.run_on(&executor))`
    /// inside a task): then its chunks can wait for the very worker it
    /// holds, forever on a one-thread pool. One thread-local read; cheap
    /// enough for every poll.
    pub(crate) fn is_current_worker(&self) -> bool {
        WORKER_OF.get() == self.id
    }

    /// Spawns `future` as a task of the pool; a task that fails with
    /// [`Error::Cancelled`] if the executor is gone or shut down.
    pub(crate) fn spawn_tracked<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, Error>> + Send + 'static,
        link: TaskLink,
    ) -> Task<T> {
        match self.inner.upgrade() {
            Some(inner) => inner.spawn_tracked(future, link),
            None => Task::failed(Error::Cancelled),
        }
    }

    /// Spawns `job` to run unobserved; false if the executor is gone or
    /// shutting down. A job still queued when the executor shuts down is
    /// dropped without running, which its driver sees as a cancel.
    pub(crate) fn spawn_detached(&self, job: Job) -> bool {
        match self.inner.upgrade() {
            Some(inner) if !inner.closed.load(Ordering::Acquire) => {
                let closed = inner.closed.clone();
                inner
                    .executor
                    .spawn(async move {
                        if !closed.load(Ordering::Acquire) {
                            job.await;
                        }
                    })
                    .detach();
                true
            }
            _ => false,
        }
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner")
            .field("id", &self.id)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

/// The process-wide default executor.
static DEFAULT: OnceLock<Result<Executor, Error>> = OnceLock::new();

/// The process-wide default executor, behind [`spawn`],
/// [`Integral::run`](crate::Integral::run) and
/// [`Integral::spawn`](crate::Integral::spawn); it starts on first use.
///
/// It has `QUADPIPE_THREADS` workers, or one per core when that is not
/// set. It is never dropped: end it with [`shutdown_default`] at the end
/// of `main` to give its tasks a grace period and join its threads.
///
/// # Errors
///
/// [`Error::InvalidThreadsVar`] if `QUADPIPE_THREADS` is not a positive
/// integer, [`Error::TooManyThreads`] if it is above
/// [`Executor::MAX_THREADS`] (an error, not clamped: a silent cap would
/// hide a typo), or [`Error::SpawnThread`]; the same error at every call.
///
/// # Examples
///
/// ```
/// let executor = quadpipe::default_executor()?;
/// assert!(executor.threads() >= 1);
/// let task = executor.unblock(|| std::fs::metadata("Cargo.toml").is_ok());
/// assert!(executor.block_on(task)?);
/// # Ok::<(), quadpipe::Error>(())
/// ```
pub fn default_executor() -> Result<&'static Executor, Error> {
    DEFAULT
        .get_or_init(|| {
            let builder = Executor::builder();
            match threads_from_env()? {
                Some(threads) => builder.threads(threads).build(),
                None => builder.build(),
            }
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Shuts the process-wide default executor down, as
/// [`Executor::shutdown`] does any other: its tasks in flight get up to
/// `grace` to finish, those still running then are cancelled, and its
/// threads are joined (waiting at most half a second more for one inside
/// an integrand call). Call it at the end of `main`, once nothing more
/// needs the default executor.
///
/// From then on the default executor runs nothing: [`spawn`],
/// [`Integral::run`](crate::Integral::run) and
/// [`Integral::spawn`](crate::Integral::spawn) fail with
/// [`Error::Cancelled`]. A default executor that never started is not
/// started now, and a second call finds nothing to do: both report zeros.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use quadpipe::Integral;
///
/// let estimate = pollster::block_on(Integral::new(f64::exp, 0.0..1.0).run())?;
/// // The end of main: nothing was left running.
/// let report = quadpipe::shutdown_default(Duration::from_secs(1));
/// assert_eq!((report.finished, report.cancelled, report.abandoned), (0, 0, 0));
/// # Ok::<(), quadpipe::Error>(())
/// ```
pub fn shutdown_default(grace: Duration) -> Shutdown {
    match DEFAULT.get() {
        Some(Ok(executor)) => executor.stop_and_join(grace),
        _ => Shutdown {
            finished: 0,
            cancelled: 0,
            abandoned: 0,
        },
    }
}

/// Runs blocking `work` on `pool`, with a handle.
fn unblock_on<T, W>(pool: &BlockingPool, work: W) -> Task<T>
where
    W: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (job, task) = Task::blocking(work);
    match pool.submit(job) {
        Ok(()) => task,
        Err(err) => Task::failed(Error::SpawnThread(Arc::new(err))),
    }
}

/// Runs the library's own blocking file IO (checkpoint writes) on threads
/// kept for it, shared by the whole process, so that it never runs on the
/// thread of whatever runtime drives a run, nor depends on any executor.
/// The threads are named `quadpipe-io` and end after a second idle.
pub(crate) fn unblock_io<T, W>(work: W) -> Task<T>
where
    W: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    static IO_THREADS: OnceLock<BlockingPool> = OnceLock::new();
    unblock_on(
        IO_THREADS.get_or_init(|| BlockingPool::new("quadpipe-io".to_owned())),
        work,
    )
}

fn threads_from_env() -> Result<Option<usize>, Error> {
    let value = match env::var(THREADS_VAR) {
        Ok(value) => value,
        Err(VarError::NotPresent) => return Ok(None),
        Err(VarError::NotUnicode(value)) => {
            return Err(Error::InvalidThreadsVar {
                value: value.to_string_lossy().into_owned(),
            });
        }
    };
    // Parsed as u64, so that a count too large for a usize (on 32-bit
    // targets) is reported as too many, not as unreadable.
    match value.trim().parse::<u64>() {
        Ok(threads) if threads > Executor::MAX_THREADS as u64 => Err(Error::TooManyThreads {
            threads,
            max: Executor::MAX_THREADS,
        }),
        // Not above the cap, so it fits a usize on every target.
        Ok(threads) if threads > 0 => Ok(Some(threads as usize)),
        _ => Err(Error::InvalidThreadsVar { value }),
    }
}

/// Runs `future` on the process-wide default executor and returns its
/// handle.
///
/// The default executor starts on first use with one worker per core, or
/// with as many as the `QUADPIPE_THREADS` environment variable says. If that
/// variable is not a positive integer, the handle resolves to
/// [`Error::InvalidThreadsVar`]; if it is above [`Executor::MAX_THREADS`], to
/// [`Error::TooManyThreads`].
///
/// # Examples
///
/// ```
/// # pollster::block_on(async {
/// let task = quadpipe::spawn(async { 1 + 2 });
/// assert_eq!(task.await?, 3);
/// # Ok::<(), quadpipe::Error>(())
/// # }).unwrap();
/// ```
pub fn spawn<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> Task<T> {
    match default_executor() {
        Ok(executor) => executor.spawn(future),
        Err(err) => Task::failed(err),
    }
}
