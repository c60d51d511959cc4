//! When a chunk stops before its end: its run was cancelled, or the run's
//! time limit passed. A chunk looks between blocks of its work, and sizes
//! the blocks by time as well as by count, so that it looks about every
//! millisecond whatever one sample costs: a cheap integrand looks every
//! 16 Ki samples, one that takes 100 µs a call after a few calls.
//!
//! A blocked caller's first chunk may carry an [`EarlyStart`]: work it
//! starts at its first look past an instant (the rest of the pass, handed
//! to the workers), looking every few microseconds until then.
//!
//! Where a chunk looks does not change its bits: every chunk adds its
//! values in sample order, whatever the blocks.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Error;

/// About how long a chunk works between two looks at its [`Halt`]: short
/// enough that a cancel or a time limit is seen within a few milliseconds,
/// long enough that reading the clock (some 20 ns) costs nothing.
const LOOK_EVERY: Duration = Duration::from_millis(1);

/// How often a chunk with an [`EarlyStart`] still to come looks at its
/// halt: often enough that the start comes soon after its instant.
const LOOK_EARLY_EVERY: Duration = Duration::from_micros(5);

/// What a chunk looks at between blocks of its work: the run's cancel flag
/// and the instant its time limit passes. (Public only as the sealed
/// integrand trait's argument; not reachable from outside the crate.)
#[derive(Debug)]
pub struct Halt {
    cancel: Arc<AtomicBool>,
    deadline: Option<Instant>,
    early: Option<EarlyStart>,
}

/// Work a chunk starts, at its first look past an instant, if it is still
/// running then: a caller blocked on a run computes the first chunk
/// itself, and if that chunk turns out long, it hands the rest of the pass
/// to the workers from inside it, so that they wake up while it finishes
/// (waking them before it would cost a small run their wake-up, and after
/// it would keep them asleep for its whole length).
pub(crate) struct EarlyStart {
    at: Instant,
    started: AtomicBool,
    start: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl EarlyStart {
    /// Runs `start` at the first look past `at`.
    pub(crate) fn new(at: Instant, start: impl FnOnce() + Send + 'static) -> EarlyStart {
        EarlyStart {
            at,
            started: AtomicBool::new(false),
            start: Mutex::new(Some(Box::new(start))),
        }
    }

    /// Whether the start has run.
    fn has_started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }

    /// At a look at `now`: runs the start if its instant has passed, and
    /// tells whether one is still to come.
    fn look(&self, now: Instant) -> bool {
        if self.has_started() {
            return false;
        }
        if now < self.at {
            return true;
        }
        self.started.store(true, Ordering::Relaxed);
        let start = self.start.lock().map(|mut start| start.take());
        if let Ok(Some(start)) = start {
            start();
        }
        false
    }
}

impl fmt::Debug for EarlyStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EarlyStart")
            .field("at", &self.at)
            .field("started", &self.has_started())
            .finish_non_exhaustive()
    }
}

/// Why a chunk stopped before its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Halted {
    /// The run was cancelled: the chunk's work is thrown away.
    Cancelled,
    /// The time limit passed: the chunk gives what it has done, which the
    /// run merges as its last part (a time stop is not reproducible).
    TimeUp,
}

impl Halt {
    /// Stops at `cancel`, and at `deadline` if there is one.
    pub(crate) fn new(cancel: Arc<AtomicBool>, deadline: Option<Instant>) -> Halt {
        Halt {
            cancel,
            deadline,
            early: None,
        }
    }

    /// Also runs `early`'s start, at the first look past its instant.
    pub(crate) fn with_early_start(self, early: EarlyStart) -> Halt {
        Halt {
            early: Some(early),
            ..self
        }
    }

    /// Never stops by itself: for chunks whose caller has no flag to set.
    #[cfg(test)]
    pub(crate) fn never() -> Halt {
        Halt::new(Arc::new(AtomicBool::new(false)), None)
    }

    /// Whether the run was cancelled: a look at the flag alone, for work
    /// too short to pace (a Gauss–Kronrod subinterval), or not started.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Starts pacing a chunk's looks, with blocks of at most `max` units.
    pub(crate) fn pace(&self, max: u64) -> Pace<'_> {
        Pace {
            halt: self,
            max: max.max(1),
            last: Instant::now(),
        }
    }
}

/// A chunk's looks at its [`Halt`], one after each block of work, with the
/// next block sized from how long the last one took.
#[derive(Debug)]
pub(crate) struct Pace<'h> {
    halt: &'h Halt,
    max: u64,
    last: Instant,
}

impl Pace<'_> {
    /// The units of work the next block may do, after `done` units since
    /// the last look: `Ok(None)` if the time limit has passed (the chunk
    /// then gives what it has done), [`Error::Cancelled`] if the run was
    /// cancelled. With nothing done yet, one unit without a look, so that
    /// every chunk gives something, and the first look has a pace to go by.
    pub(crate) fn next_block(&mut self, done: u64) -> Result<Option<u64>, Error> {
        if done == 0 {
            return Ok(Some(1));
        }
        match self.look(done) {
            Ok(units) => Ok(Some(units)),
            Err(Halted::TimeUp) => Ok(None),
            Err(Halted::Cancelled) => Err(Error::Cancelled),
        }
    }

    /// Looks at the halt after `done` units of work since the last look
    /// (or since the pace started): `Ok` with the units the next block may
    /// do, between 1 and the maximum, or why the chunk must stop.
    fn look(&mut self, done: u64) -> Result<u64, Halted> {
        if self.halt.is_cancelled() {
            return Err(Halted::Cancelled);
        }
        let now = Instant::now();
        if self.halt.deadline.is_some_and(|deadline| now >= deadline) {
            return Err(Halted::TimeUp);
        }
        let early_to_come = self
            .halt
            .early
            .as_ref()
            .is_some_and(|early| early.look(now));
        let every = if early_to_come {
            LOOK_EARLY_EVERY
        } else {
            LOOK_EVERY
        };
        let took = now.duration_since(self.last).as_nanos().max(1);
        self.last = now;
        // As many units as took `every` at the last block's pace.
        let next = u128::from(done) * every.as_nanos() / took;
        Ok(next.clamp(1, u128::from(self.max)) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_work_gets_small_blocks_and_fast_work_the_largest() {
        let halt = Halt::never();
        let mut pace = halt.pace(1024);
        std::thread::sleep(Duration::from_millis(20));
        // One unit took 20 ms: the next block is one unit.
        assert_eq!(pace.look(1), Ok(1));
        // A million units at once took far less than a millisecond.
        assert_eq!(pace.look(1 << 20), Ok(1024));
    }

    #[test]
    fn an_early_start_runs_once_at_the_first_look_past_its_instant() {
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = runs.clone();
        let count = move || {
            counted.fetch_add(1, Ordering::Relaxed);
        };
        let far = Instant::now() + Duration::from_secs(3600);
        let halt = Halt::never().with_early_start(EarlyStart::new(far, count.clone()));
        let mut pace = halt.pace(1 << 20);
        // A unit a microsecond: blocks of a few microseconds while the
        // start is to come, not a millisecond's worth.
        std::thread::sleep(Duration::from_millis(1));
        assert!(
            pace.look(1000).unwrap() <= 10,
            "small blocks before the start"
        );
        assert_eq!(runs.load(Ordering::Relaxed), 0);
        let now = Halt::never().with_early_start(EarlyStart::new(Instant::now(), count));
        let mut pace = now.pace(1 << 20);
        pace.look(1).unwrap();
        pace.look(1).unwrap();
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_cancel_wins_over_a_deadline_and_a_deadline_stops() {
        let cancel = Arc::new(AtomicBool::new(false));
        let past = Instant::now();
        let halt = Halt::new(cancel.clone(), Some(past));
        assert_eq!(halt.pace(8).look(1), Err(Halted::TimeUp));
        cancel.store(true, Ordering::Relaxed);
        assert!(halt.is_cancelled());
        assert_eq!(halt.pace(8).look(1), Err(Halted::Cancelled));
        let later = Halt::new(
            Arc::new(AtomicBool::new(false)),
            past.checked_add(Duration::from_secs(3600)),
        );
        assert!(later.pace(8).look(1).is_ok());
    }
}
