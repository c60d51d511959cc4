//! QUADPACK's `dqagse` (and `dqagpe`, its twin for break points) between
//! bisections: the partition, the counters and flags, Wynn's table, and
//! the step that one bisection's two halves take it through.
//!
//! The comments name `dqagse`'s variables and labels, so that the two can
//! be read side by side.

use crate::driver::checkpoint::StateReader;
use crate::method::gauss_kronrod::epsilon::EpsilonTable;
use crate::method::gauss_kronrod::rules::Piece;
use crate::method::gauss_kronrod::status::{EPMACH, GkSettings, GkStatus, UFLOW};

/// One subinterval and the rule's estimates over it.
#[derive(Clone, Copy, Debug)]
struct Interval {
    lo: f64,
    hi: f64,
    value: f64,
    error: f64,
}

/// The partition so far (`alist`, `blist`, `rlist`, `elist`, `iord`).
#[derive(Clone, Debug)]
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

impl Partition {
    /// Appends the partition to a checkpoint's bytes, bit for bit.
    fn encode(&self, out: &mut Vec<u8>) {
        put(out, self.intervals.len() as u64);
        for i in &self.intervals {
            put_f64s(out, &[i.lo, i.hi, i.value, i.error]);
        }
        for &i in &self.order {
            put(out, i as u64);
        }
        put_f64s(out, &[self.area, self.errsum]);
    }

    /// The partition back from `encode`'s bytes: at least one interval,
    /// fewer than `limit`, and an order that names each once.
    fn decode(reader: &mut StateReader<'_>, limit: usize) -> Option<Partition> {
        let n = usize::try_from(reader.u64()?).ok()?;
        if n == 0 || n >= limit {
            return None;
        }
        let mut intervals = Vec::with_capacity(n);
        for _ in 0..n {
            let [lo, hi, value, error] = get_f64s(reader)?;
            intervals.push(Interval {
                lo,
                hi,
                value,
                error,
            });
        }
        let mut order = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        for _ in 0..n {
            let i = usize::try_from(reader.u64()?).ok()?;
            if !std::mem::replace(seen.get_mut(i)?, true) {
                order.push(i);
            } else {
                return None;
            }
        }
        let [area, errsum] = get_f64s(reader)?;
        Some(Partition {
            intervals,
            order,
            area,
            errsum,
        })
    }
}

/// How `dqagse` and `dqagpe` tell the smallest intervals, which
/// extrapolation waits for, from the large ones.
#[derive(Clone, Debug)]
enum Smallest {
    /// QAGS: 1.5 times the width of the smallest intervals (`small`);
    /// narrower ones are small.
    Width(f64),
    /// QAGP, whose initial intervals differ in width: how many bisections
    /// made each interval (`level`), and the fewest that make an interval
    /// small, less one (`levmax`).
    Level { levels: Vec<u32>, max: u32 },
}

impl Smallest {
    /// Whether interval `i` of `parts` is a large one.
    fn is_large(&self, parts: &Partition, i: usize) -> bool {
        match self {
            Smallest::Width(small) => parts.width(i) > *small,
            Smallest::Level { levels, max } => levels[i] < *max,
        }
    }

    /// The next smaller size counts as small from now on (label 70 of
    /// `dqagse`, 155 of `dqagpe`).
    fn halve(&mut self) {
        match self {
            Smallest::Width(small) => *small *= 0.5,
            Smallest::Level { max, .. } => *max += 1,
        }
    }
}

/// How a run ended: the value, its error estimate, the subintervals and
/// why.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Ended {
    pub(super) value: f64,
    pub(super) error: f64,
    pub(super) intervals: usize,
    pub(super) status: GkStatus,
}

/// `dqagse`'s (`dqagpe`'s) state between bisections.
#[derive(Clone, Debug)]
pub(super) struct Qags {
    settings: GkSettings,
    parts: Partition,
    /// Width of the whole working interval.
    width: f64,
    /// The first estimate's integral of `|f|` (`defabs`; `resabs`, the
    /// initial intervals' sum, in QAGP), and whether `f` seemed of one
    /// sign, |∫f| ≈ ∫|f| (`ksgn`): the divergence test's scale.
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
    /// Which intervals are small: extrapolation waits until the largest
    /// errors are all on small intervals.
    smallest: Smallest,
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

impl Qags {
    /// `dqagse` up to its main loop, on the first estimate over `[lo, hi]`:
    /// `Err` if it ends there.
    pub(super) fn start(
        first: Piece,
        lo: f64,
        hi: f64,
        settings: GkSettings,
    ) -> Result<Qags, Ended> {
        let ended = |status| Ended {
            value: first.value,
            error: first.error,
            intervals: 1,
            status,
        };
        // An estimate capped at `resasc` says only that the rule has not
        // resolved the integrand, so it does not count as converged.
        let bound = settings.bound(first.value);
        if (first.error <= bound && !first.is_capped()) || first.error == 0.0 {
            return Err(ended(GkStatus::Converged));
        }
        if first.error > bound && first.error <= 100.0 * EPMACH * first.abs {
            return Err(ended(GkStatus::RoundOff));
        }
        if settings.limit == 1 {
            return Err(ended(GkStatus::SubdivisionLimit));
        }
        let interval = Interval {
            lo,
            hi,
            value: first.value,
            error: first.error,
        };
        Ok(Qags {
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
            smallest: Smallest::Width(0.0),
            large_error: 0.0,
            extrapolated_bound: 0.0,
            correction: 0.0,
            extrapolating: false,
            no_extrapolation: false,
            fruitless: 0,
        })
    }

    /// `dqagpe` up to its main loop, on the estimates over the intervals
    /// between consecutive `bounds` (two or more intervals): `Err` if it
    /// ends there.
    pub(super) fn start_at_points(
        pieces: &[Piece],
        bounds: &[f64],
        settings: GkSettings,
    ) -> Result<Qags, Ended> {
        let (mut result, mut abserr, mut resabs) = (0.0, 0.0, 0.0);
        let mut intervals = Vec::with_capacity(pieces.len());
        for (piece, ends) in pieces.iter().zip(bounds.windows(2)) {
            abserr += piece.error;
            result += piece.value;
            resabs += piece.abs;
            intervals.push(Interval {
                lo: ends[0],
                hi: ends[1],
                value: piece.value,
                error: piece.error,
            });
        }
        // `ndin`: a capped estimate says little, so such an interval gets
        // the whole error and is bisected first.
        let mut errsum = 0.0;
        for (interval, piece) in intervals.iter_mut().zip(pieces) {
            if piece.is_capped() && piece.error != 0.0 {
                interval.error = abserr;
            }
            errsum += interval.error;
        }
        let nint = intervals.len();
        let bound = settings.bound(result);
        let mut status = GkStatus::Converged;
        if abserr <= 100.0 * EPMACH * resabs && abserr > bound {
            status = GkStatus::RoundOff;
        }
        // `dqagpe`'s selection sort, largest error first; of equal errors
        // the later interval goes first.
        let mut order: Vec<usize> = (0..nint).collect();
        for i in 0..nint - 1 {
            let (mut largest, mut at) = (order[i], i);
            for (j, &candidate) in order.iter().enumerate().skip(i + 1) {
                if intervals[largest].error <= intervals[candidate].error {
                    (largest, at) = (candidate, j);
                }
            }
            order.swap(i, at);
        }
        if settings.limit < nint + 1 {
            status = GkStatus::SubdivisionLimit;
        }
        if status != GkStatus::Converged || abserr <= bound {
            return Err(Ended {
                value: result,
                error: abserr,
                intervals: nint,
                status,
            });
        }
        Ok(Qags {
            settings,
            parts: Partition {
                intervals,
                order,
                area: result,
                errsum,
            },
            width: bounds[nint] - bounds[0],
            defabs: resabs,
            one_signed: result.abs() >= (1.0 - 50.0 * EPMACH) * resabs,
            rank: 0,
            stalled: 0,
            stalled_extrapolating: 0,
            grew: 0,
            table: EpsilonTable::new(result),
            best: result,
            best_error: f64::MAX,
            smallest: Smallest::Level {
                levels: vec![0; nint],
                max: 1,
            },
            large_error: errsum,
            extrapolated_bound: bound,
            correction: 0.0,
            extrapolating: false,
            no_extrapolation: false,
            fruitless: 0,
        })
    }

    /// The sum over the partition and the sum of its errors.
    pub(super) fn so_far(&self) -> (f64, f64) {
        (self.parts.area, self.parts.errsum)
    }

    /// Whether this can be the state of a run on a working interval of
    /// `width` that started from `initial` intervals.
    pub(super) fn fits(&self, width: f64, initial: usize) -> bool {
        let levelled = matches!(self.smallest, Smallest::Level { .. });
        levelled == (initial > 1) && self.width.to_bits() == width.to_bits()
    }

    /// The interval to bisect next, and its midpoint.
    pub(super) fn worst(&self) -> (f64, f64, f64) {
        let Interval { lo, hi, .. } = self.parts.intervals[self.parts.order[self.rank]];
        (lo, lo.midpoint(hi), hi)
    }

    /// One pass of `dqagse`'s main loop, on the rule's estimates over the
    /// halves of [`worst`](Self::worst); `Some` if the run ends here.
    pub(super) fn bisected(&mut self, left: Piece, right: Piece) -> Option<Ended> {
        let last = self.parts.intervals.len() + 1;
        let worst = self.parts.order[self.rank];
        let (lo, mid, hi) = self.worst();
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
        let mut status = self.flags(last, lo, mid, hi);
        // Both halves are one level below the interval they split.
        let halves_large = match &mut self.smallest {
            Smallest::Width(small) => mid - lo > *small,
            Smallest::Level { levels, max } => {
                let level = levels[worst] + 1;
                levels[worst] = level;
                levels.push(level);
                level < *max
            }
        };
        let at = self.parts.split(self.rank, halves);
        self.rank = self.rank.min(at);
        if self.parts.errsum <= self.settings.bound(self.parts.area) {
            // Label 115. Unlike `dqagse`, which still reports the limit
            // when the last bisection also met the tolerance.
            if status == GkStatus::SubdivisionLimit {
                status = GkStatus::Converged;
            }
            return Some(self.summed(status));
        }
        if status != GkStatus::Converged {
            return Some(self.result(status));
        }
        if let (2, Smallest::Width(small)) = (last, &mut self.smallest) {
            // Label 80: the extrapolation starts from here.
            *small = 0.375 * self.width;
            self.large_error = self.parts.errsum;
            self.extrapolated_bound = self.settings.bound(self.parts.area);
            self.table.start(self.parts.area);
            return None;
        }
        if self.no_extrapolation {
            return None;
        }
        self.large_error -= errmax;
        if halves_large {
            self.large_error += left.error + right.error;
        }
        if !self.extrapolating {
            // Extrapolate only once the next interval is a small one.
            if self
                .smallest
                .is_large(&self.parts, self.parts.order[self.rank])
            {
                return None;
            }
            self.extrapolating = true;
            self.rank = 1;
        }
        if self.stalled_extrapolating < 5
            && self.large_error > self.extrapolated_bound
            && self.next_large_interval(last)
        {
            return None;
        }
        self.extrapolate().map(|status| self.result(status))
    }

    /// The plain sum of the pieces and of their errors (label 115).
    fn summed(&self, status: GkStatus) -> Ended {
        Ended {
            value: self.parts.sum(),
            error: self.parts.errsum,
            intervals: self.parts.intervals.len(),
            status,
        }
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
            if self
                .smallest
                .is_large(&self.parts, self.parts.order[self.rank])
            {
                return true;
            }
            self.rank += 1;
        }
        false
    }

    /// One step of the epsilon algorithm on the newest sum (`dqagse`
    /// labels 60 and 70); `Some(status)` ends the run.
    fn extrapolate(&mut self) -> Option<GkStatus> {
        // `dqagpe` starts its table from the initial partition's sum, and
        // stores the second sum without extrapolating (label 140 to 155).
        if self.table.len() < 2 {
            self.table.start(self.parts.area);
            self.prepare_small();
            return None;
        }
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
            // `dqagpe` asks for the error to be strictly within.
            let met = match self.smallest {
                Smallest::Width(_) => error <= self.extrapolated_bound,
                Smallest::Level { .. } => error < self.extrapolated_bound,
            };
            if met {
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
        self.prepare_small();
        None
    }

    /// Bisects the largest error next, small intervals too, and counts
    /// the next smaller size as small (label 70).
    fn prepare_small(&mut self) {
        self.rank = 0;
        self.extrapolating = false;
        self.smallest.halve();
        self.large_error = self.parts.errsum;
    }

    /// `dqagse` from label 100: the extrapolated value or the plain sum,
    /// whichever has the smaller relative error, then the test for
    /// divergence. `status` is what stopped the loop.
    #[allow(
        clippy::manual_range_contains,
        reason = "QUADPACK's test as written: a NaN ratio is not out of range"
    )]
    fn result(&self, mut status: GkStatus) -> Ended {
        let (area, errsum) = (self.parts.area, self.parts.errsum);
        let best = |error, status| Ended {
            value: self.best,
            error,
            intervals: self.parts.intervals.len(),
            status,
        };
        if self.best_error == f64::MAX {
            return self.summed(status);
        }
        // The sum goes out with the status that stopped the loop, as it
        // always has here; `dqagse` says round-off (`ier = 2`) when only
        // `iroff2` was set.
        let stopped = status;
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
                return self.summed(stopped);
            }
            if area == 0.0 {
                return best(error, status);
            }
        }
        // Label 110: a value far from the sum of the pieces, or errors
        // larger than the sum itself, suggest a divergent integral; not if
        // both are tiny against ∫|f| for an integrand of both signs.
        if !self.one_signed && self.best.abs().max(area.abs()) <= 0.01 * self.defabs {
            return best(error, status);
        }
        let ratio = self.best / area;
        if 0.01 > ratio || ratio > 100.0 || errsum > area.abs() {
            status = GkStatus::Divergent;
        }
        best(error, status)
    }

    /// Appends the state to a checkpoint's bytes, bit for bit.
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        self.parts.encode(out);
        self.table.encode(out);
        put_f64s(
            out,
            &[
                self.width,
                self.defabs,
                self.best,
                self.best_error,
                self.large_error,
                self.extrapolated_bound,
                self.correction,
            ],
        );
        for count in [
            self.rank as u64,
            u64::from(self.stalled),
            u64::from(self.stalled_extrapolating),
            u64::from(self.grew),
            u64::from(self.fruitless),
            u64::from(self.one_signed),
            u64::from(self.extrapolating),
            u64::from(self.no_extrapolation),
        ] {
            put(out, count);
        }
        match &self.smallest {
            Smallest::Width(small) => {
                put(out, 0);
                put_f64s(out, &[*small]);
            }
            Smallest::Level { levels, max } => {
                put(out, 1);
                put(out, u64::from(*max));
                for &level in levels {
                    put(out, u64::from(level));
                }
            }
        }
    }

    /// The state back from `encode`'s bytes, for a run with `settings`.
    pub(super) fn decode(reader: &mut StateReader<'_>, settings: GkSettings) -> Option<Qags> {
        let parts = Partition::decode(reader, settings.limit)?;
        let table = EpsilonTable::decode(reader)?;
        let [
            width,
            defabs,
            best,
            best_error,
            large_error,
            extrapolated_bound,
            correction,
        ] = get_f64s(reader)?;
        let rank = usize::try_from(reader.u64()?).ok()?;
        let mut count = || u32::try_from(reader.u64()?).ok();
        let (stalled, stalled_extrapolating, grew, fruitless) =
            (count()?, count()?, count()?, count()?);
        let mut flag = || match reader.u64()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        };
        let (one_signed, extrapolating, no_extrapolation) = (flag()?, flag()?, flag()?);
        let smallest = match reader.u64()? {
            0 => Smallest::Width(reader.f64()?),
            1 => {
                let max = u32::try_from(reader.u64()?).ok()?;
                let mut levels = Vec::with_capacity(parts.intervals.len());
                for _ in 0..parts.intervals.len() {
                    levels.push(u32::try_from(reader.u64()?).ok()?);
                }
                Smallest::Level { levels, max }
            }
            _ => return None,
        };
        (rank < parts.intervals.len()).then_some(Qags {
            settings,
            parts,
            width,
            defabs,
            one_signed,
            rank,
            stalled,
            stalled_extrapolating,
            grew,
            table,
            best,
            best_error,
            smallest,
            large_error,
            extrapolated_bound,
            correction,
            extrapolating,
            no_extrapolation,
            fruitless,
        })
    }
}

pub(super) fn put(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(super) fn put_f64s(out: &mut Vec<u8>, values: &[f64]) {
    for value in values {
        put(out, value.to_bits());
    }
}

pub(super) fn get_f64s<const N: usize>(reader: &mut StateReader<'_>) -> Option<[f64; N]> {
    let mut values = [0.0; N];
    for value in &mut values {
        *value = reader.f64()?;
    }
    Some(values)
}
