//! Randomised quasi-Monte Carlo: independent Owen-scrambled Sobol replicas.

use std::sync::Arc;

use crate::driver::checkpoint::StateReader;
use crate::driver::halt::Halt;
use crate::driver::pass::{OnePass, Pass};
use crate::kernel::chunk::{overflowed, pair_indices};
use crate::result::estimate::ComponentEstimate;
use crate::sample::chunk_key;
use crate::sample::sobol::{
    MAX_DIMENSIONS, MAX_LOG2_POINTS, ScrambledSobol, SobolDirections, TILE,
};
use crate::spec::domain::Domain;
use crate::spec::settings::Settings;
use crate::{Accumulator, Error, Estimate, Integrand, NonFinite, Stop};

/// The most replicas: each holds its own scramble and accumulator, and
/// their spread needs a few, not thousands (8 is usual).
pub const MAX_REPLICAS: u32 = 1 << 12;

/// Randomised quasi-Monte Carlo: `replicas` independent Owen-scrambled
/// Sobol sequences. For smooth integrands the error falls nearly as
/// N^(-1); the estimate is the mean of the replicas' estimates and its
/// standard error comes from their spread (Student's t with
/// `replicas − 1` degrees of freedom), never from a single point set.
///
/// The sample budget must be `replicas × 2^m` and the chunk size a power of
/// two: a Sobol sequence is balanced only on blocks of 2^m points.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Method};
///
/// let integral = Integral::over(|x: &[f64]| x[0] * x[1], [0.0..1.0, 0.0..1.0])
///     .samples(16 << 12)
///     .method(Method::sobol().replicas(16));
/// let estimate = pollster::block_on(integral.run_inline())?;
/// assert!((estimate.value - 0.25).abs() < 1e-4);
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sobol {
    replicas: u32,
}

impl Sobol {
    /// 8 replicas.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::method::Sobol::new(), quadpipe::Method::sobol());
    /// ```
    pub const fn new() -> Sobol {
        Sobol { replicas: 8 }
    }

    /// Independent scrambles: at least 2, at most [`MAX_REPLICAS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let err = pollster::block_on(
    ///     quadpipe::Integral::new(|x| x, 0.0..1.0)
    ///         .method(quadpipe::Method::sobol().replicas(1))
    ///         .run_inline(),
    /// )
    /// .unwrap_err();
    /// assert!(matches!(err, quadpipe::Error::TooFewReplicas { replicas: 1 }));
    /// ```
    pub const fn replicas(self, replicas: u32) -> Sobol {
        Sobol { replicas }
    }
}

impl Default for Sobol {
    fn default() -> Sobol {
        Sobol::new()
    }
}

impl Sobol {
    /// The settings that decide the bits, for a checkpoint's fingerprint.
    pub(crate) fn fingerprint(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.replicas.to_le_bytes());
    }
}

/// Coordinates in a block of points, as for plain Monte Carlo: the block
/// stays in the L1 cache between being drawn and being evaluated.
const COORDINATES_PER_BLOCK: usize = 4096;

/// The integral by `replicas` independent scrambles of one Sobol sequence.
///
/// Chunk `i` is block `i / replicas` of replica `i % replicas`: a run of
/// `chunk` consecutive points, aligned, a power of two long, so that every
/// chunk is a balanced piece of its replica's sequence. Merged in chunk
/// order, the replicas advance together, and after each round in which
/// their common point count reaches a power of two, every replica is a
/// complete, balanced net: that is where a tolerance may stop the run.
pub(crate) struct RandomisedSobol<I> {
    integrand: Arc<I>,
    domain: Domain,
    replicas: Vec<ScrambledSobol>,
    points_per_replica: u64,
    chunk: u64,
    policy: NonFinite,
    /// Values a point: 1, or a vector integrand's `m`.
    components: usize,
}

impl<I: Integrand> RandomisedSobol<I> {
    /// Checks what randomised QMC needs: replicas that can have a spread,
    /// a dimension the direction numbers cover, and power-of-two point
    /// counts, since a Sobol sequence is balanced only on blocks of 2^m
    /// points.
    pub(crate) fn new(
        integrand: &Arc<I>,
        settings: &Settings,
        sobol: Sobol,
    ) -> Result<Self, Error> {
        let domain = settings.domain()?;
        let replicas = sobol.replicas;
        if replicas < 2 {
            return Err(Error::TooFewReplicas { replicas });
        }
        if replicas > MAX_REPLICAS {
            return Err(Error::TooManyReplicas {
                replicas,
                max: MAX_REPLICAS,
            });
        }
        if domain.dims() > MAX_DIMENSIONS {
            return Err(Error::TooManyDimensions {
                dims: domain.dims(),
                max: MAX_DIMENSIONS,
            });
        }
        let per_replica = settings.samples / u64::from(replicas);
        if settings.samples % u64::from(replicas) != 0
            || !per_replica.is_power_of_two()
            || per_replica.trailing_zeros() > MAX_LOG2_POINTS
        {
            return Err(Error::SobolSamples {
                samples: settings.samples,
                replicas,
            });
        }
        let chunk_size = settings.chunk_size_for(settings.samples, domain.dims());
        if !chunk_size.is_power_of_two() {
            return Err(Error::SobolChunkSize { chunk_size });
        }
        let directions = Arc::new(SobolDirections::new(domain.dims()));
        Ok(RandomisedSobol {
            integrand: integrand.clone(),
            replicas: (0..u64::from(replicas))
                .map(|replica| {
                    ScrambledSobol::new(directions.clone(), chunk_key(settings.seed, replica))
                })
                .collect(),
            domain,
            points_per_replica: per_replica,
            chunk: chunk_size.min(per_replica),
            policy: settings.non_finite,
            components: integrand.components(),
        })
    }
}

/// One chunk's sums over its points, a component each, and which replica
/// it belongs to.
#[derive(Debug)]
pub(crate) struct ReplicaPart {
    replica: usize,
    values: Vec<Accumulator>,
    skipped: Vec<u64>,
}

/// Every replica's values so far: replica `r`'s component `j` at
/// `values[r * m + j]`; skipped values per component.
#[derive(Debug)]
pub(crate) struct Replicas {
    values: Vec<Accumulator>,
    skipped: Vec<u64>,
}

/// A chunk's sums of each component's values, in point order, less the
/// component's first value: the shift keeps the sum of squares from
/// cancelling, as in a scalar run of the component alone.
struct ShiftedSums {
    shift: Vec<Option<f64>>,
    sum: Vec<f64>,
    squares: Vec<f64>,
    skipped: Vec<u64>,
}

impl ShiftedSums {
    fn new(components: usize) -> Self {
        ShiftedSums {
            shift: vec![None; components],
            sum: vec![0.0; components],
            squares: vec![0.0; components],
            skipped: vec![0; components],
        }
    }

    /// Adds a block of values, `m` a point, for `points` of `dims`
    /// coordinates each.
    ///
    /// Each component's values go into its sums in point order, in a loop
    /// without tests: a value that is not finite leaves the sums so, and
    /// then (and only then) that component's block is added again from its
    /// sums before the block, value by value as `policy` says. The same
    /// arithmetic in the same order, so the same bits as that slow path
    /// alone.
    fn add(&mut self, points: &[f64], values: &[f64], policy: NonFinite) -> Result<(), Error> {
        let m = self.sum.len();
        let mut slow = Vec::new();
        if values.is_empty() {
            return Ok(());
        }
        for j in 0..m {
            let shift = self.shift[j].unwrap_or(values[j]);
            let sums = (self.sum[j], self.squares[j]);
            // One component's values are the whole block: a plain loop.
            let (sum, squares) = if m == 1 {
                add_shifted(values.iter(), shift, sums)
            } else {
                add_shifted(values.iter().skip(j).step_by(m), shift, sums)
            };
            if sum.is_finite() && squares.is_finite() {
                (self.shift[j], self.sum[j], self.squares[j]) = (Some(shift), sum, squares);
            } else {
                slow.push(j);
            }
        }
        if slow.is_empty() {
            return Ok(());
        }
        let dims = points.len() / (values.len() / m);
        for (point, values) in points.chunks_exact(dims).zip(values.chunks_exact(m)) {
            for &j in &slow {
                let value = values[j];
                let value = if value.is_finite() {
                    value
                } else if policy == NonFinite::Skip {
                    self.skipped[j] += 1;
                    0.0
                } else {
                    return Err(Error::NonFiniteValue {
                        point: point.into(),
                        value,
                    });
                };
                let d = value - *self.shift[j].get_or_insert(value);
                self.sum[j] += d;
                self.squares[j] += d * d;
            }
        }
        Ok(())
    }

    /// Each component's accumulator of the chunk's `count` points, or
    /// [`Error::Overflow`] if some sum is not finite.
    fn finish(&self, count: u64) -> Result<Vec<Accumulator>, Error> {
        if !(self.sum.iter().chain(&self.squares).all(|s| s.is_finite())) {
            return Err(Error::Overflow);
        }
        Ok((0..self.sum.len())
            .map(|j| {
                let shift = self.shift[j].unwrap_or(0.0);
                Accumulator::from_shifted_sums(count, shift, self.sum[j], self.squares[j])
            })
            .collect())
    }
}

/// `(sum, squares)` plus the sums of `value - shift` and of its square,
/// value after value.
#[inline(always)]
fn add_shifted<'v>(
    values: impl Iterator<Item = &'v f64>,
    shift: f64,
    (mut sum, mut squares): (f64, f64),
) -> (f64, f64) {
    for &value in values {
        let d = value - shift;
        sum += d;
        squares += d * d;
    }
    (sum, squares)
}

impl<I: Integrand> Pass for RandomisedSobol<I> {
    type Part = ReplicaPart;
    type Merged = Replicas;

    fn chunks(&self) -> u64 {
        self.points_per_replica * self.replicas.len() as u64 / self.chunk
    }

    /// A time limit that passes inside the chunk cuts it short, after its
    /// first point at least: the replica then has an unbalanced prefix,
    /// which only a time stop merges.
    fn run_chunk(&self, index: u64, halt: &Halt) -> Result<ReplicaPart, Error> {
        let replica = (index % self.replicas.len() as u64) as usize;
        let start = (index / self.replicas.len() as u64) * self.chunk;
        let dims = self.domain.dims();
        let (lo, width) = (self.domain.lo(), self.domain.width());
        // Whole tiles, so that blocks after the first start on a tile.
        // No more room than the chunk's points take (whole tiles still): a
        // small chunk would otherwise zero a block's 32 KiB for a few
        // points.
        let tiles = usize::try_from(self.chunk.div_ceil(TILE as u64)).unwrap_or(usize::MAX);
        let block = (COORDINATES_PER_BLOCK / dims / TILE).min(tiles).max(1) * TILE;
        let mut points = vec![0.0; block * dims];
        let m = self.components;
        let mut values = vec![0.0; block * m];
        let mut sums = ShiftedSums::new(m);
        let mut pace = halt.pace(block as u64);
        // Points done, and points since the last look.
        let (mut done, mut since) = (0, 0);
        while done < self.chunk {
            let Some(next) = pace.next_block(since)? else {
                break;
            };
            let mut count = next.min(self.chunk - done);
            let past_tile = (start + done + count) % TILE as u64;
            if count > past_tile {
                count -= past_tile;
            }
            let count = count as usize;
            let (points, values) = (&mut points[..count * dims], &mut values[..count * m]);
            self.replicas[replica].fill(start + done, count, lo, width, points);
            self.integrand.evaluate(dims, points, values);
            sums.add(points, values, self.policy)?;
            done += count as u64;
            since = count as u64;
        }
        Ok(ReplicaPart {
            replica,
            values: sums.finish(done)?,
            skipped: sums.skipped,
        })
    }

    fn start(&self) -> Replicas {
        Replicas {
            values: vec![Accumulator::new(); self.replicas.len() * self.components],
            skipped: vec![0; self.components],
        }
    }

    fn overflowed(&self, merged: &Replicas) -> bool {
        merged.values.iter().any(overflowed)
    }

    fn merge(&self, merged: &mut Replicas, part: ReplicaPart) {
        let m = self.components;
        let replica = &mut merged.values[part.replica * m..][..m];
        for (values, more) in replica.iter_mut().zip(&part.values) {
            values.merge(more);
        }
        for (skipped, more) in merged.skipped.iter_mut().zip(&part.skipped) {
            *skipped += more;
        }
    }

    /// Each replica's accumulators, then the counts of skipped values: with
    /// one component, the bytes of a scalar run before vectors came.
    fn encode(&self, merged: &Replicas, out: &mut Vec<u8>) {
        for values in &merged.values {
            values.encode(out);
        }
        for skipped in &merged.skipped {
            out.extend_from_slice(&skipped.to_le_bytes());
        }
    }

    fn decode(&self, reader: &mut StateReader<'_>) -> Option<Replicas> {
        let sums = self.replicas.len() * self.components;
        let (values, skipped) = decode_sums(reader, sums, self.components)?;
        Some(Replicas { values, skipped })
    }

    /// The replica, its accumulator, and the count of skipped values.
    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &ReplicaPart, out: &mut Vec<u8>) {
        out.extend_from_slice(&(part.replica as u64).to_le_bytes());
        for values in &part.values {
            values.encode(out);
        }
        for skipped in &part.skipped {
            out.extend_from_slice(&skipped.to_le_bytes());
        }
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<ReplicaPart> {
        let mut reader = StateReader(bytes);
        let replica = usize::try_from(reader.u64()?).ok()?;
        let (values, skipped) = decode_sums(&mut reader, self.components, self.components)?;
        (reader.is_done() && replica < self.replicas.len()).then_some(ReplicaPart {
            replica,
            values,
            skipped,
        })
    }
}

/// `sums` accumulators, then `components` counts of skipped values, as
/// `encode` and `encode_part` write them.
fn decode_sums(
    reader: &mut StateReader<'_>,
    sums: usize,
    components: usize,
) -> Option<(Vec<Accumulator>, Vec<u64>)> {
    let values = (0..sums)
        .map(|_| reader.moments().map(Accumulator::from_raw))
        .collect::<Option<Vec<_>>>()?;
    let skipped = (0..components)
        .map(|_| reader.u64())
        .collect::<Option<Vec<_>>>()?;
    Some((values, skipped))
}

impl<I: Integrand> OnePass for RandomisedSobol<I> {
    fn total(&self) -> Option<u64> {
        Some(self.points_per_replica * self.replicas.len() as u64)
    }

    fn done(&self, merged: &Replicas) -> u64 {
        let m = self.components;
        merged
            .values
            .iter()
            .step_by(m)
            .map(Accumulator::count)
            .sum()
    }

    /// The mean of the replicas' estimates, with the standard error of that
    /// mean from their spread: `replicas − 1` degrees of freedom, whatever
    /// the number of points. (A single scrambled net's own sample variance
    /// would overstate its error by orders of magnitude: its points are not
    /// independent.)
    ///
    /// With several components, the covariance of their estimates comes
    /// from the replicas' estimates in the same way.
    fn estimate(&self, merged: &Replicas, stop: Stop) -> Estimate {
        let m = self.components;
        let started: Vec<&[Accumulator]> = merged
            .values
            .chunks_exact(m)
            .filter(|replica| replica[0].count() > 0)
            .collect();
        let replica_means: Vec<Accumulator> = (0..m)
            .map(|j| {
                let mut means = Accumulator::new();
                for replica in &started {
                    means.push(replica[j].mean());
                }
                means
            })
            .collect();
        let dof = replica_means[0].count().saturating_sub(1) as u32;
        let each: Vec<ComponentEstimate> = (0..m)
            .map(|j| {
                let means = &replica_means[j];
                let (value, std_error) = self.domain.scale(means.mean(), means.std_error());
                ComponentEstimate {
                    value,
                    std_error,
                    skipped: merged.skipped[j],
                    heavy_tails: false,
                }
            })
            .collect();
        if m == 1 {
            return Estimate::new(each[0].value, each[0].std_error, self.done(merged), stop)
                .with_skipped(each[0].skipped)
                .with_dof(dof);
        }
        // Σ_r (μ_rj − μ̄_j)(μ_rk − μ̄_k) / (R − 1) / R, scaled as the values.
        let replicas = started.len();
        let volume = self.domain.scale(1.0, 1.0).1;
        let mut covariance = vec![0.0; m * m];
        for (j, k) in pair_indices(m) {
            let (mj, mk) = (replica_means[j].mean(), replica_means[k].mean());
            let c: f64 = started
                .iter()
                .map(|replica| (replica[j].mean() - mj) * (replica[k].mean() - mk))
                .sum();
            let c = if replicas < 2 {
                f64::INFINITY
            } else {
                c / (replicas - 1) as f64 / replicas as f64 * volume * volume
            };
            covariance[j * m + k] = c;
            covariance[k * m + j] = c;
        }
        for (j, c) in each.iter().enumerate() {
            covariance[j * m + j] = c.std_error * c.std_error;
        }
        Estimate::vector(each, Some(covariance), self.done(merged), stop).with_dof(dof)
    }

    /// Every replica has the same number of points, a power of two.
    fn is_complete(&self, merged: &Replicas) -> bool {
        let count = merged.values[0].count();
        count.is_power_of_two() && merged.values.iter().all(|values| values.count() == count)
    }
}
