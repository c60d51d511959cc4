//! The future of every child's result.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::TaskGroup;
use crate::Error;

/// The future of every child's result, in spawn order, from
/// [`TaskGroup::outcomes`]. Dropping it drops the group, which cancels the
/// children.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, TaskGroup};
///
/// let group = TaskGroup::new().keep_going();
/// for samples in [1000, 0, 1000] {
///     group.spawn(move || Integral::new(|x| x, 0.0..1.0).samples(samples).spawn());
/// }
/// let outcomes = pollster::block_on(group.outcomes());
/// let failed = outcomes.iter().filter(|outcome| outcome.is_err()).count();
/// assert_eq!(failed, 1);
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Outcomes<T> {
    group: TaskGroup<T>,
}

impl<T: Send + 'static> Outcomes<T> {
    pub(super) fn new(group: TaskGroup<T>) -> Self {
        Outcomes { group }
    }
}

impl<T: Send + 'static> Future for Outcomes<T> {
    type Output = Vec<Result<T, Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.group
            .shared()
            .poll_end(cx)
            .map(|ending| ending.outcomes)
    }
}

impl<T: Send + 'static> fmt::Debug for Outcomes<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcomes")
            .field("group", &self.group)
            .finish()
    }
}
