//! Adaptive Gauss–Kronrod quadrature as a method of passes: QUADPACK's
//! QAGS (QAGI, QAGP) one step per pass, each subinterval of a step one
//! chunk.
//!
//! The first pass evaluates the rule on the initial partition (the whole
//! interval, or the intervals between break points); each later pass on
//! the two halves of the interval with the largest error, so the halves
//! evaluate side by side. Merged in chunk order, the pass's estimates go
//! to [`Quadrature::advance`], which does `dqagse`'s bookkeeping for that
//! step and says when the run ends. A cancel stops the run between chunks
//! as for any method; a checkpoint holds the whole state between steps.
//!
//! - [`rules`]: the Gauss–Kronrod rules and the maps of infinite intervals.
//! - [`epsilon`]: Wynn's epsilon table, for extrapolation.
//! - [`qags`]: the partition and `dqagse`'s step.
//! - [`steps`]: the run as a state machine of steps.

mod epsilon;
mod qags;
mod rules;
mod status;
mod steps;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::driver::checkpoint::StateReader;
use crate::driver::halt::Halt;
use crate::driver::pass::{Pass, Passes, Running};
use crate::spec::settings::{Bounds, Settings};
use crate::{Error, Estimate, Integrand, NonFinite, Stop};
use rules::{Map, Piece};
use status::{GkSettings, GkStatus, MIN_RELATIVE};
use steps::Quadrature;

/// The relative tolerance of Gauss–Kronrod when none is set.
const DEFAULT_REL: f64 = 1e-10;

/// The most break points [`GaussKronrod::points`] takes: each costs an
/// interval of the initial partition (21 evaluations and about 50 bytes
/// of bookkeeping), and the default [`limit`](GaussKronrod::limit) of 1000
/// subintervals leaves room for 999 of them.
///
/// # Examples
///
/// ```
/// use quadpipe::method::MAX_BREAK_POINTS;
/// use quadpipe::{Error, Integral, Method};
///
/// let points: Vec<f64> = (1..=MAX_BREAK_POINTS + 1).map(|i| i as f64 / 2000.0).collect();
/// let integral = Integral::new(|x: f64| x, 0.0..1.0)
///     .method(Method::gauss_kronrod().limit(5000).points(&points));
/// let err = pollster::block_on(integral.run_inline()).unwrap_err();
/// assert!(matches!(err, Error::TooManyBreakPoints { max: MAX_BREAK_POINTS, .. }));
/// ```
pub const MAX_BREAK_POINTS: usize = 1000;

/// Adaptive Gauss–Kronrod quadrature in one dimension: QUADPACK's QAGS
/// (G10–K21 rule, bisection of the subinterval with the largest error,
/// Wynn's epsilon extrapolation for endpoint singularities), QAGI
/// (G7–K15 after `x = a + (1 − t)/t`) when a bound is infinite, and QAGP
/// when given [break points](GaussKronrod::points).
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
/// Each bisection is a pass of its own, its two halves two chunks that
/// run side by side; the first pass evaluates every interval of the
/// initial partition at once. A run stops at a cancel between chunks,
/// reports the sum so far (± the sum of the error estimates) as its
/// progress, and checkpoints its whole state, so a resumed run takes the
/// same steps to the same bits.
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
#[derive(Clone, Debug)]
pub struct GaussKronrod {
    limit: u32,
    /// Shared, so that a clone of the settings costs no allocation.
    points: Option<Arc<[f64]>>,
}

impl GaussKronrod {
    /// Up to 1000 subintervals: enough for cos(1000x) on [0, 1] (128 at
    /// 1e-10), and 40 kB of bookkeeping at most; no break points.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::method::GaussKronrod::new(), quadpipe::Method::gauss_kronrod());
    /// ```
    pub const fn new() -> GaussKronrod {
        GaussKronrod {
            limit: 1000,
            points: None,
        }
    }

    /// The most subintervals, at least 1 (QUADPACK's `limit`), and more
    /// than the break points.
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
    pub fn limit(self, limit: u32) -> GaussKronrod {
        GaussKronrod { limit, ..self }
    }

    /// Break points: where the integrand has a kink, a jump or a
    /// singularity inside the interval, as SciPy's `quad(points=...)`
    /// (QUADPACK's QAGP). The run starts from the intervals between them,
    /// all evaluated in the first pass, and never has to find them by
    /// bisection. Their order does not matter; points at the ends and
    /// repeated points are ignored. An empty slice means none.
    ///
    /// # Errors
    ///
    /// The run fails with [`Error::InvalidBreakPoint`] if a point is not
    /// finite, lies outside the interval, or a bound is infinite, and with
    /// [`Error::TooManyBreakPoints`] for more than [`MAX_BREAK_POINTS`], or
    /// as many as the [`limit`](Self::limit).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Method, Stop};
    ///
    /// // A kink at 1/3, which bisection never lands on.
    /// let kink = |x: f64| (x - 1.0 / 3.0).abs();
    /// let exact = 5.0 / 18.0;
    /// let with = Integral::new(kink, 0.0..1.0)
    ///     .method(Method::gauss_kronrod().points(&[1.0 / 3.0]));
    /// let estimate = pollster::block_on(with.run_inline())?;
    /// assert!((estimate.value - exact).abs() < 1e-15);
    /// assert_eq!((estimate.stop, estimate.samples), (Stop::ToleranceMet, 42));
    ///
    /// let without = Integral::new(kink, 0.0..1.0).method(Method::GAUSS_KRONROD);
    /// assert!(pollster::block_on(without.run_inline())?.samples > 42);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn points(self, points: &[f64]) -> GaussKronrod {
        GaussKronrod {
            points: (!points.is_empty()).then(|| points.into()),
            ..self
        }
    }

    /// The settings that decide the bits, for a checkpoint's fingerprint.
    pub(crate) fn fingerprint(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.limit.to_le_bytes());
        let points = self.points.as_deref().unwrap_or_default();
        out.extend_from_slice(&(points.len() as u64).to_le_bytes());
        for point in points {
            out.extend_from_slice(&point.to_bits().to_le_bytes());
        }
    }
}

/// Equal settings give the same bits: break points compare bit for bit,
/// so that `-0.0` and `0.0` differ (they fingerprint differently too) and
/// equality is an equivalence.
impl PartialEq for GaussKronrod {
    fn eq(&self, other: &GaussKronrod) -> bool {
        let bits = |g: &GaussKronrod| {
            let points = g.points.as_deref().unwrap_or_default();
            points.iter().map(|p| p.to_bits()).collect::<Vec<_>>()
        };
        self.limit == other.limit && bits(self) == bits(other)
    }
}

impl Eq for GaussKronrod {}

impl Default for GaussKronrod {
    fn default() -> GaussKronrod {
        GaussKronrod::new()
    }
}

/// A Gauss–Kronrod run: the integrand and the state of its QUADPACK
/// algorithm between passes.
pub(crate) struct GkRun<I> {
    integrand: Arc<I>,
    quadrature: Quadrature,
}

impl<I: Integrand> GkRun<I> {
    /// Checks what QUADPACK needs: one dimension, bounds that are not NaN
    /// (infinite is fine: QAGI maps them), a tolerance it accepts, and
    /// break points inside a finite interval.
    pub(crate) fn new(
        integrand: &Arc<I>,
        settings: &Settings,
        method: &GaussKronrod,
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
        if method.limit == 0 {
            return Err(Error::ZeroSubdivisionLimit);
        }
        if a.is_finite() && b.is_finite() && !(b - a).is_finite() {
            // The rule's nodes would be spread too thin to see anything.
            return Err(Error::VolumeOutOfRange { volume: b - a });
        }
        if settings.non_finite == NonFinite::Skip {
            return Err(Error::QuadratureCannotSkip);
        }
        let (abs, rel) = settings.tolerance.unwrap_or((0.0, DEFAULT_REL));
        let valid = |t: f64| t.is_finite() && t >= 0.0;
        if !(valid(abs) && valid(rel) && (abs > 0.0 || rel > 0.0)) {
            return Err(Error::InvalidTolerance { abs, rel });
        }
        if abs == 0.0 && rel < MIN_RELATIVE {
            return Err(Error::QuadratureTolerance {
                rel,
                min: MIN_RELATIVE,
            });
        }
        let points = method.points.as_deref().unwrap_or_default();
        check_points(points, a, b, method.limit)?;
        let settings = GkSettings {
            abs,
            rel,
            limit: method.limit as usize,
        };
        // Everything `Quadrature::new` refuses was refused above.
        let quadrature = Quadrature::new(a, b, points, settings)
            .map_err(|_| Error::InvalidTolerance { abs, rel })?;
        Ok(GkRun {
            integrand: integrand.clone(),
            quadrature,
        })
    }
}

/// Break points must be finite, inside `[a, b]` (either order), with
/// finite bounds, and fewer than both [`MAX_BREAK_POINTS`] and `limit`.
fn check_points(points: &[f64], a: f64, b: f64, limit: u32) -> Result<(), Error> {
    let max = MAX_BREAK_POINTS.min(limit as usize - 1);
    if points.len() > max {
        return Err(Error::TooManyBreakPoints {
            count: points.len(),
            max,
        });
    }
    let (lo, hi) = (a.min(b), a.max(b));
    for &value in points {
        let reason = if !value.is_finite() {
            "not finite"
        } else if lo.is_infinite() || hi.is_infinite() {
            "break points need finite bounds"
        } else if !(lo <= value && value <= hi) {
            "outside the interval"
        } else {
            continue;
        };
        return Err(Error::InvalidBreakPoint { value, reason });
    }
    Ok(())
}

/// The error a failed step stands for.
fn error_of(status: GkStatus) -> Error {
    match status {
        GkStatus::NonFinite { x, value } => Error::NonFiniteValue {
            point: Box::new([x]),
            value,
        },
        _ => Error::Overflow,
    }
}

/// Why a run stopped, in the driver's words.
fn stop_of(status: GkStatus) -> Stop {
    match status {
        GkStatus::Converged => Stop::ToleranceMet,
        GkStatus::SubdivisionLimit => Stop::SubdivisionLimit,
        GkStatus::RoundOff => Stop::RoundOff,
        GkStatus::Divergent => Stop::Divergent,
        _ => Stop::ToleranceNotMet,
    }
}

impl<I: Integrand> Passes for GkRun<I> {
    type Pass = GkPass<I>;

    /// How many evaluations it takes is not known in advance.
    fn total(&self) -> Option<u64> {
        None
    }

    fn next_pass(&self) -> Option<Arc<GkPass<I>>> {
        Some(Arc::new(GkPass {
            integrand: self.integrand.clone(),
            map: self.quadrature.map(),
            intervals: self.quadrature.next()?,
        }))
    }

    fn end_pass(&mut self, _pass: &GkPass<I>, merged: Vec<Piece>) -> Result<Option<Stop>, Error> {
        self.quadrature.advance(&merged).map_err(error_of)?;
        Ok(self
            .quadrature
            .outcome()
            .map(|outcome| stop_of(outcome.status)))
    }

    fn done(&self, running: Running<'_, Self>) -> u64 {
        let running = running.map_or(0, |(pass, merged)| {
            pass.map.evaluations() * merged.len() as u64
        });
        self.quadrature.evaluations() + running
    }

    /// The quadrature's value and its error estimate (in the place of the
    /// standard error), and why it stopped: QUADPACK's status, not the
    /// budget's. Before the end, the sum so far and the sum of the error
    /// estimates, with the driver's reason.
    fn estimate(&self, running: Running<'_, Self>, stop: Stop) -> Estimate {
        let done = self.done(running);
        if let Some(outcome) = self.quadrature.outcome() {
            let stop = match stop {
                Stop::Partial => Stop::Partial,
                _ => stop_of(outcome.status),
            };
            // An error of exactly 0 is QUADPACK's only for subintervals
            // whose integral of |f| is below 1e-293 (else it is at least
            // 50 ε of that): the integrand was 0 at every node of the final
            // partition, which a peak between them would be too.
            let only_zeros = outcome.error == 0.0 && outcome.intervals > 0;
            return Estimate::new(outcome.value, outcome.error, done, stop)
                .with_only_zeros(only_zeros);
        }
        let (value, error) = self
            .quadrature
            .so_far()
            .unwrap_or((f64::NAN, f64::INFINITY));
        Estimate::new(value, error, done, stop)
    }

    /// The quadrature's tolerance is its own: the driver checks only a
    /// time limit.
    fn owns_tolerance(&self) -> bool {
        true
    }

    fn encode(&self, out: &mut Vec<u8>) {
        self.quadrature.encode(out);
    }

    fn decode(&mut self, reader: &mut StateReader<'_>) -> Option<()> {
        self.quadrature.decode(reader)
    }
}

/// One step: the rule on each of some subintervals of the working
/// interval, one chunk each.
pub(crate) struct GkPass<I> {
    integrand: Arc<I>,
    map: Map,
    intervals: Vec<(f64, f64)>,
}

impl<I: Integrand> Pass for GkPass<I> {
    type Part = Piece;
    type Merged = Vec<Piece>;

    fn chunks(&self) -> u64 {
        self.intervals.len() as u64
    }

    /// The rule on one interval: one call of the integrand on its 15 to
    /// 42 nodes, so a cancel is looked at once, before it.
    fn run_chunk(&self, index: u64, halt: &Halt) -> Result<Piece, Error> {
        if halt.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let interval = self.intervals[index as usize];
        self.map
            .estimate(interval, |points, values| {
                self.integrand.evaluate(1, points, values);
            })
            .map_err(error_of)
    }

    fn start(&self) -> Vec<Piece> {
        Vec::with_capacity(self.intervals.len())
    }

    fn merge(&self, merged: &mut Vec<Piece>, part: Piece) {
        merged.push(part);
    }

    fn encode(&self, merged: &Vec<Piece>, out: &mut Vec<u8>) {
        out.extend_from_slice(&(merged.len() as u64).to_le_bytes());
        for piece in merged {
            piece.encode(out);
        }
    }

    fn decode(&self, reader: &mut StateReader<'_>) -> Option<Vec<Piece>> {
        let len = usize::try_from(reader.u64()?).ok()?;
        if len > self.intervals.len() {
            return None;
        }
        (0..len).map(|_| Piece::decode(reader)).collect()
    }

    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &Piece, out: &mut Vec<u8>) {
        part.encode(out);
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<Piece> {
        let mut reader = StateReader(bytes);
        let piece = Piece::decode(&mut reader)?;
        reader.is_done().then_some(piece)
    }
}
