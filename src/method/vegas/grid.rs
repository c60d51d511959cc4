//! VEGAS's separable adaptive grid: the map from the unit cube to the box,
//! its refinement from a histogram, and the average over iterations.
//!
//! VEGAS (G. P. Lepage, "A new algorithm for adaptive multidimensional
//! integration", J. Comput. Phys. 27, 192–203, 1978) samples `y` uniformly
//! in the unit cube and integrates `f(x(y)) · J(y)` instead of `f(x)`. The
//! map `x(y)` acts on each axis separately: axis `a` is cut into `N`
//! increments, each of which takes `1/N` of `y` and a variable share of
//! `x`, so its Jacobian is `N · Δx_i`, large where increments are wide.
//! The variance of `f · J` is least when `N² · Δx_i · ∫_{Δx_i} f² dx` is the
//! same for every increment (vegas's documentation, "How vegas Works",
//! <https://vegas.readthedocs.io>), which puts narrow increments where
//! `|f|` is large. Each iteration histograms `(f · J)²` per axis and
//! increment, and [`Grid::refined`] moves the increments towards that
//! condition, damped so that noise in one iteration cannot wreck the grid.
//!
//! The details follow `AdaptiveMap.adapt` in Lepage's Python package
//! `vegas` (`src/vegas/_vegas.pyx`, the implementation behind "Adaptive
//! multidimensional integration: VEGAS enhanced", J. Comput. Phys. 439,
//! 110386, 2021), which refines the 1978 rule: a finer grid, a gentler
//! smoothing and a smaller default damping exponent. Where it differs from
//! the 1978 paper or GSL's `monte/vegas.c`, the comment says so.
//!
//! Everything here is deterministic: sums run in index order, histograms
//! merge in the order they are given, no `mul_add` (fused rounding differs
//! between CPUs), and only `std`'s `ln` and `powf`, so the same inputs give
//! the same bits on one platform.

use multiversion::multiversion;

use crate::driver::checkpoint::StateReader;

/// The damping exponent `alpha` of [`Grid::refined`]: vegas's default.
///
/// vegas's `Integrator` uses `alpha = 0.5` ("The default value is 0.5",
/// its docstring, which adds that smaller values slow adaptation, "which
/// may be desirable for difficult integrands"). GSL's
/// `gsl_monte_vegas_init` sets 1.5, as does Numerical Recipes' `vegas`
/// (`ALPH`), and GSL's manual puts typical values "between one and two";
/// those codes follow Lepage's 1978 paper and 1980 Fortran, with a
/// harsher smoothing (a plain three-point mean) and a coarser grid (50
/// increments). We pair alpha, as vegas does, with vegas's smoothing and
/// [`DEFAULT_INCREMENTS`]. On this module's peaked test (a Gaussian of
/// width 0.01) that pair cuts the variance of `f · J` at every one of ten
/// iterations, 845× in all. The same refinement with GSL's 50 increments
/// and alpha 1.5 gains 290× in two iterations and then swings between 3×
/// and 220×: the wide end increments, which hold the peak's tails, are
/// undersampled, and a strong alpha acts on each misjudgement at once.
/// `Method::VEGAS` nonetheless uses 1 on the same grid, with VEGAS+'s
/// stratification, graded increments ([`MAX_DENSITY_RATIO`]: see there)
/// and a histogram smoothed over more points ([`SMOOTHING_POINTS`]), which
/// takes out most of the noise a stronger alpha would pass on to the grid.
#[cfg(test)]
pub(crate) const DEFAULT_ALPHA: f64 = 0.5;

/// Increments per axis: vegas's default `maxinc_axis = 1000`.
///
/// GSL (`BINS_MAX`) and Numerical Recipes (`NDMX`) use 50. More increments
/// follow a narrow peak more closely: the map is linear within an
/// increment, so a peak narrower than an increment is sampled no better
/// than by plain Monte Carlo. Their cost is small: `Grid::map` finds an
/// increment by one multiplication whatever `N`, and [`Grid::refined`] is
/// linear in `N`. The histogram, though, needs samples in every increment
/// to say anything, so vegas uses `min(neval / 10, 1000)`; see
/// [`increments_for`].
pub(crate) const DEFAULT_INCREMENTS: usize = 1000;

/// Samples per increment below which vegas gives an axis fewer increments:
/// its `Integrator` takes `neval / 10` increments, at most `maxinc_axis`.
const SAMPLES_PER_INCREMENT: u64 = 10;

/// The floor under a normalised, smoothed `r_i` before it is compressed.
///
/// vegas adds `TINY = 10^(min_10_exp + 50)` (1e-257) to every `r_i`. An
/// increment where `f · J` was never seen to be nonzero then keeps a small
/// weight, `(1 / ln 1e257)^alpha` (0.041 at alpha = 0.5, against about
/// 0.38 for an average increment of a 1000-increment grid), and shrinks by
/// a bounded factor per iteration instead of vanishing at once, as it would
/// with the exact limit `w(0) = 0` that GSL takes. A region that only
/// looked empty (too few samples, or a feature between them) stays
/// reachable. The floor also keeps `ln` away from 0.
const R_FLOOR: f64 = 1e-257;

/// The most the density of increments may fall from one increment to its
/// neighbour in a refinement, so that neighbouring increments' widths (and
/// Jacobians) differ by about this factor at most.
///
/// Not in vegas, whose grid lets the increments next to a region where
/// `f = 0` grow without bound. On Genz's discontinuous family (`f = 0`
/// beyond `x_1 = w_1`) the zero region then collapses into one increment,
/// `[0.6182, 1]` on a 1000-increment axis (382× the uniform width) after
/// two iterations at `alpha = 1`, and its left edge creeps past the jump
/// at `w_1 = 0.61803` by about a quarter of its neighbour per iteration
/// (its smoothed weight is an eighth of its neighbour's, so it holds less
/// than one increment's share of the total). The sliver of non-zero `f`
/// it then holds is hit by about 1% of iterations, with `J` 600× its
/// neighbours': the iterations that miss it report a small error and
/// weigh most in the average, and it ends many standard errors off (up
/// to 80 in `bench/peers.py` runs; vegas itself shows `z` = 11–25 there).
/// Graded, the zero region keeps a geometric run of increments, its first
/// no wider than about 4 of its neighbours once the grid has settled, at a cost of
/// `log_4(width · N)` increments (about 5 of 1000). Measured over 10 seeds
/// of `bench/peers.py` (alpha 1, the default iterations): the largest
/// `z` on the discontinuous family fell from 80 to 2.7 and its RMS error
/// from 10× vegas's to 0.75×, while on the smooth families nothing
/// changed beyond the noise. A ratio of 2 did as well but for 30% on the
/// discontinuous family; 16 lost 20% there, and 64 let `z` reach 36 again.
pub(crate) const MAX_DENSITY_RATIO: f64 = 4.0;

/// The points whose `(f · J)²` the smoothing of [`Grid::refined`] pools
/// for each increment: the histogram is smoothed as by vegas's
/// `(1, 6, 1)/8` kernel about `SMOOTHING_POINTS / (points per increment)`
/// times, at least once (vegas smooths once whatever the points; many
/// passes are made as moving averages of the same spread, [`smooth`]).
///
/// Not in vegas. An increment's mean of `(f · J)²` rests on the few
/// points that fell in it: 27 in a warm-up iteration of a 2^20 budget
/// (26214 points, 966 increments), 217 in a counted one. Its noise moves
/// the increment's edges at random, and the Jacobian, constant on an
/// increment, then jumps by that noise from one increment to the next,
/// inside the hypercubes. Where the hypercubes resolve `f · J` finely, as
/// in two dimensions, these jumps were most of the variance: on the 2-D
/// oscillatory family at 2^20 the first warm-up iteration, on the uniform
/// grid, had a standard error of 6.8e-5, the adapted ones after it
/// 1.2e-4, with neighbouring increments' widths differing by 1.6% (RMS of
/// the log ratio); the counted iterations, 1.5–3.2e-5 where the same
/// hypercubes on a smooth grid would give about 0.9e-5. Smoothed `k`
/// times, the kernel's spread is `√k / 2` increments, so it averages
/// over more points where they are few and leaves a well-sampled
/// histogram almost as vegas leaves it; and it works in increments, not
/// in `x`, so a narrow peak that the grid has gathered increments on is
/// not flattened. Measured with `bench/peers.py` (d = 2, 20 seeds, RMS
/// error over vegas's at 2^16 / 2^20): oscillatory 1.15 / 1.55 → 0.48 /
/// 0.63, discontinuous 0.72 / 2.59 → 0.85 / 1.19, gaussian 1.09 / 1.02 →
/// 1.24 / 0.86 (its reported error 0.91 / 0.97 → 0.88 / 0.77 of vegas's),
/// corner peak 0.61 / 0.85 → 0.40 / 0.25, product peak 0.40 / 0.64 →
/// 0.60 / 0.36 and C0 0.55 / 0.53 → 0.85 / 0.36 (reported errors 0.38 /
/// 0.56 → 0.42 / 0.27 and 0.48 / 0.55 → 0.58 / 0.33). The discontinuous family's error
/// swings with the setting (at 2^20: 1.9, 1.2, 1.5, 1.6 and 2.4 for 2000,
/// 3000, 4000, 6000 and 8000 points: where the jump falls among the
/// hypercubes); the smooth families gain a little more up to 8000. In
/// d = 5 and 8 the changes were within the noise of 5 seeds.
pub(crate) const SMOOTHING_POINTS: f64 = 3000.0;

/// The most smoothing passes one refinement stands for, whatever the
/// points: a spread of 16 increments, which pools even a single point per
/// increment into thousands.
const MAX_SMOOTHING_PASSES: usize = 1024;

/// The number of increments per axis for `samples` points per iteration,
/// as vegas chooses it: a tenth of the samples, between 1 and
/// [`DEFAULT_INCREMENTS`].
pub(crate) fn increments_for(samples: u64) -> usize {
    let tenth = samples / SAMPLES_PER_INCREMENT;
    // Compare in u64 so that no cast truncates on 32-bit targets.
    if tenth >= DEFAULT_INCREMENTS as u64 {
        DEFAULT_INCREMENTS
    } else {
        (tenth as usize).max(1)
    }
}

/// A separable map from the unit cube to the integration box: per axis,
/// `increments` intervals of `[0, 1]` in `y`, each mapped linearly onto an
/// interval of `[lo, hi]` in `x`, equal probability per increment.
///
/// On each axis the edges `u_0 = 0 < u_1 < … < u_N = 1` are kept in units
/// of the axis: `x = lo + width · u`, and `y ∈ [i/N, (i + 1)/N]` maps
/// linearly onto `[u_i, u_{i+1}]`. So the map is continuous and increasing,
/// and its Jacobian on that increment is `width · N · (u_{i+1} − u_i) > 0`:
/// a valid change of variables whatever the edges, which is why the
/// estimate stays unbiased however the grid has adapted. (Edges kept in
/// `x` itself, as vegas keeps them, would lose the widths of a box far
/// from the origin to cancellation: on `[10, 10.001]` an increment of a
/// 1000-increment grid would have a width good to only 9 digits.)
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Grid {
    increments: usize,
    lo: Vec<f64>,
    width: Vec<f64>,
    /// Axis `a`'s `increments + 1` edges, in units of its width from its
    /// lower bound, at `a * (increments + 1)..`.
    edges: Vec<f64>,
    /// Axis `a`'s increments' starts `u_i` and widths `u_{i+1} − u_i`, at
    /// `a * increments..`: what [`Grid::map_axis`] looks up, kept in step
    /// with `edges`. (Two arrays, not one of pairs, so that a vector of
    /// points loads each from one array of the indices.)
    starts: Vec<f64>,
    widths: Vec<f64>,
}

impl Grid {
    /// The uniform grid: `x = lo + width · y` on each axis, to rounding.
    ///
    /// `increments` is at least 1; 0 is taken as 1. The edges are `i / N`,
    /// so `y = 0` and `y = 1` map to `lo` and `lo + width` exactly, as the
    /// domain computes its upper end.
    ///
    /// # Panics
    ///
    /// If `lo` and `width` differ in length.
    pub(crate) fn uniform(lo: &[f64], width: &[f64], increments: usize) -> Grid {
        assert_eq!(lo.len(), width.len(), "one width per lower bound");
        let increments = increments.max(1);
        let n = increments as f64;
        let edges = (0..lo.len())
            .flat_map(|_| (0..=increments).map(move |i| i as f64 / n))
            .collect();
        let mut grid = Grid {
            increments,
            lo: lo.to_vec(),
            width: width.to_vec(),
            edges,
            starts: Vec::new(),
            widths: Vec::new(),
        };
        grid.set_steps();
        grid
    }

    /// Rebuilds `starts` and `widths` from `edges`: axis by axis into
    /// vectors of the right size (collected through `flat_map`, they grew
    /// by doubling, which with the copies cost three times the steps).
    fn set_steps(&mut self) {
        let n = self.increments;
        let size = self.edges.len() / (n + 1) * n;
        let (mut starts, mut widths) = (Vec::with_capacity(size), Vec::with_capacity(size));
        for axis in self.edges.chunks_exact(n + 1) {
            for e in axis.windows(2) {
                starts.push(e[0]);
                widths.push(e[1] - e[0]);
            }
        }
        (self.starts, self.widths) = (starts, widths);
    }

    /// Appends every edge to a checkpoint's bytes, bit for bit.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        for edge in &self.edges {
            out.extend_from_slice(&edge.to_bits().to_le_bytes());
        }
    }

    /// The grid `encode` wrote for this shape of box; `None` if the edges
    /// do not run strictly upwards from 0 to 1 on every axis.
    pub(crate) fn decode(
        reader: &mut StateReader<'_>,
        lo: &[f64],
        width: &[f64],
        increments: usize,
    ) -> Option<Grid> {
        let mut grid = Grid::uniform(lo, width, increments);
        for edge in &mut grid.edges {
            *edge = reader.f64()?;
        }
        let valid = grid.edges.chunks_exact(grid.increments + 1).all(|axis| {
            axis[0] == 0.0 && axis[grid.increments] == 1.0 && strictly_increasing(axis)
        });
        grid.set_steps();
        valid.then_some(grid)
    }

    /// How many axes the grid maps.
    pub(crate) fn dims(&self) -> usize {
        self.lo.len()
    }

    /// Increments per axis, `N`.
    pub(crate) fn increments(&self) -> usize {
        self.increments
    }

    /// Axis `axis`'s `N + 1` edges in units of the axis, from 0 to 1:
    /// edge `u` is at `x = lo + width · u`.
    ///
    /// # Panics
    ///
    /// If `axis >= self.dims()`.
    #[cfg(test)]
    pub(crate) fn edges(&self, axis: usize) -> &[f64] {
        let stride = self.increments + 1;
        &self.edges[axis * stride..(axis + 1) * stride]
    }

    /// Maps a point `y ∈ (0,1)^d` to `x`, writes `x`, returns the Jacobian
    /// `dx/dy` (a product over axes), and writes for each axis the index of
    /// the increment `y` fell in (for the [`Histogram`]).
    ///
    /// `y` is meant to lie in `[0, 1]`; an end point maps to `lo` or `hi`.
    /// A coordinate outside is the caller's mistake: it is mapped by the
    /// nearest end increment's line and never panics. A NaN coordinate
    /// gives a NaN `x` (and is counted in increment 0), which the integrand
    /// then sees.
    ///
    /// # Panics
    ///
    /// If `y`, `x` or `cells` is not `self.dims()` long.
    // The point-by-point reference for `map_axis`, which the sampler uses.
    #[cfg(test)]
    pub(crate) fn map(&self, y: &[f64], x: &mut [f64], cells: &mut [usize]) -> f64 {
        let dims = self.dims();
        assert!(
            y.len() == dims && x.len() == dims && cells.len() == dims,
            "y, x and cells need one entry per axis"
        );
        let n = self.increments as f64;
        let last = (self.increments - 1) as f64;
        let axes = self
            .edges
            .chunks_exact(self.increments + 1)
            .zip(self.lo.iter().zip(&self.width));
        let mut jacobian = 1.0;
        for (((&y, x), cell), (edges, (&lo, &width))) in y.iter().zip(x).zip(cells).zip(axes) {
            let t = y * n;
            // Clamped in floating point first, so that the conversion to
            // an integer is a plain truncation (an `as usize` of an
            // unclamped value costs a dozen instructions of saturation
            // logic per axis): NaN and negatives give 0 (`max` returns
            // the number), and y = 1 (or a `y·N` that rounds up to N) the
            // last increment. At most 65536 increments, so `i32` holds it.
            let k = t.max(0.0).min(last) as i32;
            let i = k as usize;
            let (e0, e1) = (edges[i], edges[i + 1]);
            let du = e1 - e0;
            // `f64::from(i32)` is one instruction; from `usize` it is not.
            let u = e0 + du * (t - f64::from(k));
            *x = lo + width * u;
            *cell = i;
            jacobian *= width * (du * n);
        }
        jacobian
    }

    /// `Grid::map` on axis `axis` of a block of points: `y` holds that
    /// axis's coordinate of each point and is overwritten by `x`; `cells`
    /// gets each point's increment as a bin of the [`Histogram`] (increment
    /// `i` of axis `a` is bin `a · N + i`, so that a point's axes all index
    /// one array), and each point's Jacobian is multiplied by the axis's
    /// factor. Called for axes `0, 1, …` in turn on Jacobians set to 1, it
    /// gives the bits of `map` point by point (the same operations in the
    /// same order).
    ///
    /// # Panics
    ///
    /// If the slices differ in length, or `axis` is not an axis of the
    /// grid.
    pub(crate) fn map_axis(
        &self,
        axis: usize,
        y: &mut [f64],
        cells: &mut [u32],
        jacobians: &mut [f64],
    ) {
        map_column(self, axis, y, cells, jacobians);
    }

    /// The grid refined from a histogram of `(f·J)²` per axis per
    /// increment (Lepage's `d_i`), with damping `alpha`.
    ///
    /// Per axis, as vegas's `AdaptiveMap.adapt` does:
    ///
    /// 1. `d_i` is the mean of `(f·J)²` over the points that fell in
    ///    increment `i` (0 where none did). GSL's `vegas.c` sums instead;
    ///    the two agree when every increment gets the same number
    ///    of points, as under stratified sampling, and the mean does not
    ///    mistake a chance excess of points for a larger integrand.
    /// 2. Smooth with the neighbours, `(d_{i−1} + 6 d_i + d_{i+1}) / 8`,
    ///    and `(7 d_0 + d_1) / 8` at the ends (vegas; GSL's `vegas.c`,
    ///    after Lepage's 1980 Fortran, takes the plain mean of three,
    ///    which flattens a peak more), `round(pool / (points per
    ///    increment))` times, at least once and at most
    ///    [`MAX_SMOOTHING_PASSES`] (vegas smooths once: `pool = 0`; see
    ///    [`SMOOTHING_POINTS`]); many passes are made as moving averages
    ///    of the same spread ([`smooth`]).
    /// 3. Normalise, `r_i = d_i / Σd`, and compress,
    ///    `w_i = ((1 − r_i) / ln(1/r_i))^alpha`, with `r_i` floored at
    ///    [`R_FLOOR`] as vegas does, and `w_i = 1` (the limit) at `r_i = 1`.
    ///    The compression grows far more slowly than `r_i`, so one
    ///    iteration moves the grid only part of the way; `alpha` sets how
    ///    far.
    /// 4. Grade: raise weights so that the weight per unit length falls by
    ///    at most [`MAX_DENSITY_RATIO`] from one increment to the next (not
    ///    in vegas; see there why).
    /// 5. Move the inner edges so that each new increment holds an equal
    ///    share of `Σw`, the old increments' weights spread evenly over
    ///    their widths. The end edges stay where they are.
    ///
    /// `alpha = 0` leaves the grid unchanged (every `w_i` is 1, which is
    /// the old grid; it returns early so that not even rounding moves it).
    /// So does a negative, infinite or NaN `alpha` (vegas adapts to the raw
    /// histogram for a negative one, which it calls "usually not a good
    /// idea"); the caller validates.
    ///
    /// An axis whose histogram is all zero carries no information and keeps
    /// its edges, and so does one whose new edges would not be strictly
    /// increasing in `f64` (increments narrower than a few ulps; a grid
    /// that fine has nothing left to gain). If any sum in the histogram is
    /// NaN or infinite (a non-finite `f · J`, or its square overflowing),
    /// the whole grid is left unchanged: whether to skip such points or
    /// fail is the caller's policy, and [`Histogram::is_finite`] tells it.
    ///
    /// # Panics
    ///
    /// If the histogram's shape is not the grid's.
    pub(crate) fn refined(&self, histogram: &Histogram, alpha: f64, pool: f64) -> Grid {
        // A new grid, leaving this one to the iteration that still reads
        // it: the edges are copied, the steps built from them.
        let mut grid = Grid {
            increments: self.increments,
            lo: self.lo.clone(),
            width: self.width.clone(),
            edges: self.edges.clone(),
            starts: Vec::new(),
            widths: Vec::new(),
        };
        grid.refine_edges(histogram, alpha, pool);
        grid.set_steps();
        grid
    }

    /// [`Grid::refined`] in place.
    #[cfg(test)]
    pub(crate) fn refine(&mut self, histogram: &Histogram, alpha: f64, pool: f64) {
        *self = self.refined(histogram, alpha, pool);
    }

    /// The edges of [`Grid::refined`]; the steps are left as they were.
    fn refine_edges(&mut self, histogram: &Histogram, alpha: f64, pool: f64) {
        assert!(
            histogram.dims == self.dims() && histogram.increments == self.increments,
            "the histogram must have the grid's shape"
        );
        // NaN fails the comparison, so it is turned away here too.
        let usable_alpha = alpha > 0.0 && alpha.is_finite();
        if !(usable_alpha && histogram.is_finite()) {
            return;
        }
        let n = self.increments;
        let stride = n + 1;
        for axis in 0..self.dims() {
            let cells = axis * n..(axis + 1) * n;
            let mut weights = match weights(&histogram.bins[cells], alpha, pool) {
                Some(weights) => weights,
                None => continue,
            };
            let edges = &mut self.edges[axis * stride..(axis + 1) * stride];
            grade(edges, &mut weights, MAX_DENSITY_RATIO);
            if let Some(new_edges) = regrid(edges, &weights) {
                edges.copy_from_slice(&new_edges);
            }
        }
    }
}

/// [`Grid::map_axis`]: one loop over the points that the compiler
/// vectorises whole, the increments' starts and widths loaded into vector
/// registers by index, the arithmetic on whole vectors: 35 instructions
/// for 4 coordinates on AVX2 (callgrind), where a loop that looked the
/// increments up into scratch arrays and two vector loops around it took
/// 63. A function of its own, not inlined into the sampler's: LLVM
/// vectorises the loop only when it knows, from the arguments, that the
/// slices do not overlap. No AVX-512 version: there LLVM turns the
/// look-ups into gathers, which on the AMD EPYC (Zen 4) this was measured
/// on took 21% of a VEGAS run's time against 18% for the AVX2 code's
/// scalar loads (`perf record`, 5-D gaussian at 2^20). The bits do not
/// depend on the instruction set: no fused multiply-add, each point on
/// its own.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1"))]
fn map_column(grid: &Grid, axis: usize, y: &mut [f64], cells: &mut [u32], jacobians: &mut [f64]) {
    let points = y.len();
    assert!(
        [cells.len(), jacobians.len()] == [points; 2],
        "one cell and Jacobian per coordinate"
    );
    assert!(axis < grid.dims(), "an axis of the grid");
    let increments = grid.increments;
    let n = increments as f64;
    let last = (increments - 1) as f64;
    // As in `map`: the increment, and `y`'s place in it (`t − k`). `map`'s
    // truncation of the clamped `t` is its floor, and this reads the bin
    // off the bits of `floor + 2^52 + a · N` rather than converting (a
    // saturating conversion that does not vectorise): all exact (the bins
    // number fewer than 2^32, `Histogram::new`), so the bits are `map`'s.
    const TWO_52: f64 = (1u64 << 52) as f64;
    let first_bin = TWO_52 + (axis * increments) as f64;
    // The `u32` `min` changes nothing (cells are bins of the grid already)
    // but proves the look-ups in bounds, in vectors: the tables are cut to
    // `last_bin + 1` (all of them: there are fewer than 2^32 bins).
    let Some(last_bin) = grid.starts.len().checked_sub(1) else {
        return;
    };
    let last_bin = u32::try_from(last_bin).unwrap_or(u32::MAX);
    let starts = &grid.starts[..=last_bin as usize];
    let widths = &grid.widths[..=last_bin as usize];
    let (lo, width) = (grid.lo[axis], grid.width[axis]);
    for ((y, cell), jacobian) in y.iter_mut().zip(cells).zip(jacobians) {
        let t = *y * n;
        let k = t.max(0.0).min(last).floor();
        let bin = (k + first_bin).to_bits() as u32;
        *cell = bin;
        let bin = bin.min(last_bin) as usize;
        let (e0, du) = (starts[bin], widths[bin]);
        let u = e0 + du * (t - k);
        *y = lo + width * u;
        *jacobian *= width * (du * n);
    }
}

/// The compressed weights `w_i` of one axis (steps 1 to 3 of
/// [`Grid::refined`]), or `None` when the axis has nothing to refine from:
/// a single increment, or an all-zero histogram.
fn weights(bins: &[[f64; 2]], alpha: f64, pool: f64) -> Option<Vec<f64>> {
    let n = bins.len();
    if n < 2 {
        return None;
    }
    let means: Vec<f64> = bins
        .iter()
        .map(|&[sum, count]| if count > 0.0 { sum / count } else { 0.0 })
        .collect();
    // Scale by the largest so that smoothing and the total cannot
    // overflow; the r_i do not depend on the scale.
    let largest = means.iter().fold(0.0, |m: f64, &d| m.max(d));
    if largest == 0.0 {
        return None;
    }
    let d: Vec<f64> = means.iter().map(|&m| m / largest).collect();
    // Counts are whole numbers, so the passes are the same on any machine.
    let points: f64 = bins.iter().map(|&[_, count]| count).sum();
    let passes = (pool * n as f64 / points).round() as usize;
    let smoothed = smooth(d, passes.clamp(1, MAX_SMOOTHING_PASSES));
    let total: f64 = smoothed.iter().sum();
    Some(
        smoothed
            .iter()
            .map(|&s| compress(s / total, alpha))
            .collect(),
    )
}

/// `d` smoothed as by `passes` applications of vegas's kernel,
/// `(d_{i−1} + 6 d_i + d_{i+1}) / 8` with `d_{−1} = d_0` and `d_n =
/// d_{n−1}` at the ends (so `(7 d_0 + d_1) / 8`, as vegas smooths them).
///
/// Up to [`EXACT_SMOOTHING_PASSES`] passes are made as they are. More
/// would cost `passes` operations per increment, which in a small
/// iteration (hundreds of passes) is more than its sampling; they are made
/// instead as three moving averages over `2r + 1` increments, the ends
/// reflected the same way, with `r (r + 1)` (the variance of the three,
/// in increments²) nearest the `passes / 4` of the passes they stand for:
/// the same spread, a near-Gaussian profile either way (both are sums of
/// many small independent steps), at a cost of a few operations per
/// increment whatever the spread.
fn smooth(mut d: Vec<f64>, passes: usize) -> Vec<f64> {
    let n = d.len();
    if passes <= EXACT_SMOOTHING_PASSES {
        // The ends apart, so that the loop over the rest runs on whole
        // vectors: the same operations on each entry as entry by entry.
        let mut next = vec![0.0; n];
        for _ in 0..passes {
            // vegas's smoothing, in eighths (exact in binary).
            next[0] = 0.875 * d[0] + 0.125 * d[1];
            for (out, w) in next[1..n - 1].iter_mut().zip(d.windows(3)) {
                *out = 0.125 * w[0] + 0.75 * w[1] + 0.125 * w[2];
            }
            next[n - 1] = 0.125 * d[n - 2] + 0.875 * d[n - 1];
            std::mem::swap(&mut d, &mut next);
        }
        return d;
    }
    // r (r + 1) = passes / 4 at r = (√(1 + passes) − 1) / 2.
    let radius = ((((1 + passes) as f64).sqrt() - 1.0) / 2.0)
        .round()
        .max(1.0) as usize;
    for _ in 0..3 {
        d = moving_average(&d, radius);
    }
    d
}

/// The smoothing passes [`smooth`] makes one by one.
const EXACT_SMOOTHING_PASSES: usize = 32;

/// The mean of `d` over `2r + 1` neighbours of each entry, the sequence
/// reflected at its ends (`d_{−1 − j} = d_j`, `d_{n + j} = d_{n − 1 − j}`),
/// as a running sum; floored at 0, where a running sum's rounding could
/// leave a hair below it next to a run of zeros.
fn moving_average(d: &[f64], radius: usize) -> Vec<f64> {
    let n = d.len() as isize;
    let at = |mut j: isize| loop {
        if j < 0 {
            j = -j - 1;
        } else if j >= n {
            j = 2 * n - 1 - j;
        } else {
            return d[j as usize];
        }
    };
    let r = radius as isize;
    // The entries `−r..n + r` of the reflected sequence, once: the
    // running sum then adds and drops plain loads.
    let reflected: Vec<f64> = (-r..n + r + 1).map(at).collect();
    let width = (2 * radius + 1) as f64;
    let mut sum: f64 = reflected[..2 * radius + 1].iter().sum();
    let mut out = Vec::with_capacity(d.len());
    for (drop, add) in reflected.iter().zip(&reflected[2 * radius + 1..]) {
        out.push((sum / width).max(0.0));
        sum += add - drop;
    }
    out
}

/// `((1 − r) / ln(1/r))^alpha`, Lepage's damped weight for an increment
/// holding a share `r` of `Σd`.
///
/// It rises with `r` from 0 to 1, but near 0 only as `1 / ln(1/r)`, so
/// small shares are not starved: the new grid moves only part of the way
/// from the old one towards the one `r` alone would ask for. `1 − r` is
/// exact for `r ≥ ½` (Sterbenz) and `ln` is good to about an ulp there,
/// so the ratio stays accurate as `r` nears 1, where both sides vanish
/// together.
fn compress(r: f64, alpha: f64) -> f64 {
    if r >= 1.0 {
        return 1.0;
    }
    let r = r.max(R_FLOOR);
    let base = (1.0 - r) / -r.ln();
    // `pow(x, 1)` is `x` exactly (C99 F.9.4.4); `Method::VEGAS` uses
    // alpha = 1, and this skips a libm call per increment per iteration.
    if alpha == 1.0 { base } else { base.powf(alpha) }
}

/// Step 4 of [`Grid::refined`]: raises weights so that the weight per unit
/// length, `w_i / Δu_i`, falls by at most `ratio` from an increment to
/// either neighbour: a forward and a backward pass of a running maximum
/// decayed by `ratio` per increment. The new increments inside an old one
/// are as wide as its length over its weight, so where the new increments
/// are about as wide as the old (as near a converged grid), neighbours
/// differ in width by about `ratio` at most; where many old increments
/// fall in one new one, the bound is per old increment, not per new.
fn grade(edges: &[f64], weights: &mut [f64], ratio: f64) {
    let mut density: Vec<f64> = weights
        .iter()
        .zip(edges.windows(2))
        .map(|(w, e)| w / (e[1] - e[0]))
        .collect();
    for i in 1..density.len() {
        density[i] = density[i].max(density[i - 1] / ratio);
    }
    for i in (1..density.len()).rev() {
        density[i - 1] = density[i - 1].max(density[i] / ratio);
    }
    for ((w, d), e) in weights.iter_mut().zip(&density).zip(edges.windows(2)) {
        *w = d * (e[1] - e[0]);
    }
}

/// New edges for one axis (step 5 of [`Grid::refined`]): the `u` at which
/// the cumulative weight, spread evenly over each old increment, reaches
/// `k / N` of the total, for `k = 1..N`. `None` if they would not be
/// strictly increasing.
fn regrid(edges: &[f64], weights: &[f64]) -> Option<Vec<f64>> {
    let n = weights.len();
    let total: f64 = weights.iter().sum();
    let share = total / n as f64;
    let mut new_edges = Vec::with_capacity(n + 1);
    new_edges.push(edges[0]);
    // Old increment `j` holds cumulative weight (before, after].
    let (mut j, mut before, mut after) = (0, 0.0, weights[0]);
    for k in 1..n {
        let target = share * k as f64;
        while after < target && j + 1 < n {
            j += 1;
            before = after;
            after += weights[j];
        }
        // Rounding can leave `target` a hair outside the increment.
        let fraction = if weights[j] > 0.0 {
            ((target - before) / weights[j]).clamp(0.0, 1.0)
        } else {
            1.0
        };
        new_edges.push(edges[j] + (edges[j + 1] - edges[j]) * fraction);
    }
    new_edges.push(edges[n]);
    new_edges
        .windows(2)
        .all(|pair| pair[0] < pair[1])
        .then_some(new_edges)
}

/// Per axis, per increment, the sum of `(f·J)²` over the points that fell
/// there, and their count: what [`Grid::refined`] learns from.
///
/// Each chunk of an iteration fills its own; the caller merges them in
/// chunk order, so the sums, and hence the refined grid, do not depend on
/// which thread ran which chunk. Start a new one for each iteration, as
/// vegas does: after a refinement the cells of an old one describe
/// increments that have moved.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Histogram {
    dims: usize,
    increments: usize,
    /// Axis `a`, increment `i` at `a * increments + i`: the sum of
    /// `(f·J)²` and the count of points, side by side so that a point
    /// touches one cache line per axis, not two. Counts are integers held
    /// exactly in `f64` (below 2^53).
    bins: Vec<[f64; 2]>,
}

impl Histogram {
    /// An empty histogram for a grid of `dims` axes and `increments`
    /// increments per axis (0 is taken as 1, as in [`Grid::uniform`]).
    ///
    /// # Panics
    ///
    /// If the bins, `dims · increments`, number 2^32 or more: a cell is a
    /// `u32` ([`Grid::map_axis`]).
    pub(crate) fn new(dims: usize, increments: usize) -> Histogram {
        let increments = increments.max(1);
        assert!(
            u32::try_from(dims * increments).is_ok(),
            "fewer than 2^32 bins"
        );
        Histogram {
            dims,
            increments,
            bins: vec![[0.0; 2]; dims * increments],
        }
    }

    /// Adds one point: `cells` as [`Grid::map`] wrote them, and its
    /// `f · J`, which is squared here.
    ///
    /// # Panics
    ///
    /// If `cells` is not one index per axis, or an index is out of range.
    // The point-by-point reference for `add_block`, which the samplers use.
    #[cfg(test)]
    pub(crate) fn add(&mut self, cells: &[usize], weighted_value: f64) {
        assert_eq!(cells.len(), self.dims, "one cell per axis");
        let square = weighted_value * weighted_value;
        let n = self.increments;
        // One axis's increments at a time: the index checks are then
        // against `n` alone, and an out-of-range cell still panics.
        for (&cell, bins) in cells.iter().zip(self.bins.chunks_exact_mut(n)) {
            let bin = &mut bins[cell];
            bin[0] += square;
            bin[1] += 1.0;
        }
    }

    /// `Histogram::add` for a block of points: `cells[a * stride + p]`,
    /// as [`Grid::map_axis`] wrote them, is the bin of axis `a` of point
    /// `p`, and `squares[p]` that point's `(f · J)²`. Point after point,
    /// each point's axes in turn, so each bin receives its points in the
    /// same order as point by point: the bits are those of `add`. (Axis
    /// after axis would give the same bits, but reload each point's square
    /// once per axis, and index each axis's bins from its own base.)
    ///
    /// # Panics
    ///
    /// If `cells` is shorter than `dims` columns of `squares.len()`. A
    /// cell beyond the last bin counts in the last.
    #[inline(always)]
    pub(crate) fn add_block(&mut self, cells: &[u32], stride: usize, squares: &[f64]) {
        match self.dims {
            1 => self.add_points::<1>(cells, stride, squares),
            2 => self.add_points::<2>(cells, stride, squares),
            3 => self.add_points::<3>(cells, stride, squares),
            4 => self.add_points::<4>(cells, stride, squares),
            5 => self.add_points::<5>(cells, stride, squares),
            6 => self.add_points::<6>(cells, stride, squares),
            7 => self.add_points::<7>(cells, stride, squares),
            8 => self.add_points::<8>(cells, stride, squares),
            _ => {
                // Axis after axis, as many as there are: the same bits.
                let Some(last) = self.bins.len().checked_sub(1) else {
                    return;
                };
                let columns = cells.chunks(stride).take(self.dims);
                for column in columns {
                    for (&cell, &square) in column[..squares.len()].iter().zip(squares) {
                        let bin = &mut self.bins[(cell as usize).min(last)];
                        bin[0] += square;
                        bin[1] += 1.0;
                    }
                }
            }
        }
    }

    /// [`Histogram::add_block`] for `D` axes, a constant so that the
    /// loop over a point's axes unrolls.
    #[inline(always)]
    fn add_points<const D: usize>(&mut self, cells: &[u32], stride: usize, squares: &[f64]) {
        let points = squares.len();
        let columns: [&[u32]; D] = std::array::from_fn(|a| &cells[a * stride..][..points]);
        // The cells come from `map_axis`, in range: the `min` only lets
        // the compiler drop the bounds check.
        let Some(last) = self.bins.len().checked_sub(1) else {
            return;
        };
        for (p, &square) in squares.iter().enumerate() {
            for column in &columns {
                let bin = &mut self.bins[(column[p] as usize).min(last)];
                bin[0] += square;
                bin[1] += 1.0;
            }
        }
    }

    /// Adds another histogram (chunks are merged in chunk order by the
    /// caller; the addition order is then fixed).
    ///
    /// # Panics
    ///
    /// If the shapes differ.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        assert!(
            self.dims == other.dims && self.increments == other.increments,
            "histograms of different shapes"
        );
        for (bin, other) in self.bins.iter_mut().zip(&other.bins) {
            bin[0] += other[0];
            bin[1] += other[1];
        }
    }

    /// Appends the sums and counts to a message or checkpoint, bit for bit.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        for [sum, _] in &self.bins {
            out.extend_from_slice(&sum.to_bits().to_le_bytes());
        }
        for [_, count] in &self.bins {
            out.extend_from_slice(&(*count as u64).to_le_bytes());
        }
    }

    /// The histogram `encode` wrote, of this shape.
    pub(crate) fn decode(
        reader: &mut StateReader<'_>,
        dims: usize,
        increments: usize,
    ) -> Option<Histogram> {
        let mut histogram = Histogram::new(dims, increments);
        for [sum, _] in &mut histogram.bins {
            *sum = reader.f64()?;
        }
        for [_, count] in &mut histogram.bins {
            *count = reader.u64()? as f64;
        }
        Some(histogram)
    }

    /// Whether every sum is finite. If not, [`Grid::refined`] leaves the
    /// grid alone.
    pub(crate) fn is_finite(&self) -> bool {
        // Every sum looked at, no early exit, so that the check runs on
        // whole vectors: it runs on every chunk's histogram and on the
        // merged one after each merge.
        let finite = |all: bool, [sum, _]: &[f64; 2]| all & sum.is_finite();
        self.bins.iter().fold(true, finite)
    }
}

fn strictly_increasing(edges: &[f64]) -> bool {
    edges.windows(2).all(|pair| pair[0] < pair[1])
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::Accumulator;
    use crate::sample::{mix64, unit_open};

    /// A fixed stream of uniform numbers in (0, 1): SplitMix64's output
    /// function on a counter, for test points that are the same on every
    /// run.
    pub(in crate::method::vegas) fn uniforms(seed: u64) -> impl Iterator<Item = f64> {
        (0u64..).map(move |i| unit_open(mix64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i)))
    }

    #[track_caller]
    pub(in crate::method::vegas) fn assert_close(x: f64, reference: f64, tolerance: f64) {
        let err = (x / reference - 1.0).abs();
        assert!(
            err <= tolerance,
            "{x:e} vs {reference:e}: relative error {err:e} > {tolerance:e}"
        );
    }

    /// A Gaussian peak of width 0.01 at 0.3, the test integrand.
    fn peak(x: f64) -> f64 {
        let z = (x - 0.3) / 0.01;
        (-0.5 * z * z).exp()
    }

    /// One VEGAS iteration on `[0, 1]` without the estimate: `f · J` at one
    /// point in each of `points` equal strata of `y`, histogrammed. The
    /// point's place in its stratum comes from the fixed stream `seed`, so
    /// the set is the same on every run; it is how vegas samples, and
    /// unlike midpoints it does not always miss the same part of an
    /// increment.
    fn histogram_1d(grid: &Grid, f: impl Fn(f64) -> f64, points: usize, seed: u64) -> Histogram {
        let mut histogram = Histogram::new(1, grid.increments());
        let (mut x, mut cells) = ([0.0], [0]);
        for (k, jitter) in (0..points).zip(uniforms(seed)) {
            let y = (k as f64 + jitter) / points as f64;
            let jacobian = grid.map(&[y], &mut x, &mut cells);
            histogram.add(&cells, f(x[0]) * jacobian);
        }
        histogram
    }

    /// The variance of `f · J` over `y ∈ (0, 1)`, by the midpoint rule on
    /// `points` strata: what one sample contributes to an estimate's
    /// variance on this grid.
    fn variance_1d(grid: &Grid, f: impl Fn(f64) -> f64, points: usize) -> f64 {
        let mut acc = Accumulator::new();
        let (mut x, mut cells) = ([0.0], [0]);
        for k in 0..points {
            let y = (k as f64 + 0.5) / points as f64;
            let jacobian = grid.map(&[y], &mut x, &mut cells);
            acc.push(f(x[0]) * jacobian);
        }
        acc.variance()
    }

    /// The box of the map tests: [-1, 2] × [2, 2.5].
    const LO: [f64; 2] = [-1.0, 2.0];
    const WIDTH: [f64; 2] = [3.0, 0.5];

    /// A two-axis grid on that box, far from uniform: a ramp on axis 0, a
    /// spike on axis 1, refined three times with a strong alpha.
    fn adapted_grid() -> Grid {
        let mut grid = Grid::uniform(&LO, &WIDTH, 64);
        let mut histogram = Histogram::new(2, 64);
        for i in 0..64 {
            histogram.bins[i][0] = (i * i) as f64;
            histogram.bins[64 + i][0] = if i == 40 { 1e6 } else { 1.0 };
        }
        histogram.bins.iter_mut().for_each(|bin| bin[1] = 1.0);
        for _ in 0..3 {
            grid.refine(&histogram, 1.5, 0.0);
        }
        let uniform = Grid::uniform(&LO, &WIDTH, 64);
        assert_ne!(grid.edges(0), uniform.edges(0));
        assert_ne!(grid.edges(1), uniform.edges(1));
        grid
    }

    #[test]
    fn uniform_grid_is_the_affine_map() {
        // The third axis is far from the origin and narrow, where edges
        // kept in x would lose the increments' widths to cancellation.
        let (lo, width) = ([-1.0, 0.0, 10.0], [2.0, 0.25, 1e-3]);
        let volume: f64 = width.iter().product();
        let grid = Grid::uniform(&lo, &width, DEFAULT_INCREMENTS);
        assert_eq!(grid.dims(), 3);
        let (mut x, mut cells) = ([0.0; 3], [0; 3]);
        let mut u = uniforms(1);
        for _ in 0..10_000 {
            let y = [u.next().unwrap(), u.next().unwrap(), u.next().unwrap()];
            let jacobian = grid.map(&y, &mut x, &mut cells);
            // Each width `(i + 1)/N − i/N` is good to 2e-13 relative
            // (a rounding of each edge, relative to a width of 1/N).
            assert_close(jacobian, volume, 1e-12);
            for a in 0..3 {
                let expected = lo[a] + width[a] * y[a];
                assert!(
                    (x[a] - expected).abs() <= 4.0 * f64::EPSILON * (lo[a].abs() + width[a]),
                    "axis {a}: {} vs {expected}",
                    x[a]
                );
            }
        }
        // The end points map to the ends exactly.
        grid.map(&[0.0; 3], &mut x, &mut cells);
        assert_eq!(x, lo);
        assert_eq!(cells, [0; 3]);
        grid.map(&[1.0; 3], &mut x, &mut cells);
        assert_eq!(x, [1.0, 0.25, 10.0 + 1e-3]);
        assert_eq!(cells, [DEFAULT_INCREMENTS - 1; 3]);
    }

    /// The map is a change of variables on any grid: increment `i` takes
    /// `[i/N, (i+1)/N]` of `y` linearly onto `[x_i, x_{i+1}]`, its
    /// Jacobian factor is that width over `1/N`, and so the `y`-mean of
    /// the Jacobian, the sum of the widths, is the volume.
    #[test]
    fn any_grid_is_a_change_of_variables() {
        let grid = adapted_grid();
        let n = grid.increments();
        let (mut x, mut cells) = ([0.0; 2], [0; 2]);
        for axis in 0..2 {
            let edges = grid.edges(axis);
            let other = 1 - axis;
            let at = |u: f64| LO[axis] + WIDTH[axis] * u;
            for i in 0..n {
                let width = at(edges[i + 1]) - at(edges[i]);
                for t in [0.0, 0.25, 0.5, 0.75] {
                    let mut y = [0.5; 2];
                    y[axis] = (i as f64 + t) / n as f64;
                    let jacobian = grid.map(&y, &mut x, &mut cells);
                    assert_eq!(cells[axis], i);
                    // Linear within the increment, to rounding of x.
                    let expected = at(edges[i]) + t * width;
                    assert!((x[axis] - expected).abs() <= 8.0 * f64::EPSILON);
                    // The Jacobian factors: this increment's, times the
                    // other axis's at y = 0.5.
                    let o = grid.edges(other);
                    let c = cells[other];
                    let factor = |axis: usize, du: f64| WIDTH[axis] * du * n as f64;
                    let expected =
                        factor(axis, edges[i + 1] - edges[i]) * factor(other, o[c + 1] - o[c]);
                    assert_close(jacobian, expected, 1e-15);
                    // ... which is the x-width over the y-width, 1/N.
                    assert_close(
                        factor(axis, edges[i + 1] - edges[i]),
                        width / (1.0 / n as f64),
                        1e-9,
                    );
                }
            }
            let widths: f64 = edges.windows(2).map(|e| e[1] - e[0]).sum();
            assert_close(widths, 1.0, 1e-14);
        }
        // The y-mean of J: the volume, to rounding, on a lattice of y that
        // puts the same number of points in every pair of increments...
        let volume = WIDTH[0] * WIDTH[1];
        let mut lattice = Accumulator::new();
        for i in 0..4 * n {
            for k in 0..4 * n {
                let y = [
                    (i as f64 + 0.5) / (4 * n) as f64,
                    (k as f64 + 0.5) / (4 * n) as f64,
                ];
                lattice.push(grid.map(&y, &mut x, &mut cells));
            }
        }
        assert_close(lattice.mean(), volume, 1e-12);
        // ...and to within its standard error over random y. Five
        // standard errors: a false alarm once in 1.7 million seeds.
        let mut random = Accumulator::new();
        let mut u = uniforms(2);
        for _ in 0..200_000 {
            let y = [u.next().unwrap(), u.next().unwrap()];
            random.push(grid.map(&y, &mut x, &mut cells));
        }
        assert!(
            (random.mean() - volume).abs() < 5.0 * random.std_error(),
            "{} ± {}",
            random.mean(),
            random.std_error()
        );
    }

    #[test]
    fn stray_points_map_without_panics() {
        let grid = adapted_grid();
        let (mut x, mut cells) = ([0.0; 2], [0; 2]);
        // NaN shows in x.
        grid.map(&[f64::NAN, 0.5], &mut x, &mut cells);
        assert!(x[0].is_nan() && x[1].is_finite());
        assert_eq!(cells[0], 0);
        // Outside [0, 1], the end increments' lines carry on.
        grid.map(&[-0.5, 1.5], &mut x, &mut cells);
        assert_eq!(cells, [0, 63]);
        assert!(x[0] < LO[0] && x[1] > LO[1] + WIDTH[1]);
    }

    #[test]
    fn refine_keeps_edges_increasing_and_pinned() {
        let grid = adapted_grid();
        let (mut x, mut cells) = ([0.0; 2], [0; 2]);
        for axis in 0..2 {
            let edges = grid.edges(axis);
            assert!(strictly_increasing(edges), "axis {axis}");
            assert_eq!((edges[0], edges[edges.len() - 1]), (0.0, 1.0));
        }
        // So the ends of y still map to the ends of the box.
        grid.map(&[0.0; 2], &mut x, &mut cells);
        assert_eq!(x, LO);
        grid.map(&[1.0; 2], &mut x, &mut cells);
        assert_eq!(x, [2.0, 2.5]);
        // A spike in one increment, refined again and again with a strong
        // alpha: the increments around it shrink towards the ulp (graded,
        // by at most MAX_DENSITY_RATIO from one to the next), and the grid
        // must stay valid all the way down.
        let mut grid = Grid::uniform(&[0.0], &[1.0], 50);
        let mut histogram = Histogram::new(1, 50);
        histogram.add(&[17], 1e10);
        for _ in 0..200 {
            grid.refine(&histogram, 4.0, 0.0);
            let edges = grid.edges(0);
            assert!(strictly_increasing(edges));
            assert_eq!((edges[0], edges[50]), (0.0, 1.0));
        }
        // The increments at the spike are far narrower than uniform ones.
        let narrowest = grid
            .edges(0)
            .windows(2)
            .map(|e| e[1] - e[0])
            .fold(1.0, f64::min);
        assert!(narrowest < 1e-5, "{narrowest}");
    }

    /// Grading: the weight per unit length falls by at most the ratio
    /// from one increment to the next, and weights already graded are
    /// left alone.
    #[test]
    fn grading_bounds_the_fall_of_density() {
        let edges = [0.0, 0.1, 0.2, 0.4, 0.5, 0.6, 1.0];
        // A heavy increment, then nothing: a jump to f = 0.
        let mut weights = [1.0, 1.0, 2.0, 1.0, 1e-9, 1e-9];
        grade(&edges, &mut weights, 4.0);
        let density: Vec<f64> = weights
            .iter()
            .zip(edges.windows(2))
            .map(|(w, e)| w / (e[1] - e[0]))
            .collect();
        // Densities 10, 10, 10, 10, then 10/4 and 10/16.
        assert_eq!(weights[..4], [1.0, 1.0, 2.0, 1.0]);
        assert!((density[4] - 2.5).abs() < 1e-12 && (density[5] - 0.625).abs() < 1e-12);
        let again = weights;
        grade(&edges, &mut weights, 4.0);
        assert_eq!(weights, again);
    }

    #[test]
    fn alpha_zero_and_empty_histograms_change_nothing() {
        let grid = adapted_grid();
        let mut histogram = Histogram::new(2, 64);
        histogram.add(&[3, 7], 2.0);
        histogram.add(&[60, 7], 5.0);
        for alpha in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut refined = grid.clone();
            refined.refine(&histogram, alpha, 0.0);
            assert_eq!(refined, grid, "alpha = {alpha}");
        }
        // Nothing seen: nothing learnt.
        let mut refined = grid.clone();
        refined.refine(&Histogram::new(2, 64), DEFAULT_ALPHA, 0.0);
        assert_eq!(refined, grid);
        // Points seen but all zero: the same.
        let mut zeros = Histogram::new(2, 64);
        zeros.add(&[1, 2], 0.0);
        zeros.add(&[63, 0], -0.0);
        refined.refine(&zeros, DEFAULT_ALPHA, 0.0);
        assert_eq!(refined, grid);
        // One axis all zero, the other not: only the other moves.
        let mut half = Histogram::new(2, 64);
        for i in 0..64 {
            half.bins[i] = [1.0 + i as f64, 1.0];
        }
        refined.refine(&half, DEFAULT_ALPHA, 0.0);
        assert_ne!(refined.edges(0), grid.edges(0));
        assert_eq!(refined.edges(1), grid.edges(1));
    }

    #[test]
    fn non_finite_histograms_leave_the_grid_alone() {
        let grid = adapted_grid();
        for bad in [f64::NAN, f64::INFINITY, 1e200] {
            let mut histogram = Histogram::new(2, 64);
            histogram.add(&[3, 7], 2.0);
            // 1e200 squared overflows to infinity.
            histogram.add(&[10, 11], bad);
            assert!(!histogram.is_finite());
            let mut refined = grid.clone();
            refined.refine(&histogram, DEFAULT_ALPHA, 0.0);
            assert_eq!(refined, grid, "f·J = {bad}");
        }
        // Large but finite squares are fine: the d_i are scaled first.
        let mut histogram = Histogram::new(2, 64);
        histogram.add(&[3, 7], 1e153);
        histogram.add(&[4, 8], 1e153);
        assert!(histogram.is_finite());
        let mut refined = grid.clone();
        refined.refine(&histogram, DEFAULT_ALPHA, 0.0);
        assert_ne!(refined, grid);
        assert!(strictly_increasing(refined.edges(0)));
        assert!(strictly_increasing(refined.edges(1)));
    }

    /// Increments with `d_i = 0` keep vegas's floor weight: the empty
    /// part of the axis shrinks but is not swallowed in one step.
    #[test]
    fn empty_increments_shrink_without_vanishing() {
        let mut grid = Grid::uniform(&[0.0], &[1.0], 100);
        let mut histogram = Histogram::new(1, 100);
        // f·J = 1 on the left half, 0 on the right, one point each.
        for i in 0..100 {
            histogram.add(&[i], if i < 50 { 1.0 } else { 0.0 });
        }
        grid.refine(&histogram, DEFAULT_ALPHA, 0.0);
        let right = grid.edges(0).iter().filter(|&&x| x > 0.5).count();
        // Smoothed, the d_i are 1 on the left, 7/8 and 1/8 either side of
        // 0.5, and 0 beyond; r_i = d_i/50. The weights are
        // ((1 − 0.02)/ln 50)^½ ≈ 0.50 on the left, 0.41 for the 1/8, and
        // (1/ln 1e257)^½ ≈ 0.041 for the 49 empty increments: 2.4 of a
        // total 27.4, so 9 of 100 increments would stay right of 0.5,
        // where 50 were; grading raises the first few empty ones (to a
        // quarter, a sixteenth, ... of 0.41), which keeps a tenth. With
        // `w(0) = 0` (GSL) only the 0.41 would be left: one increment, two
        // edges.
        assert_eq!(right, 10);
    }

    /// The test the module exists for: on a sharp peak the grid gathers
    /// its increments on the peak, and the variance of `f · J` collapses.
    #[test]
    fn grid_adapts_to_a_sharp_peak() {
        let n = DEFAULT_INCREMENTS;
        let mut grid = Grid::uniform(&[0.0], &[1.0], n);
        let before = variance_1d(&grid, peak, 1 << 20);
        let near = |grid: &Grid| {
            let edges = grid.edges(0);
            (0..n)
                .filter(|&i| edges[i] >= 0.25 && edges[i + 1] <= 0.35)
                .count()
        };
        assert_eq!(near(&grid), 100);
        // vegas's defaults: ten iterations, ten points per increment.
        let mut counts = Vec::new();
        let mut variances = vec![before];
        for iteration in 0..10 {
            let histogram = histogram_1d(&grid, peak, 10 * n, iteration);
            grid.refine(&histogram, DEFAULT_ALPHA, 0.0);
            counts.push(near(&grid));
            variances.push(variance_1d(&grid, peak, 1 << 20));
        }
        let after = variances[10];
        println!("increments within ±0.05 of the peak: {counts:?}");
        println!(
            "variance of f·J: {before:e} -> {after:e}, {:.0}×",
            before / after
        );
        // Measured: 405 and 761 increments near the peak after one and two
        // iterations, 998 after ten; the variance falls every iteration,
        // 7×, 27×, 59×, … to 845× after ten.
        assert!(counts[1] > n / 2, "{counts:?}");
        assert!(variances.windows(2).all(|v| v[1] < v[0]), "{variances:?}");
        assert!(before / after > 500.0, "{before:e} -> {after:e}");
    }

    /// One refinement, then a second on the refined grid, agree with
    /// vegas's own `AdaptiveMap.adapt` (vegas 6.4.1) to 1e-12, for its
    /// default alpha and GSL's. The reference edges came from
    /// `bench/pin_adapt.py`, which feeds vegas the same points: `f · J = v`
    /// at `y = (i + ¼)/8` for each `(i, v)` below (vegas is given `v²`, as
    /// its `Integrator` gives it `(f · J)²`). Increments 3 and 6 are empty
    /// in the first round and some hold several points, so the mean per
    /// increment (not the sum) and the floor for empty increments both
    /// count. (Grading never binds here: no density falls 4× between
    /// neighbours.)
    #[test]
    fn refine_matches_vegas_adaptive_map() {
        let first: [(usize, f64); 9] = [
            (0, 1.0),
            (0, 3.0),
            (1, 2.0),
            (2, 0.5),
            (4, 4.0),
            (4, 1.0),
            (4, 2.0),
            (5, 0.25),
            (7, 1.5),
        ];
        let mut second: Vec<(usize, f64)> = (0..8).map(|i| (i, 1.0 + 0.5 * i as f64)).collect();
        second.extend([(2, 6.0), (6, 0.125)]);
        #[rustfmt::skip]
        let expected: [(f64, [[f64; 9]; 2]); 2] = [
            (0.5, [
                [0.0, 0.10480808810776832, 0.214381796959343, 0.34766851250375147,
                 0.48735677064851035, 0.5938424949905468, 0.7216011854611853,
                 0.8766890018187932, 1.0],
                [0.0, 0.13385234634982018, 0.2549150687328084, 0.37913074117637124,
                 0.5116233509731892, 0.6208600805524083, 0.7479458692907563,
                 0.8925868608675456, 1.0],
            ]),
            (1.5, [
                [0.0, 0.0787672131511962, 0.16334689554430637, 0.2636114380055525,
                 0.45796943584640465, 0.5579707677899798, 0.6449414584800116,
                 0.8678238855313652, 1.0],
                [0.0, 0.1481470065676463, 0.228948892409936, 0.3741370495029627,
                 0.517901829373412, 0.6055018890486977, 0.7516556653802806,
                 0.9092985932104334, 1.0],
            ]),
        ];
        for (alpha, rounds) in expected {
            let mut grid = Grid::uniform(&[0.0], &[1.0], 8);
            for (data, edges) in [&first[..], &second[..]].into_iter().zip(rounds) {
                let mut histogram = Histogram::new(1, 8);
                for &(i, v) in data {
                    // The cell the map gives the point vegas was fed.
                    let (mut x, mut cells) = ([0.0], [0]);
                    grid.map(&[(i as f64 + 0.25) / 8.0], &mut x, &mut cells);
                    assert_eq!(cells[0], i);
                    histogram.add(&cells, v);
                }
                grid.refine(&histogram, alpha, 0.0);
                for (got, want) in grid.edges(0).iter().zip(edges) {
                    assert!((got - want).abs() < 1e-12, "alpha {alpha}: {got} vs {want}");
                }
            }
        }
    }

    /// The block forms give the bits of the point-by-point ones, on an
    /// adapted grid, stray points included.
    #[test]
    fn blocks_have_the_bits_of_single_points() {
        let grid = adapted_grid();
        let mut u = uniforms(9);
        let mut y: Vec<f64> = (0..2 * 333).map(|_| u.next().unwrap()).collect();
        y[0] = f64::NAN;
        y[1] = 1.0;
        y[2] = -0.5;
        // Axis by axis, as the sampler keeps a block.
        let mut x: Vec<f64> = (0..2)
            .flat_map(|a| (0..333).map(move |p| (a, p)))
            .map(|(a, p)| y[2 * p + a])
            .collect();
        let (mut cells, mut jacobians) = (vec![0; y.len()], vec![1.0; 333]);
        for (axis, (x, cells)) in x
            .chunks_exact_mut(333)
            .zip(cells.chunks_exact_mut(333))
            .enumerate()
        {
            grid.map_axis(axis, x, cells, &mut jacobians);
        }
        let mut one = Histogram::new(2, 64);
        let mut block = Histogram::new(2, 64);
        let values: Vec<f64> = (0..333)
            .map(|p| u.next().unwrap() - 0.3 + p as f64)
            .collect();
        for p in 0..333 {
            let (mut xp, mut cp) = ([0.0; 2], [0; 2]);
            let jacobian = grid.map(&y[2 * p..2 * p + 2], &mut xp, &mut cp);
            assert_eq!(jacobian.to_bits(), jacobians[p].to_bits());
            for a in 0..2 {
                assert_eq!(a * 64 + cp[a], cells[333 * a + p] as usize);
                assert_eq!(xp[a].to_bits(), x[333 * a + p].to_bits());
            }
            one.add(&cp, values[p]);
        }
        let squares: Vec<f64> = values.iter().map(|v| v * v).collect();
        block.add_block(&cells, 333, &squares);
        assert_eq!(one, block);
    }

    /// A block of points histogrammed at once has the bits of its points
    /// added one by one, for a constant number of axes and for more.
    #[test]
    fn block_histograms_have_the_bits_of_single_points() {
        let (points, stride, n) = (37, 40, 8);
        for dims in [1, 3, 5, 8, 9, 12] {
            let mut u = uniforms(dims as u64);
            let cells: Vec<usize> = (0..dims * points)
                .map(|_| (u.next().unwrap() * n as f64) as usize)
                .collect();
            let values: Vec<f64> = (0..points).map(|_| u.next().unwrap() - 0.4).collect();
            let mut one = Histogram::new(dims, n);
            for (p, &value) in values.iter().enumerate() {
                one.add(&cells[p * dims..][..dims], value);
            }
            // As `map_axis` writes them: axis by axis, bins of all axes.
            let mut columns = vec![u32::MAX; dims * stride];
            for (p, point) in cells.chunks_exact(dims).enumerate() {
                for (a, &cell) in point.iter().enumerate() {
                    columns[a * stride + p] = (a * n + cell) as u32;
                }
            }
            let squares: Vec<f64> = values.iter().map(|v| v * v).collect();
            let mut block = Histogram::new(dims, n);
            block.add_block(&columns, stride, &squares);
            assert_eq!(one, block, "{dims} axes");
        }
    }

    #[test]
    fn histograms_merge_to_the_whole() {
        let mut whole = Histogram::new(3, 8);
        let mut left = Histogram::new(3, 8);
        let mut right = Histogram::new(3, 8);
        let mut u = uniforms(3);
        for k in 0..1000 {
            let cells: Vec<usize> = (0..3).map(|_| (u.next().unwrap() * 8.0) as usize).collect();
            let value = u.next().unwrap() - 0.5;
            whole.add(&cells, value);
            if k < 400 {
                left.add(&cells, value);
            } else {
                right.add(&cells, value);
            }
        }
        left.merge(&right);
        let counts = |h: &Histogram| h.bins.iter().map(|b| b[1]).collect::<Vec<f64>>();
        let sums = |h: &Histogram| h.bins.iter().map(|b| b[0]).collect::<Vec<f64>>();
        assert_eq!(counts(&left), counts(&whole));
        for (a, b) in sums(&left).iter().zip(&sums(&whole)) {
            assert_close(*a, *b, 1e-13);
        }
        assert_eq!(counts(&whole).iter().sum::<f64>(), 3000.0);
    }

    /// The pooled smoothing: a constant `f · J` seen through a few noisy
    /// points per increment (27, as in a warm-up iteration of a 2^20
    /// budget) leaves neighbouring increments' widths far closer with
    /// [`SMOOTHING_POINTS`] than with vegas's single pass; a histogram of
    /// that many points per increment is smoothed once, as vegas does.
    #[test]
    fn pooled_smoothing_calms_a_noisy_grid() {
        let n = 966;
        let roughness = |grid: &Grid| {
            let widths: Vec<f64> = grid.edges(0).windows(2).map(|e| e[1] - e[0]).collect();
            let squares: f64 = widths.windows(2).map(|w| (w[1] / w[0]).ln().powi(2)).sum();
            (squares / (n - 1) as f64).sqrt()
        };
        let mut u = uniforms(11);
        let mut histogram = Histogram::new(1, n);
        for i in 0..n {
            for _ in 0..27 {
                // f · J = 1 ± 0.5, uniformly.
                histogram.add(&[i], 0.5 + u.next().unwrap());
            }
        }
        let mut single = Grid::uniform(&[0.0], &[1.0], n);
        single.refine(&histogram, 1.0, 0.0);
        let mut pooled = Grid::uniform(&[0.0], &[1.0], n);
        pooled.refine(&histogram, 1.0, SMOOTHING_POINTS);
        let (single, pooled) = (roughness(&single), roughness(&pooled));
        println!("RMS log ratio of neighbouring widths: {single:.5} -> {pooled:.5}");
        // Measured: 0.0105 and 0.00038.
        assert!(pooled < single / 10.0, "{single} {pooled}");
        // Enough points: one pass, vegas's grid to the bit.
        let mut full = Histogram::new(1, 8);
        for i in 0..8 {
            for k in 0..SMOOTHING_POINTS as usize {
                full.add(&[i], 1.0 + (i * k % 7) as f64);
            }
        }
        let mut vegas = Grid::uniform(&[0.0], &[1.0], 8);
        vegas.refine(&full, 1.0, 0.0);
        let mut ours = Grid::uniform(&[0.0], &[1.0], 8);
        ours.refine(&full, 1.0, SMOOTHING_POINTS);
        assert_eq!(ours, vegas);
    }

    /// Many passes are made as three moving averages of the same spread:
    /// a spike comes out with the variance (in increments²) and the mass
    /// of the passes, to within the rounding of the radius.
    #[test]
    fn moving_averages_spread_as_the_passes_do() {
        let n = 201;
        let spike = |_: ()| {
            let mut d = vec![0.0; n];
            d[100] = 1.0;
            d
        };
        let moments = |d: &[f64]| {
            let mass: f64 = d.iter().sum();
            let mean = d.iter().enumerate().map(|(i, v)| i as f64 * v).sum::<f64>() / mass;
            let var = d
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64 - mean).powi(2) * v)
                .sum::<f64>()
                / mass;
            (mass, mean, var)
        };
        for passes in [9, 30, 148, 1024] {
            let (mass, mean, var) = moments(&smooth(spike(()), passes));
            let exact = passes as f64 / 4.0;
            assert!(
                (mass - 1.0).abs() < 1e-12 && (mean - 100.0).abs() < 1e-9,
                "{passes}"
            );
            assert!(
                (var / exact - 1.0).abs() < 0.35,
                "{passes}: {var} against {exact}"
            );
        }
        // Up to EXACT_SMOOTHING_PASSES, the passes themselves.
        let mut d = spike(());
        for _ in 0..3 {
            d = smooth(d, 1);
        }
        assert_eq!(smooth(spike(()), 3), d);
        let (_, _, var) = moments(&d);
        assert!((var - 0.75).abs() < 1e-12);
        // At the ends, reflected: the mass stays.
        let mut edge = vec![0.0; 10];
        edge[0] = 1.0;
        let total: f64 = smooth(edge, 500).iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }

    #[test]
    fn increments_follow_the_sample_count() {
        assert_eq!(increments_for(0), 1);
        assert_eq!(increments_for(25), 2);
        assert_eq!(increments_for(5_000), 500);
        assert_eq!(increments_for(10_000), DEFAULT_INCREMENTS);
        assert_eq!(increments_for(u64::MAX), DEFAULT_INCREMENTS);
    }
}
