//! What the driver runs: a method is a sequence of passes, and a pass is
//! chunks.
//!
//! A method ([`Passes`]) owns its state between passes (VEGAS's grid,
//! Gauss–Kronrod's subintervals) and says what the next pass computes. A
//! pass ([`Pass`]) is chunks `0..chunks()`, each a pure function of the
//! pass and its index, merged strictly in chunk order. Everything else
//! (where chunks run, progress, cancel, checkpoints, stop rules) is the
//! driver's, the same for every method.

use std::sync::Arc;

use crate::driver::checkpoint::StateReader;
use crate::driver::halt::Halt;
use crate::{Error, Estimate, Stop};

/// One pass: chunks `0..chunks()`, where chunk `i` is a pure function of
/// the pass and `i`, so the same chunk gives the same bits on any thread.
pub(crate) trait Pass: Send + Sync + 'static {
    /// What one chunk yields.
    type Part: Send + 'static;
    /// The chunks merged so far, in chunk order.
    type Merged: Send;

    /// How many chunks the pass is split into.
    fn chunks(&self) -> u64;

    /// Does chunk `index`, looking at `halt` about every millisecond (or
    /// before it starts, if it is shorter): `Err(Cancelled)` if the run was
    /// cancelled, and the part done so far if its time limit passed.
    fn run_chunk(&self, index: u64, halt: &Halt) -> Result<Self::Part, Error>;

    /// Nothing merged yet.
    fn start(&self) -> Self::Merged;

    /// Adds the next chunk's part; called in chunk order.
    fn merge(&self, merged: &mut Self::Merged, part: Self::Part);

    /// Whether finite parts merged into sums that are not: the run then
    /// fails with [`Error::Overflow`] whatever the chunk size, instead of
    /// giving an infinite estimate.
    fn overflowed(&self, _merged: &Self::Merged) -> bool {
        false
    }

    /// Appends a merged prefix to a checkpoint's bytes, bit for bit.
    fn encode(&self, merged: &Self::Merged, out: &mut Vec<u8>);

    /// A merged prefix back from `encode`'s bytes; `None` if they are not
    /// one of this pass.
    fn decode(&self, reader: &mut StateReader<'_>) -> Option<Self::Merged>;

    /// Appends one chunk's part to a message for another process, bit for
    /// bit.
    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &Self::Part, out: &mut Vec<u8>);

    /// The part back from exactly the bytes `encode_part` wrote.
    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<Self::Part>;
}

/// The merged prefix of the pass that is running, if one is.
pub(crate) type Running<'a, M> = Option<(&'a <M as Passes>::Pass, &'a Merged<M>)>;

/// What a method's passes merge into.
pub(crate) type Merged<M> = <<M as Passes>::Pass as Pass>::Merged;

/// A method: its state between passes, and what the next pass computes.
///
/// Every decision a method takes between passes is a function of its
/// state and of merged passes alone, so the sequence of passes, and the
/// bits, do not depend on where or when chunks ran.
pub(crate) trait Passes: Send + 'static {
    /// The work of one pass.
    type Pass: Pass;

    /// Units of work (integrand evaluations) in the whole run, when known
    /// in advance.
    fn total(&self) -> Option<u64>;

    /// The next pass, or `None` when the method has nothing left to do.
    /// A function of the state alone: a resumed run rebuilds the pass its
    /// checkpoint was taken in.
    fn next_pass(&self) -> Option<Arc<Self::Pass>>;

    /// Folds a finished pass into the state; `Some(stop)` if the method
    /// ends here on its own (a quadrature that converged).
    fn end_pass(&mut self, pass: &Self::Pass, merged: Merged<Self>) -> Result<Option<Stop>, Error>;

    /// Units of work done, the running pass's prefix included.
    fn done(&self, running: Running<'_, Self>) -> u64;

    /// The estimate so far, the running pass's prefix included.
    fn estimate(&self, running: Running<'_, Self>, stop: Stop) -> Estimate;

    /// Whether a data-dependent stop rule may look at this state (a
    /// randomised QMC prefix is balanced only at the end of a round).
    fn is_complete(&self, _running: Running<'_, Self>) -> bool {
        true
    }

    /// Whether the method applies the tolerance itself (quadrature), so
    /// the driver must not.
    fn owns_tolerance(&self) -> bool {
        false
    }

    /// Appends the state between passes to a checkpoint's bytes.
    fn encode(&self, out: &mut Vec<u8>);

    /// Restores the state between passes from `encode`'s bytes; `None` if
    /// they are not a state of this method.
    fn decode(&mut self, reader: &mut StateReader<'_>) -> Option<()>;
}

/// A pass that is a whole method: plain Monte Carlo, randomised QMC.
pub(crate) trait OnePass: Pass {
    /// Units of work in the whole budget, when known in advance.
    fn total(&self) -> Option<u64>;

    /// Units of work in a merged prefix.
    fn done(&self, merged: &Self::Merged) -> u64;

    /// The estimate a merged prefix gives.
    fn estimate(&self, merged: &Self::Merged, stop: Stop) -> Estimate;

    /// Whether a data-dependent stop rule may look at this prefix.
    fn is_complete(&self, _merged: &Self::Merged) -> bool {
        true
    }

    /// Whether the work applies the tolerance itself.
    fn owns_tolerance(&self) -> bool {
        false
    }
}

/// A method of one pass.
pub(crate) struct Single<W: OnePass> {
    work: Arc<W>,
    finished: Option<W::Merged>,
}

impl<W: OnePass> Single<W> {
    pub(crate) fn new(work: W) -> Self {
        Single {
            work: Arc::new(work),
            finished: None,
        }
    }
}

impl<W: OnePass> Passes for Single<W> {
    type Pass = W;

    fn total(&self) -> Option<u64> {
        self.work.total()
    }

    fn next_pass(&self) -> Option<Arc<W>> {
        self.finished.is_none().then(|| self.work.clone())
    }

    fn end_pass(&mut self, _pass: &W, merged: W::Merged) -> Result<Option<Stop>, Error> {
        self.finished = Some(merged);
        Ok(None)
    }

    fn done(&self, running: Running<'_, Self>) -> u64 {
        match (running, &self.finished) {
            (Some((_, merged)), _) | (None, Some(merged)) => self.work.done(merged),
            (None, None) => 0,
        }
    }

    fn estimate(&self, running: Running<'_, Self>, stop: Stop) -> Estimate {
        match (running, &self.finished) {
            (Some((_, merged)), _) | (None, Some(merged)) => self.work.estimate(merged, stop),
            (None, None) => self.work.estimate(&self.work.start(), stop),
        }
    }

    fn is_complete(&self, running: Running<'_, Self>) -> bool {
        match (running, &self.finished) {
            (Some((_, merged)), _) | (None, Some(merged)) => self.work.is_complete(merged),
            (None, None) => false,
        }
    }

    fn owns_tolerance(&self) -> bool {
        self.work.owns_tolerance()
    }

    /// Checkpoints fall inside the one pass: nothing is kept between.
    fn encode(&self, _out: &mut Vec<u8>) {}

    fn decode(&mut self, _reader: &mut StateReader<'_>) -> Option<()> {
        Some(())
    }
}
