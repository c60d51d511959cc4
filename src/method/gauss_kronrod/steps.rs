//! QUADPACK's QAGS (QAGI on an infinite interval, QAGP with break points)
//! as a state machine: [`Quadrature::next`] says which subintervals to
//! evaluate, [`Quadrature::advance`] folds their [`Piece`]s into the
//! partition and takes one of `dqagse`'s steps, until it has an outcome.
//!
//! R. Piessens, E. de Doncker-Kapenga, C. W. Überhuber and D. K. Kahaner,
//! "QUADPACK: A Subroutine Package for Automatic Integration", Springer,
//! 1983 (the Fortran is on netlib; scipy ships it in
//! `scipy/integrate/quadpack/`). A Gauss–Kronrod pair gives an interval's
//! integral and, from the difference of its two rules, an error estimate;
//! the interval with the largest error is bisected until the errors sum to
//! less than the tolerance. Where bisection converges only slowly, towards
//! an endpoint singularity such as `x^a · ln(1/x)`, Wynn's epsilon algorithm
//! extrapolates the sequence of sums to its limit.
//!
//! Everything here is plain `f64` arithmetic and `sqrt` (no `mul_add`, whose
//! single rounding differs from a multiply and an add, and no `powf`, which
//! libms round differently), so the same integrand and settings give the
//! same bits on every platform where the integrand itself does. The state
//! between steps is plain data, written to a checkpoint bit for bit, so a
//! resumed run takes the same steps.
//!
//! Checked against QUADPACK itself as scipy runs it (`tests.rs`): on 19
//! problems for QAGS and QAGI and 10 for QAGP, that between them end in
//! every status, the same evaluations, subintervals, status and value to
//! the bit; the error estimates agree to 1e-9 (to the bit, too, with
//! `powf(1.5)` in place of `r · sqrt(r)`), but for one that ends in
//! round-off, where errors that cancel leave 2e-5.

use std::fmt;

use crate::checkpoint::StateReader;
use crate::method::gauss_kronrod::qags::{Ended, Qags, get_f64s, put, put_f64s};
use crate::method::gauss_kronrod::rules::{Map, Piece};

/// QUADPACK's `epmach = d1mach(4)`: the largest relative spacing of `f64`.
pub(crate) const EPMACH: f64 = f64::EPSILON;

/// QUADPACK's `uflow = d1mach(1)`: the smallest positive normal `f64`.
pub(crate) const UFLOW: f64 = f64::MIN_POSITIVE;

/// The smallest relative tolerance worth asking for when there is no
/// absolute one: QUADPACK (`dqagse`, `dqagie`) rejects
/// `rel < max(50 · epmach, 0.5e-28)` with `abs ≤ 0` (its `ier = 6`),
/// since every interval's error estimate is at least `50 · epmach` times
/// the integral of `|f|` over it.
pub(crate) const MIN_RELATIVE: f64 = 50.0 * EPMACH;

/// What is asked of a [`Quadrature`]; the caller validates it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct GkSettings {
    /// Absolute tolerance, at least 0.
    pub(crate) abs: f64,
    /// Relative tolerance, at least 0 and at least [`MIN_RELATIVE`] when
    /// `abs` is 0. The run stops when the error estimate is below
    /// `max(abs, rel · |value|)`.
    pub(crate) rel: f64,
    /// The most subintervals, at least 1. It bounds the work: each
    /// bisection after the first interval costs two intervals' nodes
    /// (42 evaluations on a finite interval, 30 or 60 on an infinite one)
    /// and about 40 bytes.
    pub(crate) limit: usize,
}

impl GkSettings {
    /// QUADPACK's test for `ier = 6`, with NaN turned away too.
    fn is_valid(&self) -> bool {
        self.abs >= 0.0
            && self.rel >= 0.0
            && (self.abs > 0.0 || self.rel >= MIN_RELATIVE)
            && self.limit >= 1
    }

    /// The error the run may leave in `value`: QUADPACK's `errbnd`.
    pub(crate) fn bound(&self, value: f64) -> f64 {
        self.abs.max(self.rel * value.abs())
    }
}

/// What a [`Quadrature`] found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct GkOutcome {
    /// The estimate of the integral; NaN when `status` is
    /// [`NonFinite`](GkStatus::NonFinite), [`Overflow`](GkStatus::Overflow)
    /// or [`Invalid`](GkStatus::Invalid).
    pub(crate) value: f64,
    /// The estimate of `|integral − value|`; NaN alongside a NaN `value`.
    pub(crate) error: f64,
    /// Integrand evaluations, including those of a batch that failed.
    pub(crate) evaluations: u64,
    /// Subintervals in the final partition of the interval (of `(0, 1]`
    /// for an infinite one); 0 when `value` is NaN or the interval has
    /// zero width.
    pub(crate) intervals: usize,
    /// Why the run stopped.
    pub(crate) status: GkStatus,
}

/// Why a [`Quadrature`] stopped: QUADPACK's `ier` codes for QAGS and QAGI, and
/// two of ours for values it cannot add up.
///
/// Every status but the last three comes with QUADPACK's best estimate and
/// error; only [`Converged`](GkStatus::Converged) claims the tolerance was
/// met.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum GkStatus {
    /// `ier = 0`: the error estimate is within the tolerance.
    Converged,
    /// `ier = 1`: the limit on subintervals was reached first. A larger
    /// limit may help; so may splitting the interval at a difficulty.
    SubdivisionLimit,
    /// `ier = 2`: round-off stopped the error from falling (bisection no
    /// longer changed the integral, or the error kept growing), so the
    /// tolerance cannot be met; the error may be under-estimated.
    RoundOff,
    /// `ier = 3`: a subinterval became too small to bisect in `f64`:
    /// the integrand behaves extremely badly there (a non-integrable
    /// singularity, or a jump the tolerance cannot resolve).
    BadIntegrand,
    /// `ier = 4`: the extrapolation stopped improving (round-off in the
    /// epsilon table); the value is the best that could be had.
    NoConvergence,
    /// `ier = 5`: the integral is probably divergent, or converges too
    /// slowly to be computed.
    Divergent,
    /// The integrand returned NaN or an infinity: at `x`, in the original
    /// variable (the first such point of the batch), the value `value`.
    NonFinite {
        /// Where.
        x: f64,
        /// What it returned there.
        value: f64,
    },
    /// Every integrand value was finite, but a sum of them overflowed.
    Overflow,
    /// `ier = 6`: a bound is NaN or the settings are invalid (see
    /// [`GkSettings`]); nothing was evaluated.
    Invalid,
}

impl fmt::Display for GkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GkStatus::Converged => f.write_str("converged"),
            GkStatus::SubdivisionLimit => f.write_str("subdivision limit reached"),
            GkStatus::RoundOff => f.write_str("round-off error prevents the tolerance"),
            GkStatus::BadIntegrand => f.write_str("integrand too irregular to subdivide further"),
            GkStatus::NoConvergence => f.write_str("extrapolation does not converge"),
            GkStatus::Divergent => f.write_str("integral is probably divergent"),
            GkStatus::NonFinite { x, value } => write!(f, "integrand returned {value} at x = {x}"),
            GkStatus::Overflow => {
                f.write_str("integrand values are finite but their sum overflowed")
            }
            GkStatus::Invalid => f.write_str("invalid bounds or settings"),
        }
    }
}

/// Where a [`Quadrature`] is.
#[derive(Clone, Debug)]
enum State {
    /// Nothing evaluated yet: the initial partition is next.
    Start,
    /// Bisecting the interval with the largest error, pass after pass.
    Bisecting(Box<Qags>),
    /// Done.
    Ended(Ended),
}

/// QAGS, QAGI or QAGP on `[a, b]` as a state machine: [`next`](Self::next)
/// gives the subintervals of the working interval to evaluate,
/// [`advance`](Self::advance) takes the rule's estimates over them, until
/// [`outcome`](Self::outcome) has the result. Each step is a function of
/// the state and the estimates alone, so it takes the same steps and gives
/// the same bits however the estimates were computed.
#[derive(Clone, Debug)]
pub(crate) struct Quadrature {
    settings: GkSettings,
    map: Map,
    /// The initial partition of the working interval: its ends, with the
    /// break points between them in ascending order.
    initial: Vec<f64>,
    /// Whether the caller's interval is reversed: its value is negated.
    negate: bool,
    state: State,
    /// Integrand evaluations in the steps taken.
    evaluations: u64,
}

impl Quadrature {
    /// The integral of an integrand over `[a, b]`, either bound possibly
    /// infinite, with the intervals between `points` (finite bounds only)
    /// as its initial partition, to within
    /// `max(settings.abs, settings.rel · |integral|)` if it can.
    ///
    /// An infinite bound is mapped onto (0, 1] as in QAGI: `[a, ∞)` by
    /// `x = a + (1 − t)/t`, `(−∞, b]` by `x = b − (1 − t)/t`, and `(−∞, ∞)`
    /// as the sum of both halves at once, `f(x) + f(−x)` with
    /// `x = (1 − t)/t`. A reversed interval gives the negated integral over
    /// the ordered one, a zero-width one exactly 0 without evaluating
    /// anything. Points at the ends and repeated points are ignored.
    ///
    /// # Errors
    ///
    /// [`GkStatus::Invalid`] if a bound is NaN, the settings are not valid
    /// (see [`GkSettings`]), a point is not finite or outside `[a, b]`, or
    /// there are points and an infinite bound, or more intervals than
    /// `settings.limit`.
    pub(crate) fn new(
        a: f64,
        b: f64,
        points: &[f64],
        settings: GkSettings,
    ) -> Result<Quadrature, GkStatus> {
        if a.is_nan() || b.is_nan() || !settings.is_valid() {
            return Err(GkStatus::Invalid);
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let (map, lo, hi) = match (lo.is_infinite(), hi.is_infinite()) {
            (false, false) => (Map::Finite, lo, hi),
            (false, true) => (Map::Upper(lo), 0.0, 1.0),
            (true, false) => (Map::Lower(hi), 0.0, 1.0),
            (true, true) => (Map::Whole, 0.0, 1.0),
        };
        let mut inside = Vec::with_capacity(points.len());
        for &point in points {
            let usable = matches!(map, Map::Finite) && lo <= point && point <= hi;
            if !usable {
                return Err(GkStatus::Invalid);
            }
            if lo < point && point < hi {
                inside.push(point);
            }
        }
        inside.sort_by(f64::total_cmp);
        inside.dedup_by(|x, y| x == y);
        if inside.len() >= settings.limit {
            return Err(GkStatus::Invalid);
        }
        let state = if a == b {
            State::Ended(Ended {
                value: 0.0,
                error: 0.0,
                intervals: 0,
                status: GkStatus::Converged,
            })
        } else {
            State::Start
        };
        let mut initial = Vec::with_capacity(inside.len() + 2);
        initial.push(lo);
        initial.extend(inside);
        initial.push(hi);
        Ok(Quadrature {
            settings,
            map,
            initial,
            negate: a > b,
            state,
            evaluations: 0,
        })
    }

    /// How the working interval maps onto the caller's: what to evaluate
    /// for each interval [`next`](Self::next) gives.
    pub(crate) fn map(&self) -> Map {
        self.map
    }

    /// The subintervals to evaluate next, `None` once the run has ended:
    /// the initial partition, then the two halves of the interval with the
    /// largest error, step after step.
    pub(crate) fn next(&self) -> Option<Vec<(f64, f64)>> {
        match &self.state {
            State::Start => Some(self.initial.windows(2).map(|w| (w[0], w[1])).collect()),
            State::Bisecting(qags) => {
                let (lo, mid, hi) = qags.worst();
                Some(vec![(lo, mid), (mid, hi)])
            }
            State::Ended(_) => None,
        }
    }

    /// Takes the step for the estimates over [`next`](Self::next)'s
    /// intervals, in its order.
    ///
    /// # Errors
    ///
    /// [`GkStatus::Overflow`] if an estimate, or the result, is not
    /// finite; the run cannot go on.
    ///
    /// # Panics
    ///
    /// If the run has ended, or `pieces` are fewer than the intervals.
    pub(crate) fn advance(&mut self, pieces: &[Piece]) -> Result<(), GkStatus> {
        self.evaluations += self.map.evaluations() * pieces.len() as u64;
        if !pieces.iter().all(Piece::is_finite) {
            return Err(GkStatus::Overflow);
        }
        let ended = match &mut self.state {
            State::Start if self.initial.len() == 2 => {
                let (lo, hi) = (self.initial[0], self.initial[1]);
                Qags::start(pieces[0], lo, hi, self.settings)
            }
            State::Start => Qags::start_at_points(pieces, &self.initial, self.settings),
            State::Bisecting(qags) => match qags.bisected(pieces[0], pieces[1]) {
                Some(ended) => Err(ended),
                None => return Ok(()),
            },
            State::Ended(_) => panic!("a quadrature that has ended takes no more steps"),
        };
        self.state = match ended {
            Ok(qags) => State::Bisecting(Box::new(qags)),
            // Finite intervals whose sum overflows.
            Err(ended) if !(ended.value.is_finite() && ended.error.is_finite()) => {
                return Err(GkStatus::Overflow);
            }
            Err(ended) => State::Ended(ended),
        };
        Ok(())
    }

    /// Integrand evaluations so far.
    pub(crate) fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// The result, once the run has ended.
    pub(crate) fn outcome(&self) -> Option<GkOutcome> {
        let State::Ended(ended) = &self.state else {
            return None;
        };
        Some(GkOutcome {
            value: if self.negate {
                -ended.value
            } else {
                ended.value
            },
            error: ended.error,
            evaluations: self.evaluations,
            intervals: ended.intervals,
            status: ended.status,
        })
    }

    /// The sum over the partition so far and its error (`area ± errsum`),
    /// or the result once there is one; `None` before the first step.
    pub(crate) fn so_far(&self) -> Option<(f64, f64)> {
        let (value, error) = match &self.state {
            State::Start => return None,
            State::Bisecting(qags) => qags.so_far(),
            State::Ended(ended) => (ended.value, ended.error),
        };
        Some((if self.negate { -value } else { value }, error))
    }

    /// Appends the state between steps to a checkpoint's bytes, bit for
    /// bit. The settings, bounds and points are not in it: they come from
    /// the spec, which the checkpoint's fingerprint pins.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put(out, self.evaluations);
        match &self.state {
            State::Start => put(out, 0),
            State::Bisecting(qags) => {
                put(out, 1);
                qags.encode(out);
            }
            State::Ended(ended) => {
                put(out, 2);
                put_f64s(out, &[ended.value, ended.error]);
                put(out, ended.intervals as u64);
                put(out, ended.status.code());
            }
        }
    }

    /// Restores the state between steps from `encode`'s bytes; `None` if
    /// they are not a state of this run.
    pub(crate) fn decode(&mut self, reader: &mut StateReader<'_>) -> Option<()> {
        let evaluations = reader.u64()?;
        let state = match reader.u64()? {
            0 => State::Start,
            1 => State::Bisecting(Box::new(Qags::decode(reader, self.settings)?)),
            2 => {
                let [value, error] = get_f64s(reader)?;
                let intervals = usize::try_from(reader.u64()?).ok()?;
                let status = GkStatus::from_code(reader.u64()?)?;
                State::Ended(Ended {
                    value,
                    error,
                    intervals,
                    status,
                })
            }
            _ => return None,
        };
        if let State::Bisecting(qags) = &state {
            // Not a state of another interval, or other break points.
            let width = self.initial[self.initial.len() - 1] - self.initial[0];
            if !qags.fits(width, self.initial.len() - 1) {
                return None;
            }
        }
        self.evaluations = evaluations;
        self.state = state;
        Some(())
    }
}

impl GkStatus {
    /// The status's number in a checkpoint: QUADPACK's `ier` for the five
    /// it reports.
    fn code(self) -> u64 {
        match self {
            GkStatus::Converged => 0,
            GkStatus::SubdivisionLimit => 1,
            GkStatus::RoundOff => 2,
            GkStatus::BadIntegrand => 3,
            GkStatus::NoConvergence => 4,
            GkStatus::Divergent => 5,
            // A run that ends so fails, and is never checkpointed.
            GkStatus::NonFinite { .. } | GkStatus::Overflow | GkStatus::Invalid => 6,
        }
    }

    fn from_code(code: u64) -> Option<GkStatus> {
        Some(match code {
            0 => GkStatus::Converged,
            1 => GkStatus::SubdivisionLimit,
            2 => GkStatus::RoundOff,
            3 => GkStatus::BadIntegrand,
            4 => GkStatus::NoConvergence,
            5 => GkStatus::Divergent,
            _ => return None,
        })
    }
}

#[cfg(test)]
impl GkOutcome {
    /// A run that has no value to give.
    pub(crate) fn failed(status: GkStatus, evaluations: u64) -> Self {
        GkOutcome {
            value: f64::NAN,
            error: f64::NAN,
            evaluations,
            intervals: 0,
            status,
        }
    }
}

/// Runs a [`Quadrature`] to its end on `eval`, which gets the nodes of one
/// interval at a time and fills `values[i]` with `f(points[i])`: QUADPACK
/// as a plain function, for the tests that hold it to QUADPACK's bits.
/// Every interval of a step is evaluated, as the driver's chunks are; the
/// first failure in interval order is the step's.
#[cfg(test)]
pub(crate) fn integrate(
    eval: &mut dyn FnMut(&[f64], &mut [f64]),
    a: f64,
    b: f64,
    points: &[f64],
    settings: &GkSettings,
) -> GkOutcome {
    let mut quadrature = match Quadrature::new(a, b, points, *settings) {
        Ok(quadrature) => quadrature,
        Err(status) => return GkOutcome::failed(status, 0),
    };
    let map = quadrature.map();
    while let Some(intervals) = quadrature.next() {
        let pieces: Vec<_> = intervals
            .iter()
            .map(|&interval| map.estimate(interval, &mut *eval))
            .collect();
        let evaluations = quadrature.evaluations() + map.evaluations() * pieces.len() as u64;
        let pieces = match pieces.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(pieces) => pieces,
            Err(status) => return GkOutcome::failed(status, evaluations),
        };
        if let Err(status) = quadrature.advance(&pieces) {
            return GkOutcome::failed(status, quadrature.evaluations());
        }
    }
    quadrature
        .outcome()
        .expect("a quadrature with nothing left to evaluate has ended")
}
