//! Snapshots of how far a task has come.

use std::sync::{Mutex, PoisonError};

use crate::Estimate;

/// A snapshot of a task's progress: work done, the total when known, and
/// the running estimate when there is one.
///
/// For an integral the unit of work is one sample, `done` counts the samples
/// of the chunks merged so far, and `estimate` is the estimate of that
/// merged prefix (its `stop` is [`Stop::Partial`](crate::Stop::Partial)
/// until the run ends). A cancelled task keeps its last snapshot, so the
/// work it did is not lost.
///
/// # Examples
///
/// ```
/// use quadpipe::{Executor, Integral};
///
/// let executor = Executor::builder().threads(2).build()?;
/// let mut task = Integral::new(|x| x * x, 0.0..1.0).samples(1 << 20).spawn_on(&executor);
/// let estimate = executor.block_on(&mut task)?;
///
/// let progress = task.progress();
/// assert_eq!(progress.done, 1 << 20);
/// assert_eq!(progress.fraction(), Some(1.0));
/// assert_eq!(progress.estimate, Some(estimate));
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Units of work done.
    pub done: u64,
    /// Units of work in all, when known in advance.
    pub total: Option<u64>,
    /// The estimate from the work done so far, when the task makes one.
    pub estimate: Option<Estimate>,
}

impl Progress {
    /// `done / total` in `[0, 1]`, when the total is known and not zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let progress = quadpipe::Progress::default();
    /// assert_eq!(progress.fraction(), None);
    /// ```
    pub fn fraction(&self) -> Option<f64> {
        match self.total {
            Some(total) if total > 0 => Some(self.done as f64 / total as f64),
            _ => None,
        }
    }
}

/// Where a running task publishes its progress and its handle reads it.
///
/// One writer (the task's driver) replaces the snapshot at each chunk merge,
/// so the lock is uncontended but for the odd reader.
#[derive(Debug, Default)]
pub(crate) struct ProgressCell {
    snapshot: Mutex<Progress>,
}

impl ProgressCell {
    pub(crate) fn get(&self) -> Progress {
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set(&self, progress: Progress) {
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = progress;
    }
}
