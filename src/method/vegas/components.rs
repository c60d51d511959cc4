//! VEGAS+ for a vector integrand: the scalar run's iterations, grid and
//! strata, with `m` values at each point.
//!
//! The map and the strata adapt to one weight ([`Adapt`]): every
//! component by default, or the one [`Vegas::adapt_to`] names. Each
//! component is then estimated as the scalar run estimates its one: per
//! hypercube its mean and variance of the mean, summed in hypercube order
//! into the iteration's estimate `Σ V_h mean_h` and variance
//! `Σ V_h² s_h² / n_h`; each pair's covariance is `Σ V_h² c_h / n_h`
//! alike, `c_h` the pair's sample covariance in the hypercube. The
//! iterations after the warm-up are averaged as the scalar run averages
//! them, by their samples: `Ī_j = Σ n_k I_kj / Σ n_k`, a linear
//! combination, so `cov(Ī_j, Ī_l) = Σ n_k² cov_k(j, l) / (Σ n_k)²`.
//!
//! A run that adapts to component `j` draws the scalar run's points on
//! the scalar run's grid and strata, and sums component `j`'s values with
//! the scalar run's operations in its order: component `j` has, to the
//! bit, the estimate of a scalar run of it alone.

use std::sync::Arc;

use crate::driver::checkpoint::StateReader;
use crate::driver::halt::Halt;
use crate::driver::pass::{Pass, Passes, Running};
use crate::kernel::chunk::{McPart, pair_indices, pairs};
use crate::method::plain::{decode_part, encode_part};
use crate::method::vegas::average::IterationAverage;
use crate::method::vegas::grid::Histogram;
use crate::method::vegas::strata::CubeSums;
use crate::method::vegas::vector_sampler::{Adapt, VectorChunk, VectorPart};
use crate::method::vegas::{Vegas, VegasIteration, VegasRun};
use crate::result::estimate::ComponentEstimate;
use crate::sample::{Lanes, chunk_key};
use crate::spec::settings::Settings;
use crate::{Error, Estimate, Integrand, Stop};

/// A VEGAS+ run of a vector integrand.
pub(crate) struct VectorVegasRun<I> {
    /// The scalar run's schedule, grid, strata and samples drawn; its own
    /// average and skipped count stay empty.
    run: VegasRun<I>,
    m: usize,
    adapt: Adapt,
    /// Per component, its values that were not finite and counted as 0.
    skipped: Vec<u64>,
    average: Average,
    /// The last iteration's own result, for a time limit hit in warm-up.
    last: Average,
}

impl<I: Integrand> VectorVegasRun<I> {
    /// The scalar run's checks, `adapt_to` against the integrand's
    /// components among them.
    pub(crate) fn new(
        integrand: &Arc<I>,
        settings: &Settings,
        vegas: Vegas,
    ) -> Result<Self, Error> {
        let run = VegasRun::new(integrand, settings, vegas)?;
        let m = integrand.components();
        Ok(VectorVegasRun {
            run,
            m,
            adapt: vegas.adapt.map_or(Adapt::All, Adapt::Component),
            skipped: vec![0; m],
            average: Average::new(m),
            last: Average::new(m),
        })
    }

    /// The run's estimate between iterations: the average after warm-up,
    /// or the last iteration's own before any counted.
    fn between_estimate(&self, stop: Stop) -> Estimate {
        let average = if self.average.counted() {
            &self.average
        } else {
            &self.last
        };
        average.estimate(self.run.between.done, &self.skipped, stop)
    }
}

impl<I: Integrand> Passes for VectorVegasRun<I> {
    type Pass = VectorIteration<I>;

    fn total(&self) -> Option<u64> {
        self.run.total()
    }

    fn next_pass(&self) -> Option<Arc<VectorIteration<I>>> {
        let base = self.run.iteration()?;
        Some(Arc::new(VectorIteration {
            base,
            m: self.m,
            adapt: self.adapt,
        }))
    }

    /// The iteration joins every component's average (after warm-up),
    /// and the grid and strata adapt to its weight.
    fn end_pass(
        &mut self,
        pass: &VectorIteration<I>,
        merged: VectorSums,
    ) -> Result<Option<Stop>, Error> {
        let result = pass.result(&merged);
        for (skipped, more) in self.skipped.iter_mut().zip(&merged.skipped) {
            *skipped += more;
        }
        self.last = Average::new(self.m);
        self.last.add(&result, merged.count);
        if pass.base.counted {
            self.average.add(&result, merged.count);
        }
        let weights = pass.base.strata.weights_of(&merged.adaptation);
        self.run.advance(merged.count, &merged.histogram, weights);
        Ok(None)
    }

    fn done(&self, running: Running<'_, Self>) -> u64 {
        self.run.between.done + running.map_or(0, |(_, merged)| merged.count)
    }

    /// As the scalar run's: inside an iteration, the average so far with
    /// the iteration's prefix joined to it.
    fn estimate(&self, running: Running<'_, Self>, stop: Stop) -> Estimate {
        if self.run.domain.is_degenerate() {
            let zero = ComponentEstimate {
                value: 0.0,
                std_error: 0.0,
                skipped: 0,
                heavy_tails: false,
            };
            let covariance = vec![0.0; self.m * self.m];
            return Estimate::vector(vec![zero; self.m], Some(covariance), 0, Stop::Exact);
        }
        let Some((pass, merged)) = running else {
            return self.between_estimate(stop);
        };
        if merged.cubes == 0 {
            return self.between_estimate(stop);
        }
        let mut average = if pass.base.counted {
            self.average.clone()
        } else {
            Average::new(self.m)
        };
        average.add(&pass.result(merged), merged.count);
        let skipped: Vec<u64> = (self.skipped.iter().zip(&merged.skipped))
            .map(|(a, b)| a + b)
            .collect();
        average.estimate(self.done(running), &skipped, stop)
    }

    /// A tolerance looks at whole iterations, once one has counted.
    fn is_complete(&self, running: Running<'_, Self>) -> bool {
        running.is_none() && self.average.counted()
    }

    /// The scalar run's state, then each component's skipped count, the
    /// average and the last iteration's.
    fn encode(&self, out: &mut Vec<u8>) {
        self.run.encode(out);
        for skipped in &self.skipped {
            out.extend_from_slice(&skipped.to_le_bytes());
        }
        self.average.encode(out);
        self.last.encode(out);
    }

    fn decode(&mut self, reader: &mut StateReader<'_>) -> Option<()> {
        self.run.decode(reader)?;
        self.skipped = (0..self.m).map(|_| reader.u64()).collect::<Option<_>>()?;
        self.average = Average::decode(reader, self.m)?;
        self.last = Average::decode(reader, self.m)?;
        Some(())
    }
}

/// Every component's average of the iterations, each as the scalar run
/// averages its one ([`IterationAverage`]), and the covariance of the
/// averages.
#[derive(Clone, Debug, PartialEq)]
struct Average {
    each: Vec<IterationAverage>,
    /// `Σ n_k` over the iterations whose numbers were all finite.
    samples: f64,
    /// Per pair of components, `Σ n_k² cov_k(j, l)`.
    spread: Vec<f64>,
}

impl Average {
    fn new(m: usize) -> Average {
        Average {
            each: vec![IterationAverage::new(); m],
            samples: 0.0,
            spread: vec![0.0; pairs(m)],
        }
    }

    /// Adds an iteration of `samples` samples. Its covariances count only
    /// if every number of it is finite: a component's average skips an
    /// iteration with an infinite error and turns NaN for a NaN.
    fn add(&mut self, iteration: &IterationResult, samples: u64) {
        let estimates = iteration.values.iter().zip(&iteration.std_errors);
        for (average, (&value, &std_error)) in self.each.iter_mut().zip(estimates) {
            average.add(value, std_error, samples);
        }
        let finite = (iteration.values.iter())
            .chain(&iteration.std_errors)
            .chain(&iteration.covariance)
            .all(|x| x.is_finite());
        if finite {
            let n = samples.max(1) as f64;
            self.samples += n;
            for (spread, &covariance) in self.spread.iter_mut().zip(&iteration.covariance) {
                *spread += n * n * covariance;
            }
        }
    }

    /// Whether any iteration has counted.
    fn counted(&self) -> bool {
        self.each.iter().any(|average| average.count() > 0)
    }

    /// The `m × m` covariance matrix of the averages, row after row: each
    /// component's squared standard error on the diagonal, `Σ n_k²
    /// cov_k / (Σ n_k)²` off it (infinite before any iteration).
    fn covariance(&self) -> Vec<f64> {
        let m = self.each.len();
        let mut matrix = vec![0.0; m * m];
        for (&spread, (j, k)) in self.spread.iter().zip(pair_indices(m)) {
            let covariance = if self.samples > 0.0 {
                spread / self.samples / self.samples
            } else {
                f64::INFINITY
            };
            matrix[j * m + k] = covariance;
            matrix[k * m + j] = covariance;
        }
        for (j, average) in self.each.iter().enumerate() {
            let std_error = average.std_error();
            matrix[j * m + j] = std_error * std_error;
        }
        matrix
    }

    /// The estimate: each component's value, standard error, skipped
    /// values and `χ²`, as a scalar run reports its one, and the
    /// covariance matrix.
    fn estimate(&self, done: u64, skipped: &[u64], stop: Stop) -> Estimate {
        let each = (self.each.iter().zip(skipped))
            .map(|(average, &skipped)| ComponentEstimate {
                value: average.value(),
                std_error: average.std_error(),
                skipped,
                heavy_tails: false,
            })
            .collect();
        let chi2 = self.each.iter().map(IterationAverage::chi2).collect();
        Estimate::vector(each, Some(self.covariance()), done, stop).with_chi2_each(chi2)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        for average in &self.each {
            average.encode(out);
        }
        out.extend_from_slice(&self.samples.to_bits().to_le_bytes());
        for spread in &self.spread {
            out.extend_from_slice(&spread.to_bits().to_le_bytes());
        }
    }

    fn decode(reader: &mut StateReader<'_>, m: usize) -> Option<Average> {
        let each = (0..m)
            .map(|_| IterationAverage::decode(reader))
            .collect::<Option<_>>()?;
        let samples = reader.f64()?;
        let spread = (0..pairs(m)).map(|_| reader.f64()).collect::<Option<_>>()?;
        Some(Average {
            each,
            samples,
            spread,
        })
    }
}

/// One iteration's estimate of every component, and per pair their
/// covariance.
struct IterationResult {
    values: Vec<f64>,
    std_errors: Vec<f64>,
    covariance: Vec<f64>,
}

/// [`Strata::estimate`](super::strata::Strata::estimate)'s sums for one
/// component, added hypercube by hypercube as the chunks merge: the same
/// operations in the same order, so the same bits, without keeping every
/// component's sums of every hypercube.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct StratifiedSum {
    /// The first hypercube's mean.
    shift: f64,
    /// `Σ V_h (mean_h − shift)`.
    deviation: f64,
    /// `Σ V_h² s_h² / n_h`.
    variance: f64,
}

impl StratifiedSum {
    fn add(&mut self, volume: f64, cube: &CubeSums, first: bool) {
        if first {
            self.shift = cube.mean;
        }
        self.deviation += volume * (cube.mean - self.shift);
        self.variance += volume * volume * cube.variance_of_mean();
    }

    /// The estimate and its variance.
    fn estimate(&self) -> (f64, f64) {
        (self.shift + self.deviation, self.variance)
    }
}

/// The covariance of two components' means in a hypercube of `n` points
/// whose co-moment is `comoment`: `c / ((n − 1) n)`, 0 with fewer than
/// two points, as [`CubeSums::variance_of_mean`] is.
fn covariance_of_means(comoment: f64, n: u64) -> f64 {
    if n < 2 {
        0.0
    } else {
        comoment / ((n - 1) as f64 * n as f64)
    }
}

/// What the chunks of an iteration merge into, in hypercube order.
pub(crate) struct VectorSums {
    count: u64,
    skipped: Vec<u64>,
    /// Hypercubes merged.
    cubes: usize,
    /// Per hypercube merged, what the strata adapt to ([`Adapt::cube`]).
    adaptation: Vec<CubeSums>,
    /// Per component.
    sums: Vec<StratifiedSum>,
    /// Per pair, `Σ V_h² c_h / n_h`.
    covariance: Vec<f64>,
    /// The spread of the hypercubes' means, chunk by chunk.
    means: McPart,
    /// The first hypercube's sums and co-moments: an iteration cut short
    /// after it has only their spread.
    first: Vec<CubeSums>,
    first_comoments: Vec<f64>,
    histogram: Histogram,
}

impl VectorSums {
    fn new(m: usize, histogram: Histogram) -> VectorSums {
        VectorSums {
            count: 0,
            skipped: vec![0; m],
            cubes: 0,
            adaptation: Vec::new(),
            sums: vec![StratifiedSum::default(); m],
            covariance: vec![0.0; pairs(m)],
            means: McPart::empty(m),
            first: Vec::new(),
            first_comoments: Vec::new(),
            histogram,
        }
    }

    /// Adds the next chunk's part, its hypercubes in order; `volume` is
    /// each hypercube's, `1/H`.
    fn absorb(&mut self, part: &VectorPart, volume: f64, adapt: Adapt) {
        let (m, pairs) = (self.sums.len(), self.covariance.len());
        self.count += part.count;
        for (skipped, more) in self.skipped.iter_mut().zip(&part.skipped) {
            *skipped += more;
        }
        self.means.merge(&part.means);
        self.histogram.merge(&part.histogram);
        for (c, cube) in part.cubes.chunks_exact(m).enumerate() {
            let comoments = &part.comoments[c * pairs..][..pairs];
            let first = self.cubes == 0;
            if first {
                self.first = cube.to_vec();
                self.first_comoments = comoments.to_vec();
            }
            for (sum, cube) in self.sums.iter_mut().zip(cube) {
                sum.add(volume, cube, first);
            }
            let n = cube[0].count;
            for (covariance, &comoment) in self.covariance.iter_mut().zip(comoments) {
                *covariance += volume * volume * covariance_of_means(comoment, n);
            }
            self.adaptation.push(adapt.cube(cube));
            self.cubes += 1;
        }
    }

    /// The count, skipped counts, hypercubes, each hypercube's sums for
    /// the strata, the running sums, the means' spread, the first
    /// hypercube, then the histogram.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.count.to_le_bytes());
        for skipped in &self.skipped {
            out.extend_from_slice(&skipped.to_le_bytes());
        }
        out.extend_from_slice(&(self.cubes as u64).to_le_bytes());
        encode_cubes(&self.adaptation, out);
        for sum in &self.sums {
            for x in [sum.shift, sum.deviation, sum.variance] {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
        }
        encode_floats(&self.covariance, out);
        encode_part(&self.means, out);
        encode_cubes(&self.first, out);
        encode_floats(&self.first_comoments, out);
        self.histogram.encode(out);
    }

    /// What `encode` wrote, for a pass of `hypercubes` hypercubes on a
    /// grid of `dims` axes and `increments` increments.
    fn decode(
        reader: &mut StateReader<'_>,
        m: usize,
        hypercubes: usize,
        (dims, increments): (usize, usize),
    ) -> Option<VectorSums> {
        let mut sums = VectorSums::new(m, Histogram::new(dims, increments));
        sums.count = reader.u64()?;
        for skipped in &mut sums.skipped {
            *skipped = reader.u64()?;
        }
        sums.cubes = usize::try_from(reader.u64()?).ok()?;
        if sums.cubes > hypercubes {
            return None;
        }
        sums.adaptation = decode_cubes(reader, sums.cubes)?;
        for sum in &mut sums.sums {
            (sum.shift, sum.deviation, sum.variance) =
                (reader.f64()?, reader.f64()?, reader.f64()?);
        }
        for covariance in &mut sums.covariance {
            *covariance = reader.f64()?;
        }
        sums.means = decode_part(reader, m)?;
        let first = if sums.cubes > 0 { m } else { 0 };
        sums.first = decode_cubes(reader, first)?;
        sums.first_comoments = (0..first.min(1) * pairs(m))
            .map(|_| reader.f64())
            .collect::<Option<_>>()?;
        sums.histogram = Histogram::decode(reader, dims, increments)?;
        Some(sums)
    }
}

fn encode_floats(floats: &[f64], out: &mut Vec<u8>) {
    for x in floats {
        out.extend_from_slice(&x.to_bits().to_le_bytes());
    }
}

/// Each hypercube's count, mean and `M2`, as the scalar run writes them.
fn encode_cubes(cubes: &[CubeSums], out: &mut Vec<u8>) {
    for cube in cubes {
        out.extend_from_slice(&cube.count.to_le_bytes());
        out.extend_from_slice(&cube.mean.to_bits().to_le_bytes());
        out.extend_from_slice(&cube.m2.to_bits().to_le_bytes());
    }
}

fn decode_cubes(reader: &mut StateReader<'_>, cubes: usize) -> Option<Vec<CubeSums>> {
    (0..cubes)
        .map(|_| {
            let (count, mean, m2) = reader.moments()?;
            Some(CubeSums { count, mean, m2 })
        })
        .collect()
}

/// One iteration of a vector run: the scalar run's iteration, with `m`
/// values a point.
pub(crate) struct VectorIteration<I> {
    base: VegasIteration<I>,
    m: usize,
    adapt: Adapt,
}

impl<I: Integrand> VectorIteration<I> {
    /// Each hypercube's volume in `y`, `1/H`, as the strata compute it.
    fn volume(&self) -> f64 {
        1.0 / self.base.strata.hypercubes() as f64
    }

    /// The iteration's estimate of every component, as the scalar run's
    /// `VegasIteration::result` makes its one: stratified when whole,
    /// from the spread of the hypercubes' means when a time limit cut it
    /// short.
    fn result(&self, merged: &VectorSums) -> IterationResult {
        let sign = self.base.sign;
        if merged.cubes == self.base.strata.hypercubes() {
            let (values, std_errors) = (merged.sums.iter())
                .map(|sum| {
                    let (value, variance) = sum.estimate();
                    (sign * value, variance.sqrt())
                })
                .unzip();
            return IterationResult {
                values,
                std_errors,
                covariance: merged.covariance.clone(),
            };
        }
        let means = &merged.means;
        let n = means.count();
        let values = means.values.iter().map(|m| sign * m.mean()).collect();
        if n < 2 {
            // One hypercube (or none): the spread within it.
            let within = |m2: f64| {
                merged.first.first().map_or(f64::INFINITY, |c| {
                    m2 / (c.count.saturating_sub(1).max(1) * c.count) as f64
                })
            };
            let std_errors = (0..self.m)
                .map(|j| within(merged.first.get(j).map_or(0.0, |c| c.m2)).sqrt())
                .collect();
            let covariance = (0..pairs(self.m))
                .map(|p| within(merged.first_comoments.get(p).copied().unwrap_or(0.0)))
                .collect();
            return IterationResult {
                values,
                std_errors,
                covariance,
            };
        }
        let std_errors = (means.values.iter())
            .map(|m| (m.variance() / n as f64).sqrt())
            .collect();
        let covariance = (means.comoments.iter())
            .map(|&c| c / (n - 1) as f64 / n as f64)
            .collect();
        IterationResult {
            values,
            std_errors,
            covariance,
        }
    }

    fn empty_histogram(&self) -> Histogram {
        Histogram::new(self.base.grid.dims(), self.base.grid.increments())
    }
}

impl<I: Integrand> Pass for VectorIteration<I> {
    type Part = VectorPart;
    type Merged = VectorSums;

    fn chunks(&self) -> u64 {
        self.base.ranges.len() as u64
    }

    fn run_chunk(&self, index: u64, halt: &Halt) -> Result<VectorPart, Error> {
        let base = &self.base;
        let mut lanes = Lanes::new(chunk_key(base.key, index));
        let chunk = VectorChunk {
            integrand: &*base.integrand,
            grid: &base.grid,
            strata: &base.strata,
            policy: base.policy,
            components: self.m,
            adapt: self.adapt,
        };
        chunk.sample(&mut lanes, base.ranges[index as usize].clone(), halt)
    }

    fn start(&self) -> VectorSums {
        let mut sums = VectorSums::new(self.m, self.empty_histogram());
        sums.adaptation.reserve(self.base.strata.hypercubes());
        sums
    }

    fn merge(&self, merged: &mut VectorSums, part: VectorPart) {
        merged.absorb(&part, self.volume(), self.adapt);
    }

    /// Every chunk's sums were finite (`VectorChunk::sample` checks); the
    /// histograms' sums can overflow as they merge, and the estimate's
    /// sums show it in the estimate, which the driver checks.
    fn overflowed(&self, merged: &VectorSums) -> bool {
        !merged.histogram.is_finite()
    }

    fn encode(&self, merged: &VectorSums, out: &mut Vec<u8>) {
        merged.encode(out);
    }

    fn decode(&self, reader: &mut StateReader<'_>) -> Option<VectorSums> {
        let (grid, hypercubes) = (&self.base.grid, self.base.strata.hypercubes());
        let shape = (grid.dims(), grid.increments());
        VectorSums::decode(reader, self.m, hypercubes, shape)
    }

    /// The count, skipped counts, the hypercubes' sums and co-moments,
    /// then the histogram; the means' spread is rebuilt from the sums.
    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &VectorPart, out: &mut Vec<u8>) {
        out.extend_from_slice(&part.count.to_le_bytes());
        for skipped in &part.skipped {
            out.extend_from_slice(&skipped.to_le_bytes());
        }
        out.extend_from_slice(&((part.cubes.len() / self.m) as u64).to_le_bytes());
        encode_cubes(&part.cubes, out);
        encode_floats(&part.comoments, out);
        part.histogram.encode(out);
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<VectorPart> {
        let mut reader = StateReader(bytes);
        let count = reader.u64()?;
        let skipped = (0..self.m)
            .map(|_| reader.u64())
            .collect::<Option<Vec<u64>>>()?;
        let cubes = usize::try_from(reader.u64()?).ok()?;
        if cubes > self.base.strata.hypercubes() {
            return None;
        }
        let sums = decode_cubes(&mut reader, cubes * self.m)?;
        let comoments = (0..cubes * pairs(self.m))
            .map(|_| reader.f64())
            .collect::<Option<Vec<f64>>>()?;
        let grid = &self.base.grid;
        let histogram = Histogram::decode(&mut reader, grid.dims(), grid.increments())?;
        reader.is_done().then(|| VectorPart {
            count,
            means: super::vector_sampler::means_of(&sums, self.m),
            cubes: sums,
            comoments,
            histogram,
            skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::vegas::grid::tests::uniforms;
    use crate::method::vegas::strata::{DEFAULT_BETA, Strata};

    /// Added hypercube by hypercube, in any cut into chunks, the sums
    /// are `Strata::estimate`'s to the bit.
    #[test]
    fn stratified_sums_are_the_strata_estimate() {
        let strata = Strata::new(2, 4000, DEFAULT_BETA);
        let mut u = uniforms(8);
        let cubes: Vec<CubeSums> = strata
            .counts()
            .iter()
            .map(|&n| {
                let values: Vec<f64> = (0..n).map(|_| 1e3 + u.next().unwrap()).collect();
                CubeSums::from_values(&values)
            })
            .collect();
        let volume = 1.0 / strata.hypercubes() as f64;
        let mut sum = StratifiedSum::default();
        for (h, cube) in cubes.iter().enumerate() {
            sum.add(volume, cube, h == 0);
        }
        let (value, variance) = strata.estimate(&cubes);
        let (folded, spread) = sum.estimate();
        assert_eq!(
            (folded.to_bits(), spread.to_bits()),
            (value.to_bits(), variance.to_bits())
        );
    }

    /// Each iteration's covariance, averaged by samples: `Σ n² c / (Σ n)²`.
    #[test]
    fn the_average_of_covariances_is_weighted_by_samples_squared() {
        let mut average = Average::new(2);
        let iteration = |covariance: f64| IterationResult {
            values: vec![1.0, 2.0],
            std_errors: vec![0.1, 0.2],
            covariance: vec![covariance],
        };
        average.add(&iteration(0.01), 100);
        average.add(&iteration(0.04), 300);
        let expected = (100.0 * 100.0 * 0.01 + 300.0 * 300.0 * 0.04) / (400.0 * 400.0);
        let matrix = average.covariance();
        assert!((matrix[1] / expected - 1.0).abs() < 1e-14);
        assert_eq!(matrix[1], matrix[2]);
        assert_eq!(matrix[0], average.each[0].std_error().powi(2));
        // An iteration with an infinite error adds no covariance.
        average.add(&iteration(f64::INFINITY), 500);
        assert_eq!(average.covariance()[1], matrix[1]);
        assert!(Average::new(2).covariance()[1].is_infinite());
    }
}
