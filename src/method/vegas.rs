//! VEGAS+: iterations of importance sampling through an adaptive grid,
//! stratified over the hypercubes of `vegas_strata`, each iteration's
//! points run through the chunked driver, a chunk being a range of
//! hypercubes.
//!
//! The grid ([`Grid`]) is fixed while an iteration runs, so its chunks are
//! pure functions of the grid, the seed, the iteration and the chunk's
//! index, like plain Monte Carlo's. The driver merges their sums and
//! histograms in chunk order; between iterations, on the awaiting task,
//! the grid is refined from the merged histogram and the iteration's
//! estimate joins the weighted average. So every step is a fixed sequence
//! of floating-point operations whatever the threads or runtime, and the
//! run is bit-identical across them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::checkpoint::{Checkpoint, Header, StateReader};
use crate::domain::Domain;
use crate::kernel::fill_points;
use crate::method::vegas_grid::{Grid, Histogram, IterationAverage, increments_for};
use crate::method::vegas_strata::{CubeSums, CubeTally, DEFAULT_BETA, Strata};
use crate::pipeline::{Backend, Checkpointing, ChunkedWork, announce, drive_merged};
use crate::sample::{LANES, Lanes, chunk_key};
use crate::stop::StopRules;
use crate::task::TaskLink;
use crate::{Error, Estimate, Integrand, NonFinite, Progress, Stop};

/// Coordinates in a block of points, as for plain Monte Carlo: the block's
/// `y`, `x` and cells stay in the L1 and L2 caches between being drawn,
/// mapped, evaluated and histogrammed.
const COORDINATES_PER_BLOCK: usize = 4096;

/// The most increments per axis. Every chunk in flight holds a histogram of
/// 16 bytes per increment per axis: 16 MiB at this many on 16 axes.
pub(crate) const MAX_INCREMENTS: u32 = 1 << 16;

/// VEGAS's tag in a checkpoint.
pub(crate) const KIND: u8 = 4;

/// A checked `Method::Vegas`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VegasSettings {
    iterations: u32,
    warmup: u32,
    alpha: f64,
    /// VEGAS+'s exponent of `σ_h` in the allocation of samples to
    /// hypercubes (`vegas_strata`); 0 stratifies evenly.
    beta: f64,
    increments: usize,
    /// Samples in each warm-up iteration.
    warmup_per_iteration: u64,
    /// Samples in each counted iteration.
    per_iteration: u64,
}

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

impl VegasSettings {
    /// Checks the method's fields against the sample budget: the warm-up
    /// iterations share [`warmup_share`] of it equally, the counted ones
    /// the rest (remainders are not drawn), and each needs two points for
    /// a standard error.
    pub(crate) fn new(
        iterations: u32,
        warmup: u32,
        alpha: f64,
        increments: u32,
        samples: u64,
    ) -> Result<VegasSettings, Error> {
        let invalid = |reason| Err(Error::InvalidVegas { reason });
        if iterations == 0 {
            return invalid("iterations must be at least 1");
        }
        if warmup >= iterations {
            return invalid("warmup must be fewer than iterations, or nothing is averaged");
        }
        if !(alpha.is_finite() && alpha >= 0.0) {
            return invalid("alpha must be finite and at least 0");
        }
        if increments > MAX_INCREMENTS {
            return invalid("increments must be at most 65536");
        }
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
        let increments = match increments {
            0 => increments_for(first),
            n => n as usize,
        };
        Ok(VegasSettings {
            iterations,
            warmup,
            alpha,
            beta: DEFAULT_BETA,
            increments,
            warmup_per_iteration,
            per_iteration,
        })
    }

    /// The samples all iterations draw together.
    pub(crate) fn total(&self) -> u64 {
        self.done_before(self.iterations)
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
    fn strata(&self, dims: usize, iteration: u32) -> Strata {
        Strata::new(dims, self.samples_of(iteration), self.beta)
    }
}

/// A VEGAS run: the integrand, the box, and how to sample it.
pub(crate) struct Vegas<I> {
    pub(crate) integrand: Arc<I>,
    pub(crate) domain: Domain,
    pub(crate) seed: u64,
    pub(crate) chunk_size: u64,
    pub(crate) policy: NonFinite,
    pub(crate) settings: VegasSettings,
}

/// Everything a run carries from one iteration to the next: all a
/// checkpoint holds.
#[derive(Clone, Debug, PartialEq)]
struct Between {
    /// Samples drawn, warm-up included.
    done: u64,
    /// The next iteration to run.
    iteration: u32,
    skipped: u64,
    average: IterationAverage,
    grid: Grid,
    strata: Strata,
}

impl Between {
    /// `done` first, so that a checkpoint can say how far it got without
    /// decoding the rest.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.done.to_le_bytes());
        out.extend_from_slice(&u64::from(self.iteration).to_le_bytes());
        out.extend_from_slice(&self.skipped.to_le_bytes());
        self.average.encode(out);
        self.grid.encode(out);
        self.strata.encode(out);
    }

    fn decode(state: &[u8], domain: &Domain, settings: &VegasSettings) -> Option<Between> {
        let mut reader = StateReader(state);
        let between = Between {
            done: reader.u64()?,
            iteration: u32::try_from(reader.u64()?).ok()?,
            skipped: reader.u64()?,
            average: IterationAverage::decode(&mut reader)?,
            grid: Grid::decode(
                &mut reader,
                domain.lo(),
                domain.width(),
                settings.increments,
            )?,
            strata: Strata::decode(&mut reader)?,
        };
        let fresh = settings.strata(
            domain.dims(),
            between.iteration.min(settings.iterations - 1),
        );
        let consistent = between.iteration <= settings.iterations
            && between.done == settings.done_before(between.iteration)
            && between.strata.slices() == fresh.slices()
            && between.strata.samples() == fresh.samples();
        (reader.is_done() && consistent).then_some(between)
    }
}

/// The samples a VEGAS checkpoint's state says were drawn.
pub(crate) fn samples_done(state: &[u8]) -> u64 {
    StateReader(state).u64().unwrap_or(0)
}

impl<I: Integrand> Vegas<I> {
    /// Runs the iterations, each through the driver with its chunks on
    /// `backend`, and returns the weighted average of those after the
    /// warm-up. A tolerance is checked on that average after each
    /// iteration; a time limit also within one, whose partial sums then
    /// count as a (smaller) iteration. Checkpoints fall between
    /// iterations: one is written when at least `every` chunks have merged
    /// since the last.
    pub(crate) async fn run<B: Backend>(
        self,
        backend: &B,
        link: TaskLink,
        rules: StopRules,
        checkpointing: Checkpointing,
    ) -> Result<Estimate, Error> {
        let settings = self.settings;
        let total = if self.domain.is_degenerate() {
            0
        } else {
            settings.total()
        };
        announce(Some(total), &link);
        if self.domain.is_degenerate() {
            let exact = Estimate::new(0.0, 0.0, 0, Stop::Exact);
            publish(&link, 0, total, exact);
            return Ok(exact);
        }
        let mut between = match &checkpointing.resume {
            Some(checkpoint) => Between::decode(checkpoint.state(), &self.domain, &settings)
                .ok_or(Error::CheckpointCorrupt {
                    reason: "its state does not fit the method",
                })?,
            None => Between {
                done: 0,
                iteration: 0,
                skipped: 0,
                average: IterationAverage::new(),
                grid: Grid::uniform(self.domain.lo(), self.domain.width(), settings.increments),
                strata: settings.strata(self.domain.dims(), 0),
            },
        };
        let first = between.iteration;
        let started = Instant::now();
        let mut chunks_since_saved = 0;
        // The last iteration's own result, for a time limit hit in warm-up.
        let mut last = IterationAverage::new();
        let stop = loop {
            let estimate = self.estimate(&between, &last, Stop::Partial);
            if between.average.count() > 0
                && rules
                    .tolerance
                    .is_some_and(|tolerance| tolerance.is_met(&estimate))
            {
                break Stop::ToleranceMet;
            }
            if between.iteration == settings.iterations {
                break rules.exhausted();
            }
            // What is left of the time limit; the first iteration always
            // runs, as the driver always merges a first chunk.
            let time_limit = match rules.time_limit {
                Some(limit) if between.iteration > first => {
                    if backend.time_is_up(started, limit)? {
                        break Stop::TimeLimit;
                    }
                    let left = limit.saturating_sub(started.elapsed());
                    // Under MPI rank 0 decided: this rank's clock may differ.
                    Some(left.max(Duration::from_nanos(1)))
                }
                limit => limit,
            };
            let counted = between.iteration >= settings.warmup;
            let work = Arc::new(self.iteration(&between, counted, total));
            let iteration_rules = StopRules {
                tolerance: None,
                time_limit,
            };
            let (merged, stop) = drive_merged(
                &work,
                backend,
                &link,
                iteration_rules,
                Checkpointing::default(),
            )
            .await?;
            let (value, std_error) = work.result(&merged);
            between.done += merged.count;
            between.skipped += merged.skipped;
            last = IterationAverage::new();
            last.add(value, std_error);
            if counted {
                between.average.add(value, std_error);
            }
            if stop == Stop::TimeLimit {
                break Stop::TimeLimit;
            }
            between.grid.refine(&merged.histogram, settings.alpha);
            between.strata.update(&merged.cubes);
            if between.iteration + 1 == settings.warmup {
                // The counted iterations' budget: new hypercubes.
                between.strata = settings.strata(self.domain.dims(), settings.warmup);
            }
            between.iteration += 1;
            chunks_since_saved += work.chunks();
            if self.save(&between, &checkpointing, &link, chunks_since_saved)? {
                chunks_since_saved = 0;
            }
            let estimate = self.estimate(&between, &last, Stop::Partial);
            publish(&link, between.done, total, estimate);
        };
        let estimate = self.estimate(&between, &last, stop);
        publish(&link, between.done, total, estimate);
        Ok(estimate)
    }

    /// The work of the iteration `between` is at.
    fn iteration(&self, between: &Between, counted: bool, total: u64) -> VegasIteration<I> {
        VegasIteration {
            integrand: self.integrand.clone(),
            grid: between.grid.clone(),
            ranges: between.strata.chunks(self.chunk_size),
            strata: between.strata.clone(),
            key: chunk_key(self.seed, u64::from(between.iteration)),
            policy: self.policy,
            sign: if self.domain.is_reversed() { -1.0 } else { 1.0 },
            before: Before {
                done: between.done,
                skipped: between.skipped,
                total,
                average: counted.then_some(between.average),
            },
        }
    }

    /// The run's estimate: the average after warm-up, or, when a time
    /// limit ended the run before any iteration counted, the last
    /// iteration's own.
    fn estimate(&self, between: &Between, last: &IterationAverage, stop: Stop) -> Estimate {
        let average = if between.average.count() > 0 {
            &between.average
        } else {
            last
        };
        average_estimate(average, between.done, between.skipped, stop)
    }

    /// Publishes and writes the checkpoint due after an iteration; true if
    /// one was written to its file.
    fn save(
        &self,
        between: &Between,
        checkpointing: &Checkpointing,
        link: &TaskLink,
        chunks_since_saved: u64,
    ) -> Result<bool, Error> {
        let Some(header) = checkpointing.header else {
            return Ok(false);
        };
        let due = checkpointing
            .every
            .as_ref()
            .filter(|(every, _)| chunks_since_saved >= *every);
        if !checkpointing.publish && due.is_none() {
            return Ok(false);
        }
        let mut state = Vec::new();
        between.encode(&mut state);
        let chunks_per_iteration = between.strata.chunks(self.chunk_size).len() as u64;
        let header = Header {
            kind: KIND,
            next_chunk: u64::from(between.iteration) * chunks_per_iteration,
            ..header
        };
        let checkpoint = Checkpoint::new(&header, &state);
        if let Some((_, path)) = due {
            checkpoint.write(path)?;
        }
        if checkpointing.publish {
            link.set_checkpoint(checkpoint);
        }
        Ok(due.is_some())
    }
}

fn publish(link: &TaskLink, done: u64, total: u64, estimate: Estimate) {
    link.progress.set(Progress {
        done,
        total: Some(total),
        estimate: Some(estimate),
    });
}

/// An estimate from a weighted average of iterations.
fn average_estimate(average: &IterationAverage, done: u64, skipped: u64, stop: Stop) -> Estimate {
    let dof = u32::try_from(average.count().saturating_sub(1)).unwrap_or(u32::MAX);
    Estimate::new(average.value(), average.std_error(), done, stop)
        .with_skipped(skipped)
        .with_chi2(average.chi2_per_dof(), dof)
}

/// One iteration: each hypercube of `strata` gets its count of points,
/// drawn uniformly in it and mapped through `grid`; chunks are ranges of
/// hypercubes.
struct VegasIteration<I> {
    integrand: Arc<I>,
    grid: Grid,
    strata: Strata,
    /// The chunks' hypercubes, a pure function of the strata's counts.
    ranges: Vec<std::ops::Range<usize>>,
    /// The iteration's own seed; chunk `i` draws from `chunk_key(key, i)`.
    key: u64,
    policy: NonFinite,
    /// −1 for a one-dimensional interval given from its upper end.
    sign: f64,
    before: Before,
}

/// The run before this iteration, for progress while it runs.
struct Before {
    done: u64,
    skipped: u64,
    total: u64,
    /// The average so far, if this iteration joins it (not in warm-up).
    average: Option<IterationAverage>,
}

/// What chunks of an iteration yield and merge into: each hypercube's
/// sums of `f · J`, in hypercube order, and the squares histogrammed per
/// axis and increment.
struct IterationSums {
    count: u64,
    cubes: Vec<CubeSums>,
    histogram: Histogram,
    skipped: u64,
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
            partial_estimate(&merged.cubes)
        };
        (self.sign * value, variance.sqrt())
    }

    /// The points of hypercubes `range`, from `lanes`: `f · J` tallied per
    /// hypercube and histogrammed.
    fn sample(
        &self,
        lanes: &mut Lanes,
        range: std::ops::Range<usize>,
        cancel: &AtomicBool,
    ) -> Result<IterationSums, Error> {
        let dims = self.grid.dims();
        let counts = &self.strata.counts()[range.clone()];
        let count: u64 = counts.iter().sum();
        let block = (COORDINATES_PER_BLOCK / dims / LANES).max(1) * LANES;
        let (zeros, ones) = (vec![0.0; dims], vec![1.0; dims]);
        let widths: Vec<f64> = self
            .strata
            .slices()
            .iter()
            .map(|&s| 1.0 / s as f64)
            .collect();
        let mut corner = vec![0.0; dims];
        let mut u = vec![0.0; block * dims];
        let mut x = vec![0.0; block * dims];
        let mut cells = vec![0; block * dims];
        let mut jacobians = vec![0.0; block];
        let mut values = vec![0.0; block];
        let mut owners = vec![0; block];
        let mut histogram = Histogram::new(dims, self.grid.increments());
        let mut tallies = vec![CubeTally::default(); counts.len()];
        let mut skipped = 0;
        // The hypercube being filled, and how many of its points are left.
        let (mut cube, mut left) = (0, 0);
        let mut done = 0;
        while done < count {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let n = block.min((count - done) as usize);
            let (u, x, cells) = (
                &mut u[..n * dims],
                &mut x[..n * dims],
                &mut cells[..n * dims],
            );
            fill_points(lanes, &zeros, &ones, u);
            // Each point's hypercube, then the points into them, in place.
            for (u, owner) in u.chunks_exact_mut(dims).zip(&mut owners) {
                while left == 0 {
                    self.strata.corner(range.start + cube, &mut corner);
                    left = counts[cube];
                    cube += 1;
                }
                left -= 1;
                *owner = cube - 1;
                for ((u, &c), &w) in u.iter_mut().zip(&corner).zip(&widths) {
                    *u = c + *u * w;
                }
            }
            let jacobians = &mut jacobians[..n];
            self.grid.map_block(u, x, cells, jacobians);
            let values = &mut values[..n];
            self.integrand.evaluate(dims, x, values);
            // f · J, in place of f.
            for (p, (value, &jacobian)) in values.iter_mut().zip(jacobians.iter()).enumerate() {
                *value = if value.is_finite() {
                    *value * jacobian
                } else if self.policy == NonFinite::Skip {
                    skipped += 1;
                    0.0
                } else {
                    return Err(Error::NonFiniteValue {
                        point: x[p * dims..(p + 1) * dims].into(),
                        value: *value,
                    });
                };
            }
            histogram.add_block(cells, values);
            for (&weighted, &owner) in values.iter().zip(&owners) {
                tallies[owner].push(weighted);
            }
            done += n as u64;
        }
        let cubes: Vec<CubeSums> = tallies.iter().map(CubeTally::finish).collect();
        let finite = cubes.iter().all(|c| c.mean.is_finite() && c.m2.is_finite());
        if !(finite && histogram.is_finite()) {
            return Err(Error::Overflow);
        }
        Ok(IterationSums {
            count,
            cubes,
            histogram,
            skipped,
        })
    }
}

/// The mean of the hypercubes' means and its standard error from their
/// spread, for an iteration cut short: its hypercubes are a part of the
/// cube, not all of it, so the stratified variance would not hold.
fn partial_estimate(cubes: &[CubeSums]) -> (f64, f64) {
    let m = cubes.len() as f64;
    let mean = cubes.iter().map(|c| c.mean).sum::<f64>() / m;
    if cubes.len() < 2 {
        let within = cubes.first().map_or(f64::INFINITY, |c| {
            c.m2 / (c.count.saturating_sub(1).max(1) * c.count) as f64
        });
        return (mean, within);
    }
    let spread = cubes.iter().map(|c| (c.mean - mean).powi(2)).sum::<f64>() / (m - 1.0);
    (mean, spread / m)
}

impl<I: Integrand> ChunkedWork for VegasIteration<I> {
    type Part = IterationSums;
    type Merged = IterationSums;

    /// The whole run's budget: progress counts across iterations.
    fn total(&self) -> Option<u64> {
        Some(self.before.total)
    }

    fn chunks(&self) -> u64 {
        self.ranges.len() as u64
    }

    fn run_chunk(&self, index: u64, cancel: &AtomicBool) -> Result<IterationSums, Error> {
        let mut lanes = Lanes::new(chunk_key(self.key, index));
        self.sample(&mut lanes, self.ranges[index as usize].clone(), cancel)
    }

    fn start(&self) -> IterationSums {
        IterationSums {
            count: 0,
            cubes: Vec::with_capacity(self.strata.hypercubes()),
            histogram: Histogram::new(self.grid.dims(), self.grid.increments()),
            skipped: 0,
        }
    }

    fn merge(&self, merged: &mut IterationSums, part: IterationSums) {
        merged.count += part.count;
        merged.cubes.extend_from_slice(&part.cubes);
        merged.histogram.merge(&part.histogram);
        merged.skipped += part.skipped;
    }

    fn done(&self, merged: &IterationSums) -> u64 {
        self.before.done + merged.count
    }

    /// For progress: the average so far with this iteration's prefix
    /// joined to it, or in warm-up the prefix alone.
    fn estimate(&self, merged: &IterationSums, stop: Stop) -> Estimate {
        let mut average = self.before.average.unwrap_or_default();
        let (value, std_error) = self.result(merged);
        average.add(value, std_error);
        average_estimate(
            &average,
            self.done(merged),
            self.before.skipped + merged.skipped,
            stop,
        )
    }

    const KIND: u8 = KIND;

    /// The count, the skipped count, the hypercubes, then the histogram.
    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &IterationSums, out: &mut Vec<u8>) {
        out.extend_from_slice(&part.count.to_le_bytes());
        out.extend_from_slice(&part.skipped.to_le_bytes());
        out.extend_from_slice(&(part.cubes.len() as u64).to_le_bytes());
        for cube in &part.cubes {
            out.extend_from_slice(&cube.count.to_le_bytes());
            out.extend_from_slice(&cube.mean.to_bits().to_le_bytes());
            out.extend_from_slice(&cube.m2.to_bits().to_le_bytes());
        }
        part.histogram.encode(out);
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<IterationSums> {
        let mut reader = StateReader(bytes);
        let count = reader.u64()?;
        let skipped = reader.u64()?;
        let cubes = usize::try_from(reader.u64()?).ok()?;
        if cubes > self.strata.hypercubes() {
            return None;
        }
        let cubes = (0..cubes)
            .map(|_| {
                Some(CubeSums {
                    count: reader.u64()?,
                    mean: reader.f64()?,
                    m2: reader.f64()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let histogram = Histogram::decode(&mut reader, self.grid.dims(), self.grid.increments())?;
        reader.is_done().then_some(IterationSums {
            count,
            cubes,
            histogram,
            skipped,
        })
    }

    fn encode(&self, _: &IterationSums, _: &mut Vec<u8>) {
        unreachable!("VEGAS checkpoints between iterations, never inside one");
    }

    fn decode(&self, _: &[u8]) -> Option<IterationSums> {
        unreachable!("VEGAS resumes between iterations, never inside one");
    }
}
