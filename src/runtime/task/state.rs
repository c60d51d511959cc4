//! What a task shares with its handle: status, the cancel request, progress.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Waker;

use futures::task::AtomicWaker;

use super::Status;
use super::outcome::{Outcome, OutcomeSender};
use crate::Error;
use crate::driver::checkpoint::Checkpoint;
use crate::runtime::progress::ProgressCell;

/// What a task's work shares with its handle beyond the result: where it
/// publishes progress, and a flag that a cancel sets at once, so that work
/// running on other threads (an integral's chunks) stops without waiting
/// for the task itself to be polled.
#[derive(Clone, Debug, Default)]
pub(crate) struct TaskLink {
    pub(crate) progress: Arc<ProgressCell>,
    pub(crate) stop: Arc<AtomicBool>,
    /// The latest checkpoint of an integral's merged prefix.
    checkpoint: Arc<Mutex<Option<Checkpoint>>>,
}

impl TaskLink {
    pub(crate) fn set_checkpoint(&self, checkpoint: Checkpoint) {
        *self
            .checkpoint
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(checkpoint);
    }

    pub(crate) fn checkpoint(&self) -> Option<Checkpoint> {
        self.checkpoint
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What a task and its handle share.
#[derive(Debug)]
pub(super) struct TaskState {
    /// A `Status` as `u8`; only ever moves along the arrows of its diagram.
    status: AtomicU8,
    /// Set by `cancel()` or by dropping the handle; the task checks it at
    /// every poll and stops.
    cancel_requested: AtomicBool,
    /// The task's waker, so that a cancel wakes it to notice.
    waker: AtomicWaker,
    pub(super) link: TaskLink,
}

impl TaskState {
    pub(super) fn new(link: TaskLink) -> Arc<Self> {
        Arc::new(TaskState {
            status: AtomicU8::new(Status::Pending as u8),
            cancel_requested: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            link,
        })
    }

    pub(super) fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Acquire))
    }

    /// Moves the status from `from` to `to`; false if it was elsewhere.
    fn advance(&self, from: Status, to: Status) -> bool {
        self.status
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Pending → Running, the first time the task is polled.
    pub(super) fn start(&self) {
        self.advance(Status::Pending, Status::Running);
    }

    pub(super) fn request_cancel(&self) {
        self.cancel_requested.store(true, Ordering::Release);
        self.link.stop.store(true, Ordering::Relaxed);
        self.abandon();
        self.waker.wake();
    }

    pub(super) fn is_cancel_requested(&self) -> bool {
        self.cancel_requested.load(Ordering::Acquire)
    }

    /// Registers the task's waker for [`request_cancel`](Self::request_cancel).
    pub(super) fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Moves a task that has not ended to `Cancelled`.
    fn abandon(&self) {
        if self.advance(Status::Pending, Status::Cancelled)
            || self.advance(Status::Running, Status::Cancelled)
        {
            self.link.progress.close();
        }
    }

    /// Records how the task ended and returns the outcome its handle sees.
    ///
    /// A cancel that lands after the work produced its outcome but before
    /// this call still wins: the handle then reports `Cancelled`, so that
    /// `status()` and the awaited result always agree.
    fn finish<T>(&self, outcome: Result<T, Error>) -> Result<T, Error> {
        let end = match &outcome {
            Ok(_) => Status::Finished,
            Err(Error::Cancelled) => Status::Cancelled,
            Err(_) => Status::Failed,
        };
        let outcome = if self.advance(Status::Pending, end) || self.advance(Status::Running, end) {
            outcome
        } else {
            Err(Error::Cancelled)
        };
        self.link.progress.close();
        outcome
    }
}

/// The task's side of its end: records the status and delivers the
/// outcome, exactly once. Dropped before that (the task itself was dropped
/// unfinished), it records `Cancelled` and delivers [`Error::Cancelled`].
pub(super) struct TaskEnd<T> {
    state: Arc<TaskState>,
    sender: Option<OutcomeSender<T>>,
}

impl<T> TaskEnd<T> {
    pub(super) fn new(state: &Arc<TaskState>, outcome: &Arc<Outcome<T>>) -> Self {
        TaskEnd {
            state: state.clone(),
            sender: Some(OutcomeSender::new(outcome)),
        }
    }

    pub(super) fn state(&self) -> &TaskState {
        &self.state
    }

    pub(super) fn finish(&mut self, outcome: Result<T, Error>) {
        if let Some(sender) = self.sender.take() {
            sender.send(self.state.finish(outcome));
        }
    }
}

impl<T> Drop for TaskEnd<T> {
    fn drop(&mut self) {
        if self.sender.is_some() {
            self.state.abandon();
            // The sender, dropped next, delivers `Cancelled`.
        }
    }
}
