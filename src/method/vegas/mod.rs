//! VEGAS+: iterations of importance sampling through an adaptive grid,
//! stratified over the hypercubes of `strata`; one pass of the driver
//! per iteration, a chunk being a range of hypercubes.
//!
//! The grid ([`Grid`]) and the strata are fixed while an iteration runs, so
//! its chunks are pure functions of them, the seed, the iteration and the
//! chunk's index, like plain Monte Carlo's. The driver merges their sums
//! and histograms in chunk order; between iterations the grid is refined
//! from the merged histogram, the strata reallocate their samples, and the
//! iteration's estimate joins the weighted average. So every step is a
//! fixed sequence of floating-point operations whatever the threads or
//! runtime, and the run is bit-identical across them.

mod average;
mod components;
pub(crate) mod grid;
mod sampler;
pub(crate) mod strata;
mod vector_sampler;

use std::ops::Range;
use std::sync::Arc;

use crate::driver::checkpoint::StateReader;
use crate::driver::halt::Halt;
use crate::driver::pass::{Pass, Passes, Running};
use crate::method::vegas::grid::{Grid, Histogram, SMOOTHING_POINTS, increments_for};
use crate::method::vegas::sampler::{Chunk, IterationSums, means_of};
use crate::method::vegas::strata::{CubeSums, DEFAULT_BETA, Strata, aligned_increments};
use crate::sample::{Lanes, chunk_key};
use crate::spec::domain::Domain;
use crate::spec::settings::{DEFAULT_CHUNKS_PER_PASS, MAX_DEFAULT_CHUNK, Settings};
use crate::{Accumulator, Error, Estimate, Integrand, NonFinite, Stop};
use average::IterationAverage;
pub(crate) use components::VectorVegasRun;

/// The most increments per axis. Every chunk in flight holds a histogram of
/// 16 bytes per increment per axis: 16 MiB at this many on 16 axes.
pub(crate) const MAX_INCREMENTS: u32 = 1 << 16;

/// The most of the budget the warm-up iterations spend together; when
/// their equal share of it is less, they take that.
///
/// Small warm-up iterations adapt the grid as often for fewer samples,
/// and the counted iterations then are fewer and larger, which a
/// stratified estimate rewards: its variance falls faster than `1/n` in
/// few dimensions (as `n^(−1 − 2/d)` for a smooth `f · J`), so `k`
/// iterations of `n/k` points have `k^(2/d)` times the variance of one
/// of `n`. Measured with `bench/peers.py` (10 seeds, all Genz families,
/// d = 2, 5, 8, 2^16 and 2^20, alpha 1): with 12 iterations of which 8
/// warm up, a share of 0.2 gave a geometric mean error 0.35 of vegas's,
/// against 0.47 for equal iterations (20 with 4 warming up, 0.29, but
/// 3× vegas's error on the 2-D oscillatory family at 2^20), 0.41 for a
/// share of 0.1 and 0.37 for 0.3.
const WARMUP_SHARE: f64 = 0.2;

/// The share of the budget `warmup` of `iterations` iterations spend.
fn warmup_share(warmup: u32, iterations: u32) -> f64 {
    WARMUP_SHARE.min(f64::from(warmup) / f64::from(iterations))
}

/// The fewest points a default chunk of an iteration holds per increment
/// of an axis: each chunk fills and hands back a histogram of
/// `dims × increments` cells, which costs about as much as a point per
/// increment to zero and merge; at 8 points per increment that is a few
/// percent of the chunk's work.
const MIN_CHUNK_POINTS_PER_INCREMENT: u64 = 8;

/// The fewest points in a default chunk whatever the grid: spawning and
/// merging a chunk costs a few microseconds.
const MIN_CHUNK_POINTS: u64 = 512;

/// Points per chunk in an iteration of `samples` points on a grid of
/// `increments` increments per axis, when the caller chose no chunk size:
/// the iteration in [`DEFAULT_CHUNKS_PER_PASS`] chunks, as plain Monte
/// Carlo's passes are cut, unless that would make chunks too small for
/// their fixed cost (above) or larger than plain Monte Carlo's largest
/// ([`MAX_DEFAULT_CHUNK`]; a time limit or a checkpoint waits for a
/// chunk to merge). [`default_pieces`] makes it a count of chunks.
fn chunk_target(samples: u64, increments: usize) -> u64 {
    // At most 65536 increments, so the floor is below the cap.
    let floor = (MIN_CHUNK_POINTS_PER_INCREMENT * increments as u64).max(MIN_CHUNK_POINTS);
    samples
        .div_ceil(DEFAULT_CHUNKS_PER_PASS)
        .clamp(floor, MAX_DEFAULT_CHUNK)
}

/// Chunks of an iteration, when there are more than two, come in
/// multiples of this: cut into equal shares ([`Strata::even_chunks`]), an
/// iteration then ends with every core of a machine of 1, 2 or 4 busy to
/// its last chunk, where 3 chunks on 2 cores keep one idle for a third
/// of the iteration.
const PIECES_STEP: u64 = 4;

/// Chunks in an iteration of `samples` points on a grid of `increments`
/// increments per axis, when the caller chose no chunk size: enough for
/// about [`chunk_target`] points each, rounded up to a multiple of
/// [`PIECES_STEP`] past two, and cut into equal shares of the points
/// ([`Strata::even_chunks`]). A pure function of the spec, so the chunks,
/// and the bits, are the same on any machine and thread count.
///
/// A counted iteration of a 2^16-point budget in 5 dimensions (13108
/// points, 160 increments) is then 12 chunks and a warm-up one 2; of a
/// 2^20 budget (952 increments), 28 and 4: every core of a small machine
/// busy in every iteration, where the general policy's floor of 4096
/// points had left the 2^16 budget's iterations in one to four.
fn default_pieces(samples: u64, increments: usize) -> u64 {
    let pieces = samples.div_ceil(chunk_target(samples, increments));
    if pieces <= 2 {
        pieces
    } else {
        pieces.next_multiple_of(PIECES_STEP)
    }
}

/// VEGAS+, Lepage's adaptive importance sampling (J. Comput. Phys. 27, 192,
/// 1978) with adaptive stratified sampling (J. Comput. Phys. 439, 110386,
/// 2021): points drawn through a separable map of the unit cube that each
/// iteration refines from a histogram of `(f · J)²`, so that samples crowd
/// where `|f|` is large, and spread over hypercubes of the map's cube whose
/// shares of the samples follow `σ_h^β`, so that they crowd where `f · J`
/// varies most.
///
/// The [`warmup`](Vegas::warmup) iterations only train the map and the
/// strata, and together spend at most a fifth of the sample budget; the
/// other iterations share the rest. The estimate is the average of the
/// iterations after the warm-up, weighted by their samples (not by their
/// estimated variances, which would favour the iterations that missed a
/// rare region: see `average.rs`), with `χ²/dof`
/// and `Q` saying whether they agree
/// ([`Estimate::chi2_per_dof`](crate::Estimate::chi2_per_dof),
/// [`Estimate::iterations_disagree`](crate::Estimate::iterations_disagree)).
/// A [`tolerance`](crate::Integral::tolerance) is checked on that average
/// at the end of each iteration. Best for integrands peaked along the axes
/// (products of one-variable factors); the stratification helps with the
/// rest.
///
/// A vector integrand ([`Integral::vector`](crate::Integral::vector)) is
/// sampled once for all its components, the map and the strata adapting
/// to all of them or to the one [`adapt_to`](Vegas::adapt_to) names; each
/// component gets its own estimate, `χ²` and covariances
/// ([`Estimate::component`](crate::Estimate::component),
/// [`Estimate::covariance`](crate::Estimate::covariance)).
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Method};
///
/// let peak = |x: &[f64]| x.iter().map(|&x| (-50.0 * (x - 0.5).powi(2)).exp()).product::<f64>();
/// let integral = Integral::over(peak, [0.0..1.0, 0.0..1.0, 0.0..1.0])
///     .samples(1 << 18)
///     .method(Method::vegas().iterations(10).warmup(3));
/// let estimate = pollster::block_on(integral.run_inline())?;
/// // √(π/50) per axis, less tails 5σ out that are below 1e-6 of it.
/// let exact = (std::f64::consts::PI / 50.0).sqrt().powi(3);
/// assert!((estimate.value / exact - 1.0).abs() < 1e-3);
/// assert!(!estimate.iterations_disagree());
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vegas {
    iterations: u32,
    warmup: u32,
    alpha: f64,
    beta: f64,
    increments: u32,
    /// The one component of a vector integrand to adapt to, or all.
    adapt: Option<usize>,
}

impl Vegas {
    /// 12 iterations, the first 8 warm-up, `alpha = 1`, `beta = 0.75` and
    /// vegas's choice of increments: the defaults that won on the Genz
    /// families (`bench/peers.py`; see `bench/README.md`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::method::Vegas::new(), quadpipe::Method::vegas());
    /// ```
    pub const fn new() -> Vegas {
        Vegas {
            iterations: 12,
            warmup: 8,
            alpha: 1.0,
            beta: DEFAULT_BETA,
            increments: 0,
            adapt: None,
        }
    }

    /// Iterations, warm-up included; at least 1.
    ///
    /// # Examples
    ///
    /// ```
    /// let method = quadpipe::Method::vegas().iterations(20).warmup(5);
    /// # let _ = method;
    /// ```
    pub const fn iterations(self, iterations: u32) -> Vegas {
        Vegas { iterations, ..self }
    }

    /// Leading iterations that only train the map and the strata and are
    /// left out of the average; fewer than the iterations. Together they
    /// spend `min(1/5, warmup/iterations)` of the budget.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pollster::block_on(
    ///     quadpipe::Integral::new(|x| x, 0.0..1.0)
    ///         .method(quadpipe::Method::vegas().iterations(3).warmup(3))
    ///         .run_inline(),
    /// )
    /// .unwrap_err();
    /// assert!(matches!(err, quadpipe::Error::InvalidVegas { .. }));
    /// ```
    pub const fn warmup(self, warmup: u32) -> Vegas {
        Vegas { warmup, ..self }
    }

    /// The damping exponent of grid refinement, finite and ≥ 0: 0 never
    /// adapts, larger adapts faster but follows noise more. 1 by default;
    /// Lepage's `vegas` uses 0.5, GSL and Numerical Recipes 1.5 with a
    /// coarser grid and stronger smoothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let method = quadpipe::Method::vegas().alpha(1.5);
    /// # let _ = method;
    /// ```
    pub const fn alpha(self, alpha: f64) -> Vegas {
        Vegas { alpha, ..self }
    }

    /// The exponent of `σ_h` in the share of samples each hypercube gets,
    /// finite and ≥ 0: 0.75 by default (as `vegas`), 0 stratifies evenly.
    ///
    /// # Examples
    ///
    /// ```
    /// let even = quadpipe::Method::vegas().beta(0.0);
    /// # let _ = even;
    /// ```
    pub const fn beta(self, beta: f64) -> Vegas {
        Vegas { beta, ..self }
    }

    /// Increments per axis, at most 65536; 0 chooses as `vegas` does from
    /// a warm-up iteration's samples: `min(samples / 10, 1000)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let method = quadpipe::Method::vegas().increments(200);
    /// # let _ = method;
    /// ```
    pub const fn increments(self, increments: u32) -> Vegas {
        Vegas { increments, ..self }
    }

    /// For a vector integrand ([`Integral::vector`](crate::Integral::vector)),
    /// the one component the map and the strata adapt to, counted from 0;
    /// it must be below the integrand's `m`.
    ///
    /// By default they adapt to every component: the map to the sum of
    /// their magnitudes, `Σ_j |f_j · J|`, so that samples crowd wherever
    /// any component is large, and the strata to the sum of their
    /// variances in each hypercube, `Σ_j σ²_{h,j}`, the allocation that
    /// minimises the sum of the components' variances (for one component
    /// both are the scalar run's choice). Adapt to one component when it
    /// is the one that matters, or when the others are small corrections
    /// to it: it is then estimated as well as if it were alone, to the
    /// bit: its value, standard error and `χ²` are those of a scalar run
    /// of that component with the same settings and seed. Lepage's
    /// `vegas` adapts to the first component of an array integrand,
    /// `adapt_to(0)` here.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Method};
    ///
    /// // A peak, and its first moment along x, at the same points.
    /// let peak = |x: &[f64]| (-100.0 * ((x[0] - 0.3).powi(2) + (x[1] - 0.6).powi(2))).exp();
    /// let moments = Integral::vector(
    ///     2,
    ///     move |x: &[f64], out: &mut [f64]| {
    ///         out[0] = peak(x);
    ///         out[1] = x[0] * peak(x);
    ///     },
    ///     [0.0..1.0, 0.0..1.0],
    /// )
    /// .samples(1 << 17);
    /// let both = pollster::block_on(moments.clone().method(Method::vegas()).run_inline())?;
    /// // The mean x under the peak is its centre, 0.3.
    /// let (mass, first) = (both.component(0).unwrap(), both.component(1).unwrap());
    /// assert!((first.value / mass.value - 0.3).abs() < 1e-3);
    ///
    /// // Adapted to the peak alone: its bits are a scalar run's.
    /// let to_peak = moments.method(Method::vegas().adapt_to(0));
    /// let to_peak = pollster::block_on(to_peak.run_inline())?;
    /// let alone = Integral::over(peak, [0.0..1.0, 0.0..1.0]).samples(1 << 17);
    /// let alone = pollster::block_on(alone.method(Method::vegas()).run_inline())?;
    /// assert_eq!(to_peak.component(0), Some(alone));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A run fails with [`Error::InvalidVegas`] before it samples if
    /// `component` is not below the integrand's count of components
    /// (1 for a scalar integrand).
    pub const fn adapt_to(self, component: usize) -> Vegas {
        Vegas {
            adapt: Some(component),
            ..self
        }
    }

    /// The settings that decide the bits, for a checkpoint's fingerprint.
    /// A chosen component is appended, so a run that adapts to every
    /// component keeps the fingerprint it had before `adapt_to` existed.
    pub(crate) fn fingerprint(&self, out: &mut Vec<u8>) {
        for field in [self.iterations, self.warmup, self.increments] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        for field in [self.alpha, self.beta] {
            out.extend_from_slice(&field.to_bits().to_le_bytes());
        }
        if let Some(component) = self.adapt {
            out.extend_from_slice(&(component as u64).to_le_bytes());
        }
    }
}

impl Default for Vegas {
    fn default() -> Vegas {
        Vegas::new()
    }
}

/// A VEGAS+ run: the integrand, the box, how to sample it, and everything
/// carried from one iteration to the next.
pub(crate) struct VegasRun<I> {
    integrand: Arc<I>,
    domain: Domain,
    seed: u64,
    /// The caller's chunk size, else the policy's for each iteration.
    chunk_size: Option<u64>,
    policy: NonFinite,
    iterations: u32,
    warmup: u32,
    alpha: f64,
    beta: f64,
    increments: usize,
    /// Samples in each warm-up iteration.
    warmup_per_iteration: u64,
    /// Samples in each counted iteration.
    per_iteration: u64,
    between: Between,
}

/// Everything a run carries from one iteration to the next: all a
/// checkpoint holds of the method.
#[derive(Clone, Debug, PartialEq)]
struct Between {
    /// Samples drawn, warm-up included.
    done: u64,
    /// The next iteration to run.
    iteration: u32,
    skipped: u64,
    average: IterationAverage,
    /// The last iteration's own result, for a time limit hit in warm-up.
    last: IterationAverage,
    /// Shared with the running iteration, which reads them: the next
    /// ones are built anew, never copied from these.
    grid: Arc<Grid>,
    strata: Arc<Strata>,
}

impl<I: Integrand> VegasRun<I> {
    /// Checks the settings against the sample budget: the warm-up
    /// iterations share [`warmup_share`] of it equally, the counted ones
    /// the rest (remainders are not drawn), and each needs two points for
    /// a standard error.
    pub(crate) fn new(
        integrand: &Arc<I>,
        settings: &Settings,
        vegas: Vegas,
    ) -> Result<Self, Error> {
        let domain = settings.domain()?;
        let invalid = |reason| Err(Error::InvalidVegas { reason });
        let Vegas {
            iterations,
            warmup,
            alpha,
            beta,
            increments,
            adapt,
        } = vegas;
        if adapt.is_some_and(|component| component >= integrand.components()) {
            return invalid("adapt_to must name one of the integrand's components, below its m");
        }
        if iterations == 0 {
            return invalid("iterations must be at least 1");
        }
        if warmup >= iterations {
            return invalid("warmup must be fewer than iterations, or nothing is averaged");
        }
        if !(alpha.is_finite() && alpha >= 0.0) {
            return invalid("alpha must be finite and at least 0");
        }
        if !(beta.is_finite() && beta >= 0.0) {
            return invalid("beta must be finite and at least 0");
        }
        if increments > MAX_INCREMENTS {
            return invalid("increments must be at most 65536");
        }
        let samples = settings.samples;
        let (warmup_per_iteration, per_iteration) = if warmup == 0 {
            (0, samples / u64::from(iterations))
        } else {
            let share = warmup_share(warmup, iterations);
            let warm = ((samples as f64 * share) as u64) / u64::from(warmup);
            let left = samples - warm * u64::from(warmup);
            (warm, left / u64::from(iterations - warmup))
        };
        if per_iteration < 2 || (warmup > 0 && warmup_per_iteration < 2) {
            return invalid("each iteration needs at least 2 samples: raise samples");
        }
        // The grid is learnt in the warm-up: its increments follow the
        // warm-up's iterations.
        let first = if warmup > 0 {
            warmup_per_iteration
        } else {
            per_iteration
        };
        // The counted iterations' hypercubes hold whole increments.
        let counted = Strata::new(domain.dims(), per_iteration, beta);
        let increments = match increments {
            0 => aligned_increments(counted.slices(), increments_for(first)),
            n => n as usize,
        };
        let grid = Grid::uniform(domain.lo(), domain.width(), increments);
        let strata = Strata::new(domain.dims(), first, beta);
        Ok(VegasRun {
            integrand: integrand.clone(),
            domain,
            seed: settings.seed,
            chunk_size: settings.chunk_size,
            policy: settings.non_finite,
            iterations,
            warmup,
            alpha,
            beta,
            increments,
            warmup_per_iteration,
            per_iteration,
            between: Between {
                done: 0,
                iteration: 0,
                skipped: 0,
                average: IterationAverage::new(),
                last: IterationAverage::new(),
                grid: Arc::new(grid),
                strata: Arc::new(strata),
            },
        })
    }

    /// The samples of iteration `iteration`.
    fn samples_of(&self, iteration: u32) -> u64 {
        if iteration < self.warmup {
            self.warmup_per_iteration
        } else {
            self.per_iteration
        }
    }

    /// The samples drawn before iteration `iteration`.
    fn done_before(&self, iteration: u32) -> u64 {
        let warm = iteration.min(self.warmup);
        u64::from(warm) * self.warmup_per_iteration
            + u64::from(iteration - warm) * self.per_iteration
    }

    /// Fresh strata for iteration `iteration`'s budget.
    fn strata(&self, iteration: u32) -> Strata {
        Strata::new(self.domain.dims(), self.samples_of(iteration), self.beta)
    }

    /// The next iteration, with everything its chunks read; `None` when
    /// the run is done (or has nothing to sample). A vector run's passes
    /// wrap it.
    fn iteration(&self) -> Option<VegasIteration<I>> {
        let between = &self.between;
        if self.domain.is_degenerate() || between.iteration == self.iterations {
            return None;
        }
        let samples = between.strata.samples();
        let ranges = match self.chunk_size {
            Some(chunk) => between.strata.chunks(chunk),
            None => between
                .strata
                .even_chunks(default_pieces(samples, self.increments)),
        };
        Some(VegasIteration {
            integrand: self.integrand.clone(),
            grid: between.grid.clone(),
            ranges,
            strata: between.strata.clone(),
            key: chunk_key(self.seed, u64::from(between.iteration)),
            policy: self.policy,
            sign: if self.domain.is_reversed() { -1.0 } else { 1.0 },
            counted: between.iteration >= self.warmup,
        })
    }

    /// Ends an iteration of `count` samples, whatever it estimated: the
    /// grid adapts to its `histogram` and the strata to its hypercubes'
    /// `weights` ([`Strata::weights_of`]), and the counted iterations'
    /// budget brings new hypercubes.
    fn advance(&mut self, count: u64, histogram: &Histogram, weights: Vec<f64>) {
        let next = self.between.iteration + 1;
        let fresh = (next == self.warmup).then(|| self.strata(next));
        let between = &mut self.between;
        between.done += count;
        // The running iteration still reads the grid: refined into a new one.
        between.grid = Arc::new(
            between
                .grid
                .refined(histogram, self.alpha, SMOOTHING_POINTS),
        );
        if let Some(strata) = between.strata.reweighted(weights) {
            between.strata = Arc::new(strata);
        }
        // The counted iterations' budget: new hypercubes.
        if let Some(mut fresh) = fresh {
            fresh.inherit(&between.strata);
            between.strata = Arc::new(fresh);
        }
        between.iteration = next;
    }

    /// The run's estimate between iterations: the average after warm-up,
    /// or, when a time limit ended the run before any iteration counted,
    /// the last iteration's own.
    fn between_estimate(&self, stop: Stop) -> Estimate {
        let between = &self.between;
        let average = if between.average.count() > 0 {
            &between.average
        } else {
            &between.last
        };
        average_estimate(average, between.done, between.skipped, stop)
    }
}

impl<I: Integrand> Passes for VegasRun<I> {
    type Pass = VegasIteration<I>;

    /// A box of zero width has integral exactly 0: nothing to sample.
    fn total(&self) -> Option<u64> {
        Some(if self.domain.is_degenerate() {
            0
        } else {
            self.done_before(self.iterations)
        })
    }

    fn next_pass(&self) -> Option<Arc<VegasIteration<I>>> {
        self.iteration().map(Arc::new)
    }

    /// The iteration joins the average (after warm-up), the grid adapts to
    /// its histogram and the strata to its hypercubes' spreads.
    fn end_pass(
        &mut self,
        pass: &VegasIteration<I>,
        merged: IterationSums,
    ) -> Result<Option<Stop>, Error> {
        let (value, std_error) = pass.result(&merged);
        let between = &mut self.between;
        between.skipped += merged.skipped;
        between.last = IterationAverage::new();
        between.last.add(value, std_error, merged.count);
        if pass.counted {
            between.average.add(value, std_error, merged.count);
        }
        self.advance(merged.count, &merged.histogram, merged.weights);
        Ok(None)
    }

    fn done(&self, running: Running<'_, Self>) -> u64 {
        self.between.done + running.map_or(0, |(_, merged)| merged.count)
    }

    /// Inside an iteration, the average so far with the iteration's prefix
    /// joined to it, or in warm-up the prefix alone.
    fn estimate(&self, running: Running<'_, Self>, stop: Stop) -> Estimate {
        if self.domain.is_degenerate() {
            return Estimate::new(0.0, 0.0, 0, Stop::Exact);
        }
        let Some((pass, merged)) = running else {
            return self.between_estimate(stop);
        };
        if merged.cubes.is_empty() {
            return self.between_estimate(stop);
        }
        let mut average = if pass.counted {
            self.between.average
        } else {
            IterationAverage::new()
        };
        let (value, std_error) = pass.result(merged);
        average.add(value, std_error, merged.count);
        average_estimate(
            &average,
            self.done(running),
            self.between.skipped + merged.skipped,
            stop,
        )
    }

    /// A tolerance looks at whole iterations, once one has counted.
    fn is_complete(&self, running: Running<'_, Self>) -> bool {
        running.is_none() && self.between.average.count() > 0
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let between = &self.between;
        out.extend_from_slice(&between.done.to_le_bytes());
        out.extend_from_slice(&u64::from(between.iteration).to_le_bytes());
        out.extend_from_slice(&between.skipped.to_le_bytes());
        between.average.encode(out);
        between.last.encode(out);
        between.grid.encode(out);
        between.strata.encode(out);
    }

    fn decode(&mut self, reader: &mut StateReader<'_>) -> Option<()> {
        let between = Between {
            done: reader.u64()?,
            iteration: u32::try_from(reader.u64()?).ok()?,
            skipped: reader.u64()?,
            average: IterationAverage::decode(reader)?,
            last: IterationAverage::decode(reader)?,
            grid: Grid::decode(
                reader,
                self.domain.lo(),
                self.domain.width(),
                self.increments,
            )?
            .into(),
            strata: Strata::decode(reader)?.into(),
        };
        if between.iteration >= self.iterations {
            return None;
        }
        let fresh = self.strata(between.iteration);
        let consistent = between.done == self.done_before(between.iteration)
            && between.strata.slices() == fresh.slices()
            && between.strata.samples() == fresh.samples();
        self.between = between;
        consistent.then_some(())
    }
}

/// An estimate from a weighted average of iterations.
fn average_estimate(average: &IterationAverage, done: u64, skipped: u64, stop: Stop) -> Estimate {
    let (chi2, dof) = average.chi2();
    Estimate::new(average.value(), average.std_error(), done, stop)
        .with_skipped(skipped)
        .with_chi2(chi2, dof)
}

/// One iteration: each hypercube of `strata` gets its count of points,
/// drawn uniformly in it and mapped through `grid`; chunks are ranges of
/// hypercubes.
pub(crate) struct VegasIteration<I> {
    integrand: Arc<I>,
    grid: Arc<Grid>,
    strata: Arc<Strata>,
    /// The chunks' hypercubes, a pure function of the strata's counts.
    ranges: Vec<Range<usize>>,
    /// The iteration's own seed; chunk `i` draws from `chunk_key(key, i)`.
    key: u64,
    policy: NonFinite,
    /// −1 for a one-dimensional interval given from its upper end.
    sign: f64,
    /// Whether the iteration joins the average (it is past the warm-up).
    counted: bool,
}

impl<I: Integrand> VegasIteration<I> {
    /// The iteration's estimate and standard error. A whole iteration is
    /// the stratified estimate; one a time limit cut short has only its
    /// first hypercubes (spread over the cube by the visiting order), whose
    /// means are then taken as a sample of all hypercubes' means.
    fn result(&self, merged: &IterationSums) -> (f64, f64) {
        let (value, variance) = if merged.cubes.len() == self.strata.hypercubes() {
            self.strata.estimate(&merged.cubes)
        } else {
            partial_estimate(merged)
        };
        (self.sign * value, variance.sqrt())
    }
}

/// The mean of the hypercubes' means and its variance from their
/// spread, for an iteration cut short: its hypercubes are a part of the
/// cube, not all of it, so the stratified variance would not hold.
fn partial_estimate(merged: &IterationSums) -> (f64, f64) {
    let means = &merged.means;
    if means.count() < 2 {
        let within = merged.cubes.first().map_or(f64::INFINITY, |c| {
            c.m2 / (c.count.saturating_sub(1).max(1) * c.count) as f64
        });
        return (means.mean(), within);
    }
    (means.mean(), means.variance() / means.count() as f64)
}

impl<I: Integrand> VegasIteration<I> {
    /// What [`Pass::encode`] wrote, with no spread of the means yet.
    fn decode_sums(&self, reader: &mut StateReader<'_>) -> Option<IterationSums> {
        let count = reader.u64()?;
        let skipped = reader.u64()?;
        let cubes = usize::try_from(reader.u64()?).ok()?;
        if cubes > self.strata.hypercubes() {
            return None;
        }
        let cubes = (0..cubes)
            .map(|_| {
                let (count, mean, m2) = reader.moments()?;
                Some(CubeSums { count, mean, m2 })
            })
            .collect::<Option<Vec<_>>>()?;
        let histogram = Histogram::decode(reader, self.grid.dims(), self.grid.increments())?;
        Some(IterationSums {
            count,
            weights: self.strata.weights_of(&cubes),
            cubes,
            means: Accumulator::new(),
            histogram,
            skipped,
        })
    }
}

impl<I: Integrand> Pass for VegasIteration<I> {
    type Part = IterationSums;
    type Merged = IterationSums;

    fn chunks(&self) -> u64 {
        self.ranges.len() as u64
    }

    fn run_chunk(&self, index: u64, halt: &Halt) -> Result<IterationSums, Error> {
        let mut lanes = Lanes::new(chunk_key(self.key, index));
        let chunk = Chunk {
            integrand: &*self.integrand,
            grid: &self.grid,
            strata: &self.strata,
            policy: self.policy,
        };
        let mut part = chunk.sample(&mut lanes, self.ranges[index as usize].clone(), halt)?;
        // The chunk's share of the work between iterations.
        part.weights = self.strata.weights_of(&part.cubes);
        Ok(part)
    }

    fn start(&self) -> IterationSums {
        let hypercubes = self.strata.hypercubes();
        IterationSums {
            count: 0,
            cubes: Vec::with_capacity(hypercubes),
            means: Accumulator::new(),
            histogram: Histogram::new(self.grid.dims(), self.grid.increments()),
            skipped: 0,
            weights: Vec::with_capacity(hypercubes),
        }
    }

    fn merge(&self, merged: &mut IterationSums, part: IterationSums) {
        merged.count += part.count;
        merged.means.merge(&part.means);
        merged.cubes.extend_from_slice(&part.cubes);
        merged.weights.extend_from_slice(&part.weights);
        merged.histogram.merge(&part.histogram);
        merged.skipped += part.skipped;
    }

    /// Every chunk's hypercube sums were finite (`Chunk::sample` checks),
    /// and appending them cannot overflow; the histograms' sums can. Only
    /// the whole iteration's histogram refines the grid, and its sums of
    /// squares, once infinite, stay so: it is looked at once, when the
    /// last chunk merges, not after every merge on the driver's thread.
    fn overflowed(&self, merged: &IterationSums) -> bool {
        merged.cubes.len() == self.strata.hypercubes() && !merged.histogram.is_finite()
    }

    /// The count, the skipped count, the hypercubes, then the histogram.
    fn encode(&self, merged: &IterationSums, out: &mut Vec<u8>) {
        out.extend_from_slice(&merged.count.to_le_bytes());
        out.extend_from_slice(&merged.skipped.to_le_bytes());
        out.extend_from_slice(&(merged.cubes.len() as u64).to_le_bytes());
        for cube in &merged.cubes {
            out.extend_from_slice(&cube.count.to_le_bytes());
            out.extend_from_slice(&cube.mean.to_bits().to_le_bytes());
            out.extend_from_slice(&cube.m2.to_bits().to_le_bytes());
        }
        merged.histogram.encode(out);
    }

    /// A merged prefix, whose cubes are those of whole chunks.
    fn decode(&self, reader: &mut StateReader<'_>) -> Option<IterationSums> {
        let mut merged = self.decode_sums(reader)?;
        // The chunks' spreads, rebuilt as the chunks made and merged them.
        for range in &self.ranges {
            if range.end > merged.cubes.len() {
                break;
            }
            merged.means.merge(&means_of(&merged.cubes[range.clone()]));
        }
        Some(merged)
    }

    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &IterationSums, out: &mut Vec<u8>) {
        self.encode(part, out);
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<IterationSums> {
        let mut reader = StateReader(bytes);
        let mut part = self.decode_sums(&mut reader)?;
        part.means = means_of(&part.cubes);
        reader.is_done().then_some(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small iterations still split into enough chunks for a few cores;
    /// large ones into the general policy's 64; none below the floor the
    /// histogram's cost sets; past two, a multiple of four.
    #[test]
    fn default_chunks_split_every_iteration() {
        assert_eq!(chunk_target(13_108, 160), 1280);
        assert_eq!(chunk_target(209_715, 1000), 8000);
        assert_eq!(chunk_target(1 << 26, 1000), 1 << 20);
        assert_eq!(chunk_target(1 << 40, 65536), MAX_DEFAULT_CHUNK);
        assert_eq!(chunk_target(100, 1), MIN_CHUNK_POINTS);
        // A 2^16 budget in 5 dimensions: a counted iteration (11 chunks
        // of the target, rounded up to 12) and a warm-up one (2); a 2^20
        // budget's, 28 and 4; one chunk for a tiny iteration.
        assert_eq!(default_pieces(13_108, 160), 12);
        assert_eq!(default_pieces(1638, 160), 2);
        assert_eq!(default_pieces(209_715, 952), 28);
        assert_eq!(default_pieces(26_214, 952), 4);
        assert_eq!(default_pieces(300, 10), 1);
        assert_eq!(default_pieces(1 << 26, 1000), 64);
        // Cut into equal shares of the points.
        let counted = Strata::new(5, 13_108, DEFAULT_BETA);
        let chunks = counted.even_chunks(default_pieces(13_108, 160));
        assert_eq!(chunks.len(), 12);
        let held = |r: &Range<usize>| counted.counts()[r.clone()].iter().sum::<u64>();
        let (least, most) = (chunks.iter().map(held).min(), chunks.iter().map(held).max());
        assert!(most.unwrap() - least.unwrap() <= 16, "{least:?} {most:?}");
    }
}
