//! Adaptive Gauss–Kronrod quadrature as a pipeline method: the whole QAGS
//! run is one chunk, so it runs on the spawner like any chunk (never on a
//! host thread), stops at a cancel, and reports as any run does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::checkpoint::StateReader;
use crate::method::gauss_kronrod::{GkOutcome, GkSettings, GkStatus, integrate};
use crate::pipeline::ChunkedWork;
use crate::{Error, Estimate, Integrand, Stop};

/// The integral of a one-dimensional integrand over `[a, b]`, either bound
/// possibly infinite, by QUADPACK's QAGS (QAGI for infinite bounds).
pub(crate) struct GaussKronrod<I> {
    pub(crate) integrand: Arc<I>,
    pub(crate) a: f64,
    pub(crate) b: f64,
    pub(crate) settings: GkSettings,
}

impl<I: Integrand> ChunkedWork for GaussKronrod<I> {
    type Part = GkOutcome;
    type Merged = Option<GkOutcome>;

    /// How many evaluations it takes is not known in advance.
    fn total(&self) -> Option<u64> {
        None
    }

    fn chunks(&self) -> u64 {
        1
    }

    fn run_chunk(&self, _index: u64, cancel: &AtomicBool) -> Result<GkOutcome, Error> {
        let mut evaluate = |points: &[f64], values: &mut [f64]| {
            if cancel.load(Ordering::Relaxed) {
                // Ends the run at once: the algorithm stops on a NaN.
                values.fill(f64::NAN);
            } else {
                self.integrand.evaluate(1, points, values);
            }
        };
        let outcome = integrate(&mut evaluate, self.a, self.b, &self.settings);
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        match outcome.status {
            GkStatus::NonFinite { x, value } => Err(Error::NonFiniteValue {
                point: Box::new([x]),
                value,
            }),
            GkStatus::Overflow => Err(Error::Overflow),
            // The spec checked bounds and tolerances before the run.
            GkStatus::Invalid => Err(Error::InvalidTolerance {
                abs: self.settings.abs,
                rel: self.settings.rel,
            }),
            _ => Ok(outcome),
        }
    }

    fn start(&self) -> Option<GkOutcome> {
        None
    }

    fn merge(&self, merged: &mut Option<GkOutcome>, part: GkOutcome) {
        *merged = Some(part);
    }

    fn done(&self, merged: &Option<GkOutcome>) -> u64 {
        merged.map_or(0, |outcome| outcome.evaluations)
    }

    /// The quadrature's value and its error estimate (in the place of the
    /// standard error), and why it stopped: QUADPACK's status, not the
    /// budget's.
    fn estimate(&self, merged: &Option<GkOutcome>, stop: Stop) -> Estimate {
        let Some(outcome) = merged else {
            return Estimate::new(f64::NAN, f64::INFINITY, 0, Stop::Partial);
        };
        let stop = match (stop, outcome.status) {
            (Stop::Partial, _) => Stop::Partial,
            (_, GkStatus::Converged) => Stop::ToleranceMet,
            (_, GkStatus::SubdivisionLimit) => Stop::SubdivisionLimit,
            (_, GkStatus::RoundOff) => Stop::RoundOff,
            (_, GkStatus::Divergent) => Stop::Divergent,
            _ => Stop::ToleranceNotMet,
        };
        Estimate::new(outcome.value, outcome.error, outcome.evaluations, stop)
    }

    const KIND: u8 = 3;

    /// A finished run's outcome, so resuming it gives it again.
    fn encode(&self, merged: &Option<GkOutcome>, out: &mut Vec<u8>) {
        if let Some(outcome) = merged {
            let status = match outcome.status {
                GkStatus::Converged => 0,
                GkStatus::SubdivisionLimit => 1,
                GkStatus::RoundOff => 2,
                GkStatus::BadIntegrand => 3,
                GkStatus::NoConvergence => 4,
                _ => 5,
            };
            for field in [
                outcome.value.to_bits(),
                outcome.error.to_bits(),
                outcome.evaluations,
                outcome.intervals as u64,
                status,
            ] {
                out.extend_from_slice(&field.to_le_bytes());
            }
        }
    }

    /// The one chunk's outcome, as a checkpoint holds it.
    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &GkOutcome, out: &mut Vec<u8>) {
        self.encode(&Some(*part), out);
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<GkOutcome> {
        self.decode(bytes).flatten()
    }

    fn decode(&self, state: &[u8]) -> Option<Option<GkOutcome>> {
        if state.is_empty() {
            return Some(None);
        }
        let mut reader = StateReader(state);
        let (value, error) = (reader.f64()?, reader.f64()?);
        let (evaluations, intervals) = (reader.u64()?, reader.u64()? as usize);
        let status = match reader.u64()? {
            0 => GkStatus::Converged,
            1 => GkStatus::SubdivisionLimit,
            2 => GkStatus::RoundOff,
            3 => GkStatus::BadIntegrand,
            4 => GkStatus::NoConvergence,
            5 => GkStatus::Divergent,
            _ => return None,
        };
        reader.is_done().then_some(Some(GkOutcome {
            value,
            error,
            evaluations,
            intervals,
            status,
        }))
    }
}
