//! The slot through which a task's outcome reaches its handle and callbacks.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::Error;

type Callback<T> = Box<dyn FnOnce(&Result<T, Error>) + Send>;

/// A one-shot slot: the task delivers its outcome once; callbacks registered
/// before that see it as it arrives, and then the handle takes it.
pub(crate) struct Outcome<T> {
    slot: Mutex<Slot<T>>,
}

enum Slot<T> {
    /// The task has not ended: who to tell when it does.
    Waiting {
        waker: Option<Waker>,
        callbacks: Vec<Callback<T>>,
    },
    /// The task ended; the handle has not taken the outcome yet.
    Ready(Result<T, Error>),
    /// The handle took the outcome.
    Taken,
}

impl<T> Outcome<T> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Outcome {
            slot: Mutex::new(Slot::Waiting {
                waker: None,
                callbacks: Vec::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands the outcome to the callbacks, then leaves it for the handle.
    ///
    /// Callbacks run here, outside the lock, and each catches its own
    /// panic; one registered while others run is run too before the
    /// outcome is stored, so none is lost.
    fn deliver(&self, outcome: Result<T, Error>) {
        loop {
            let callbacks = {
                let mut slot = self.lock();
                let Slot::Waiting { callbacks, waker } = &mut *slot else {
                    return;
                };
                if callbacks.is_empty() {
                    // Stored under the same lock that found no callback,
                    // so one registered from now on sees `Ready` and runs
                    // at once instead of being dropped.
                    let waker = waker.take();
                    *slot = Slot::Ready(outcome);
                    drop(slot);
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                    return;
                }
                std::mem::take(callbacks)
            };
            for callback in callbacks {
                let _ = catch_unwind(AssertUnwindSafe(|| callback(&outcome)));
            }
        }
    }

    /// Runs `callback` with the outcome: when it is delivered, or now if it
    /// already was. Never, if the handle has already taken it.
    ///
    /// The callback never runs with the lock held, so it may register
    /// another callback, or poll the handle, without deadlocking: a
    /// delivered outcome is copied out first.
    pub(crate) fn on_delivery(&self, callback: impl FnOnce(&Result<T, Error>) + Send + 'static)
    where
        T: Clone,
    {
        let ready = {
            let mut slot = self.lock();
            match &mut *slot {
                Slot::Waiting { callbacks, .. } => {
                    callbacks.push(Box::new(callback));
                    return;
                }
                Slot::Ready(outcome) => outcome.clone(),
                Slot::Taken => return,
            }
        };
        let _ = catch_unwind(AssertUnwindSafe(|| callback(&ready)));
    }

    /// Takes the outcome if it has been delivered, or registers `cx`.
    ///
    /// # Panics
    ///
    /// If the outcome was already taken: the handle was polled again after
    /// it returned its result.
    pub(crate) fn poll_take(&self, cx: &mut Context<'_>) -> Poll<Result<T, Error>> {
        let mut slot = self.lock();
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Ready(outcome) => Poll::Ready(outcome),
            Slot::Waiting {
                mut waker,
                callbacks,
            } => {
                match &mut waker {
                    Some(waker) => waker.clone_from(cx.waker()),
                    None => waker = Some(cx.waker().clone()),
                }
                *slot = Slot::Waiting { waker, callbacks };
                Poll::Pending
            }
            Slot::Taken => panic!("quadpipe: a Task was polled again after it returned its result"),
        }
    }
}

/// The task's end of the slot. Dropped without sending (the task was
/// dropped before it ended), it delivers [`Error::Cancelled`].
pub(crate) struct OutcomeSender<T>(Option<Arc<Outcome<T>>>);

impl<T> OutcomeSender<T> {
    pub(crate) fn new(outcome: &Arc<Outcome<T>>) -> Self {
        OutcomeSender(Some(outcome.clone()))
    }

    pub(crate) fn send(mut self, outcome: Result<T, Error>) {
        if let Some(slot) = self.0.take() {
            slot.deliver(outcome);
        }
    }
}

impl<T> Drop for OutcomeSender<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.deliver(Err(Error::Cancelled));
        }
    }
}
