//! Where an integral's chunks run: the plug-in point for any runtime.

use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::thread;

use crate::runtime::executor::PoolHandle;
use crate::runtime::job::Job;
use crate::runtime::task::TaskLink;
use crate::{Error, Executor, Task};

/// Where tasks and an integral's chunks run.
///
/// Every spawner gives the same bits: chunk `i` is a pure function of the
/// integral and `i`, and the driver merges chunks in chunk order whatever
/// finishes first. And every spawner gives the same [`Task`]:
/// [`Integral::spawn_on`](crate::Integral::spawn_on) and
/// [`Spawner::spawn`] run the task itself (for an integral, its driver,
/// which merges chunks) on the spawner's runtime too. Build one from:
///
/// - the bundled [`Executor`] (`&executor`),
/// - an [`async_executor::Executor`] behind an `Arc`, which is also
///   `smol::Executor` (`&Arc<Executor<'static>>`),
/// - a [`futures::executor::ThreadPool`] (`&pool`),
/// - any runtime's spawn function, with [`Spawner::from_fn`],
/// - [`Inline`]: no threads, chunks run in the awaiting task.
///
/// [`Integral::run_on`](crate::Integral::run_on) and
/// [`Integral::spawn_on`](crate::Integral::spawn_on) take any of these.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use quadpipe::{Executor, Inline, Integral, Spawner};
///
/// let integral = Integral::new(|x| x * x, 0.0..1.0).samples(1 << 18);
/// let bundled = Executor::builder().threads(2).build()?;
/// let smol = Arc::new(async_executor::Executor::new());
/// let pool = futures::executor::ThreadPool::new().unwrap();
///
/// let reference = pollster::block_on(integral.run_on(&bundled))?;
/// assert_eq!(pollster::block_on(integral.run_on(&pool))?, reference);
/// assert_eq!(pollster::block_on(integral.run_on(&Inline))?, reference);
///
/// // The caller's own runtime, through its spawn function.
/// let spawner = Spawner::from_fn(move |job| pool.spawn_ok(job));
/// assert_eq!(pollster::block_on(integral.run_on(&spawner))?, reference);
///
/// // An async-executor (smol) runs its tasks wherever its `run` is driven.
/// let run = integral.run_on(&smol);
/// let estimate = pollster::block_on(smol.run(run))?;
/// assert_eq!(estimate, reference);
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone)]
pub struct Spawner {
    target: Target,
}

#[derive(Clone)]
pub(crate) enum Target {
    /// The bundled pool, held weakly (see `PoolHandle`). With
    /// `caller_helps`, the thread that drives the run (blocked on it)
    /// computes the chunk it waits for if no worker has started it.
    Pool {
        pool: PoolHandle,
        caller_helps: bool,
    },
    /// Anything with a spawn function.
    Jobs {
        spawn: Arc<dyn Fn(Job) + Send + Sync>,
        parallelism: usize,
    },
    /// No threads: the driver runs chunks itself.
    Inline,
}

/// Runs chunks inside the task that awaits the integral, one after another,
/// yielding to its executor between chunks: no threads at all.
///
/// # Examples
///
/// ```
/// use quadpipe::{Inline, Integral};
///
/// let integral = Integral::new(f64::exp, 0.0..1.0).samples(10_000);
/// let estimate = pollster::block_on(integral.run_on(&Inline))?;
/// assert_eq!(estimate, pollster::block_on(integral.run_inline())?);
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inline;

impl Spawner {
    /// A spawner that hands each chunk's job to `spawn`, which must start it
    /// running (on any thread, now or soon) and not wait for it: the usual
    /// shape of a runtime's spawn function. A job that `spawn` drops without
    /// running makes the integral fail with [`Error::Cancelled`](crate::Error::Cancelled).
    ///
    /// The driver keeps up to four chunks per core in flight.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Spawner};
    ///
    /// // async-std's pool, through its spawn function.
    /// let spawner = Spawner::from_fn(|job| {
    ///     async_std::task::spawn(job);
    /// });
    /// let integral = Integral::new(f64::sin, 0.0..1.0).samples(1 << 18);
    /// let estimate = async_std::task::block_on(integral.run_on(&spawner))?;
    /// assert_eq!(estimate, pollster::block_on(integral.run_inline())?);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn from_fn(spawn: impl Fn(Job) + Send + Sync + 'static) -> Spawner {
        Spawner {
            target: Target::Jobs {
                spawn: Arc::new(spawn),
                parallelism: thread::available_parallelism().map_or(1, NonZeroUsize::get),
            },
        }
    }

    /// Runs `future` as a task on this spawner and returns its handle:
    /// on the bundled pool's workers, as a task of the caller's runtime
    /// (through its spawn function), or, for [`Inline`], inside whoever
    /// awaits the handle (nothing runs it until then).
    ///
    /// The handle is the same [`Task`] on every spawner, with its status,
    /// cancel and callbacks. Its output is `Ok` with the future's value,
    /// [`Error::Panicked`] if it panicked, or [`Error::Cancelled`] if it
    /// was cancelled or the runtime dropped it without running it to the
    /// end (it shut down).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Inline, Spawner};
    ///
    /// let pool = futures::executor::ThreadPool::new().unwrap();
    /// let task = Spawner::from(&pool).spawn(async { 6 * 7 });
    /// assert_eq!(pollster::block_on(task)?, 42);
    ///
    /// let task = Spawner::from(Inline).spawn(async { "runs in the await" });
    /// assert_eq!(pollster::block_on(task)?, "runs in the await");
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
        match &self.target {
            Target::Pool { pool, .. } => pool.spawn_tracked(future, link),
            Target::Jobs { spawn, .. } => {
                let (tracked, task) = Task::tracked(future, link);
                spawn(Box::pin(tracked));
                task
            }
            Target::Inline => Task::inline(future, link),
        }
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// This spawner, with the thread that blocks on the run computing
    /// chunks too if it is the bundled pool; unchanged otherwise.
    pub(crate) fn helped_by_caller(mut self) -> Spawner {
        if let Target::Pool { caller_helps, .. } = &mut self.target {
            *caller_helps = true;
        }
        self
    }
}

impl From<&Executor> for Spawner {
    /// Chunks run on the bundled executor's workers.
    fn from(executor: &Executor) -> Spawner {
        Spawner {
            target: Target::Pool {
                pool: executor.handle(),
                caller_helps: false,
            },
        }
    }
}

impl From<&Arc<Executor>> for Spawner {
    /// As `&Executor`: an executor shared by `Arc` (as a test or a service
    /// holds one) needs no `&*`.
    fn from(executor: &Arc<Executor>) -> Spawner {
        Spawner::from(&**executor)
    }
}

impl From<&Arc<async_executor::Executor<'static>>> for Spawner {
    /// Chunks run as tasks of an async-executor (also `smol::Executor`),
    /// on whichever threads drive its `run`.
    fn from(executor: &Arc<async_executor::Executor<'static>>) -> Spawner {
        let executor = executor.clone();
        Spawner::from_fn(move |job| executor.spawn(job).detach())
    }
}

impl From<&futures::executor::ThreadPool> for Spawner {
    /// Chunks run on a `futures` thread pool.
    fn from(pool: &futures::executor::ThreadPool) -> Spawner {
        let pool = pool.clone();
        Spawner::from_fn(move |job| pool.spawn_ok(job))
    }
}

impl From<&Inline> for Spawner {
    fn from(_: &Inline) -> Spawner {
        Spawner {
            target: Target::Inline,
        }
    }
}

impl From<Inline> for Spawner {
    fn from(inline: Inline) -> Spawner {
        Spawner::from(&inline)
    }
}

impl From<&Spawner> for Spawner {
    fn from(spawner: &Spawner) -> Spawner {
        spawner.clone()
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match &self.target {
            Target::Pool { .. } => "bundled executor",
            Target::Jobs { .. } => "spawn function",
            Target::Inline => "inline",
        };
        f.debug_struct("Spawner").field("target", &target).finish()
    }
}
