//! VEGAS: iterations of importance sampling through an adaptive grid, one
//! pass of the driver per iteration.
//!
//! The grid ([`Grid`]) is fixed while an iteration runs, so its chunks are
//! pure functions of the grid, the seed, the iteration and the chunk's
//! index, like plain Monte Carlo's. The driver merges their sums and
//! histograms in chunk order; between iterations the grid is refined from
//! the merged histogram and the iteration's estimate joins the weighted
//! average. So every step is a fixed sequence of floating-point operations
//! whatever the threads or runtime, and the run is bit-identical across
//! them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::checkpoint::StateReader;
use crate::domain::Domain;
use crate::driver::pass::{Pass, Passes, Running};
use crate::kernel::chunk::overflowed;
use crate::kernel::fill_points;
use crate::method::vegas_grid::{DEFAULT_ALPHA, Grid, Histogram, IterationAverage, increments_for};
use crate::sample::{LANES, Lanes, chunk_key};
use crate::settings::Settings;
use crate::{Accumulator, Error, Estimate, Integrand, NonFinite, Stop};

/// Coordinates in a block of points, as for plain Monte Carlo: the block's
/// `y`, `x` and cells stay in the L1 and L2 caches between being drawn,
/// mapped, evaluated and histogrammed.
const COORDINATES_PER_BLOCK: usize = 4096;

/// The most increments per axis. Every chunk in flight holds a histogram of
/// 16 bytes per increment per axis: 16 MiB at this many on 16 axes.
pub(crate) const MAX_INCREMENTS: u32 = 1 << 16;

/// VEGAS, Lepage's adaptive importance sampling (J. Comput. Phys. 27, 192,
/// 1978): points drawn through a separable map of the unit cube that each
/// iteration refines from a histogram of `(f · J)²`, so that samples crowd
/// where `|f|` is large.
///
/// Each of the [`iterations`](Vegas::iterations) spends an equal share of
/// the sample budget; the estimate is the inverse-variance weighted average
/// of the iterations after the first [`warmup`](Vegas::warmup), with
/// `χ²/dof` and `Q` saying whether they agree
/// ([`Estimate::chi2_per_dof`](crate::Estimate::chi2_per_dof),
/// [`Estimate::iterations_disagree`](crate::Estimate::iterations_disagree)).
/// A [`tolerance`](crate::Integral::tolerance) is checked on that average
/// at the end of each iteration. Best for integrands peaked along the axes
/// (products of one-variable factors); a peak along a diagonal defeats any
/// separable grid.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Method};
///
/// let peak = |x: &[f64]| x.iter().map(|&x| (-50.0 * (x - 0.3).powi(2)).exp()).product::<f64>();
/// let integral = Integral::over(peak, [0.0..1.0, 0.0..1.0, 0.0..1.0])
///     .samples(1 << 18)
///     .method(Method::vegas().iterations(10).warmup(3));
/// let estimate = pollster::block_on(integral.run_inline())?;
/// let one_axis = (std::f64::consts::PI / 50.0).sqrt(); // the tails outside [0, 1] are tiny
/// assert!((estimate.value - one_axis.powi(3)).abs() < 5.0 * estimate.std_error + 1e-6);
/// assert!(!estimate.iterations_disagree());
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vegas {
    iterations: u32,
    warmup: u32,
    alpha: f64,
    increments: u32,
}

impl Vegas {
    /// 10 iterations, the first 2 discarded as warm-up, vegas's damping
    /// `alpha = 0.5` and its choice of increments.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::method::Vegas::new(), quadpipe::Method::vegas());
    /// ```
    pub const fn new() -> Vegas {
        Vegas {
            iterations: 10,
            warmup: 2,
            alpha: DEFAULT_ALPHA,
            increments: 0,
        }
    }

    /// Iterations, each with `samples / iterations` points; at least 1.
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

    /// Leading iterations that only train the grid and are left out of the
    /// average; fewer than the iterations.
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
    /// adapts, larger adapts faster but follows noise more. 0.5 is the
    /// default of Lepage's Python package `vegas` (GSL and Numerical
    /// Recipes use 1.5 with a coarser grid and stronger smoothing).
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

    /// Increments per axis, at most 65536; 0 chooses as `vegas` does:
    /// `min(samples per iteration / 10, 1000)`.
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

    /// The settings that decide the bits, for a checkpoint's fingerprint.
    pub(crate) fn fingerprint(&self, out: &mut Vec<u8>) {
        for field in [self.iterations, self.warmup, self.increments] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(&self.alpha.to_bits().to_le_bytes());
    }
}

impl Default for Vegas {
    fn default() -> Vegas {
        Vegas::new()
    }
}

/// A VEGAS run: the integrand, the box, how to sample it, and everything
/// carried from one iteration to the next.
pub(crate) struct VegasRun<I> {
    integrand: Arc<I>,
    domain: Domain,
    seed: u64,
    chunk_size: u64,
    policy: NonFinite,
    iterations: u32,
    warmup: u32,
    alpha: f64,
    increments: usize,
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
    grid: Grid,
}

impl<I: Integrand> VegasRun<I> {
    /// Checks the settings against the sample budget: each iteration takes
    /// `samples / iterations` points (the remainder is not drawn), and
    /// needs two of them for a standard error.
    pub(crate) fn new(
        integrand: &Arc<I>,
        settings: &Settings,
        vegas: Vegas,
    ) -> Result<Self, Error> {
        let domain = settings.domain()?;
        let invalid = |reason| Err(Error::InvalidVegas { reason });
        if vegas.iterations == 0 {
            return invalid("iterations must be at least 1");
        }
        if vegas.warmup >= vegas.iterations {
            return invalid("warmup must be fewer than iterations, or nothing is averaged");
        }
        if !(vegas.alpha.is_finite() && vegas.alpha >= 0.0) {
            return invalid("alpha must be finite and at least 0");
        }
        if vegas.increments > MAX_INCREMENTS {
            return invalid("increments must be at most 65536");
        }
        let per_iteration = settings.samples / u64::from(vegas.iterations);
        if per_iteration < 2 {
            return invalid("each iteration needs at least 2 samples: raise samples");
        }
        let increments = match vegas.increments {
            0 => increments_for(per_iteration),
            n => n as usize,
        };
        let grid = Grid::uniform(domain.lo(), domain.width(), increments);
        let chunk_size = settings.chunk_size_for(per_iteration, domain.dims());
        Ok(VegasRun {
            integrand: integrand.clone(),
            domain,
            seed: settings.seed,
            chunk_size,
            policy: settings.non_finite,
            iterations: vegas.iterations,
            warmup: vegas.warmup,
            alpha: vegas.alpha,
            increments,
            per_iteration,
            between: Between {
                done: 0,
                iteration: 0,
                skipped: 0,
                average: IterationAverage::new(),
                last: IterationAverage::new(),
                grid,
            },
        })
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
            self.per_iteration * u64::from(self.iterations)
        })
    }

    fn next_pass(&self) -> Option<Arc<VegasIteration<I>>> {
        let between = &self.between;
        if self.domain.is_degenerate() || between.iteration == self.iterations {
            return None;
        }
        Some(Arc::new(VegasIteration {
            integrand: self.integrand.clone(),
            grid: between.grid.clone(),
            key: chunk_key(self.seed, u64::from(between.iteration)),
            samples: self.per_iteration,
            chunk_size: self.chunk_size,
            policy: self.policy,
            sign: if self.domain.is_reversed() { -1.0 } else { 1.0 },
            counted: between.iteration >= self.warmup,
        }))
    }

    /// The iteration joins the average (after warm-up), and the grid
    /// adapts to its histogram.
    fn end_pass(
        &mut self,
        pass: &VegasIteration<I>,
        merged: IterationSums,
    ) -> Result<Option<Stop>, Error> {
        let between = &mut self.between;
        let (value, std_error) = pass.result(&merged);
        between.done += merged.values.count();
        between.skipped += merged.skipped;
        between.last = IterationAverage::new();
        between.last.add(value, std_error);
        if pass.counted {
            between.average.add(value, std_error);
        }
        between.grid.refine(&merged.histogram, self.alpha);
        between.iteration += 1;
        Ok(None)
    }

    fn done(&self, running: Running<'_, Self>) -> u64 {
        self.between.done + running.map_or(0, |(_, merged)| merged.values.count())
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
        let mut average = if pass.counted {
            self.between.average
        } else {
            IterationAverage::new()
        };
        let (value, std_error) = pass.result(merged);
        average.add(value, std_error);
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
            )?,
        };
        let consistent = between.iteration < self.iterations
            && between.done == u64::from(between.iteration) * self.per_iteration;
        self.between = between;
        consistent.then_some(())
    }
}

/// An estimate from a weighted average of iterations.
fn average_estimate(average: &IterationAverage, done: u64, skipped: u64, stop: Stop) -> Estimate {
    let dof = u32::try_from(average.count().saturating_sub(1)).unwrap_or(u32::MAX);
    Estimate::new(average.value(), average.std_error(), done, stop)
        .with_skipped(skipped)
        .with_chi2(average.chi2_per_dof(), dof)
}

/// One iteration: `samples` points drawn uniformly in the unit cube and
/// mapped through `grid`, in chunks.
pub(crate) struct VegasIteration<I> {
    integrand: Arc<I>,
    grid: Grid,
    /// The iteration's own seed; chunk `i` draws from `chunk_key(key, i)`.
    key: u64,
    samples: u64,
    chunk_size: u64,
    policy: NonFinite,
    /// −1 for a one-dimensional interval given from its upper end.
    sign: f64,
    /// Whether the iteration joins the average (it is past the warm-up).
    counted: bool,
}

/// What chunks of an iteration yield and merge into: the sums of `f · J`,
/// and their squares histogrammed per axis and increment.
pub(crate) struct IterationSums {
    values: Accumulator,
    histogram: Histogram,
    skipped: u64,
}

impl<I: Integrand> VegasIteration<I> {
    /// The iteration's estimate and standard error.
    fn result(&self, merged: &IterationSums) -> (f64, f64) {
        (self.sign * merged.values.mean(), merged.values.std_error())
    }

    /// `count` points from `lanes`: `f · J` summed, shifted by the first
    /// value, and histogrammed.
    fn sample(
        &self,
        lanes: &mut Lanes,
        count: u64,
        cancel: &AtomicBool,
    ) -> Result<IterationSums, Error> {
        let dims = self.grid.dims();
        let block = (COORDINATES_PER_BLOCK / dims / LANES).max(1) * LANES;
        let (zeros, ones) = (vec![0.0; dims], vec![1.0; dims]);
        let mut y = vec![0.0; block * dims];
        let mut x = vec![0.0; block * dims];
        let mut cells = vec![0; block * dims];
        let mut jacobians = vec![0.0; block];
        let mut values = vec![0.0; block];
        let mut histogram = Histogram::new(dims, self.grid.increments());
        let (mut shift, mut sum, mut squares, mut skipped) = (None, 0.0, 0.0, 0);
        let mut done = 0;
        while done < count {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let n = block.min((count - done) as usize);
            let (y, x, cells) = (
                &mut y[..n * dims],
                &mut x[..n * dims],
                &mut cells[..n * dims],
            );
            fill_points(lanes, &zeros, &ones, y);
            for (((y, x), cells), jacobian) in y
                .chunks_exact(dims)
                .zip(x.chunks_exact_mut(dims))
                .zip(cells.chunks_exact_mut(dims))
                .zip(&mut jacobians)
            {
                *jacobian = self.grid.map(y, x, cells);
            }
            self.integrand.evaluate(dims, x, &mut values[..n]);
            for (p, (&value, &jacobian)) in values.iter().zip(&jacobians).take(n).enumerate() {
                let weighted = if value.is_finite() {
                    value * jacobian
                } else if self.policy == NonFinite::Skip {
                    skipped += 1;
                    0.0
                } else {
                    return Err(Error::NonFiniteValue {
                        point: x[p * dims..(p + 1) * dims].into(),
                        value,
                    });
                };
                histogram.add(&cells[p * dims..(p + 1) * dims], weighted);
                let d = weighted - *shift.get_or_insert(weighted);
                sum += d;
                squares += d * d;
            }
            done += n as u64;
        }
        if !(sum.is_finite() && squares.is_finite() && histogram.is_finite()) {
            return Err(Error::Overflow);
        }
        Ok(IterationSums {
            values: Accumulator::from_shifted_sums(count, shift.unwrap_or(0.0), sum, squares),
            histogram,
            skipped,
        })
    }
}

impl<I: Integrand> Pass for VegasIteration<I> {
    type Part = IterationSums;
    type Merged = IterationSums;

    fn chunks(&self) -> u64 {
        self.samples.div_ceil(self.chunk_size)
    }

    fn run_chunk(&self, index: u64, cancel: &AtomicBool) -> Result<IterationSums, Error> {
        let start = index * self.chunk_size;
        let mut lanes = Lanes::new(chunk_key(self.key, index));
        self.sample(
            &mut lanes,
            self.chunk_size.min(self.samples - start),
            cancel,
        )
    }

    fn start(&self) -> IterationSums {
        IterationSums {
            values: Accumulator::new(),
            histogram: Histogram::new(self.grid.dims(), self.grid.increments()),
            skipped: 0,
        }
    }

    fn overflowed(&self, merged: &IterationSums) -> bool {
        overflowed(&merged.values) || !merged.histogram.is_finite()
    }

    fn merge(&self, merged: &mut IterationSums, part: IterationSums) {
        merged.values.merge(&part.values);
        merged.histogram.merge(&part.histogram);
        merged.skipped += part.skipped;
    }

    /// The sums, the skipped count, then the histogram.
    fn encode(&self, merged: &IterationSums, out: &mut Vec<u8>) {
        merged.values.encode(out);
        out.extend_from_slice(&merged.skipped.to_le_bytes());
        merged.histogram.encode(out);
    }

    fn decode(&self, reader: &mut StateReader<'_>) -> Option<IterationSums> {
        let values = Accumulator::from_raw((reader.u64()?, reader.f64()?, reader.f64()?));
        let skipped = reader.u64()?;
        let histogram = Histogram::decode(reader, self.grid.dims(), self.grid.increments())?;
        Some(IterationSums {
            values,
            histogram,
            skipped,
        })
    }

    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &IterationSums, out: &mut Vec<u8>) {
        self.encode(part, out);
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<IterationSums> {
        let mut reader = StateReader(bytes);
        let part = self.decode(&mut reader)?;
        reader.is_done().then_some(part)
    }
}
