//! Adaptive Gauss–Kronrod quadrature as a pipeline method: the whole QAGS
//! run is one chunk, so it runs on the spawner like any chunk (never on a
//! host thread), stops at a cancel, and reports as any run does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::checkpoint::StateReader;
use crate::driver::pass::{OnePass, Pass};
use crate::method::gauss_kronrod::{GkOutcome, GkSettings, GkStatus, MIN_RELATIVE, integrate};
use crate::settings::{Bounds, Settings};
use crate::{Error, Estimate, Integrand, Stop};

/// The relative tolerance of Gauss–Kronrod when none is set.
const DEFAULT_REL: f64 = 1e-10;

/// Adaptive Gauss–Kronrod quadrature in one dimension: QUADPACK's QAGS
/// (G10–K21 rule, bisection of the subinterval with the largest error,
/// Wynn's epsilon extrapolation for endpoint singularities), and QAGI
/// (G7–K15 after `x = a + (1 − t)/t`) when a bound is infinite.
///
/// Deterministic; for smooth integrands it reaches 1e-10 in a few hundred
/// evaluations. The sample budget does not apply: it stops when its error
/// estimate meets the [`tolerance`](crate::Integral::tolerance) (relative
/// 1e-10 if none is set), or says why not
/// ([`Stop::SubdivisionLimit`](crate::Stop::SubdivisionLimit),
/// [`Stop::RoundOff`](crate::Stop::RoundOff),
/// [`Stop::Divergent`](crate::Stop::Divergent)). The estimate's `std_error`
/// holds that error estimate, and `samples` the evaluations.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Method, Stop};
///
/// let integral = Integral::new(|x: f64| 1.0 / x.sqrt(), 0.0..1.0)
///     .method(Method::gauss_kronrod().limit(200));
/// let estimate = pollster::block_on(integral.run_inline())?;
/// assert!((estimate.value - 2.0).abs() < 1e-9);
/// assert_eq!(estimate.stop, Stop::ToleranceMet);
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GaussKronrod {
    limit: u32,
}

impl GaussKronrod {
    /// Up to 1000 subintervals: enough for cos(1000x) on [0, 1] (128 at
    /// 1e-10), and 40 kB of bookkeeping at most.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::method::GaussKronrod::new(), quadpipe::Method::gauss_kronrod());
    /// ```
    pub const fn new() -> GaussKronrod {
        GaussKronrod { limit: 1000 }
    }

    /// The most subintervals, at least 1 (QUADPACK's `limit`).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Method, Stop};
    ///
    /// let wiggly = Integral::new(|x: f64| (1000.0 * x).cos(), 0.0..1.0)
    ///     .method(Method::gauss_kronrod().limit(4));
    /// let estimate = pollster::block_on(wiggly.run_inline())?;
    /// assert_eq!(estimate.stop, Stop::SubdivisionLimit);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub const fn limit(self, limit: u32) -> GaussKronrod {
        GaussKronrod { limit }
    }

    /// The settings that decide the bits, for a checkpoint's fingerprint.
    pub(crate) fn fingerprint(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.limit.to_le_bytes());
    }
}

impl Default for GaussKronrod {
    fn default() -> GaussKronrod {
        GaussKronrod::new()
    }
}

/// The integral of a one-dimensional integrand over `[a, b]`, either bound
/// possibly infinite, by QUADPACK's QAGS (QAGI for infinite bounds).
pub(crate) struct Quadrature<I> {
    integrand: Arc<I>,
    a: f64,
    b: f64,
    settings: GkSettings,
}

impl<I: Integrand> Quadrature<I> {
    /// Checks what QUADPACK needs: one dimension, bounds that are not NaN
    /// (infinite is fine: QAGI maps them), and a tolerance it accepts.
    pub(crate) fn new(
        integrand: &Arc<I>,
        settings: &Settings,
        quadrature: GaussKronrod,
    ) -> Result<Self, Error> {
        let (a, b) = match &settings.bounds {
            Bounds::Interval(range) => (range.start, range.end),
            Bounds::Box(ranges) if ranges.len() == 1 => (ranges[0].start, ranges[0].end),
            Bounds::Box(ranges) => {
                return Err(Error::QuadratureDimensions { dims: ranges.len() });
            }
        };
        for value in [a, b] {
            if value.is_nan() {
                return Err(Error::NonFiniteBound { axis: 0, value });
            }
        }
        if quadrature.limit == 0 {
            return Err(Error::ZeroSubdivisionLimit);
        }
        let (abs, rel) = settings.tolerance.unwrap_or((0.0, DEFAULT_REL));
        let valid = |t: f64| t.is_finite() && t >= 0.0;
        if !(valid(abs) && valid(rel) && (abs > 0.0 || rel >= MIN_RELATIVE)) {
            return Err(Error::InvalidTolerance { abs, rel });
        }
        Ok(Quadrature {
            integrand: integrand.clone(),
            a,
            b,
            settings: GkSettings {
                abs,
                rel,
                limit: quadrature.limit as usize,
            },
        })
    }
}

impl<I: Integrand> Pass for Quadrature<I> {
    type Part = GkOutcome;
    type Merged = Option<GkOutcome>;

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
        let mut reader = StateReader(bytes);
        let part = self.decode(&mut reader).flatten()?;
        reader.is_done().then_some(part)
    }

    fn decode(&self, reader: &mut StateReader<'_>) -> Option<Option<GkOutcome>> {
        if reader.is_done() {
            return Some(None);
        }
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
        Some(Some(GkOutcome {
            value,
            error,
            evaluations,
            intervals,
            status,
        }))
    }
}

impl<I: Integrand> OnePass for Quadrature<I> {
    /// How many evaluations it takes is not known in advance.
    fn total(&self) -> Option<u64> {
        None
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

    /// The quadrature's tolerance is its own: the driver checks only a
    /// time limit.
    fn owns_tolerance(&self) -> bool {
        true
    }
}
