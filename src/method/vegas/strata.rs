//! VEGAS+'s adaptive stratified sampling: hypercubes in the map's `y`
//! space, and how many samples each gets.
//!
//! G. P. Lepage, "Adaptive multidimensional integration: VEGAS enhanced",
//! J. Comput. Phys. 439 (2021) 110386, section 3, and its implementation,
//! `Integrator` in Lepage's Python package `vegas` (`src/vegas/_vegas.pyx`,
//! `Integrator.set`, `_random_batch` and `__call__`). The unit cube of `y`
//! is cut into `Π s_a` equal hypercubes, `s_a` slices along axis `a`; each
//! hypercube `h` gets `n_h ≥ 2` samples drawn uniformly in it, so its
//! mean and sample variance of `f · J` are known, and the iteration's
//! estimate is `Σ V_h mean_h` with variance `Σ V_h² s_h² / n_h`
//! (`V_h = 1/H`, the hypercube's volume in `y`). Stratification alone
//! removes the variance between hypercubes, which is most of it for a
//! smooth `f · J` in few dimensions. After each iteration the samples are
//! moved towards the hypercubes where `f · J` varies most: vegas sets
//! `n_h = ⌊f N σ_h^β / Σ σ^β⌋ + n_min`, where `σ_h²` is the variance of
//! hypercube `h`'s estimate in the iteration just run (`V_h² s_h² / n_h`),
//! `f = 3/4` of the samples follow it (`neval_frac`) and the rest are
//! spread evenly, `n_min = ⌊(1 − f) N / H⌋ ≥ 2` each. `β = 0.75`
//! (vegas's default) damps the reallocation; `β = 0` gives every
//! hypercube the same count, VEGAS with plain stratification.
//!
//! A driver uses a [`Strata`] per run, and per iteration:
//!
//! 1. **allocate**: [`Strata::counts`] holds each hypercube's `n_h`,
//!    [`Strata::samples`] their sum, the iteration's budget (what vegas's
//!    rounding down leaves is handed out one by one);
//! 2. **split**: [`Strata::chunks`] cuts the hypercubes into contiguous
//!    ranges of about equal sample counts, a pure function of the
//!    counts, so the chunks (and their random streams) do not depend on
//!    the thread count;
//! 3. **sample**: for each hypercube of a chunk, in order, draw `n_h`
//!    uniform `u` in the unit cube, map them into the hypercube with
//!    [`Strata::point`], through the grid, evaluate, and reduce the
//!    hypercube's `f · J` values with [`CubeSums::from_values`];
//! 4. **merge**: concatenate the chunks' [`CubeSums`] in chunk order, which
//!    is hypercube order;
//! 5. **estimate**: [`Strata::estimate`] sums over the hypercubes in
//!    their order, so the bits do not depend on where the chunks were cut;
//! 6. **update**: [`Strata::weights_of`] damps each hypercube's spread,
//!    in the chunk that sampled it, and [`Strata::reweighted`] sets the
//!    next iteration's counts from them.
//!
//! Everything is deterministic: sums run in hypercube order, and only
//! `powf` and correctly rounded arithmetic are used.

use std::ops::Range;

use crate::driver::checkpoint::StateReader;
use crate::method::vegas::grid::DEFAULT_INCREMENTS;

/// vegas's default `beta`: the exponent of `σ_h` in the allocation.
///
/// Lepage (2021), section 3: `β = 1` would be the optimal (Neyman)
/// allocation for exact `σ_h`, but the `σ_h` are estimated from few samples
/// and a smaller `β` "damps" the response to their noise; vegas uses 0.75.
pub(crate) const DEFAULT_BETA: f64 = 0.75;

/// The share of each iteration's samples that follows `σ_h^β`, vegas's
/// `neval_frac`; the rest is spread evenly over the hypercubes so that
/// none starves because one iteration happened to see little variance.
const ADAPTIVE_SHARE: f64 = 0.75;

/// The fewest samples a hypercube gets: two, for a sample variance.
const MIN_PER_HYPERCUBE: u64 = 2;

/// The most hypercubes: vegas caps them by memory (`max_mem`); 2^20 keeps
/// `Strata` (16 bytes per hypercube) and an iteration's [`CubeSums`] (24
/// bytes per hypercube) to a few tens of MiB.
pub(crate) const MAX_HYPERCUBES: u64 = 1 << 20;

/// Per hypercube, the mean of its `f · J` values and the sum of their
/// squared deviations from it (`M2` of Welford's algorithm), and the count.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct CubeSums {
    /// `n_h`.
    pub(crate) count: u64,
    /// The mean of `f · J` over the hypercube's samples.
    pub(crate) mean: f64,
    /// `Σ (f·J − mean)²`.
    pub(crate) m2: f64,
}

impl CubeSums {
    /// The hypercube's values reduced in two passes, the mean and then the
    /// squared deviations from it, in order: no cancellation when `f · J`
    /// is nearly constant across the hypercube (as on a well-adapted grid),
    /// where `Σx² − (Σx)²/n` would lose most digits. vegas does the same
    /// (its `__call__`, with "Neely corrections").
    // The prototype driver streams values through `CubeTally`; a pass
    // that keeps a hypercube's values may prefer this.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn from_values(values: &[f64]) -> CubeSums {
        let count = values.len() as u64;
        if count == 0 {
            return CubeSums::default();
        }
        let mean = values.iter().sum::<f64>() / count as f64;
        let (mut deviations, mut m2) = (0.0, 0.0);
        for &v in values {
            let d = v - mean;
            deviations += d;
            m2 += d * d;
        }
        // The first pass's rounding, corrected (Neely; Chan, Golub and
        // LeVeque's "corrected two-pass algorithm").
        let mean = mean + deviations / count as f64;
        let m2 = m2 - deviations * deviations / count as f64;
        CubeSums {
            count,
            mean,
            m2: m2.max(0.0),
        }
    }

    /// The variance of the hypercube's mean, `s² / n`; 0 with fewer than
    /// two values.
    pub(crate) fn variance_of_mean(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            self.m2 / (count_as_f64(self.count - 1) * count_as_f64(self.count))
        }
    }
}

/// `n as f64`, to the bit, through `i64` below 2^63 (every count of
/// samples): one instruction on x86-64, where converting a `u64` takes
/// several, and this runs for every hypercube of every iteration.
fn count_as_f64(n: u64) -> f64 {
    match i64::try_from(n) {
        Ok(n) => n as f64,
        Err(_) => n as f64,
    }
}

/// One hypercube's `f · J` values summed as they come, shifted by the
/// first: accurate when the values are nearly equal (the shifted values
/// are small) without storing them for a second pass.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CubeTally {
    count: u64,
    shift: f64,
    sum: f64,
    squares: f64,
}

impl CubeTally {
    /// Adds values in order, as they come: the first value the tally
    /// sees is its shift. Values given in several calls add up to the
    /// same bits as in one.
    pub(crate) fn push_all(&mut self, values: &[f64]) {
        let Some(&first) = values.first() else {
            return;
        };
        if self.count == 0 {
            self.shift = first;
        }
        let (mut sum, mut squares) = (self.sum, self.squares);
        for &value in values {
            let d = value - self.shift;
            sum += d;
            squares += d * d;
        }
        (self.sum, self.squares) = (sum, squares);
        self.count += values.len() as u64;
    }

    /// The hypercube's [`CubeSums`].
    pub(crate) fn finish(&self) -> CubeSums {
        if self.count == 0 {
            return CubeSums::default();
        }
        let n = self.count as f64;
        CubeSums {
            count: self.count,
            mean: self.shift + self.sum / n,
            m2: (self.squares - self.sum * self.sum / n).max(0.0),
        }
    }
}

/// The hypercubes of VEGAS+ and their sample counts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Strata {
    /// Slices along each axis, `s_a`.
    slices: Vec<u64>,
    /// The iteration's sample budget, `N`.
    per_iteration: u64,
    beta: f64,
    /// The damped weights `σ_h^β` from the last update (all 1 at first).
    weights: Vec<f64>,
    /// `n_h`, from the weights.
    counts: Vec<u64>,
    /// The visiting order's step: hypercube `h` in the order of
    /// [`Strata::counts`] is the one at `h · stride mod H` in the grid of
    /// hypercubes (axis 0 fastest). `stride` is coprime with `H`, near
    /// `H · 0.618` (a Kronecker lattice), so that any run of consecutive
    /// hypercubes, such as the first chunks of an iteration that a time
    /// limit cut short, spreads over the whole cube instead of filling a
    /// slab of it.
    stride: u64,
}

impl Strata {
    /// The hypercubes for `dims` axes and `per_iteration` samples per
    /// iteration, as vegas's `Integrator.set` chooses them: `s` slices per
    /// axis with `s^d ≤ (1 − f) N / 2` (every hypercube keeps 2 samples
    /// when the adaptive share `f` goes elsewhere; `f = 0` when `β = 0`),
    /// and then one more slice on as many leading axes as still fit; at
    /// most [`MAX_HYPERCUBES`] in all. Every hypercube starts with the same
    /// count.
    ///
    /// A negative or NaN `beta` is taken as 0; the caller validates.
    pub(crate) fn new(dims: usize, per_iteration: u64, beta: f64) -> Strata {
        let beta = if beta > 0.0 && beta.is_finite() {
            beta
        } else {
            0.0
        };
        let share = if beta > 0.0 { ADAPTIVE_SHARE } else { 0.0 };
        let fit = (((1.0 - share) * per_iteration as f64 / MIN_PER_HYPERCUBE as f64).floor()
            as u64)
            .clamp(1, MAX_HYPERCUBES);
        let slices = slices_for(dims, fit);
        let hypercubes = slices.iter().product::<u64>() as usize;
        let mut strata = Strata {
            slices,
            per_iteration,
            beta,
            weights: vec![1.0; hypercubes],
            counts: vec![0; hypercubes],
            stride: stride_for(hypercubes as u64),
        };
        strata.allocate(hypercubes as f64);
        strata
    }

    /// How many hypercubes, `H`.
    pub(crate) fn hypercubes(&self) -> usize {
        self.counts.len()
    }

    /// Slices per axis.
    pub(crate) fn slices(&self) -> &[u64] {
        &self.slices
    }

    /// A hypercube's width along each axis, in the map's `y` space.
    pub(crate) fn widths(&self) -> Vec<f64> {
        self.slices.iter().map(|&s| 1.0 / s as f64).collect()
    }

    /// `n_h` for every hypercube, in order.
    pub(crate) fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// `Σ n_h`: the samples the iteration draws, its budget (or, when
    /// the budget is below 2, 2).
    pub(crate) fn samples(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Maps `u` in the unit cube into hypercube `h`: `y_a = (k_a + u_a) /
    /// s_a`, with `k_a` the hypercube's index along axis `a`. Axis 0 varies
    /// fastest in `h`, as in vegas.
    ///
    /// # Panics
    ///
    /// If `u` or `y` is not one entry per axis, or `h` is out of range.
    // The prototype driver finds each corner once ([`Strata::corner`]).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn point(&self, h: usize, u: &[f64], y: &mut [f64]) {
        assert!(
            u.len() == self.slices.len() && y.len() == self.slices.len(),
            "one coordinate per axis"
        );
        let mut corner = vec![0.0; self.slices.len()];
        self.corner(h, &mut corner);
        for (((y, &u), &c), &s) in y.iter_mut().zip(u).zip(&corner).zip(&self.slices) {
            *y = c + u / s as f64;
        }
    }

    /// The lower corner of hypercube `h` (in visiting order) in `y`:
    /// `k_a / s_a` on each axis. A point of the hypercube is then
    /// `corner + u / s` for `u` in the unit cube, which is what
    /// [`Strata::point`] computes; a sampler that draws many points per
    /// hypercube finds the corner once.
    ///
    /// # Panics
    ///
    /// If `corner` is not one entry per axis, or `h` is out of range.
    pub(crate) fn corner(&self, h: usize, corner: &mut [f64]) {
        assert!(h < self.hypercubes(), "hypercube {h} out of range");
        assert_eq!(corner.len(), self.slices.len(), "one coordinate per axis");
        // H ≤ 2^20 and stride < H, so the product fits in 64 bits.
        let at = h as u64 * self.stride % self.hypercubes() as u64;
        let mut rest = at;
        for (&s, corner) in self.slices.iter().zip(corner) {
            *corner = (rest % s) as f64 / s as f64;
            rest /= s;
        }
    }

    /// The digits of position `at` (below `H`) in the grid of
    /// hypercubes, one per axis, axis 0 fastest.
    fn digits(&self, mut at: u64) -> Vec<u64> {
        let digits = self.slices.iter().map(|&s| {
            let digit = at % s;
            at /= s;
            digit
        });
        digits.collect()
    }

    /// The lower corners of hypercubes `range` (in visiting order), axis
    /// by axis: `corners[a * range.len() + c]` is coordinate `a` of
    /// [`Strata::corner`]`(range.start + c)`, to the bit. Without a
    /// division per hypercube: the position `h · stride mod H` is kept as
    /// digits, one per axis (axis 0 fastest), and the next hypercube's is
    /// the stride's digits added with carries, the carry out of the last
    /// axis dropped (mod `H`). Axis by axis, each hypercube's carry kept
    /// for the next axis, so that the corners are pushed in order and
    /// never zeroed first.
    pub(crate) fn corners(&self, range: Range<usize>) -> Vec<f64> {
        let (dims, cubes) = (self.slices.len(), range.len());
        let mut corners = Vec::with_capacity(dims * cubes);
        if cubes == 0 {
            return corners;
        }
        assert!(range.end <= self.hypercubes(), "hypercubes out of range");
        // H ≤ 2^20 and stride < H, so the product fits in 64 bits.
        let total = self.hypercubes() as u64;
        let first = self.digits(range.start as u64 * self.stride % total);
        let step = self.digits(self.stride % total);
        // The carry out of the axis before, per hypercube: none into axis 0.
        let mut carries = vec![0u8; cubes];
        for ((&s, mut digit), add) in self.slices.iter().zip(first).zip(step) {
            // `k / s` for every digit `k`, as `corner` divides.
            let fractions: Vec<f64> = (0..s).map(|k| k as f64 / s as f64).collect();
            let last = fractions.len() - 1;
            for carry in &mut carries {
                // Digits are below `s` (the `min` only proves it).
                corners.push(fractions[(digit as usize).min(last)]);
                // So the sum is below `2s`.
                let sum = digit + add + u64::from(*carry);
                let over = sum >= s;
                digit = if over { sum - s } else { sum };
                *carry = u8::from(over);
            }
        }
        corners
    }

    /// The hypercubes cut into contiguous ranges, in order, each closed as
    /// soon as it holds at least `target` samples (the last may hold
    /// fewer): a pure function of the counts, so a chunk's hypercubes and
    /// random stream do not depend on the number of threads. For a chunk
    /// size the caller chose.
    pub(crate) fn chunks(&self, target: u64) -> Vec<Range<usize>> {
        let target = target.max(1);
        let (mut chunks, mut start, mut held) = (Vec::new(), 0, 0);
        for (h, &n) in self.counts.iter().enumerate() {
            held += n;
            if held >= target {
                chunks.push(start..h + 1);
                start = h + 1;
                held = 0;
            }
        }
        if start < self.counts.len() {
            chunks.push(start..self.counts.len());
        }
        chunks
    }

    /// The hypercubes cut into at most `pieces` contiguous ranges, in
    /// order, of nearly equal samples: range `j` closes at the first
    /// hypercube that brings the samples so far to `(j + 1) / pieces` of
    /// the iteration's, so ranges differ by less than a hypercube's count
    /// (fewer ranges when one hypercube holds more than a range's share).
    /// Equal ranges keep every core busy to the end of the iteration,
    /// where [`Strata::chunks`]'s last range, of what the others left,
    /// could be a fraction of them. A pure function of the counts, as
    /// that one is.
    pub(crate) fn even_chunks(&self, pieces: u64) -> Vec<Range<usize>> {
        let pieces = u128::from(pieces.max(1));
        let total = u128::from(self.samples());
        // The samples that close range `j` (from 1): `⌈j · total / pieces⌉`.
        let closing = |j: u128| (j * total).div_ceil(pieces) as u64;
        let mut chunks = Vec::with_capacity(pieces.min(self.counts.len() as u128) as usize);
        let (mut start, mut held, mut close) = (0, 0, closing(1));
        for (h, &n) in self.counts.iter().enumerate() {
            held += n;
            if held >= close {
                chunks.push(start..h + 1);
                start = h + 1;
                // The first range whose share `held` has not reached.
                close = closing(u128::from(held) * pieces / total + 1);
            }
        }
        // The last hypercube closes the last range (`closing(pieces)` is
        // the total); a guard all the same.
        if start < self.counts.len() {
            chunks.push(start..self.counts.len());
        }
        chunks
    }

    /// The iteration's estimate and its variance from every hypercube's
    /// sums, in hypercube order: `Σ V_h mean_h` and `Σ V_h² s_h² / n_h`.
    ///
    /// # Panics
    ///
    /// If `cubes` is not one per hypercube.
    pub(crate) fn estimate(&self, cubes: &[CubeSums]) -> (f64, f64) {
        assert_eq!(cubes.len(), self.hypercubes(), "one CubeSums per hypercube");
        let volume = 1.0 / self.hypercubes() as f64;
        // Summed as deviations from the first hypercube's mean, as the
        // accumulators shift by a first value: an offset common to every
        // hypercube (`1e6 + x`) then adds no rounding of its own.
        let shift = cubes.first().map_or(0.0, |cube| cube.mean);
        let (mut deviation, mut variance) = (0.0, 0.0);
        for cube in cubes {
            deviation += volume * (cube.mean - shift);
            variance += volume * volume * cube.variance_of_mean();
        }
        (shift + deviation, variance)
    }

    /// Each hypercube's damped weight for the next allocation, `σ_h^β`
    /// with `σ_h² = V_h² s_h² / n_h`, from its sums: what
    /// [`Strata::reweighted`] takes, computed hypercube by hypercube, so
    /// the chunk that owns a range of hypercubes computes theirs, to the
    /// bit what the whole would give. Empty when `β = 0`, which never
    /// moves a sample.
    pub(crate) fn weights_of(&self, cubes: &[CubeSums]) -> Vec<f64> {
        if self.beta == 0.0 {
            return Vec::new();
        }
        let volume = 1.0 / self.hypercubes() as f64;
        let mut weights: Vec<f64> = cubes
            .iter()
            .map(|cube| volume * volume * cube.variance_of_mean())
            .collect();
        // A loop of its own, with nothing else in it, so that the roots
        // run side by side in vectors rather than one chain at a time.
        damp(&mut weights, self.beta);
        weights
    }

    /// The strata of the next iteration: the samples reallocated from
    /// every hypercube's [`Strata::weights_of`], in order, with
    /// [`Strata::counts`] as the module's documentation says. If every
    /// `σ_h` is 0 (a constant `f · J`), or any is not finite, the counts
    /// are spread evenly again, as vegas does for the first case; `None`
    /// when `β = 0`, where nothing changes. Built anew, so that the
    /// strata an iteration's chunks read are never copied.
    ///
    /// # Panics
    ///
    /// If `β > 0` and `weights` is not one per hypercube.
    pub(crate) fn reweighted(&self, mut weights: Vec<f64>) -> Option<Strata> {
        if self.beta == 0.0 {
            return None;
        }
        assert_eq!(weights.len(), self.hypercubes(), "one weight per hypercube");
        let mut total: f64 = weights.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            weights.fill(1.0);
            total = weights.len() as f64;
        }
        let mut next = Strata {
            slices: self.slices.clone(),
            per_iteration: self.per_iteration,
            beta: self.beta,
            weights,
            counts: vec![0; self.hypercubes()],
            stride: self.stride,
        };
        next.allocate(total);
        Some(next)
    }

    /// [`Strata::reweighted`] from an iteration's hypercube sums, in place.
    ///
    /// # Panics
    ///
    /// If `cubes` is not one per hypercube.
    #[cfg(test)]
    pub(crate) fn update(&mut self, cubes: &[CubeSums]) {
        assert_eq!(cubes.len(), self.hypercubes(), "one CubeSums per hypercube");
        if let Some(next) = self.reweighted(self.weights_of(cubes)) {
            *self = next;
        }
    }

    /// Takes over what `old`, strata of the same axes for another budget,
    /// learnt: each hypercube's weight becomes that of the old hypercube
    /// holding its centre, and the counts follow. Hypercubes of one
    /// layout all have the same volume, so the weights (densities of
    /// `σ^β` up to a common factor) carry over as they are. Without this,
    /// the first iteration on new hypercubes would spread its samples
    /// evenly, as if nothing had been learnt.
    pub(crate) fn inherit(&mut self, old: &Strata) {
        if self.beta == 0.0 || old.slices.len() != self.slices.len() {
            return;
        }
        // The old hypercube holding a new one's centre, as its place in
        // the old visiting order: `(Σ_a d'_a P_a) · stride'⁻¹ mod H'`,
        // with `d'_a` the old digit holding the centre on axis `a`,
        // `⌊(k + ½) / s · s'⌋` for the new digit `k` (in integers), and
        // `P_a` the axis's place value. Each axis's term is a table over
        // its digits; the new hypercubes are taken in the order of their
        // positions (axis 0 fastest), so that only axis 0's digit changes
        // from one to the next, and each one's place in the visiting
        // order is the last one's plus `stride⁻¹`: no division per
        // hypercube, where one per axis and hypercube had made this the
        // slowest step between two iterations.
        let old_total = old.hypercubes() as u64;
        let back = inverse_mod(old.stride % old_total, old_total);
        let mut place = 1;
        let terms: Vec<Vec<u64>> = (self.slices.iter().zip(&old.slices))
            .map(|(&s, &old_s)| {
                // Each term is below H' ≤ 2^20 before the product with
                // the inverse, so the product fits in 64 bits.
                let terms = (0..s)
                    .map(|k| (2 * k + 1) * old_s / (2 * s) * place % old_total * back % old_total)
                    .collect();
                place *= old_s;
                terms
            })
            .collect();
        let total = self.hypercubes() as u64;
        let visit = inverse_mod(self.stride % total, total);
        // No axes: one hypercube in either, and no terms.
        let (first, higher) = terms
            .split_first()
            .map_or((&[0][..], &[][..]), |(first, higher)| (&first[..], higher));
        // The digits of the position on axes 1 and up, and where the
        // hypercube at it comes in the visiting order.
        let mut digits = vec![0; higher.len()];
        let mut h = 0;
        for _ in 0..total / first.len() as u64 {
            let mut above = 0;
            for (terms, &digit) in higher.iter().zip(&digits) {
                above += terms[digit];
                if above >= old_total {
                    above -= old_total;
                }
            }
            for &term in first {
                let mut at = above + term;
                if at >= old_total {
                    at -= old_total;
                }
                self.weights[h as usize] = old.weights[at as usize];
                h += visit;
                if h >= total {
                    h -= total;
                }
            }
            for (digit, terms) in digits.iter_mut().zip(higher) {
                *digit += 1;
                if *digit < terms.len() {
                    break;
                }
                *digit = 0;
            }
        }
        let mut sum: f64 = self.weights.iter().sum();
        if !(sum > 0.0 && sum.is_finite()) {
            self.weights.fill(1.0);
            sum = self.weights.len() as f64;
        }
        self.allocate(sum);
    }

    /// `n_h = ⌊f N w_h / Σw⌋ + n_min`, `n_min = max(2, ⌊(1 − f) N / H⌋)`,
    /// `f` the adaptive share (0 when `β = 0`): vegas's `_random_batch`.
    /// `total` is `Σw`, summed in order, which every caller has at hand.
    fn allocate(&mut self, total: f64) {
        let hypercubes = self.hypercubes() as u64;
        let n = self.per_iteration;
        if hypercubes == 1 {
            self.counts[0] = n.max(MIN_PER_HYPERCUBE);
            return;
        }
        let share = if self.beta > 0.0 { ADAPTIVE_SHARE } else { 0.0 };
        let floor = (((1.0 - share) * n as f64 / hypercubes as f64) as u64).max(MIN_PER_HYPERCUBE);
        let per_weight = share * n as f64 / total;
        let mut sum = 0;
        for (count, &weight) in self.counts.iter_mut().zip(&self.weights) {
            // Σ ⌊·⌋ ≤ f N and H n_min ≤ (1 − f) N, so Σ n_h ≤ N. Below
            // 2^63, so the conversion to `i64` (one instruction, where
            // `u64`'s takes a branch) truncates alike.
            *count = (weight * per_weight) as i64 as u64 + floor;
            sum += *count;
        }
        // What rounding down left over goes one by one to the hypercubes
        // in order (vegas leaves it undrawn), so that every iteration
        // draws its whole budget. Rounding in `per_weight` may overshoot
        // by a sample or two; then nothing is added.
        let left = n.saturating_sub(sum);
        let (each, first) = (left / hypercubes, (left % hypercubes) as usize);
        if each > 0 {
            self.counts.iter_mut().for_each(|count| *count += each);
        }
        self.counts[..first]
            .iter_mut()
            .for_each(|count| *count += 1);
    }

    /// Appends the strata to a checkpoint's bytes: the axes, the budget,
    /// `β`, then the weights, bit for bit (the counts follow from them).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.slices.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.per_iteration.to_le_bytes());
        out.extend_from_slice(&self.beta.to_bits().to_le_bytes());
        for weight in &self.weights {
            out.extend_from_slice(&weight.to_bits().to_le_bytes());
        }
    }

    /// The strata `encode` wrote; `None` if a weight is negative or not
    /// finite, or all are 0.
    pub(crate) fn decode(reader: &mut StateReader<'_>) -> Option<Strata> {
        let dims = usize::try_from(reader.u64()?).ok()?;
        let per_iteration = reader.u64()?;
        let beta = reader.f64()?;
        if !(beta >= 0.0 && beta.is_finite()) {
            return None;
        }
        let mut strata = Strata::new(dims, per_iteration, beta);
        for weight in &mut strata.weights {
            *weight = reader.f64()?;
        }
        let total: f64 = strata.weights.iter().sum();
        let valid = strata.weights.iter().all(|w| *w >= 0.0 && w.is_finite()) && total > 0.0;
        if !valid {
            return None;
        }
        strata.allocate(total);
        Some(strata)
    }
}

/// `σ^β` in place of each `σ²`. For the default `β = 0.75`, `(σ²)^0.375` is
/// `q · √q` with `q = √√σ²`: three square roots, correctly rounded on
/// every platform (a libm `pow` need not be) and, for the hundred thousand
/// hypercubes of a large iteration, a tenth of `powf`'s cost, which had
/// been 8% of a 5-D run's instructions (callgrind).
fn damp(variances: &mut [f64], beta: f64) {
    if beta == DEFAULT_BETA {
        for v in variances {
            let q = v.sqrt().sqrt();
            *v = q * q.sqrt();
        }
    } else {
        for v in variances {
            *v = v.powf(beta / 2.0);
        }
    }
}

/// `a⁻¹ mod m` for `a` coprime with `m` (1 when `m ≤ 1`), by Euclid's
/// extended algorithm: the visiting order's step undone.
fn inverse_mod(a: u64, m: u64) -> u64 {
    if m <= 1 {
        return 0;
    }
    let (mut r0, mut r1) = (i128::from(m), i128::from(a));
    let (mut t0, mut t1) = (0i128, 1i128);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 - q * t1);
    }
    t0.rem_euclid(i128::from(m)) as u64
}

/// The step of the visiting order: the integer nearest `H (√5 − 1)/2`
/// that is coprime with `H`, so that `h ↦ h · stride mod H` is a
/// permutation.
fn stride_for(hypercubes: u64) -> u64 {
    if hypercubes <= 2 {
        return 1;
    }
    let gcd = |mut a: u64, mut b: u64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let mut stride = ((hypercubes as f64) * 0.618_033_988_749_895).round() as u64;
    while gcd(stride, hypercubes) != 1 {
        stride += 1;
    }
    stride
}

/// Slices per axis for at most `fit` hypercubes: `s = ⌊fit^(1/d)⌋` on
/// every axis, then `s + 1` on as many leading axes as keep the product
/// within `fit` (vegas computes the same count with logarithms; integers
/// here, so that rounding cannot overshoot). The `s + 1` only while
/// `s (s + 1)` is at most [`DEFAULT_INCREMENTS`], so that a default grid
/// can be aligned with both sizes: beyond, the extra slices would add at
/// most `1/s` per axis to the hypercubes, less than aligning gains.
fn slices_for(dims: usize, fit: u64) -> Vec<u64> {
    if dims == 0 {
        return Vec::new();
    }
    let product = |slices: &[u64]| {
        slices
            .iter()
            .try_fold(1u64, |p, &s| p.checked_mul(s))
            .unwrap_or(u64::MAX)
    };
    // The float root may be off by one either way: correct it exactly.
    let mut s = ((fit as f64).powf(1.0 / dims as f64).floor() as u64).max(1);
    while s > 1 && product(&vec![s; dims]) > fit {
        s -= 1;
    }
    while product(&vec![s + 1; dims]) <= fit {
        s += 1;
    }
    let mut slices = vec![s; dims];
    // Slices of two sizes fit a grid only if its increments are a
    // multiple of both (see [`aligned_increments`]).
    if s * (s + 1) > DEFAULT_INCREMENTS as u64 {
        return slices;
    }
    for axis in 0..dims {
        slices[axis] = s + 1;
        if product(&slices) > fit {
            slices[axis] = s;
            break;
        }
    }
    slices
}

/// The most increments, at most `base`, that are a multiple of every
/// axis's slices, as vegas makes its grid (`Integrator.set`: `ninc =
/// ⌊ni / nstrat⌋ nstrat`): each hypercube then holds whole increments
/// on every axis, so the Jacobian, constant on an increment, does not
/// jump inside a hypercube where no increment edge is meant to be. `base`
/// itself when no multiple fits.
///
/// Measured with `bench/peers.py`'s integrands (d = 2, 2^20, 20 seeds),
/// 966 increments on 161 × 161 hypercubes in place of 1000 moved the
/// reported standard errors by less than their noise (a few percent) on
/// the oscillatory, gaussian and discontinuous families: the gain is
/// vegas's layout, not a measured one.
pub(crate) fn aligned_increments(slices: &[u64], base: usize) -> usize {
    let gcd = |mut a: u64, mut b: u64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let lcm = slices.iter().fold(1u64, |l, &s| l / gcd(l, s) * s);
    let base = base as u64;
    if lcm > base {
        base as usize
    } else {
        (base / lcm * lcm) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_follow_vegas() {
        // vegas, neval = 104857 (2^20 / 10), beta > 0: (1 − 0.75) N / 2 =
        // 13107 hypercubes at most. d = 2: 114² = 12996; d = 5: 6⁵ = 7776,
        // then 7 on three axes (7³·6² = 12348); d = 8: 3⁸ = 6561, then 4
        // on two (4²·3⁶ = 11664).
        let strata = |d| Strata::new(d, 104_857, DEFAULT_BETA);
        assert_eq!(strata(2).slices(), [114, 114]);
        assert_eq!(strata(5).slices(), [7, 7, 7, 6, 6]);
        assert_eq!(strata(8).slices(), [4, 4, 3, 3, 3, 3, 3, 3]);
        // β = 0: all samples evenly, N/2 hypercubes; no 229 beside 228,
        // which no grid of at most 1000 increments could align with.
        assert_eq!(Strata::new(2, 104_857, 0.0).slices(), [228, 228]);
        // Many axes, few samples: two slices on as many axes as fit
        // (vegas's d = ⌊ln 125 / ln 2⌋ = 6), one on the rest.
        let many = Strata::new(30, 1000, DEFAULT_BETA);
        assert_eq!(many.hypercubes(), 64);
        assert_eq!(many.slices()[5..7], [2, 1]);
        // Too few samples for two slices: one hypercube, classic VEGAS.
        let one = Strata::new(3, 7, DEFAULT_BETA);
        assert_eq!(one.hypercubes(), 1);
        assert_eq!(one.counts(), [7]);
        // The cap.
        let big = Strata::new(3, 1 << 40, DEFAULT_BETA);
        assert!(big.hypercubes() as u64 <= MAX_HYPERCUBES);
        assert_eq!(big.slices(), [101, 101, 101]);
    }

    #[test]
    fn increments_align_with_the_slices() {
        // vegas's 2^20 / 10 in d = 2: 114 slices, 8 · 114 increments.
        assert_eq!(aligned_increments(&[114, 114], 1000), 912);
        // Two sizes of slices: a multiple of both.
        assert_eq!(aligned_increments(&[7, 7, 7, 6, 6], 1000), 966);
        assert_eq!(aligned_increments(&[4, 4, 3, 3, 3], 163), 156);
        // No multiple fits: the grid as asked.
        assert_eq!(aligned_increments(&[161, 161], 100), 100);
        assert_eq!(aligned_increments(&[], 1000), 1000);
        // Every hypercube edge on an increment edge.
        let strata = Strata::new(2, 1 << 20, DEFAULT_BETA);
        let n = aligned_increments(strata.slices(), 1000) as u64;
        assert!(strata.slices().iter().all(|&s| n % s == 0));
    }

    #[test]
    fn counts_start_even_and_fill_the_budget() {
        for (d, n) in [(2, 6553), (5, 104_857), (8, 1 << 16), (1, 7), (3, 2)] {
            let strata = Strata::new(d, n, DEFAULT_BETA);
            let counts = strata.counts();
            let (least, most) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            assert!(*least >= 2 && most - least <= 1, "{d} {n}: {least}..{most}");
            assert_eq!(strata.samples(), n.max(2), "{d} {n}");
        }
    }

    #[test]
    fn points_land_in_their_hypercube() {
        let strata = Strata::new(3, 1200, DEFAULT_BETA);
        let s = strata.slices().to_vec();
        assert_eq!(s, [6, 5, 5]);
        let (mut y, mut corner) = ([0.0; 3], [0.0; 3]);
        let mut seen = vec![false; strata.hypercubes()];
        for h in 0..strata.hypercubes() {
            strata.corner(h, &mut corner);
            strata.point(h, &[0.5; 3], &mut y);
            // Axis 0 fastest, in the grid of hypercubes.
            let k: Vec<usize> = (0..3)
                .map(|a| (corner[a] * s[a] as f64).round() as usize)
                .collect();
            for a in 0..3 {
                assert_eq!(corner[a], k[a] as f64 / s[a] as f64);
                assert_eq!(y[a], corner[a] + 0.5 / s[a] as f64);
            }
            let at = k[0] + 6 * (k[1] + 5 * k[2]);
            assert!(!seen[at], "hypercube {at} twice");
            seen[at] = true;
            // The visiting order is h · stride mod H.
            assert_eq!(at as u64, h as u64 * strata.stride % 150);
        }
        assert!(seen.iter().all(|&s| s));
        // The first fifth of the order already reaches every slice of the
        // slowest axis: a prefix is spread over the cube, not a slab.
        let mut slabs = [0; 5];
        for h in 0..30 {
            strata.corner(h, &mut corner);
            slabs[(corner[2] * 5.0).round() as usize] += 1;
        }
        assert!(slabs.iter().all(|&n| n >= 4), "{slabs:?}");
    }

    /// The corners of a range, stepped digit by digit, are `corner`'s to
    /// the bit, for ranges that start anywhere and wrap past `H`.
    #[test]
    fn corners_of_a_range_are_those_of_each_hypercube() {
        for (dims, samples) in [(3, 1200), (2, 50_000), (5, 9_000), (1, 40)] {
            let strata = Strata::new(dims, samples, DEFAULT_BETA);
            let h = strata.hypercubes();
            let mut corner = vec![0.0; dims];
            for range in [0..h, 1..h / 2 + 1, h - 1..h, 3.min(h)..3.min(h)] {
                let corners = strata.corners(range.clone());
                for (c, cube) in range.clone().enumerate() {
                    strata.corner(cube, &mut corner);
                    for (a, &at) in corner.iter().enumerate() {
                        let got = corners[a * range.len() + c];
                        assert_eq!(got.to_bits(), at.to_bits(), "{dims} {cube} {a}");
                    }
                }
            }
        }
    }

    /// New hypercubes take the weights of the old ones at their centres:
    /// a hot corner stays hot, and counts follow the weights.
    #[test]
    fn new_strata_inherit_the_old_weights() {
        for (a, m) in [(3, 7), (1, 1), (610, 999), (5, 2)] {
            assert_eq!(a * inverse_mod(a, m) % m, 1 % m, "{a} {m}");
        }
        let mut old = Strata::new(2, 400, DEFAULT_BETA);
        assert_eq!(old.slices(), [7, 7]);
        // σ is large in the old hypercube at the grid's corner (0, 0) only.
        let mut corner = [0.0; 2];
        let cubes: Vec<CubeSums> = (0..old.hypercubes())
            .map(|h| {
                old.corner(h, &mut corner);
                let spread = if corner == [0.0, 0.0] { 100.0 } else { 1.0 };
                CubeSums::from_values(&[0.0, spread, 0.0, spread])
            })
            .collect();
        old.update(&cubes);
        let mut new = Strata::new(2, 40_000, DEFAULT_BETA);
        assert_eq!(new.slices(), [70, 70]);
        new.inherit(&old);
        // The old corner cube, [0, 1/7)², holds the new slices whose
        // centres fall in it: 0..10 on both axes.
        let (mut hot, mut cold) = (u64::MAX, 0);
        for (h, &count) in new.counts().iter().enumerate() {
            new.corner(h, &mut corner);
            if corner[0] < 10.0 / 71.0 && corner[1] < 10.0 / 70.0 {
                hot = hot.min(count);
            } else {
                cold = cold.max(count);
            }
        }
        // σ^β is 100^0.75 ≈ 32 times larger there.
        assert!(hot > 4 * cold, "{hot} {cold}");
        assert_eq!(new.samples(), 40_000);
    }

    /// Stepped digit by digit, the inherited weights are those of the
    /// old hypercube holding each new one's centre, found by dividing
    /// each hypercube's position into digits.
    #[test]
    fn inherit_finds_the_old_hypercube_of_each_centre() {
        let shapes = [
            (2, 400, 40_000),
            (5, 4000, 50_000),
            (3, 30, 9000),
            (1, 50, 700),
        ];
        for (dims, old_n, new_n) in shapes {
            let mut old = Strata::new(dims, old_n, DEFAULT_BETA);
            let cubes: Vec<CubeSums> = (0..old.hypercubes())
                .map(|h| CubeSums::from_values(&[0.0, 1.0 + h as f64]))
                .collect();
            old.update(&cubes);
            let mut new = Strata::new(dims, new_n, DEFAULT_BETA);
            new.inherit(&old);
            let (old_total, total) = (old.hypercubes() as u64, new.hypercubes() as u64);
            let back = inverse_mod(old.stride % old_total, old_total);
            for h in 0..new.hypercubes() {
                let mut at = h as u64 * new.stride % total;
                let (mut old_at, mut scale) = (0, 1);
                for (&s, &old_s) in new.slices.iter().zip(&old.slices) {
                    let k = at % s;
                    at /= s;
                    old_at += (2 * k + 1) * old_s / (2 * s) * scale;
                    scale *= old_s;
                }
                let expected = old.weights[(old_at * back % old_total) as usize];
                assert_eq!(new.weights[h].to_bits(), expected.to_bits(), "{dims} {h}");
            }
        }
    }

    #[test]
    fn counts_convert_as_u64_does() {
        let big = [
            (1u64 << 53) + 1,
            (1 << 62) + 3,
            (1 << 63) - 1,
            1 << 63,
            u64::MAX,
        ];
        for n in [0, 1, 2, 1000, 12_345_678_901].into_iter().chain(big) {
            assert_eq!(count_as_f64(n).to_bits(), (n as f64).to_bits(), "{n}");
        }
    }

    #[test]
    fn cube_sums_are_exact_for_nearly_constant_values() {
        let values = [1e8 + 1.0, 1e8 + 2.0, 1e8 + 3.0, 1e8 + 4.0];
        let cube = CubeSums::from_values(&values);
        assert_eq!(cube.count, 4);
        assert_eq!(cube.mean, 1e8 + 2.5);
        assert_eq!(cube.m2, 5.0);
        assert_eq!(cube.variance_of_mean(), 5.0 / 12.0);
        assert_eq!(CubeSums::from_values(&[3.0]).variance_of_mean(), 0.0);
        // Summed as they come, shifted by the first: the same here, in
        // one piece or several.
        let mut tally = CubeTally::default();
        tally.push_all(&values);
        assert_eq!(tally.finish(), cube);
        let mut pieces = CubeTally::default();
        pieces.push_all(&values[..1]);
        pieces.push_all(&[]);
        pieces.push_all(&values[1..]);
        assert_eq!(pieces.finish(), cube);
        assert_eq!(CubeTally::default().finish(), CubeSums::default());
    }

    /// The estimate is `Σ V_h mean_h`, its variance `Σ V_h² s_h²/n_h`:
    /// two hypercubes by hand.
    #[test]
    fn estimate_by_hand() {
        let strata = Strata::new(1, 8, 0.0);
        assert_eq!(strata.hypercubes(), 4);
        let cubes =
            [[1.0, 3.0], [2.0, 2.0], [0.0, 4.0], [5.0, 7.0]].map(|v| CubeSums::from_values(&v));
        let (value, variance) = strata.estimate(&cubes);
        // Means 2, 2, 2, 6; s² = 2, 0, 8, 2, over n = 2.
        assert_eq!(value, (2.0 + 2.0 + 2.0 + 6.0) / 4.0);
        assert_eq!(variance, (1.0 + 0.0 + 4.0 + 1.0) / 16.0);
    }

    /// Samples follow `σ_h^β`: with `β = 1` and σ_h in ratio 1 : 3 (the
    /// variance of the hypercube's mean, as vegas takes it), the adaptive
    /// three quarters split 1 : 3 on top of the even floor.
    #[test]
    fn update_moves_samples_to_the_variance() {
        let mut strata = Strata::new(1, 400, 1.0);
        // (1 − 0.75)·400/2 = 50 hypercubes, 2 each at least.
        assert_eq!(strata.hypercubes(), 50);
        assert_eq!(strata.counts()[0], 8);
        // Hypercube 0 has s² = 9× the others', so σ_0 = 3σ at equal n.
        let mut cubes = vec![CubeSums::from_values(&[0.0, 2.0, 0.0, 2.0, 0.0, 2.0, 0.0, 2.0]); 50];
        cubes[0] = CubeSums::from_values(&[0.0, 6.0, 0.0, 6.0, 0.0, 6.0, 0.0, 6.0]);
        strata.update(&cubes);
        // ⌊300 · 3/52⌋ + 2 = 19 and ⌊300/52⌋ + 2 = 7, 362 in all; the 38
        // left over go one each to the first 38 hypercubes.
        assert_eq!(strata.counts()[0], 20);
        assert!(strata.counts()[1..38].iter().all(|&c| c == 8));
        assert!(strata.counts()[38..].iter().all(|&c| c == 7));
        assert_eq!(strata.samples(), 400);
        // A constant integrand: back to even.
        strata.update(&vec![CubeSums::from_values(&[1.0, 1.0]); 50]);
        assert!(strata.counts().iter().all(|&c| c == 8));
        // β = 0 never moves.
        let mut even = Strata::new(1, 400, 0.0);
        let before = even.clone();
        even.update(&vec![CubeSums::from_values(&[0.0, 9.0]); even.hypercubes()]);
        assert_eq!(even, before);
    }

    /// Chunks cover the hypercubes in order, each with at least the
    /// target but the last, whatever the counts.
    #[test]
    fn damped_is_sigma_to_the_beta() {
        let damped = |v: f64, beta: f64| {
            let mut one = [v];
            damp(&mut one, beta);
            one[0]
        };
        for v in [0.0, 1e-300, 3e-17, 0.5, 1.0, 7.0, 1e200] {
            let fast = damped(v, DEFAULT_BETA);
            let slow = v.powf(0.375);
            assert!(
                (fast - slow).abs() <= 4.0 * f64::EPSILON * slow,
                "{v}: {fast} {slow}"
            );
        }
        assert_eq!(damped(4.0, 1.0), 2.0);
    }

    /// Chunks cover the hypercubes in order, each within a hypercube's
    /// count of an equal share, whatever the counts.
    #[test]
    fn chunks_are_contiguous_and_balanced() {
        let mut strata = Strata::new(2, 10_000, DEFAULT_BETA);
        let mut cubes = vec![CubeSums::from_values(&[0.0, 1.0]); strata.hypercubes()];
        cubes[7] = CubeSums::from_values(&[0.0, 100.0]);
        strata.update(&cubes);
        let most = *strata.counts().iter().max().unwrap();
        assert!(most > 100, "{most}");
        for pieces in [1, 2, 3, 4, 10, 64] {
            let chunks = strata.even_chunks(pieces);
            assert_eq!(chunks[0].start, 0);
            assert_eq!(chunks.last().unwrap().end, strata.hypercubes());
            for pair in chunks.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert!(pair[0].start < pair[0].end);
            }
            let held = |r: &Range<usize>| strata.counts()[r.clone()].iter().sum::<u64>();
            let share = strata.samples() / pieces;
            assert!(chunks.len() as u64 <= pieces);
            for chunk in &chunks {
                assert!(
                    held(chunk).abs_diff(share) <= most + 1,
                    "{pieces}: {chunk:?}"
                );
            }
            let total: u64 = chunks.iter().map(held).sum();
            assert_eq!(total, strata.samples());
            // Deterministic: the same counts, the same chunks.
            assert_eq!(strata.even_chunks(pieces), chunks);
        }
        // The hot hypercube holds more than a share of 200: fewer chunks.
        assert!(most > strata.samples() / 200);
        assert!(strata.even_chunks(200).len() < 200);
        assert_eq!(strata.even_chunks(0).len(), 1);
        // A chunk size: ranges closed at the target, the last with the
        // rest.
        let greedy = strata.chunks(1000);
        let held = |r: &Range<usize>| strata.counts()[r.clone()].iter().sum::<u64>();
        assert!(greedy[..greedy.len() - 1].iter().all(|r| held(r) >= 1000));
        assert_eq!(greedy.iter().map(held).sum::<u64>(), strata.samples());
        assert_eq!(strata.chunks(0).len(), strata.hypercubes());
        let every = strata.hypercubes() as u64 * most;
        assert_eq!(strata.even_chunks(every).len(), strata.hypercubes());
    }

    /// A stratified estimate of a known integral, `∫₀¹∫₀¹ 4xy = 1`, with
    /// `f · J = 4 y₀ y₁` (the identity map) at fixed points: merged from
    /// chunks in order, it has the bits of the whole, and it is close.
    #[test]
    fn chunks_merge_to_the_bits_of_the_whole() {
        let strata = Strata::new(2, 4096, DEFAULT_BETA);
        let mut y = [0.0; 2];
        let mut draws = (1u64..).map(|i| crate::sample::unit_open(crate::sample::mix64(i)));
        let mut cubes = Vec::new();
        for range in strata.chunks(300) {
            for h in range {
                let values: Vec<f64> = (0..strata.counts()[h])
                    .map(|_| {
                        let u = [draws.next().unwrap(), draws.next().unwrap()];
                        strata.point(h, &u, &mut y);
                        4.0 * y[0] * y[1]
                    })
                    .collect();
                cubes.push(CubeSums::from_values(&values));
            }
        }
        let (value, variance) = strata.estimate(&cubes);
        assert!(
            (value - 1.0).abs() < 5.0 * variance.sqrt(),
            "{value} ± {}",
            variance.sqrt()
        );
        // Stratified: far below plain MC's variance (4/9 − 1/4·… ≈ 0.78 / N).
        assert!(variance < 0.78 / 4096.0 / 100.0, "{variance:e}");
    }

    #[test]
    fn encode_decode_round_trip() {
        let mut strata = Strata::new(3, 50_000, DEFAULT_BETA);
        let cubes: Vec<CubeSums> = (0..strata.hypercubes())
            .map(|h| CubeSums::from_values(&[0.0, h as f64 * 0.1]))
            .collect();
        strata.update(&cubes);
        let mut bytes = Vec::new();
        strata.encode(&mut bytes);
        let mut reader = StateReader(&bytes);
        assert_eq!(Strata::decode(&mut reader), Some(strata.clone()));
        assert!(reader.is_done());
        // Truncated, or a negative weight: refused.
        assert_eq!(
            Strata::decode(&mut StateReader(&bytes[..bytes.len() - 1])),
            None
        );
        let mut bad = bytes.clone();
        let at = bad.len() - 8;
        bad[at..].copy_from_slice(&(-1.0f64).to_bits().to_le_bytes());
        assert_eq!(Strata::decode(&mut StateReader(&bad)), None);
    }
}
