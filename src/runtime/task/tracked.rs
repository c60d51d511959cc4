//! A task's work as it runs: moving the status, catching panics, honouring
//! cancellation, delivering the outcome.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::state::TaskEnd;
use crate::Error;

/// A task's future as an executor runs it.
///
/// Dropped unfinished (its executor shut down), the fields drop in their
/// order: first the work, then `end`, which records the cancel and delivers
/// it, so the handle never sees an outcome while the work still exists.
pub(crate) struct Tracked<F, T> {
    future: Option<Pin<Box<F>>>,
    end: TaskEnd<T>,
}

impl<F, T> Tracked<F, T> {
    pub(super) fn new(future: F, end: TaskEnd<T>) -> Self {
        Tracked {
            future: Some(Box::pin(future)),
            end,
        }
    }
}

impl<F, T> Future for Tracked<F, T>
where
    F: Future<Output = Result<T, Error>>,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(future) = this.future.as_mut() else {
            return Poll::Ready(());
        };
        let state = this.end.state();
        state.register(cx.waker());
        let outcome = if state.is_cancel_requested() {
            Err(Error::Cancelled)
        } else {
            state.start();
            match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(outcome)) => outcome,
                Err(payload) => Err(Error::Panicked(panic_message(payload.as_ref()))),
            }
        };
        // Drop the work before the handle can see the outcome, so that once
        // an await returns, nothing of the task is still running.
        this.future = None;
        this.end.finish(outcome);
        Poll::Ready(())
    }
}

/// Blocking work as a thread of the blocking pool runs it.
pub(super) fn run_blocking<T>(work: impl FnOnce() -> T, mut end: TaskEnd<T>) {
    let state = end.state();
    if state.is_cancel_requested() {
        // Dropping `end` records and delivers the cancel.
        return;
    }
    state.start();
    let outcome = catch_unwind(AssertUnwindSafe(work))
        .map_err(|payload| Error::Panicked(panic_message(payload.as_ref())));
    end.finish(outcome);
}

/// The message of a panic payload: the `&str` or `String` that `panic!`
/// formats, which covers every panic but `panic_any`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic payload is not a string".to_owned()
    }
}
