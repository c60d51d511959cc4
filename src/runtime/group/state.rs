//! What a group and its children share: the slots, the queue of children
//! waiting for one, the counts, and the rules that move a child along.

use std::collections::{BTreeSet, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;

use super::child::sealed::Member;
use super::progress::{ChildProgress, GroupProgress};
use crate::runtime::task::panic_message;
use crate::{Error, Progress, Status};

/// Starts a child: called once, when a slot frees.
pub(super) type Start<T> = Box<dyn FnOnce(ChildEnd<T>) -> Arc<dyn Member<T>> + Send>;

/// Tells a parent how an adopted group ended.
pub(super) type Done<T> = Box<dyn FnOnce(Result<T, Error>) + Send>;

/// Tells the group how child `index` ended, exactly once.
///
/// Dropped without a word, it reports a cancel, so that a child whose end
/// can never be told (a task whose result was taken elsewhere) does not
/// leave its group waiting forever; except while a panic unwinds, since
/// the start that panicked reports that panic itself.
pub struct ChildEnd<T> {
    tell: Option<Done<T>>,
}

impl<T> ChildEnd<T> {
    pub(super) fn tell(mut self, outcome: Result<T, Error>) {
        if let Some(tell) = self.tell.take() {
            tell(outcome);
        }
    }
}

impl<T> std::fmt::Debug for ChildEnd<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildEnd")
            .field("told", &self.tell.is_none())
            .finish()
    }
}

impl<T> Drop for ChildEnd<T> {
    fn drop(&mut self) {
        if let Some(tell) = self.tell.take() {
            if !thread::panicking() {
                tell(Err(Error::Cancelled));
            }
        }
    }
}

/// A group's state, behind one lock.
///
/// No user code and no call into a child runs with the lock held: a child's
/// start closure, its cancel and its end callback may each call back into
/// the group, on this thread or another.
pub(crate) struct Shared<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    /// Every child, in spawn order.
    children: Vec<Slot<T>>,
    /// The children waiting for a slot, oldest first.
    queue: VecDeque<usize>,
    /// The most children started and not ended at once.
    limit: usize,
    /// Whether a failing child leaves its siblings running.
    keep_going: bool,
    /// Children started and not ended, by index.
    running: BTreeSet<usize>,
    finished: usize,
    failed: usize,
    cancelled: usize,
    /// Work of the children that ended, so a snapshot sums only the
    /// running ones.
    ended_done: u64,
    ended_total: u64,
    /// Set by a cancel, or by the first failure unless `keep_going`: no
    /// child starts after it, and those waiting end cancelled.
    stopping: bool,
    /// Set by `cancel`.
    cancel_requested: bool,
    /// The first failure that stopped the group.
    failure: Option<Error>,
    /// One thread at a time starts children (see `pump`).
    pumping: bool,
    /// No child may be added any more: the group was adopted by a parent,
    /// or has ended.
    sealed: bool,
    /// The group's own end, once it came.
    end: Option<Status>,
    /// Who waits for the end: the task awaiting the group, or a parent.
    waker: Option<Waker>,
    on_end: Option<Done<Vec<T>>>,
}

enum Slot<T> {
    /// Waiting for a slot.
    Pending(Start<T>),
    /// Its start closure is running, outside the lock.
    Starting,
    Running(Arc<dyn Member<T>>),
    Ended {
        status: Status,
        progress: Progress,
        outcome: Option<Result<T, Error>>,
    },
}

/// How a group ended: every child's outcome, in spawn order, and the
/// group's error unless it finished.
pub(super) struct Ending<T> {
    pub(super) outcomes: Vec<Result<T, Error>>,
    pub(super) error: Option<Error>,
}

impl<T> Ending<T> {
    /// The group's outcome as its parent or awaiting task sees it.
    pub(super) fn into_result(self) -> Result<Vec<T>, Error> {
        match self.error {
            Some(error) => Err(error),
            None => self.outcomes.into_iter().collect(),
        }
    }
}

/// An adopted group's end, for its parent.
type ToParent<T> = (Done<Vec<T>>, Result<Vec<T>, Error>);

/// Work to do once the lock is released.
struct After<T> {
    cancel: Vec<Arc<dyn Member<T>>>,
    /// Closures and members dropped outside the lock: their drops are user
    /// code (captures) or calls into a child.
    drop: Vec<Start<T>>,
    released: Option<Arc<dyn Member<T>>>,
    wake: Option<Waker>,
    /// Tells an adopting parent of the group's end.
    tell_parent: Option<ToParent<T>>,
}

impl<T> Default for After<T> {
    fn default() -> Self {
        After {
            cancel: Vec::new(),
            drop: Vec::new(),
            released: None,
            wake: None,
            tell_parent: None,
        }
    }
}

impl<T> After<T> {
    fn run(self) {
        for member in &self.cancel {
            member.cancel();
        }
        drop(self.cancel);
        drop(self.drop);
        drop(self.released);
        if let Some(waker) = self.wake {
            waker.wake();
        }
        if let Some((on_end, outcome)) = self.tell_parent {
            on_end(outcome);
        }
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Cancels every child: those running are cancelled, those waiting end
    /// cancelled without starting.
    pub(super) fn cancel(&self) {
        let mut after = After::default();
        {
            let mut state = self.lock();
            state.cancel_requested = true;
            if !state.stopping {
                state.stop(&mut after);
            }
            let end = state.check_end();
            after.wake = end.wake;
            after.tell_parent = end.tell_parent;
        }
        after.run();
    }
}

impl<T: Send + 'static> Shared<T> {
    pub(super) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Shared {
            state: Mutex::new(State {
                children: Vec::new(),
                queue: VecDeque::new(),
                limit,
                keep_going: false,
                running: BTreeSet::new(),
                finished: 0,
                failed: 0,
                cancelled: 0,
                ended_done: 0,
                ended_total: 0,
                stopping: false,
                cancel_requested: false,
                failure: None,
                pumping: false,
                sealed: false,
                end: None,
                waker: None,
                on_end: None,
            }),
        })
    }

    pub(super) fn set_keep_going(&self) {
        self.lock().keep_going = true;
    }

    pub(super) fn set_limit(self: &Arc<Self>, limit: usize) {
        self.lock().limit = limit;
        self.pump();
    }

    /// Queues a child and starts it if a slot is free; returns its index.
    /// A group that is stopping or has ended takes it as cancelled at once.
    pub(super) fn add(self: &Arc<Self>, start: Start<T>) -> usize {
        let mut after = After::default();
        let index = {
            let mut state = self.lock();
            let index = state.children.len();
            if state.stopping || state.sealed {
                state.children.push(Slot::Ended {
                    status: Status::Cancelled,
                    progress: Progress::default(),
                    outcome: Some(Err(Error::Cancelled)),
                });
                state.cancelled += 1;
                after.drop.push(start);
            } else {
                state.children.push(Slot::Pending(start));
                state.queue.push_back(index);
            }
            index
        };
        after.run();
        self.pump();
        index
    }

    /// Starts waiting children while slots are free.
    ///
    /// One thread pumps at a time, in a loop, so that children that end at
    /// once (a spec that fails its checks) do not recurse through their end
    /// callbacks into ever deeper pumps. Another thread that frees a slot
    /// meanwhile finds `pumping` set and leaves the start to the pumping
    /// thread, which looks again before it stops.
    fn pump(self: &Arc<Self>) {
        let mut state = self.lock();
        if state.pumping {
            return;
        }
        state.pumping = true;
        loop {
            let next = if state.running.len() < state.limit && !state.stopping {
                state.queue.pop_front()
            } else {
                None
            };
            let Some(index) = next else {
                state.pumping = false;
                let after = state.check_end();
                drop(state);
                after.run();
                return;
            };
            let Slot::Pending(start) =
                std::mem::replace(&mut state.children[index], Slot::Starting)
            else {
                unreachable!("a queued child is pending");
            };
            state.running.insert(index);
            drop(state);
            self.start(index, start);
            state = self.lock();
        }
    }

    /// Runs a child's start closure and installs the child it gives.
    fn start(self: &Arc<Self>, index: usize, start: Start<T>) {
        let group = Arc::downgrade(self);
        let end = ChildEnd {
            tell: Some(Box::new(move |outcome| {
                if let Some(group) = group.upgrade() {
                    group.ended(index, outcome);
                }
            })),
        };
        let member = match catch_unwind(AssertUnwindSafe(|| start(end))) {
            Ok(member) => member,
            Err(payload) => {
                // `end` went down with the closure: end the child here.
                self.ended(index, Err(Error::Panicked(panic_message(payload.as_ref()))));
                return;
            }
        };
        let mut state = self.lock();
        let cancel = state.stopping;
        match &mut state.children[index] {
            slot @ Slot::Starting => *slot = Slot::Running(member.clone()),
            // It ended while starting: keep its final progress.
            Slot::Ended { progress, .. } => {
                *progress = member.progress();
                let (done, total) = (progress.done, progress.total);
                state.ended_done += done;
                state.ended_total += total.unwrap_or(done);
            }
            _ => unreachable!("only its start installs a child"),
        }
        drop(state);
        // The group began stopping while this child started.
        if cancel {
            member.cancel();
        }
    }

    /// Records how child `index` ended, stops the group on a failure
    /// (unless it keeps going), and starts the next child.
    fn ended(self: &Arc<Self>, index: usize, outcome: Result<T, Error>) {
        let mut after = After::default();
        {
            let mut state = self.lock();
            let status = match &outcome {
                Ok(_) => Status::Finished,
                Err(Error::Cancelled) => Status::Cancelled,
                Err(_) => Status::Failed,
            };
            let slot = &mut state.children[index];
            if matches!(slot, Slot::Ended { .. }) {
                return;
            }
            let (progress, member) = match std::mem::replace(slot, Slot::Starting) {
                Slot::Running(member) => (member.progress(), Some(member)),
                _ => (Progress::default(), None),
            };
            let (done, total) = (progress.done, progress.total);
            state.children[index] = Slot::Ended {
                status,
                progress,
                outcome: None,
            };
            state.running.remove(&index);
            state.ended_done += done;
            state.ended_total += total.unwrap_or(done);
            match status {
                Status::Finished => state.finished += 1,
                Status::Cancelled => state.cancelled += 1,
                _ => state.failed += 1,
            }
            if let (Status::Failed, Err(error)) = (status, &outcome) {
                if !state.keep_going && !state.stopping {
                    state.failure = Some(error.clone());
                    state.stop(&mut after);
                }
            }
            if let Slot::Ended { outcome: slot, .. } = &mut state.children[index] {
                *slot = Some(outcome);
            }
            after.released = member;
        }
        after.run();
        self.pump();
    }

    /// Seals the group, adopted by a parent that `on_end` tells of its end.
    pub(super) fn adopt(self: &Arc<Self>, on_end: Done<Vec<T>>) {
        let after = {
            let mut state = self.lock();
            state.sealed = true;
            state.on_end = Some(on_end);
            state.check_end()
        };
        after.run();
    }

    /// Every child's outcome once all have ended, with the group's error
    /// if it did not finish (sealing the group then), or a promise to wake
    /// `cx` when they have.
    pub(super) fn poll_end(&self, cx: &mut Context<'_>) -> Poll<Ending<T>> {
        let mut state = self.lock();
        assert!(
            state.end.is_none(),
            "quadpipe: a TaskGroup was polled again after it returned its result"
        );
        if !state.running.is_empty() || !state.queue.is_empty() {
            match &mut state.waker {
                Some(waker) => waker.clone_from(cx.waker()),
                waker => *waker = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        state.sealed = true;
        Poll::Ready(state.end())
    }

    pub(super) fn status(&self) -> Status {
        let state = self.lock();
        if let Some(end) = state.end {
            end
        } else if state.cancel_requested {
            Status::Cancelled
        } else if !state.running.is_empty() || state.queue.len() < state.children.len() {
            Status::Running
        } else {
            Status::Pending
        }
    }

    pub(super) fn progress(&self) -> GroupProgress {
        let state = self.lock();
        let mut snapshot = GroupProgress {
            done: state.ended_done,
            total: state.ended_total,
            pending: state.queue.len(),
            running: state.running.len(),
            finished: state.finished,
            failed: state.failed,
            cancelled: state.cancelled,
            active: Vec::new(),
        };
        for &index in &state.running {
            if let Slot::Running(member) = &state.children[index] {
                let progress = member.progress();
                snapshot.done += progress.done;
                snapshot.total += progress.total.unwrap_or(progress.done);
                snapshot.active.push(ChildProgress {
                    index,
                    status: member.status(),
                    progress,
                });
            }
        }
        snapshot
    }

    /// The work of the whole group as one child's progress, for a parent.
    pub(super) fn rolled_up(&self) -> Progress {
        let snapshot = self.progress();
        Progress {
            done: snapshot.done,
            total: Some(snapshot.total),
            estimate: None,
        }
    }

    pub(super) fn child(&self, index: usize) -> Option<ChildProgress> {
        let state = self.lock();
        let (status, progress) = match state.children.get(index)? {
            Slot::Pending(_) => (Status::Pending, Progress::default()),
            Slot::Starting => (Status::Running, Progress::default()),
            Slot::Running(member) => (member.status(), member.progress()),
            Slot::Ended {
                status, progress, ..
            } => (*status, progress.clone()),
        };
        Some(ChildProgress {
            index,
            status,
            progress,
        })
    }
}

impl<T> State<T> {
    /// Stops the group: no child starts any more, those waiting end
    /// cancelled, those running are to be cancelled (by `after`).
    fn stop(&mut self, after: &mut After<T>) {
        self.stopping = true;
        while let Some(index) = self.queue.pop_front() {
            let slot = std::mem::replace(
                &mut self.children[index],
                Slot::Ended {
                    status: Status::Cancelled,
                    progress: Progress::default(),
                    outcome: Some(Err(Error::Cancelled)),
                },
            );
            if let Slot::Pending(start) = slot {
                after.drop.push(start);
            }
            self.cancelled += 1;
        }
        for slot in &self.children {
            if let Slot::Running(member) = slot {
                after.cancel.push(member.clone());
            }
        }
    }

    /// Ends the group, once every child has ended: its status, and the
    /// error it fails with, which is the failure that stopped it or, with
    /// `keep_going`, the first failure in spawn order; a cancel wins over
    /// both.
    fn end(&mut self) -> Ending<T> {
        let outcomes: Vec<_> = self
            .children
            .iter_mut()
            .map(|slot| match slot {
                Slot::Ended { outcome, .. } => outcome.take().unwrap_or(Err(Error::Cancelled)),
                _ => Err(Error::Cancelled),
            })
            .collect();
        let first_failure = || {
            outcomes
                .iter()
                .find_map(|outcome| {
                    outcome
                        .as_ref()
                        .err()
                        .filter(|e| !matches!(e, Error::Cancelled))
                })
                .cloned()
        };
        let (status, error) = if self.cancel_requested {
            (Status::Cancelled, Some(Error::Cancelled))
        } else if let Some(failure) = &self.failure {
            (Status::Failed, Some(failure.clone()))
        } else if self.keep_going && self.failed > 0 {
            (Status::Failed, first_failure())
        } else if self.cancelled > 0 {
            (Status::Cancelled, Some(Error::Cancelled))
        } else {
            (Status::Finished, None)
        };
        self.end = Some(status);
        Ending { outcomes, error }
    }

    /// When every child has ended: wakes the task awaiting the group, or
    /// ends an adopted group and tells its parent.
    fn check_end(&mut self) -> After<T> {
        let mut after = After::default();
        if !self.running.is_empty() || !self.queue.is_empty() || self.end.is_some() {
            return after;
        }
        after.wake = self.waker.take();
        if let Some(on_end) = self.on_end.take() {
            after.tell_parent = Some((on_end, self.end().into_result()));
        }
        after
    }
}
