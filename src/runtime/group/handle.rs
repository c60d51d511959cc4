//! A handle to watch or cancel a group from elsewhere.

use std::fmt;
use std::sync::Arc;

use super::progress::{ChildProgress, GroupProgress};
use super::state::Shared;
use crate::Status;

/// A handle to a [`TaskGroup`](crate::TaskGroup), to read its progress or
/// cancel it from another thread or task while the group itself is
/// awaited: cheap to clone, `Send` and `Sync`, and valid after the group
/// has ended. It does not keep the children alive: when the group is
/// dropped they are cancelled all the same.
///
/// # Examples
///
/// ```
/// use std::thread;
/// use quadpipe::{Error, Integral, TaskGroup};
///
/// let group = TaskGroup::new();
/// for seed in 0..4 {
///     group.spawn(move || Integral::new(f64::exp, 0.0..1.0).samples(1 << 40).seed(seed).spawn());
/// }
/// let handle = group.handle();
/// // Another thread stops the sweep once some work is done.
/// let watcher = thread::spawn(move || {
///     while handle.progress().done == 0 {
///         thread::yield_now();
///     }
///     handle.cancel();
/// });
/// assert!(matches!(pollster::block_on(group), Err(Error::Cancelled)));
/// watcher.join().unwrap();
/// ```
#[derive(Clone)]
pub struct GroupHandle {
    group: Arc<dyn Watch>,
}

/// What a handle may do with a group, whatever its children's type.
trait Watch: Send + Sync {
    fn status(&self) -> Status;
    fn progress(&self) -> GroupProgress;
    fn child(&self, index: usize) -> Option<ChildProgress>;
    fn cancel(&self);
}

impl<T: Send + 'static> Watch for Shared<T> {
    fn status(&self) -> Status {
        Shared::status(self)
    }

    fn progress(&self) -> GroupProgress {
        Shared::progress(self)
    }

    fn child(&self, index: usize) -> Option<ChildProgress> {
        Shared::child(self, index)
    }

    fn cancel(&self) {
        Shared::cancel(self);
    }
}

impl GroupHandle {
    pub(super) fn new<T: Send + 'static>(group: Arc<Shared<T>>) -> Self {
        GroupHandle { group }
    }

    /// The group's status; see [`TaskGroup::status`](crate::TaskGroup::status).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = quadpipe::TaskGroup::<f64>::new();
    /// let handle = group.handle();
    /// drop(group); // cancels the group
    /// assert_eq!(handle.status(), quadpipe::Status::Cancelled);
    /// ```
    pub fn status(&self) -> Status {
        self.group.status()
    }

    /// A snapshot of the group's progress; see [`GroupProgress`].
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, TaskGroup};
    ///
    /// let group = TaskGroup::new();
    /// group.spawn(|| Integral::new(f64::cos, 0.0..1.0).samples(1 << 16).spawn());
    /// let handle = group.handle();
    /// pollster::block_on(group)?;
    /// assert_eq!(handle.progress().done, 1 << 16);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn progress(&self) -> GroupProgress {
        self.group.progress()
    }

    /// Child `index`'s status and progress; see
    /// [`TaskGroup::child`](crate::TaskGroup::child).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Status, TaskGroup};
    ///
    /// let group = TaskGroup::new();
    /// group.spawn(|| Integral::new(f64::cos, 0.0..1.0).spawn());
    /// let handle = group.handle();
    /// pollster::block_on(group)?;
    /// assert_eq!(handle.child(0).unwrap().status, Status::Finished);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn child(&self, index: usize) -> Option<ChildProgress> {
        self.group.child(index)
    }

    /// Cancels the group; see [`TaskGroup::cancel`](crate::TaskGroup::cancel).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Integral, TaskGroup};
    ///
    /// let group = TaskGroup::new();
    /// group.spawn(|| Integral::new(f64::cos, 0.0..1.0).samples(1 << 40).spawn());
    /// group.handle().cancel();
    /// assert!(matches!(pollster::block_on(group), Err(Error::Cancelled)));
    /// ```
    pub fn cancel(&self) {
        self.group.cancel();
    }
}

impl fmt::Debug for GroupHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupHandle")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}
