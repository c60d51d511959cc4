//! Snapshots of a group's progress: the roll-up, and each child's.

use crate::{Progress, Status};

/// A snapshot of a [`TaskGroup`](crate::TaskGroup)'s progress: the work
/// done over its children, how many children are in each state, and the
/// progress of each running one.
///
/// `total` counts the work of the children that have started (an
/// integral's sample count is known once it is spawned); children still
/// waiting for a slot add theirs when they start. So for a sweep the share
/// of children that have ended, [`ended`](GroupProgress::ended) over
/// [`children`](GroupProgress::children), is the better measure of how far
/// it has come. A child that reports no total counts the work it did.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, TaskGroup};
///
/// let mut group = TaskGroup::new();
/// for seed in 0..4 {
///     group.spawn(move || Integral::new(f64::sin, 0.0..1.0).samples(1 << 16).seed(seed).spawn());
/// }
/// pollster::block_on(&mut group)?;
/// let progress = group.progress();
/// assert_eq!((progress.done, progress.total), (4 << 16, 4 << 16));
/// assert_eq!((progress.finished, progress.ended(), progress.children()), (4, 4, 4));
/// assert!(progress.active.is_empty());
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct GroupProgress {
    /// Units of work done by the children (samples, for integrals).
    pub done: u64,
    /// Units of work of the children started so far.
    pub total: u64,
    /// Children waiting for a slot.
    pub pending: usize,
    /// Children started and not ended.
    pub running: usize,
    /// Children that ended with a value.
    pub finished: usize,
    /// Children that ended with an error or a panic.
    pub failed: usize,
    /// Children cancelled, or never started because the group stopped.
    pub cancelled: usize,
    /// The running children, in spawn order, with their progress and
    /// running estimates.
    pub active: Vec<ChildProgress>,
}

impl GroupProgress {
    /// All the children spawned so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let progress = quadpipe::GroupProgress::default();
    /// assert_eq!(progress.children(), 0);
    /// ```
    pub fn children(&self) -> usize {
        self.pending + self.running + self.ended()
    }

    /// The children that have ended, in any of the three ways.
    ///
    /// # Examples
    ///
    /// ```
    /// let progress = quadpipe::GroupProgress::default();
    /// assert_eq!(progress.ended(), 0);
    /// ```
    pub fn ended(&self) -> usize {
        self.finished + self.failed + self.cancelled
    }
}

/// One child of a [`TaskGroup`](crate::TaskGroup): its index (the order
/// of its spawn), its status and its progress, with the running estimate
/// for an integral. A child that is a group shows the roll-up of its own
/// children's work, and no estimate.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Status, TaskGroup};
///
/// let mut group = TaskGroup::new();
/// let index = group.spawn(|| Integral::new(f64::exp, 0.0..1.0).samples(1 << 16).spawn());
/// pollster::block_on(&mut group)?;
/// let child = group.child(index).unwrap();
/// assert_eq!(child.status, Status::Finished);
/// assert_eq!(child.progress.done, 1 << 16);
/// assert!(child.progress.estimate.is_some());
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ChildProgress {
    /// The child's place in spawn order, from 0.
    pub index: usize,
    /// Where the child is in its life.
    pub status: Status,
    /// The child's own progress snapshot.
    pub progress: Progress,
}
