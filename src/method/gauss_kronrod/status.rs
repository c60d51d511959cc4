//! What a QUADPACK run is asked and what it finds: the tolerances and the
//! limit, the outcome and its status, and the machine constants its tests
//! are written in.

use std::fmt;

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
    pub(crate) fn is_valid(&self) -> bool {
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

impl GkStatus {
    /// The status's number in a checkpoint: QUADPACK's `ier` for the five
    /// it reports.
    pub(crate) fn code(self) -> u64 {
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

    pub(crate) fn from_code(code: u64) -> Option<GkStatus> {
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
