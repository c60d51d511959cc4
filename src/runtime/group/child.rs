//! What a group can hold as a child: a [`Task`], or another group.

use std::sync::Arc;

use super::TaskGroup;
use super::state::{ChildEnd, Shared};
use crate::{Progress, Status, Task};

/// What a [`TaskGroup`] can hold as a child: a [`Task`] (an integral
/// spawned on any backend, or any other spawned future) or another
/// [`TaskGroup`], whose output is the `Vec` of its children's values. The
/// trait is sealed: these two are all.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, TaskGroup};
///
/// // A group of groups: each inner group is one child of the outer one.
/// let outer = TaskGroup::new();
/// for a in [1.0, 2.0] {
///     outer.spawn(move || {
///         let inner = TaskGroup::new();
///         for b in [1.0, 2.0] {
///             inner.spawn(move || Integral::new(move |x| a * x + b, 0.0..1.0).spawn());
///         }
///         inner
///     });
/// }
/// let values: Vec<Vec<_>> = pollster::block_on(outer)?;
/// assert_eq!(values.len(), 2);
/// assert_eq!(values[1].len(), 2);
/// # Ok::<(), quadpipe::Error>(())
/// ```
pub trait Child<T>: sealed::Adopt<T> {}

impl<T: Clone + Send + 'static> Child<T> for Task<T> {}

impl<T: Clone + Send + 'static> Child<Vec<T>> for TaskGroup<T> {}

impl<T: Send> sealed::Member<T> for Task<T> {
    fn status(&self) -> Status {
        Task::status(self)
    }

    fn progress(&self) -> Progress {
        Task::progress(self)
    }

    fn cancel(&self) {
        Task::cancel(self);
    }
}

impl<T: Send + 'static> sealed::Member<Vec<T>> for Shared<T> {
    fn status(&self) -> Status {
        Shared::status(self)
    }

    fn progress(&self) -> Progress {
        self.rolled_up()
    }

    fn cancel(&self) {
        Shared::cancel(self);
    }
}

pub(crate) mod sealed {
    use super::*;

    /// A started child, as its group sees it.
    pub trait Member<T>: Send + Sync {
        fn status(&self) -> Status;
        /// Its progress; a group's is the roll-up of its children's.
        fn progress(&self) -> Progress;
        fn cancel(&self);
    }

    /// Hands a child to its group: `end` is to be told of its end.
    pub trait Adopt<T> {
        fn adopt(self, end: ChildEnd<T>) -> Arc<dyn Member<T>>;
    }

    impl<T: Clone + Send + 'static> Adopt<T> for Task<T> {
        fn adopt(self, end: ChildEnd<T>) -> Arc<dyn Member<T>> {
            self.on_done(move |outcome| end.tell(outcome));
            Arc::new(self)
        }
    }

    impl<T: Clone + Send + 'static> Adopt<Vec<T>> for TaskGroup<T> {
        fn adopt(self, end: ChildEnd<Vec<T>>) -> Arc<dyn Member<Vec<T>>> {
            let shared = self.into_shared();
            shared.adopt(Box::new(move |outcome| end.tell(outcome)));
            shared
        }
    }
}
