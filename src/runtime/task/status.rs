//! Where a task is in its life.

use std::fmt;

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
/// [`Task::cancel`](crate::Task::cancel), dropping the handle, or the
/// executor shutting down move it to `Cancelled` from either earlier state.
/// The last three states are terminal: once there, the status never changes
/// again.
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
    /// Ended by cancellation: [`Task::cancel`](crate::Task::cancel), a
    /// dropped handle, or its executor shutting down.
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

    pub(super) fn from_u8(value: u8) -> Status {
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
