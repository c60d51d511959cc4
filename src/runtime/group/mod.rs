//! Task groups: many tasks run as one, with roll-up progress, structured
//! cancellation and bounded concurrency.

mod child;
mod handle;
mod outcomes;
mod progress;
mod state;

use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;

use crate::{Error, Status};
pub use child::Child;
pub use handle::GroupHandle;
pub use outcomes::Outcomes;
pub use progress::{ChildProgress, GroupProgress};
use state::Shared;

/// Many tasks run as one: a parameter sweep, the terms of a model.
///
/// Spawn children into the group with [`spawn`](TaskGroup::spawn), each as
/// a closure that starts it: an integral on any backend, any other
/// [`Task`](crate::Task), or another group. The group starts at most
/// [`limit`](TaskGroup::limit) children at once, the next when one ends, so
/// a sweep of 100,000 integrals holds a few drivers at a time, and a task
/// spawned beside the sweep gets its share of the workers.
///
/// The group is a future: awaiting it gives every child's value in spawn
/// order, once all children have ended. By default the first child that
/// fails cancels its siblings and the group fails with that child's error,
/// as Python's `asyncio.TaskGroup` does; with
/// [`keep_going`](TaskGroup::keep_going) the others run on, and
/// [`outcomes`](TaskGroup::outcomes) gives each child's result, as
/// `asyncio.gather(..., return_exceptions=True)` does.
///
/// # Panics
///
/// Polling the group (or its [`outcomes`](TaskGroup::outcomes)) again
/// after it returned its result panics, as for a [`Task`](crate::Task).
///
/// [`cancel`](TaskGroup::cancel), or dropping the group, cancels every
/// child: those running stop as a cancelled [`Task`](crate::Task) does, and
/// those waiting never start. Either way the group's await returns only
/// once every child has ended, so nothing of it runs afterwards.
///
/// Children are started, and the group learns of their ends, on whichever
/// thread a child ends on (a worker, for an integral): the group needs no
/// thread or executor of its own, and runs whether or not it is awaited.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, TaskGroup};
///
/// // ∫₀¹ xᵏ dx = 1/(k+1), for k = 1..=8, at most two at a time.
/// let group = TaskGroup::new().limit(2);
/// for k in 1..=8 {
///     group.spawn(move || Integral::new(move |x: f64| x.powi(k), 0.0..1.0).seed(7).spawn());
/// }
/// let estimates = pollster::block_on(group)?;
/// for (estimate, k) in estimates.iter().zip(1..) {
///     assert!((estimate.value - 1.0 / (k as f64 + 1.0)).abs() < 5.0 * estimate.std_error);
/// }
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[must_use = "dropping a TaskGroup cancels its children"]
pub struct TaskGroup<T> {
    /// `None` only once a parent group adopted this one.
    shared: Option<Arc<Shared<T>>>,
}

impl<T: Send + 'static> TaskGroup<T> {
    /// An empty group that fails fast and starts at most one child per
    /// core at once.
    ///
    /// One child per core keeps every core busy with small integrals (a
    /// large one spreads its chunks over all cores by itself) while the
    /// drivers in flight stay few.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = quadpipe::TaskGroup::<f64>::new();
    /// assert_eq!(pollster::block_on(group)?, Vec::<f64>::new());
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn new() -> Self {
        let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        TaskGroup {
            shared: Some(Shared::new(cores)),
        }
    }

    /// Starts at most `limit` children at once; the others wait, in spawn
    /// order, for a slot. A child that is a group takes one slot, however
    /// many children it has.
    ///
    /// # Panics
    ///
    /// If `limit` is zero: no child could ever start.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, TaskGroup};
    ///
    /// let group = TaskGroup::new().limit(1);
    /// group.spawn(|| Integral::new(f64::sin, 0.0..1.0).samples(1 << 40).spawn());
    /// group.spawn(|| Integral::new(f64::cos, 0.0..1.0).spawn());
    /// // The second waits for the first, which runs for hours.
    /// assert_eq!((group.progress().running, group.progress().pending), (1, 1));
    /// // Dropping the group cancels both.
    /// ```
    pub fn limit(self, limit: usize) -> Self {
        assert!(
            limit > 0,
            "quadpipe: a TaskGroup's limit must be at least 1"
        );
        self.shared().set_limit(limit);
        self
    }

    /// Lets the children run on when one fails, instead of cancelling
    /// them; call it before spawning. Awaiting the group then fails with
    /// the first failure in spawn order, after every child has ended;
    /// [`outcomes`](TaskGroup::outcomes) gives each child's result.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Integral, TaskGroup};
    ///
    /// let group = TaskGroup::new().keep_going();
    /// group.spawn(|| Integral::new(|x| x, 0.0..1.0).spawn());
    /// group.spawn(|| Integral::new(|x| x, 0.0..1.0).samples(0).spawn()); // fails its checks
    /// group.spawn(|| Integral::new(|x| x * x, 0.0..1.0).spawn());
    /// let outcomes = pollster::block_on(group.outcomes());
    /// assert!(outcomes[0].is_ok() && outcomes[2].is_ok());
    /// assert!(matches!(outcomes[1], Err(Error::ZeroSamples)));
    /// ```
    pub fn keep_going(self) -> Self {
        self.shared().set_keep_going();
        self
    }

    /// Adds a child, given as a closure that starts it and returns its
    /// [`Task`](crate::Task) (or its group); returns the child's index,
    /// its place in spawn order. The closure runs when a slot is free: now,
    /// on this thread, or later on the thread where another child ends, so
    /// it should only spawn, and quickly.
    ///
    /// A closure that panics fails its child with
    /// [`Error::Panicked`](crate::Error::Panicked). A child added after the
    /// group began to stop (a cancel, or a failure) or after it ended is
    /// cancelled at once, never started.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use quadpipe::{Executor, Integral, TaskGroup};
    ///
    /// // Integrals on the default executor and on one of our own.
    /// let executor = Arc::new(Executor::builder().threads(2).build()?);
    /// let integrals = TaskGroup::new();
    /// integrals.spawn(|| Integral::new(f64::sqrt, 0.0..1.0).spawn());
    /// let on = executor.clone();
    /// assert_eq!(integrals.spawn(move || Integral::new(f64::sqrt, 0.0..1.0).spawn_on(&on)), 1);
    /// let estimates = pollster::block_on(integrals)?;
    /// assert_eq!(estimates[0], estimates[1]); // same spec, same bits
    ///
    /// // Any other future, as a task.
    /// let tasks = TaskGroup::new();
    /// for n in 0..10u64 {
    ///     let on = executor.clone();
    ///     tasks.spawn(move || on.spawn(async move { n * n }));
    /// }
    /// assert_eq!(pollster::block_on(tasks)?.iter().sum::<u64>(), 285);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn spawn<C: Child<T>>(&self, start: impl FnOnce() -> C + Send + 'static) -> usize {
        self.shared().add(Box::new(move |done| {
            child::sealed::Adopt::adopt(start(), done)
        }))
    }

    /// A snapshot of the group's progress; see [`GroupProgress`].
    ///
    /// # Examples
    ///
    /// ```
    /// let group = quadpipe::TaskGroup::<f64>::new();
    /// assert_eq!(group.progress().children(), 0);
    /// ```
    pub fn progress(&self) -> GroupProgress {
        self.shared().progress()
    }

    /// Child `index`'s status and progress, or `None` if there is no such
    /// child; see [`ChildProgress`].
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Status, TaskGroup};
    ///
    /// let group = TaskGroup::new().limit(1);
    /// group.spawn(|| Integral::new(f64::sin, 0.0..1.0).samples(1 << 40).spawn());
    /// let second = group.spawn(|| Integral::new(f64::cos, 0.0..1.0).spawn());
    /// assert_eq!(group.child(second).unwrap().status, Status::Pending);
    /// assert!(group.child(2).is_none());
    /// ```
    pub fn child(&self, index: usize) -> Option<ChildProgress> {
        self.shared().child(index)
    }

    /// Where the group is in its life; see [`Status`]. A group is pending
    /// until a child starts and running until it has ended. It ends when it
    /// is awaited (or its parent's child) and its children have all ended:
    /// finished if they all finished, failed if one failed, cancelled if
    /// it was cancelled or a child was. A cancel shows at once, as for a
    /// [`Task`](crate::Task).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Status, TaskGroup};
    ///
    /// let mut group = TaskGroup::<f64>::new();
    /// assert_eq!(group.status(), Status::Pending);
    /// pollster::block_on(&mut group)?;
    /// assert_eq!(group.status(), Status::Finished);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn status(&self) -> Status {
        self.shared().status()
    }

    /// Cancels every child: those running are cancelled, those waiting
    /// never start. Awaiting the group then gives
    /// [`Error::Cancelled`](crate::Error::Cancelled), once the children
    /// have ended; their last progress stays readable.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Integral, Status, TaskGroup};
    ///
    /// let group = TaskGroup::new();
    /// for seed in 0..100 {
    ///     group.spawn(move || Integral::new(f64::exp, 0.0..1.0).samples(1 << 40).seed(seed).spawn());
    /// }
    /// group.cancel();
    /// assert_eq!(group.status(), Status::Cancelled);
    /// assert!(matches!(pollster::block_on(group), Err(Error::Cancelled)));
    /// ```
    pub fn cancel(&self) {
        self.shared().cancel();
    }

    /// A handle to watch or cancel the group from elsewhere (another
    /// thread, a signal handler, a progress bar) while it is awaited; see
    /// [`GroupHandle`].
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, TaskGroup};
    ///
    /// let group = TaskGroup::new();
    /// group.spawn(|| Integral::new(f64::sin, 0.0..1.0).samples(1 << 20).spawn());
    /// let handle = group.handle();
    /// let estimates = pollster::block_on(group)?;
    /// assert_eq!(handle.progress().finished, 1);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn handle(&self) -> GroupHandle {
        GroupHandle::new(self.shared().clone())
    }

    /// A future of every child's result, in spawn order, once all have
    /// ended: gather with `return_exceptions`. In the default, fail-fast
    /// mode, the siblings a failure cancelled show
    /// [`Error::Cancelled`](crate::Error::Cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use quadpipe::{Error, Executor, TaskGroup};
    ///
    /// let executor = Arc::new(Executor::builder().threads(1).build()?);
    /// let group = TaskGroup::new();
    /// let (failing, endless) = (executor.clone(), executor.clone());
    /// group.spawn(move || failing.spawn(async { panic!("bad parameter") }));
    /// group.spawn(move || endless.spawn(futures::future::pending::<()>()));
    /// let outcomes = pollster::block_on(group.outcomes());
    /// assert!(matches!(&outcomes[0], Err(Error::Panicked(message)) if message == "bad parameter"));
    /// assert!(matches!(outcomes[1], Err(Error::Cancelled))); // by its failing sibling
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn outcomes(self) -> Outcomes<T> {
        Outcomes::new(self)
    }

    fn shared(&self) -> &Arc<Shared<T>> {
        self.shared
            .as_ref()
            .expect("only adoption by a parent takes a group's state")
    }

    /// The group's state, for a parent that adopts it: no cancel on drop.
    fn into_shared(mut self) -> Arc<Shared<T>> {
        self.shared
            .take()
            .expect("only adoption by a parent takes a group's state")
    }
}

impl<T: Send + 'static> Default for TaskGroup<T> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<T: Send + 'static> Future for TaskGroup<T> {
    type Output = Result<Vec<T>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.shared().poll_end(cx).map(state::Ending::into_result)
    }
}

impl<T> Drop for TaskGroup<T> {
    // Cancels the children: a group does not outlive its owner.
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.cancel();
        }
    }
}

impl<T: Send + 'static> fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("status", &self.status())
            .field("progress", &self.progress())
            .finish()
    }
}
