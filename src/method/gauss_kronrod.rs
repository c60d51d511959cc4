//! Adaptive Gauss–Kronrod quadrature in one dimension: QUADPACK's QAGS for
//! finite intervals and QAGI for infinite ones.
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
//! same bits on every platform where the integrand itself does.
//!
//! Checked against QUADPACK itself as scipy 1.17.1 runs it: on 19 problems
//! that between them end in every status, the same evaluations,
//! subintervals, status and value to the bit; the error estimates agree to
//! 1e-9 (to the bit, too, with `powf(1.5)` in place of `r · sqrt(r)`).

// Nothing calls this until the `Method` enum and its driver are wired to it
// on the main branch; the tests exercise all of it meanwhile.
#![cfg_attr(not(test), allow(dead_code))]

use std::array;
use std::fmt;

/// QUADPACK's `epmach = d1mach(4)`: the largest relative spacing of `f64`.
const EPMACH: f64 = f64::EPSILON;

/// QUADPACK's `uflow = d1mach(1)`: the smallest positive normal `f64`.
const UFLOW: f64 = f64::MIN_POSITIVE;

/// The smallest relative tolerance worth asking for when there is no
/// absolute one: QUADPACK (`dqagse`, `dqagie`) rejects
/// `rel < max(50 · epmach, 0.5e-28)` with `abs ≤ 0` (its `ier = 6`),
/// since every interval's error estimate is at least `50 · epmach` times
/// the integral of `|f|` over it.
pub(crate) const MIN_RELATIVE: f64 = 50.0 * EPMACH;

/// What is asked of [`integrate`]; the caller validates it.
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
    fn bound(&self, value: f64) -> f64 {
        self.abs.max(self.rel * value.abs())
    }
}

/// What [`integrate`] found.
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

/// Why [`integrate`] stopped: QUADPACK's `ier` codes for QAGS and QAGI, and
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

/// The integral of `f` over `[a, b]`, by QUADPACK's QAGS (finite bounds)
/// or QAGI (an infinite bound or two), to within
/// `max(settings.abs, settings.rel · |integral|)` if it can.
///
/// `eval` gets each batch of points whole and fills `values[i]` with
/// `f(points[i])`: every node of the intervals of one step, 21 on the
/// first and 42 on each later one (15 and 30 when a bound is infinite,
/// twice that when both are), so that an expensive integrand can spread a
/// batch over threads. Its calls follow from the arguments alone.
///
/// An infinite bound is mapped onto (0, 1] as in QAGI: `[a, ∞)` by
/// `x = a + (1 − t)/t`, `(−∞, b]` by `x = b − (1 − t)/t`, and `(−∞, ∞)` as
/// the sum of both halves at once, `f(x) + f(−x)` with `x = (1 − t)/t`. A
/// reversed interval gives the negated integral over the ordered one, a
/// zero-width one exactly 0 without evaluating anything.
///
/// The run ends after at most `settings.limit` subintervals; it never
/// panics on any input, and [`GkOutcome::status`] says whether the value
/// can be trusted.
pub(crate) fn integrate(
    eval: &mut dyn FnMut(&[f64], &mut [f64]),
    a: f64,
    b: f64,
    settings: &GkSettings,
) -> GkOutcome {
    if a.is_nan() || b.is_nan() || !settings.is_valid() {
        return GkOutcome::failed(GkStatus::Invalid, 0);
    }
    if a == b {
        return GkOutcome {
            value: 0.0,
            error: 0.0,
            evaluations: 0,
            intervals: 0,
            status: GkStatus::Converged,
        };
    }
    if a > b {
        let outcome = integrate(eval, b, a, settings);
        return GkOutcome {
            value: -outcome.value,
            ..outcome
        };
    }
    let (map, lo, hi) = match (a.is_infinite(), b.is_infinite()) {
        (false, false) => (Map::Finite, a, b),
        (false, true) => (Map::Upper(a), 0.0, 1.0),
        (true, false) => (Map::Lower(b), 0.0, 1.0),
        (true, true) => (Map::Whole, 0.0, 1.0),
    };
    let mut sampler = Sampler::new(eval, map);
    let outcome = qags(&mut sampler, lo, hi, settings);
    let evaluations = sampler.evaluations;
    match outcome {
        Ok(outcome) if outcome.value.is_finite() && outcome.error.is_finite() => GkOutcome {
            evaluations,
            ..outcome
        },
        // Finite intervals whose sum overflows.
        Ok(_) => GkOutcome::failed(GkStatus::Overflow, evaluations),
        Err(status) => GkOutcome::failed(status, evaluations),
    }
}

impl GkOutcome {
    /// A run that has no value to give.
    fn failed(status: GkStatus, evaluations: u64) -> Self {
        GkOutcome {
            value: f64::NAN,
            error: f64::NAN,
            evaluations,
            intervals: 0,
            status,
        }
    }
}

/// QUADPACK's `dqagse` (and `dqagie`, the same but for the rule) on the
/// working interval `[lo, hi]`: bisect the interval with the largest
/// error until the errors add up to less than the tolerance, and
/// extrapolate once the largest errors are all on the smallest intervals.
///
/// The comments name `dqagse`'s variables and labels, so that the two
/// can be read side by side. `evaluations` is left for the caller to
/// fill in.
fn qags(
    sampler: &mut Sampler<'_>,
    lo: f64,
    hi: f64,
    settings: &GkSettings,
) -> Result<GkOutcome, GkStatus> {
    let [first] = sampler.estimate([(lo, hi)])?;
    let done = |value, error, intervals, status| GkOutcome {
        value,
        error,
        evaluations: 0,
        intervals,
        status,
    };
    // An estimate capped at `resasc` says only that the rule has not
    // resolved the integrand, so it does not count as converged.
    let bound = settings.bound(first.value);
    if (first.error <= bound && !first.is_capped()) || first.error == 0.0 {
        return Ok(done(first.value, first.error, 1, GkStatus::Converged));
    }
    if first.error > bound && first.error <= 100.0 * EPMACH * first.abs {
        return Ok(done(first.value, first.error, 1, GkStatus::RoundOff));
    }
    if settings.limit == 1 {
        return Ok(done(
            first.value,
            first.error,
            1,
            GkStatus::SubdivisionLimit,
        ));
    }
    let mut run = Qags::new(first, lo, hi, settings);
    let (value, error, status) = run.subdivide(sampler)?;
    Ok(done(value, error, run.parts.intervals.len(), status))
}

/// One subinterval and the rule's estimates over it.
#[derive(Clone, Copy, Debug)]
struct Interval {
    lo: f64,
    hi: f64,
    value: f64,
    error: f64,
}

/// The partition so far (`alist`, `blist`, `rlist`, `elist`, `iord`).
struct Partition {
    intervals: Vec<Interval>,
    /// Indices into `intervals`, largest error first. `dqpsrt` keeps only
    /// as many in order as can still be bisected; this keeps all, which
    /// picks the same intervals.
    order: Vec<usize>,
    /// The sums of the values and of the errors (`area`, `errsum`),
    /// updated by differences as QUADPACK does.
    area: f64,
    errsum: f64,
}

impl Partition {
    fn error(&self, i: usize) -> f64 {
        self.intervals[i].error
    }

    fn width(&self, i: usize) -> f64 {
        self.intervals[i].hi - self.intervals[i].lo
    }

    /// Replaces the interval at position `rank` in the order by its halves,
    /// and returns the new position of the larger-error half, which keeps
    /// the old interval's index. Ties fall as in `dqpsrt`: that half moves
    /// up past strictly smaller errors only, and settles above equal ones
    /// when it moves down; the other half settles above equal ones below
    /// it.
    fn split(&mut self, rank: usize, halves: [Interval; 2]) -> usize {
        let worst = self.order.remove(rank);
        let [big, small] = if halves[1].error > halves[0].error {
            [halves[1], halves[0]]
        } else {
            halves
        };
        self.intervals[worst] = big;
        self.intervals.push(small);
        let above = self.order[..rank].partition_point(|&i| self.error(i) >= big.error);
        let at = if above < rank {
            above
        } else {
            rank + self.order[rank..].partition_point(|&i| self.error(i) > big.error)
        };
        self.order.insert(at, worst);
        let below = self.order[at + 1..].partition_point(|&i| self.error(i) > small.error);
        self.order.insert(at + 1 + below, self.intervals.len() - 1);
        at
    }

    /// The sum of the values afresh, in interval order (label 115).
    fn sum(&self) -> f64 {
        self.intervals.iter().map(|i| i.value).sum()
    }
}

/// `dqagse`'s state between bisections.
struct Qags<'s> {
    settings: &'s GkSettings,
    parts: Partition,
    /// Width of the whole working interval.
    width: f64,
    /// The first estimate's integral of `|f|` (`defabs`), and whether `f`
    /// seemed of one sign, |∫f| ≈ ∫|f| (`ksgn`): the divergence test's
    /// scale.
    defabs: f64,
    one_signed: bool,
    /// Position in `order` of the next interval to bisect, 0-based
    /// (`nrmax − 1`).
    rank: usize,
    /// Bisections that barely changed the integral while not reducing the
    /// error (`iroff1`, `iroff2` while extrapolating), and that raised the
    /// error (`iroff3`).
    stalled: u32,
    stalled_extrapolating: u32,
    grew: u32,
    table: EpsilonTable,
    /// The best extrapolated value and its error (`result`, `abserr`);
    /// the error is `f64::MAX` until an extrapolation gives one.
    best: f64,
    best_error: f64,
    /// 1.5 times the width of the smallest intervals (`small`): those
    /// narrower are "small", and extrapolation waits until the largest
    /// errors are all on small intervals.
    small: f64,
    /// The error over the large intervals (`erlarg`), the tolerance for
    /// the extrapolated value (`ertest`), and `erlarg` at the last
    /// improvement of it (`correc`).
    large_error: f64,
    extrapolated_bound: f64,
    correction: f64,
    /// Bisecting large intervals before the next extrapolation (`extrap`);
    /// extrapolation given up (`noext`); extrapolations since one last
    /// improved the value (`ktmin`).
    extrapolating: bool,
    no_extrapolation: bool,
    fruitless: u32,
}

impl<'s> Qags<'s> {
    fn new(first: Piece, lo: f64, hi: f64, settings: &'s GkSettings) -> Self {
        let interval = Interval {
            lo,
            hi,
            value: first.value,
            error: first.error,
        };
        Qags {
            settings,
            parts: Partition {
                intervals: vec![interval],
                order: vec![0],
                area: first.value,
                errsum: first.error,
            },
            width: hi - lo,
            defabs: first.abs,
            one_signed: first.value.abs() >= (1.0 - 50.0 * EPMACH) * first.abs,
            rank: 0,
            stalled: 0,
            stalled_extrapolating: 0,
            grew: 0,
            table: EpsilonTable::new(first.value),
            best: first.value,
            best_error: f64::MAX,
            small: 0.0,
            large_error: 0.0,
            extrapolated_bound: 0.0,
            correction: 0.0,
            extrapolating: false,
            no_extrapolation: false,
            fruitless: 0,
        }
    }

    /// `dqagse`'s main loop, then its choice of what to return: the value,
    /// its error estimate and the status.
    fn subdivide(&mut self, sampler: &mut Sampler<'_>) -> Result<(f64, f64, GkStatus), GkStatus> {
        let mut status = GkStatus::Converged;
        for last in 2..=self.settings.limit {
            let worst = self.parts.order[self.rank];
            let Interval { lo, hi, .. } = self.parts.intervals[worst];
            let mid = lo.midpoint(hi);
            let [left, right] = sampler.estimate([(lo, mid), (mid, hi)])?;
            let errmax = self.parts.error(worst);
            self.count_round_off(last, self.parts.intervals[worst].value, errmax, left, right);
            // `dqagse` adds before it subtracts; so must we, for its bits.
            let parts = &mut self.parts;
            parts.errsum = parts.errsum + (left.error + right.error) - errmax;
            parts.area = parts.area + (left.value + right.value) - parts.intervals[worst].value;
            let halves = [(lo, mid, left), (mid, hi, right)].map(|(lo, hi, p)| Interval {
                lo,
                hi,
                value: p.value,
                error: p.error,
            });
            status = self.flags(last, lo, mid, hi);
            let at = self.parts.split(self.rank, halves);
            self.rank = self.rank.min(at);
            if self.parts.errsum <= self.settings.bound(self.parts.area) {
                // Label 115. Unlike `dqagse`, which still reports the
                // limit when the last bisection also met the tolerance.
                if status == GkStatus::SubdivisionLimit {
                    status = GkStatus::Converged;
                }
                return Ok((self.parts.sum(), self.parts.errsum, status));
            }
            if status != GkStatus::Converged {
                break;
            }
            if last == 2 {
                // Label 80: the extrapolation starts from here.
                self.small = 0.375 * self.width;
                self.large_error = self.parts.errsum;
                self.extrapolated_bound = self.settings.bound(self.parts.area);
                self.table.start(self.parts.area);
                continue;
            }
            if self.no_extrapolation {
                continue;
            }
            self.large_error -= errmax;
            if mid - lo > self.small {
                self.large_error += left.error + right.error;
            }
            if !self.extrapolating {
                // Extrapolate only once the next interval is a small one.
                if self.parts.width(self.parts.order[self.rank]) > self.small {
                    continue;
                }
                self.extrapolating = true;
                self.rank = 1;
            }
            if self.stalled_extrapolating < 5
                && self.large_error > self.extrapolated_bound
                && self.next_large_interval(last)
            {
                continue;
            }
            match self.extrapolate() {
                Some(extrapolated) => {
                    status = extrapolated;
                    break;
                }
                None => continue,
            }
        }
        Ok(self.result(status))
    }

    /// Counts the bisections that suggest round-off: `dqagse` before label
    /// 15. Not when either half's error was capped, which says nothing
    /// about rounding.
    fn count_round_off(&mut self, last: usize, old: f64, errmax: f64, left: Piece, right: Piece) {
        if left.is_capped() || right.is_capped() {
            return;
        }
        let (area12, erro12) = (left.value + right.value, left.error + right.error);
        // The integral moved by less than 1e-5 relative yet the error fell
        // by under 1%: only rounding is left to resolve.
        if (old - area12).abs() <= 1e-5 * area12.abs() && erro12 >= 0.99 * errmax {
            if self.extrapolating {
                self.stalled_extrapolating += 1;
            } else {
                self.stalled += 1;
            }
        }
        if last > 10 && erro12 > errmax {
            self.grew += 1;
        }
    }

    /// The status the counters and the newest halves `[lo, mid]`,
    /// `[mid, hi]` call for, `Converged` meaning "go on"; later tests
    /// override earlier ones, as in `dqagse`.
    fn flags(&self, last: usize, lo: f64, mid: f64, hi: f64) -> GkStatus {
        let mut status = GkStatus::Converged;
        if self.stalled + self.stalled_extrapolating >= 10 || self.grew >= 20 {
            status = GkStatus::RoundOff;
        }
        if last == self.settings.limit {
            status = GkStatus::SubdivisionLimit;
        }
        // The halves are as narrow as f64 allows around `mid`.
        if lo.abs().max(hi.abs()) <= (1.0 + 100.0 * EPMACH) * (mid.abs() + 1000.0 * UFLOW) {
            status = GkStatus::BadIntegrand;
        }
        status
    }

    /// Moves `rank` down the order to the next large interval, if one is
    /// within reach (`dqagse` label 40): before extrapolating, the error
    /// over large intervals must fall. Returns whether there is one.
    fn next_large_interval(&mut self, last: usize) -> bool {
        // Past half the limit, only so many intervals can still be bisected.
        let limit = self.settings.limit;
        let reach = if last > 2 + limit / 2 {
            limit + 3 - last
        } else {
            last
        };
        while self.rank < reach {
            if self.parts.width(self.parts.order[self.rank]) > self.small {
                return true;
            }
            self.rank += 1;
        }
        false
    }

    /// One step of the epsilon algorithm on the newest sum (`dqagse`
    /// labels 60 and 70); `Some(status)` ends the run.
    fn extrapolate(&mut self) -> Option<GkStatus> {
        let (value, error) = self.table.push(self.parts.area);
        self.fruitless += 1;
        let mut status = None;
        // Five extrapolations in a row have not helped, and their error is
        // far below the bisections': the table is stuck in round-off.
        if self.fruitless > 5 && self.best_error < 1e-3 * self.parts.errsum {
            status = Some(GkStatus::NoConvergence);
        }
        if error < self.best_error {
            self.fruitless = 0;
            self.best = value;
            self.best_error = error;
            self.correction = self.large_error;
            self.extrapolated_bound = self.settings.bound(value);
            if error <= self.extrapolated_bound {
                return Some(status.unwrap_or(GkStatus::Converged));
            }
        }
        // Label 70: bisect the largest error next, small intervals too.
        if self.table.len() == 1 {
            self.no_extrapolation = true;
        }
        if status.is_some() {
            return status;
        }
        self.rank = 0;
        self.extrapolating = false;
        self.small *= 0.5;
        self.large_error = self.parts.errsum;
        None
    }

    /// `dqagse` from label 100: the extrapolated value or the plain sum,
    /// whichever has the smaller relative error, then the test for
    /// divergence. `status` is what stopped the loop.
    #[allow(
        clippy::manual_range_contains,
        reason = "QUADPACK's test as written: a NaN ratio is not out of range"
    )]
    fn result(&self, mut status: GkStatus) -> (f64, f64, GkStatus) {
        let (area, errsum) = (self.parts.area, self.parts.errsum);
        let summed = (self.parts.sum(), errsum, status);
        if self.best_error == f64::MAX {
            return summed;
        }
        let mut error = self.best_error;
        if status != GkStatus::Converged || self.stalled_extrapolating >= 5 {
            if self.stalled_extrapolating >= 5 {
                error += self.correction;
            }
            if status == GkStatus::Converged {
                status = GkStatus::RoundOff;
            }
            let sum_is_better = if self.best != 0.0 && area != 0.0 {
                error / self.best.abs() > errsum / area.abs()
            } else {
                error > errsum
            };
            if sum_is_better {
                return summed;
            }
            if area == 0.0 {
                return (self.best, error, status);
            }
        }
        // Label 110: a value far from the sum of the pieces, or errors
        // larger than the sum itself, suggest a divergent integral; not if
        // both are tiny against ∫|f| for an integrand of both signs.
        if !self.one_signed && self.best.abs().max(area.abs()) <= 0.01 * self.defabs {
            return (self.best, error, status);
        }
        let ratio = self.best / area;
        if 0.01 > ratio || ratio > 100.0 || errsum > area.abs() {
            status = GkStatus::Divergent;
        }
        (self.best, error, status)
    }
}

/// Wynn's epsilon algorithm on a sequence of sums: QUADPACK's `dqelg`.
///
/// P. Wynn, "On a device for computing the e_m(S_n) transformation",
/// Math. Tables Aids Comput. 10 (1956) 91–96. The table's even columns are
/// Shanks transforms of the sequence, which take sums whose errors fall
/// like a sum of geometric terms (as bisection towards an endpoint
/// singularity `x^a` gives) to their limit. Only the two lower diagonals
/// are kept; the error estimate compares the latest result with the last
/// three.
struct EpsilonTable {
    /// `epstab`: the diagonals, newest element at `len − 1`.
    table: [f64; LIMEXP + 2],
    len: usize,
    /// The last three results (`res3la`) and the extrapolations so far
    /// (`nres`).
    last: [f64; 3],
    calls: usize,
}

/// The most elements the table holds (`limexp`); at that size the upper
/// diagonal is dropped.
const LIMEXP: usize = 50;

impl EpsilonTable {
    fn new(first: f64) -> Self {
        let mut table = [0.0; LIMEXP + 2];
        table[0] = first;
        EpsilonTable {
            table,
            len: 1,
            last: [0.0; 3],
            calls: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Appends the second sum without extrapolating (`rlist2(2) = area`).
    fn start(&mut self, sum: f64) {
        self.table[self.len] = sum;
        self.len += 1;
    }

    /// Appends a sum and returns the extrapolated limit and its error
    /// estimate, `f64::MAX` until there are results to compare.
    fn push(&mut self, sum: f64) -> (f64, f64) {
        // `dqelg` trims the table below `LIMEXP` elements, except when it
        // returns early on convergence; QUADPACK's next call could then
        // write past its array. Replace the newest element instead.
        self.len = self.len.min(LIMEXP - 1);
        self.start(sum);
        self.calls += 1;
        let (value, error) = self.extrapolate();
        (value, error.max(5.0 * EPMACH * value.abs()))
    }

    /// `dqelg`, with its 1-based `epstab(k)` at `table[k − 1]`.
    fn extrapolate(&mut self) -> (f64, f64) {
        let n = self.len;
        let newest = self.table[n - 1];
        if n < 3 {
            return (newest, f64::MAX);
        }
        let (mut result, mut error) = (newest, f64::MAX);
        let new_elements = (n - 1) / 2;
        self.table[n + 1] = newest;
        self.table[n - 1] = f64::MAX;
        let mut k1 = n - 1;
        for i in 1..=new_elements {
            let (e0, e1, e2) = (self.table[k1 - 2], self.table[k1 - 1], self.table[k1 + 2]);
            let (delta2, delta3) = (e2 - e1, e1 - e0);
            let (err2, err3) = (delta2.abs(), delta3.abs());
            let tol2 = e2.abs().max(e1.abs()) * EPMACH;
            let tol3 = e1.abs().max(e0.abs()) * EPMACH;
            if err2 <= tol2 && err3 <= tol3 {
                // e0, e1 and e2 agree to rounding: take that as the limit.
                return (e2, err2 + err3);
            }
            let e3 = self.table[k1];
            self.table[k1] = e1;
            let delta1 = e1 - e3;
            let tol1 = e1.abs().max(e3.abs()) * EPMACH;
            // Two neighbours equal to rounding, or a new element that would
            // land over 1e4 times |e1| away from e1 (the table behaving
            // irregularly): cut the table back to the part computed so far.
            let ss = 1.0 / delta1 + 1.0 / delta2 - 1.0 / delta3;
            if delta1.abs() <= tol1 || err2 <= tol2 || err3 <= tol3 || (ss * e1).abs() <= 1e-4 {
                self.len = 2 * i - 1;
                break;
            }
            let next = e1 + 1.0 / ss;
            self.table[k1] = next;
            k1 -= 2;
            let next_error = err2 + (next - e2).abs() + err3;
            if next_error <= error {
                (result, error) = (next, next_error);
            }
        }
        self.shift(n, new_elements);
        self.compare_with_last_three(result)
    }

    /// Drops what the next diagonal no longer needs (`dqelg` label 50).
    fn shift(&mut self, n: usize, new_elements: usize) {
        if self.len == LIMEXP {
            self.len = 2 * (LIMEXP / 2) - 1;
        }
        let first = if n % 2 == 0 { 1 } else { 0 };
        for i in (first..).step_by(2).take(new_elements + 1) {
            self.table[i] = self.table[i + 2];
        }
        if n != self.len {
            self.table.copy_within(n - self.len..n, 0);
        }
    }

    /// The error estimate from the spread of this result and the last
    /// three, once there are three (`dqelg` labels 80 and 90).
    fn compare_with_last_three(&mut self, result: f64) -> (f64, f64) {
        if self.calls < 4 {
            self.last[self.calls - 1] = result;
            return (result, f64::MAX);
        }
        let error = self.last.iter().map(|r| (result - r).abs()).sum();
        self.last = [self.last[1], self.last[2], result];
        (result, error)
    }
}

/// A Gauss–Kronrod pair on [−1, 1], by symmetry only its nodes in [0, 1].
struct Rule {
    /// The Kronrod nodes, outermost first, the centre 0 last; the Gauss
    /// nodes are every other one, starting from the second.
    nodes: &'static [f64],
    /// The Kronrod weights at `nodes`.
    kronrod: &'static [f64],
    /// The Gauss weights at `nodes`: 0 at the nodes only Kronrod uses.
    /// `dqk15i` lays its Gauss weights out this way; it lets one loop
    /// serve both rules whether or not the centre is a Gauss node.
    gauss: &'static [f64],
    /// The order in which QUADPACK adds up the pairs of nodes `±x`:
    /// `dqk21` takes the Gauss nodes first, `dqk15i` all in turn. Adding
    /// in its order makes every sum QUADPACK's to the bit.
    order: &'static [usize],
}

// The nodes and weights as QUADPACK prints them (`dqk21.f` and `dqk15.f`,
// "as evaluated with 80 decimal digit arithmetic by L. W. Fullerton, Bell
// Labs, Nov. 1981"), digit for digit; Rust rounds each to the nearest f64.
// GSL's `integration/qk21.c` and `qk15.c` print the same 33 digits of
// every one. Independently, with mpmath at 60 digits: the Gauss nodes are
// roots of the Legendre polynomial to 4e-33, the Gauss weights equal
// 2 / ((1 − x²) P'(x)²) to 7e-34, and each Kronrod rule integrates every
// monomial up to degree 3n + 1 exactly to 1e-33 (K21: x^31, K15: x^22),
// which, the extension being unique, pins its nodes and weights too.

/// G10–K21: QUADPACK's `dqk21`, the rule of QAGS.
#[allow(clippy::excessive_precision, reason = "QUADPACK's digits as printed")]
const QK21: Rule = Rule {
    nodes: &[
        0.995657163025808080735527280689003,
        0.973906528517171720077964012084452,
        0.930157491355708226001207180059508,
        0.865063366688984510732096688423493,
        0.780817726586416897063717578345042,
        0.679409568299024406234327365114874,
        0.562757134668604683339000099272694,
        0.433395394129247190799265943165784,
        0.294392862701460198131126603103866,
        0.148874338981631210884826001129720,
        0.0,
    ],
    kronrod: &[
        0.011694638867371874278064396062192,
        0.032558162307964727478818972459390,
        0.054755896574351996031381300244580,
        0.075039674810919952767043140916190,
        0.093125454583697605535065465083366,
        0.109387158802297641899210590325805,
        0.123491976262065851077958109831074,
        0.134709217311473325928054001771707,
        0.142775938577060080797094273138717,
        0.147739104901338491374841515972068,
        0.149445554002916905664936468389821,
    ],
    gauss: &[
        0.0,
        0.066671344308688137593568809893332,
        0.0,
        0.149451349150580593145776339657697,
        0.0,
        0.219086362515982043995534934228163,
        0.0,
        0.269266719309996355091226921569469,
        0.0,
        0.295524224714752870173892994651338,
        0.0,
    ],
    order: &[1, 3, 5, 7, 9, 0, 2, 4, 6, 8],
};

/// G7–K15: QUADPACK's `dqk15`, which `dqk15i` applies on (0, 1] for QAGI.
#[allow(clippy::excessive_precision, reason = "QUADPACK's digits as printed")]
const QK15: Rule = Rule {
    nodes: &[
        0.991455371120812639206854697526329,
        0.949107912342758524526189684047851,
        0.864864423359769072789712788640926,
        0.741531185599394439863864773280788,
        0.586087235467691130294144838258730,
        0.405845151377397166906606412076961,
        0.207784955007898467600689403773245,
        0.0,
    ],
    kronrod: &[
        0.022935322010529224963732008058970,
        0.063092092629978553290700663189204,
        0.104790010322250183839876322541518,
        0.140653259715525918745189590510238,
        0.169004726639267902826583426598550,
        0.190350578064785409913256402421014,
        0.204432940075298892414161999234649,
        0.209482141084727828012999174891714,
    ],
    gauss: &[
        0.0,
        0.129484966168869693270611432679082,
        0.0,
        0.279705391489276667901467771423780,
        0.0,
        0.381830050505118944950369775488975,
        0.0,
        0.417959183673469387755102040816327,
    ],
    order: &[0, 1, 2, 3, 4, 5, 6],
};

/// The most nodes of a rule, K21's.
const MAX_NODES: usize = 21;

impl Rule {
    /// Nodes on an interval: `2n + 1` for `n + 1` nodes in [0, 1].
    fn len(&self) -> usize {
        2 * self.nodes.len() - 1
    }

    /// Node `i` of the interval with this centre and half-length, in
    /// ascending order: `centre − half · x` for the outer nodes first.
    fn node(&self, centre: f64, half: f64, i: usize) -> f64 {
        let n = self.nodes.len() - 1;
        if i < n {
            centre - half * self.nodes[i]
        } else if i == n {
            centre
        } else {
            centre + half * self.nodes[2 * n - i]
        }
    }

    /// The rule's estimates over an interval of half-length `half` from
    /// the values `g` at its nodes in ascending order: QUADPACK's `dqk21`
    /// and `dqk15i` after their function calls.
    fn apply(&self, g: &[f64], half: f64) -> Piece {
        let n = self.nodes.len() - 1;
        let pair = |j: usize| (j, g[j], g[2 * n - j]);
        let centre = g[n];
        let mut gauss = self.gauss[n] * centre;
        let mut kronrod = self.kronrod[n] * centre;
        let mut abs = kronrod.abs();
        for (j, left, right) in self.order.iter().map(|&j| pair(j)) {
            gauss += self.gauss[j] * (left + right);
            kronrod += self.kronrod[j] * (left + right);
            abs += self.kronrod[j] * (left.abs() + right.abs());
        }
        // The mean value of g, and the integral of |g − mean|: how much g
        // varies, the scale the error estimate is judged against.
        let mean = kronrod * 0.5;
        let mut asc = self.kronrod[n] * (centre - mean).abs();
        for (j, left, right) in (0..n).map(pair) {
            asc += self.kronrod[j] * ((left - mean).abs() + (right - mean).abs());
        }
        let (abs, asc) = (abs * half.abs(), asc * half.abs());
        Piece {
            value: kronrod * half,
            error: error_estimate(((kronrod - gauss) * half).abs(), abs, asc),
            abs,
            asc,
        }
    }
}

/// QUADPACK's error estimate from `diff = |Kronrod − Gauss|`, `abs`
/// (`resabs`, the integral of `|f|`) and `asc` (`resasc`, of
/// `|f − mean|`).
///
/// The raw difference is mostly the Gauss rule's error, far larger than
/// the Kronrod rule's; `asc · (200 · diff / asc)^1.5` scales it down as
/// it gets small against the integrand's variation, which Piessens et al.
/// found realistic in tests (QUADPACK §3.4), and caps it at `asc`. The
/// floor of `50 · epmach · abs` is what rounding can leave in a sum of
/// values of that size; it is skipped where `abs` is so small that the
/// floor would underflow.
fn error_estimate(diff: f64, abs: f64, asc: f64) -> f64 {
    let mut error = diff;
    if asc != 0.0 && error != 0.0 {
        // `r · sqrt(r)` is `r^1.5` with correctly rounded operations only.
        let r = (200.0 * error / asc).min(1.0);
        error = asc * (r * r.sqrt());
    }
    if abs > UFLOW / (50.0 * EPMACH) {
        error = error.max(50.0 * EPMACH * abs);
    }
    error
}

/// One interval's estimates, as a Gauss–Kronrod pair gives them.
#[derive(Clone, Copy, Debug)]
struct Piece {
    /// The Kronrod estimate of the integral (`result`).
    value: f64,
    /// Its error estimate (`abserr`).
    error: f64,
    /// The integral of `|f|` (`resabs`).
    abs: f64,
    /// The integral of `|f − value / width|` (`resasc`).
    asc: f64,
}

impl Piece {
    /// Whether the estimate was capped at `asc`, so that it says only
    /// that the integrand is not resolved: QUADPACK then neither trusts it
    /// for convergence nor counts it towards round-off.
    fn is_capped(&self) -> bool {
        self.error == self.asc
    }
}

/// How the working interval maps onto the caller's: QUADPACK's `inf`.
#[derive(Clone, Copy, Debug)]
enum Map {
    /// The interval is the caller's, finite.
    Finite,
    /// `[a, ∞)` from `t` in (0, 1] by `x = a + (1 − t)/t`, `dx = −dt/t²`.
    Upper(f64),
    /// `(−∞, b]` from `t` in (0, 1] by `x = b − (1 − t)/t`, `dx = dt/t²`.
    Lower(f64),
    /// `(−∞, ∞)` as `(−∞, 0] + [0, ∞)`: `f(x) + f(−x)` at `x = (1 − t)/t`.
    Whole,
}

impl Map {
    /// QAGS's rule for a finite interval, QAGI's for an infinite one.
    fn rule(self) -> &'static Rule {
        match self {
            Map::Finite => &QK21,
            _ => &QK15,
        }
    }

    /// Integrand values per node.
    fn values_per_node(self) -> usize {
        match self {
            Map::Whole => 2,
            _ => 1,
        }
    }

    /// Appends the points where the integrand is needed for node `t`.
    fn push_points(self, t: f64, points: &mut Vec<f64>) {
        let x = || (1.0 - t) / t;
        match self {
            Map::Finite => points.push(t),
            Map::Upper(a) => points.push(a + x()),
            Map::Lower(b) => points.push(b - x()),
            Map::Whole => points.extend([x(), -x()]),
        }
    }

    /// The integrand of the working interval at node `t`, from the
    /// caller's integrand at the points [`push_points`](Self::push_points)
    /// gave: `f(x(t)) / t²`, with the sign of `dx` absorbed by the
    /// orientation (as in `dqk15i`).
    fn transform(self, t: f64, values: &[f64]) -> f64 {
        match self {
            Map::Finite => values[0],
            Map::Upper(_) | Map::Lower(_) => values[0] / t / t,
            Map::Whole => (values[0] + values[1]) / t / t,
        }
    }
}

/// Hands the integrand whole batches of nodes and applies the rule.
struct Sampler<'a> {
    eval: &'a mut dyn FnMut(&[f64], &mut [f64]),
    map: Map,
    points: Vec<f64>,
    values: Vec<f64>,
    evaluations: u64,
}

impl<'a> Sampler<'a> {
    fn new(eval: &'a mut dyn FnMut(&[f64], &mut [f64]), map: Map) -> Self {
        Sampler {
            eval,
            map,
            points: Vec::new(),
            values: Vec::new(),
            evaluations: 0,
        }
    }

    /// The rule's estimates over each of the intervals `(lo, hi)`, from one
    /// call of the integrand on all their nodes, interval by interval.
    ///
    /// # Errors
    ///
    /// [`GkStatus::NonFinite`] for the first value that is NaN or infinite,
    /// [`GkStatus::Overflow`] if finite values add up to an infinity.
    fn estimate<const K: usize>(
        &mut self,
        bounds: [(f64, f64); K],
    ) -> Result<[Piece; K], GkStatus> {
        let (map, rule) = (self.map, self.map.rule());
        self.points.clear();
        for (lo, hi) in bounds {
            let (centre, half) = centre_and_half(lo, hi);
            for i in 0..rule.len() {
                map.push_points(rule.node(centre, half, i), &mut self.points);
            }
        }
        self.values.clear();
        self.values.resize(self.points.len(), 0.0);
        (self.eval)(&self.points, &mut self.values);
        self.evaluations += self.points.len() as u64;
        if let Some(i) = self.values.iter().position(|v| !v.is_finite()) {
            let (x, value) = (self.points[i], self.values[i]);
            return Err(GkStatus::NonFinite { x, value });
        }
        let per_interval = rule.len() * map.values_per_node();
        let pieces = array::from_fn(|k| {
            let values = &self.values[k * per_interval..(k + 1) * per_interval];
            apply_mapped(map, rule, bounds[k], values)
        });
        if pieces.iter().all(|p: &Piece| {
            [p.value, p.error, p.abs, p.asc]
                .iter()
                .all(|v| v.is_finite())
        }) {
            Ok(pieces)
        } else {
            Err(GkStatus::Overflow)
        }
    }
}

/// The rule over `(lo, hi)` from the caller's integrand values at its
/// nodes, transformed to the working variable first.
fn apply_mapped(map: Map, rule: &Rule, (lo, hi): (f64, f64), values: &[f64]) -> Piece {
    let (centre, half) = centre_and_half(lo, hi);
    let per_node = map.values_per_node();
    let mut g = [0.0; MAX_NODES];
    for (i, g) in g[..rule.len()].iter_mut().enumerate() {
        let t = rule.node(centre, half, i);
        *g = map.transform(t, &values[i * per_node..(i + 1) * per_node]);
    }
    rule.apply(&g[..rule.len()], half)
}

/// The midpoint and half-length of `[lo, hi]`, halved before they are
/// added so that neither overflows on an interval as wide as `f64` allows.
fn centre_and_half(lo: f64, hi: f64) -> (f64, f64) {
    (lo.midpoint(hi), 0.5 * hi - 0.5 * lo)
}

#[cfg(test)]
mod tests {
    use std::f64::consts::{LN_2, PI};

    use super::*;

    /// A rule's two sums over [−1, 1]: (Gauss, Kronrod).
    fn sums(rule: &Rule, f: impl Fn(f64) -> f64) -> (f64, f64) {
        let n = rule.nodes.len() - 1;
        let g: Vec<f64> = (0..rule.len()).map(|i| f(rule.node(0.0, 1.0, i))).collect();
        let weighted = |w: &[f64]| {
            let pairs: f64 = (0..n).map(|j| w[j] * (g[j] + g[2 * n - j])).sum();
            pairs + w[n] * g[n]
        };
        (weighted(rule.gauss), weighted(rule.kronrod))
    }

    /// A Gauss rule of `n` nodes is exact up to degree `2n − 1` and its
    /// Kronrod extension up to `3n + 1`, and neither beyond. A wrong digit
    /// among the first 15 of a node or weight breaks one of these.
    #[test]
    fn rules_are_exact_for_the_degrees_they_should_be() {
        for (rule, n) in [(&QK21, 10), (&QK15, 7)] {
            let error = |degree: i32| {
                let exact = if degree % 2 == 0 {
                    2.0 / f64::from(degree + 1)
                } else {
                    0.0
                };
                let (gauss, kronrod) = sums(rule, |x| x.powi(degree));
                ((gauss - exact).abs(), (kronrod - exact).abs())
            };
            for degree in 0..=3 * n + 1 {
                let (gauss, kronrod) = error(degree);
                assert!(kronrod < 1e-15, "K{}: x^{degree}, {kronrod:e}", 2 * n + 1);
                if degree < 2 * n {
                    assert!(gauss < 1e-15, "G{n}: x^{degree}, {gauss:e}");
                }
            }
            assert!(error(2 * n).0 > 1e-7, "G{n} exact beyond its degree");
            let next_even = 3 * n + 2 + (3 * n) % 2;
            assert!(error(next_even).1 > 1e-12, "K{} exact beyond", 2 * n + 1);
        }
    }

    /// Integrates a function of one variable, point by point.
    fn run(f: impl Fn(f64) -> f64, a: f64, b: f64, settings: GkSettings) -> GkOutcome {
        let mut eval = |x: &[f64], v: &mut [f64]| {
            for (v, &x) in v.iter_mut().zip(x) {
                *v = f(x);
            }
        };
        integrate(&mut eval, a, b, &settings)
    }

    fn relative(rel: f64, limit: usize) -> GkSettings {
        GkSettings {
            abs: 0.0,
            rel,
            limit,
        }
    }

    /// `dqags`' usual settings: 50 subintervals at most.
    const TIGHT: GkSettings = GkSettings {
        abs: 0.0,
        rel: 1e-12,
        limit: 50,
    };

    const INF: f64 = f64::INFINITY;

    type Integrand = fn(f64) -> f64;

    /// A name, the integrand, the bounds, the settings and the exact value.
    type Problem = (&'static str, Integrand, [f64; 2], GkSettings, f64);

    /// The problems with a closed form.
    fn problems() -> Vec<Problem> {
        // 1e-12 of sin ω/ω is below the round-off floor `50 · epmach`
        // times ∫|cos ωx| = 2/π (7e-15), so the cosines ask for 1e-10;
        // ω = 1000 needs 128 subintervals.
        let cosines = relative(1e-10, 1000);
        #[rustfmt::skip]
        let problems: Vec<Problem> = vec![
            ("x^3 - 2x + 1/2 on [-1, 2]", |x| x * x * x - 2.0 * x + 0.5, [-1.0, 2.0], TIGHT, 2.25),
            ("sum x^k, k <= 19, on [0, 1]", |x| (0..20).fold(0.0, |p, _| p * x + 1.0), [0.0, 1.0], TIGHT, harmonic(20)),
            ("x^0.5 ln(1/x) on [0, 1]", |x| x.sqrt() * (1.0 / x).ln(), [0.0, 1.0], TIGHT, 4.0 / 9.0),
            ("x^-0.5 ln(1/x) on [0, 1]", |x| (1.0 / x).ln() / x.sqrt(), [0.0, 1.0], TIGHT, 4.0),
            ("1/sqrt(x) on [0, 1]", |x| 1.0 / x.sqrt(), [0.0, 1.0], TIGHT, 2.0),
            ("cos(100x) on [0, 1]", |x| (100.0 * x).cos(), [0.0, 1.0], cosines, 100f64.sin() / 100.0),
            ("cos(1000x) on [0, 1]", |x| (1000.0 * x).cos(), [0.0, 1.0], cosines, 1000f64.sin() / 1000.0),
            ("e^-x on [0, inf)", |x| (-x).exp(), [0.0, INF], TIGHT, 1.0),
            ("1/(1+x^2) on (-inf, inf)", |x| 1.0 / (1.0 + x * x), [-INF, INF], TIGHT, PI),
            ("e^-x^2 on (-inf, inf)", |x| (-x * x).exp(), [-INF, INF], TIGHT, PI.sqrt()),
        ];
        problems
    }

    /// `1 + 1/2 + … + 1/n`.
    fn harmonic(n: u32) -> f64 {
        (1..=n).rev().map(|k| 1.0 / f64::from(k)).sum()
    }

    /// Every closed form to 1e-10 relative, with the error estimate no
    /// smaller than the actual error. Run with `--nocapture` for the table.
    #[test]
    fn closed_forms_to_1e_10_and_within_the_error_estimate() {
        println!(
            "{:<28} {:>22} {:>9} {:>9} {:>6} {:>5}",
            "problem", "value", "estimate", "actual", "evals", "parts"
        );
        for (name, f, [a, b], settings, exact) in problems() {
            let outcome = run(f, a, b, settings);
            let actual = (outcome.value - exact).abs();
            println!(
                "{name:<28} {:>22.16e} {:>9.2e} {:>9.2e} {:>6} {:>5}",
                outcome.value, outcome.error, actual, outcome.evaluations, outcome.intervals
            );
            assert_eq!(outcome.status, GkStatus::Converged, "{name}");
            assert!(actual <= 1e-10 * exact.abs(), "{name}: {actual:e}");
            assert!(
                actual <= outcome.error,
                "{name}: {actual:e} > {:e}",
                outcome.error
            );
        }
    }

    /// G10 is exact to degree 19, so the two rules agree to rounding and
    /// the first 21 points are the last.
    #[test]
    fn polynomials_need_one_rule() {
        for (name, f, [a, b], settings, exact) in &problems()[..2] {
            let outcome = run(f, *a, *b, *settings);
            assert_eq!((outcome.evaluations, outcome.intervals), (21, 1), "{name}");
            assert!(
                (outcome.value - exact).abs() <= 4.0 * f64::EPSILON * exact,
                "{name}"
            );
        }
    }

    /// QUADPACK's value bits, error bits, `neval`, `last` and status.
    type Reference = (u64, u64, u64, usize, GkStatus);

    /// The results of scipy 1.17.1's QUADPACK (`_quadpack._qagse` and
    /// `_qagie`, which `scipy.integrate.quad` calls) on the same problems:
    /// the value's bits, the error estimate, the evaluations (`neval`),
    /// the subintervals (`last`) and `ier`. Only `+ − × ÷` and `sqrt`
    /// here, which round the same everywhere. Every status appears.
    #[test]
    fn same_steps_and_value_bits_as_quadpack() {
        use GkStatus::*;
        #[rustfmt::skip]
        let cases: [(&str, Integrand, _, _, Reference); 19] = [
            ("inv_sqrt", |x| 1.0 / x.sqrt(), [0.0, 1.0], (0.0, 1e-12, 1000), (0x3ffffffffffffff9, 0x3cfa000000000000, 231, 6, Converged)),
            ("interior", |x| 1.0 / (x - 1.0 / 3.0).abs().sqrt(), [0.0, 1.0], (0.0, 1e-10, 1000), (0x40064d325ace2fb6, 0x3d19800000000000, 231, 6, Converged)),
            ("step", |x| if x < 0.3 { 1.0 } else { 2.0 }, [0.0, 1.0], (0.0, 1e-10, 1000), (0x3ffb333333333333, 0x3ce1000000000000, 357, 9, Converged)),
            ("inv_x", |x| 1.0 / x, [0.0, 1.0], (0.0, 1e-12, 1000), (0x4085e15552fecf6f, 0x4022b37ca633e1d0, 41979, 1000, SubdivisionLimit)),
            ("inv_x2", |x| 1.0 / (x * x), [0.0, 1.0], (0.0, 1e-8, 200), (0xbff0000000000000, 0x3d70000000000000, 231, 6, Divergent)),
            ("inv_abs", |x| 1.0 / (x - 1.0 / 3.0).abs(), [0.0, 1.0], (0.0, 1e-10, 1000), (0x4052b3212208ec7d, 0x40234c87b229d1d2, 1995, 48, BadIntegrand)),
            ("step13", |x| if x < 1.0 / 3.0 { 1.0 } else { 2.0 }, [0.0, 1.0], (0.0, 1e-13, 1000), (0x3ffaaaaaaaaaaaac, 0x3ce0aaaaaaaaaaac, 189, 5, Converged)),
            ("cubic", |x| x * x * x - 2.0 * x + 0.5, [-1.0, 2.0], (0.0, 1e-12, 1000), (0x4001ffffffffffff, 0x3d22f2f36bbc98a9, 21, 1, Converged)),
            ("odd", |x| x * x * x, [-1.0, 1.0], (0.0, 1e-12, 1000), (0x0000000000000000, 0x3cf9001b8c06e2e5, 21, 1, RoundOff)),
            ("r_lim1", |x| 1.0 / (1.0 + x * x), [0.0, 10.0], (0.0, 1e-12, 1), (0x3ff789bd23a2c404, 0x3f60d0628cec9f0b, 21, 1, SubdivisionLimit)),
            ("r_lim2", |x| 1.0 / (1.0 + x * x), [0.0, 10.0], (0.0, 1e-12, 2), (0x3ff789bd2c16ac54, 0x3ed58f082588c000, 63, 2, SubdivisionLimit)),
            ("r_lim3", |x| 1.0 / (1.0 + x * x), [0.0, 10.0], (0.0, 1e-12, 3), (0x3ff789bd2c160057, 0x3e3ec84723cad800, 105, 3, SubdivisionLimit)),
            ("r_loose", |x| 1.0 / (1.0 + x * x), [0.0, 10.0], (1e-4, 0.0, 1000), (0x3ff789bd2c16ac54, 0x3ed58f082588c000, 63, 2, Converged)),
            ("lorentz", |x| 1.0 / (1.0 + x * x), [-INF, INF], (0.0, 1e-12, 1000), (0x400921fb54442d18, 0x3d23a28c00f0a000, 210, 4, Converged)),
            ("lorentz_low", |x| 1.0 / (1.0 + x * x), [-INF, 0.0], (0.0, 1e-12, 1000), (0x3ff921fb54442d18, 0x3d13a28c00f0a000, 105, 4, Converged)),
            ("inv_x2_up", |x| 1.0 / (x * x), [1.0, INF], (0.0, 1e-12, 1000), (0x3ff0000000000000, 0x3d09000000000000, 15, 1, Converged)),
            ("isqrt_up", |x| 1.0 / x.sqrt(), [0.0, INF], (0.0, 1e-8, 200), (0x40c494edb9109058, 0x40d06cda42c3f2b0, 1095, 37, NoConvergence)),
            ("sqrt_decay", |x| 1.0 / ((1.0 + x) * x.sqrt()), [0.0, INF], (0.0, 1e-12, 1000), (0x400921fb54442810, 0x3d88ee0000000000, 525, 18, Converged)),
            ("inv_x_up", |x| 1.0 / x, [1.0, INF], (0.0, 1e-8, 300), (0x406ac90cc346f3ff, 0x40204ffb679ab0a6, 8985, 300, SubdivisionLimit)),
        ];
        for (name, f, [a, b], (abs, rel, limit), (value, error, evaluations, intervals, status)) in
            cases
        {
            let outcome = run(f, a, b, GkSettings { abs, rel, limit });
            let expected = (f64::from_bits(value), evaluations, intervals, status);
            let got = (
                outcome.value,
                outcome.evaluations,
                outcome.intervals,
                outcome.status,
            );
            assert_eq!(got, expected, "{name}");
            assert_eq!(outcome.value.to_bits(), value, "{name}");
            // QUADPACK's `r**1.5` and our `r · sqrt(r)` can differ in the
            // last bit; through the running error sum (which subtracts
            // large errors) that moves the total slightly.
            let error = f64::from_bits(error);
            assert!(
                (outcome.error / error - 1.0).abs() < 1e-9,
                "{name}: {:e}",
                outcome.error
            );
        }
    }

    #[test]
    fn a_reversed_interval_negates_the_value_exactly() {
        let f = |x: f64| (-x * x).exp() * (1.0 + x / 3.0);
        for (a, b) in [(0.0, 3.0), (-1.0, INF), (-INF, 2.0), (-INF, INF)] {
            let forward = run(f, a, b, TIGHT);
            let backward = run(f, b, a, TIGHT);
            assert_eq!(forward.status, GkStatus::Converged);
            assert_eq!(backward.value.to_bits(), (-forward.value).to_bits());
            assert_eq!(
                (backward.error, backward.evaluations, backward.status),
                (forward.error, forward.evaluations, forward.status)
            );
        }
        assert!((run(|x| (-x).exp(), INF, 0.0, TIGHT).value + 1.0).abs() < 1e-15);
    }

    #[test]
    fn a_zero_width_interval_is_exactly_zero_unevaluated() {
        let mut never = |_: &[f64], _: &mut [f64]| panic!("evaluated");
        for x in [0.5, -0.0, INF, -INF] {
            let outcome = integrate(&mut never, x, x, &TIGHT);
            assert_eq!(outcome.value.to_bits(), 0.0f64.to_bits());
            assert_eq!((outcome.error, outcome.evaluations), (0.0, 0));
            assert_eq!(outcome.status, GkStatus::Converged);
        }
    }

    /// Divergent integrals, and ones that need more subintervals than
    /// allowed, end with a status that says so, within the limit.
    #[test]
    fn what_cannot_converge_is_not_claimed_to() {
        let cases: [(Integrand, _, _, _); 5] = [
            (|x| 1.0 / x, [0.0, 1.0], TIGHT, GkStatus::SubdivisionLimit),
            (|x| 1.0 / x, [1.0, INF], TIGHT, GkStatus::SubdivisionLimit),
            (|x| 1.0 / (x * x), [0.0, 1.0], TIGHT, GkStatus::Divergent),
            (
                |x| (1000.0 * x).cos(),
                [0.0, 1.0],
                TIGHT,
                GkStatus::SubdivisionLimit,
            ),
            // Below the round-off floor (see `problems`).
            (
                |x| (1000.0 * x).cos(),
                [0.0, 1.0],
                relative(1e-12, 1000),
                GkStatus::RoundOff,
            ),
        ];
        for (f, [a, b], settings, status) in cases {
            let outcome = run(f, a, b, settings);
            assert_eq!(outcome.status, status, "{a}..{b}");
            assert!(outcome.intervals <= settings.limit);
            assert!(outcome.evaluations <= 42 * settings.limit as u64);
        }
    }

    #[test]
    fn non_finite_values_stop_the_run_and_name_the_point() {
        let stop = |f: fn(f64) -> f64, a, b| match run(f, a, b, TIGHT) {
            GkOutcome {
                status: GkStatus::NonFinite { x, value },
                value: v,
                evaluations,
                ..
            } if v.is_nan() => (x, value, evaluations),
            outcome => panic!("{outcome:?}"),
        };
        // The centre of the first rule.
        assert_eq!(stop(|x| 1.0 / x, -1.0, 1.0), (0.0, INF, 21));
        // The first of the batch: ln is NaN at the negative points.
        let (x, value, _) = stop(f64::ln, -INF, INF);
        assert!(x < 0.0 && value.is_nan());
        // Only the third step's nodes come close enough to 1.
        let f = |x: f64| {
            if x > 0.999 {
                f64::NAN
            } else {
                (1.0 - x).sqrt()
            }
        };
        let (x, value, evaluations) = stop(f, 0.0, 1.0);
        assert!(x > 0.999 && value.is_nan());
        assert_eq!(evaluations, 21 + 42 + 42);
    }

    #[test]
    fn finite_values_whose_sum_overflows_are_reported() {
        let outcome = run(|_| 1e308, 0.0, 10.0, TIGHT);
        assert_eq!(outcome.status, GkStatus::Overflow);
        assert!(outcome.value.is_nan());
    }

    #[test]
    fn invalid_input_is_rejected_unevaluated() {
        let mut never = |_: &[f64], _: &mut [f64]| panic!("evaluated");
        let settings = [
            relative(-1e-6, 50),
            relative(f64::NAN, 50),
            relative(0.0, 50),
            relative(MIN_RELATIVE / 2.0, 50),
            relative(1e-6, 0),
        ];
        for settings in settings {
            let outcome = integrate(&mut never, 0.0, 1.0, &settings);
            assert_eq!(
                (outcome.status, outcome.evaluations),
                (GkStatus::Invalid, 0)
            );
        }
        let outcome = integrate(&mut never, f64::NAN, 1.0, &TIGHT);
        assert_eq!(outcome.status, GkStatus::Invalid);
    }

    /// The integrand sees one batch per step: the first interval's nodes,
    /// then both halves' together.
    #[test]
    fn each_step_is_one_batch() {
        for ([a, b], first) in [([0.0, 1.0], 21), ([0.0, INF], 15), ([-INF, INF], 30)] {
            let mut sizes = Vec::new();
            let mut eval = |x: &[f64], v: &mut [f64]| {
                sizes.push(x.len());
                for (v, &x) in v.iter_mut().zip(x) {
                    *v = 1.0 / (x.abs().sqrt() + (x * x).exp());
                }
            };
            let outcome = integrate(&mut eval, a, b, &TIGHT);
            assert!(sizes.len() > 2);
            assert_eq!(sizes[0], first);
            assert!(sizes[1..].iter().all(|&n| n == 2 * first));
            assert_eq!(sizes.iter().sum::<usize>() as u64, outcome.evaluations);
        }
    }

    #[test]
    fn same_inputs_same_bits() {
        for (_, f, [a, b], settings, _) in problems() {
            let (x, y) = (run(f, a, b, settings), run(f, a, b, settings));
            assert_eq!(x.value.to_bits(), y.value.to_bits());
            assert_eq!(x.error.to_bits(), y.error.to_bits());
        }
    }

    /// Partial sums of `1 − 1/2 + 1/3 − …`, whose error falls only like
    /// 1/n, extrapolate to ln 2: after 20 terms the sum is 0.024 off, the
    /// table's limit 6e-16 (measured), with an error estimate of 1.4e-13.
    #[test]
    fn epsilon_table_extrapolates_a_slow_series() {
        let mut table = EpsilonTable::new(1.0);
        let mut sum = 1.0;
        let mut last = (0.0, 0.0);
        for k in 2..=20 {
            sum += if k % 2 == 0 { -1.0 } else { 1.0 } / f64::from(k);
            if k == 2 {
                table.start(sum);
            } else {
                last = table.push(sum);
            }
        }
        let (value, error) = last;
        assert!((sum - LN_2).abs() > 0.02);
        assert!((value - LN_2).abs() < 1e-15, "{value}");
        assert!((value - LN_2).abs() <= error && error < 1e-12, "{error:e}");
    }

    /// A sequence that has converged keeps the table from being trimmed;
    /// pushing on must still stay within it.
    #[test]
    fn epsilon_table_takes_any_number_of_equal_sums() {
        let mut table = EpsilonTable::new(0.25);
        table.start(0.25);
        for _ in 0..200 {
            assert_eq!(table.push(0.25).0, 0.25);
        }
    }
}
