//! When a chunk stops before its end: its run was cancelled, or the run's
//! time limit passed. A chunk looks between blocks of its work, and sizes
//! the blocks by time as well as by count, so that it looks about every
//! millisecond whatever one sample costs: a cheap integrand looks every
//! 16 Ki samples, one that takes 100 µs a call after a few calls.
//!
//! Where a chunk looks does not change its bits: every chunk adds its
//! values in sample order, whatever the blocks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::Error;

/// About how long a chunk works between two looks at its [`Halt`]: short
/// enough that a cancel or a time limit is seen within a few milliseconds,
/// long enough that reading the clock (some 20 ns) costs nothing.
const LOOK_EVERY: Duration = Duration::from_millis(1);

/// What a chunk looks at between blocks of its work: the run's cancel flag
/// and the instant its time limit passes. (Public only as the sealed
/// integrand trait's argument; not reachable from outside the crate.)
#[derive(Debug)]
pub struct Halt {
    cancel: Arc<AtomicBool>,
    deadline: Option<Instant>,
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
        Halt { cancel, deadline }
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
        let took = now.duration_since(self.last).as_nanos().max(1);
        self.last = now;
        // As many units as took LOOK_EVERY at the last block's pace.
        let next = u128::from(done) * LOOK_EVERY.as_nanos() / took;
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
