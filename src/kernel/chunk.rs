//! One chunk of plain Monte Carlo, as each integrand form runs it: the
//! vectorised scalar path for a function of one variable, blocks of points
//! for the others, and blocks of points with several values each for the
//! vector forms.

use crate::driver::halt::Halt;
use crate::kernel::components::ComponentSums;
use crate::kernel::{Interval, LaneSums, add_values, buffer, fill_points, sum_steps};
use crate::sample::{LANES, Lanes};
use crate::spec::domain::Domain;
use crate::{Accumulator, Error};

/// The most steps (of `LANES` samples each) between two looks at the
/// chunk's [`Halt`]: 16 Ki samples, a few microseconds of a cheap
/// integrand; a slow one looks after fewer, about every millisecond.
const STEPS_PER_LOOK: u64 = 1024;

/// Coordinates in a block of points for the point-wise and batched forms:
/// 32 KiB, so a block stays in the L1 cache between being drawn and being
/// evaluated, and never fewer than one step of lanes.
const COORDINATES_PER_BLOCK: usize = 4096;

/// Coordinates and values in a block of the vector forms: 256 KiB, in the
/// L2 cache. A block of the L1 cache's 32 KiB holds only four steps of 16
/// components in 5-D when the pair products need a row of shifted values
/// a point (40 values, see [`ComponentSums`]), and the setup of each
/// block's passes made a run of them 5–7% slower than in blocks of 256 KiB
/// (CPU time, AVX-512; 64 KiB was as slow). With the products in registers
/// (no rows), blocks of 16 and 32 KiB were 1–3% slower still.
const COMPONENT_COORDINATES_PER_BLOCK: usize = 1 << 15;

/// One chunk, as the integrand's form sees it.
#[derive(Debug)]
pub struct McChunk<'a> {
    pub(crate) domain: &'a Domain,
    pub(crate) key: u64,
    pub(crate) samples: u64,
    /// Whether non-finite values count as 0 ([`NonFinite::Skip`](crate::NonFinite::Skip))
    /// instead of failing the chunk.
    pub(crate) skip: bool,
}

/// What a chunk yields, and what chunks merge into: per component, its
/// accumulator and its count of skipped values, and, with several
/// components, their co-moments `Σ (x_j − mean_j)(x_k − mean_k)` for
/// `j < k`, in the order (0, 1), (0, 2), …, (1, 2), …
#[derive(Clone, Debug, Default)]
pub struct McPart {
    pub(crate) values: Vec<Accumulator>,
    pub(crate) skipped: Vec<u64>,
    pub(crate) comoments: Vec<f64>,
}

impl McPart {
    /// The part of a one-component integrand.
    pub(crate) fn single(values: Accumulator, skipped: u64) -> McPart {
        McPart {
            values: vec![values],
            skipped: vec![skipped],
            comoments: Vec::new(),
        }
    }

    /// No values yet, of `components` components.
    pub(crate) fn empty(components: usize) -> McPart {
        McPart {
            values: vec![Accumulator::new(); components],
            skipped: vec![0; components],
            comoments: vec![0.0; pairs(components)],
        }
    }

    /// Adds `other`'s values: each component's accumulator merges as a
    /// scalar run's does (so its bits are that run's), and the co-moments
    /// by the same formula of Chan et al., with the same weight.
    pub(crate) fn merge(&mut self, other: &McPart) {
        let (na, nb) = (self.values[0].count(), other.values[0].count());
        if na > 0 && nb > 0 {
            let n = na.saturating_add(nb) as f64;
            let weight = na as f64 * nb as f64 / n;
            let deltas: Vec<f64> = (self.values.iter().zip(&other.values))
                .map(|(a, b)| b.mean() - a.mean())
                .collect();
            for ((c, &more), (j, k)) in self
                .comoments
                .iter_mut()
                .zip(&other.comoments)
                .zip(pair_indices(deltas.len()))
            {
                *c += more + deltas[j] * deltas[k] * weight;
            }
        } else if nb > 0 {
            self.comoments.copy_from_slice(&other.comoments);
        }
        for (values, more) in self.values.iter_mut().zip(&other.values) {
            values.merge(more);
        }
        for (skipped, more) in self.skipped.iter_mut().zip(&other.skipped) {
            *skipped += more;
        }
    }

    /// Samples merged.
    pub(crate) fn count(&self) -> u64 {
        self.values[0].count()
    }
}

/// Pairs `j < k` of `m` components.
pub(crate) fn pairs(m: usize) -> usize {
    m * m.saturating_sub(1) / 2
}

/// The pairs `(j, k)`, `j < k`, of `m` components, in the order of
/// [`McPart::comoments`].
pub(crate) fn pair_indices(m: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..m).flat_map(move |j| (j + 1..m).map(move |k| (j, k)))
}

impl McChunk<'_> {
    /// The fast path for a function of one variable: the vectorised kernel
    /// samples, evaluates and sums in one pass.
    ///
    /// Each lane keeps its own sums of `f(x) - shift` and of its square, in
    /// sample order (the kernel's job); the lanes' sums are then added in a
    /// fixed tree. The shift is the chunk's first finite value, close
    /// enough to the mean that the sum of squares does not cancel.
    ///
    /// A time limit that passes inside the chunk cuts it short: the part
    /// then holds the whole steps done so far.
    pub(crate) fn run_scalar<F: Fn(f64) -> f64>(
        &self,
        f: &F,
        halt: &Halt,
    ) -> Result<McPart, Error> {
        let interval = Interval {
            lo: self.domain.lo()[0],
            width: self.domain.width()[0],
        };
        let skip = self.skip;
        let mut lanes = Lanes::new(self.key);
        let mut sums = LaneSums::default();
        let full_steps = self.samples / LANES as u64;
        let tail = (self.samples % LANES as u64) as usize;

        // Step 0 is peeled: its first finite value fixes the shift, and in
        // a chunk shorter than one step it is also the only, partial, step.
        let first_lanes = if full_steps > 0 { LANES } else { tail };
        let mut pace = halt.pace(STEPS_PER_LOOK);
        let bits = lanes.next();
        let mut values = [0.0; LANES];
        for (value, &bits) in values.iter_mut().zip(&bits[..first_lanes]) {
            *value = f(interval.point(bits));
        }
        let shift = first_finite(&values[..first_lanes]);
        for (lane, &value) in values[..first_lanes].iter().enumerate() {
            sums.add(lane, value, shift, skip);
        }

        // Steps done, and steps since the last look.
        let (mut step, mut block) = (1, 1);
        let mut buffer = buffer();
        let mut cut = false;
        while step < full_steps {
            let Some(next) = pace.next_block(block)? else {
                cut = true;
                break;
            };
            block = next.min(full_steps - step);
            if skip {
                let buffer = &mut buffer;
                sum_steps::<true, F>(f, interval, shift, &mut lanes, block, &mut sums, buffer);
            } else {
                let buffer = &mut buffer;
                sum_steps::<false, F>(f, interval, shift, &mut lanes, block, &mut sums, buffer);
            }
            step += block;
        }
        let samples = if cut {
            step * LANES as u64
        } else {
            self.samples
        };

        if full_steps > 0 && tail > 0 && !cut {
            let bits = lanes.next();
            for (lane, &bits) in bits.iter().enumerate().take(tail) {
                sums.add(lane, f(interval.point(bits)), shift, skip);
            }
        }

        let (sum, squares) = (tree_sum(sums.sum), tree_sum(sums.squares));
        if !(sum.is_finite() && squares.is_finite()) {
            return Err(self.locate_non_finite(f, samples));
        }
        Ok(McPart::single(
            Accumulator::from_shifted_sums(samples, shift, sum, squares),
            sums.skipped.iter().sum(),
        ))
    }

    /// The points of this chunk, one at a time in sample order: the slow
    /// path's view of what the kernel does lanes at once (one dimension).
    fn points(&self) -> impl Iterator<Item = f64> {
        let interval = Interval {
            lo: self.domain.lo()[0],
            width: self.domain.width()[0],
        };
        let mut lanes = Lanes::new(self.key);
        let mut outputs = [0; LANES];
        (0..self.samples).map(move |sample| {
            let lane = sample as usize % LANES;
            if lane == 0 {
                outputs = lanes.next();
            }
            interval.point(outputs[lane])
        })
    }

    /// Finds the first of the chunk's first `samples` samples, in sample
    /// order, whose value is not finite.
    ///
    /// The slow path, taken only when a chunk's sums are not finite, so the
    /// hot loop never tests a value.
    fn locate_non_finite<F: Fn(f64) -> f64>(&self, f: &F, samples: u64) -> Error {
        self.points()
            .take(usize::try_from(samples).unwrap_or(usize::MAX))
            .find_map(|x| {
                let value = f(x);
                (!value.is_finite()).then(|| Error::NonFiniteValue {
                    point: Box::new([x]),
                    value,
                })
            })
            .unwrap_or(Error::Overflow)
    }

    /// The path for point-wise and batched integrands: draw a block of
    /// points, evaluate the block, add the values in sample order.
    ///
    /// Sample `j` is lane `j % LANES`'s next point, whose coordinates are
    /// that lane's next `dims` outputs: in one dimension, the same points
    /// and the same sums as the scalar path, to the bit. Blocks are whole
    /// steps of the lanes, sized by the chunk's [`Halt`]: a time limit that
    /// passes inside the chunk cuts it short after its first step at least.
    pub(crate) fn run_blocks(
        &self,
        evaluate: impl Fn(usize, &[f64], &mut [f64]),
        halt: &Halt,
    ) -> Result<McPart, Error> {
        let dims = self.domain.dims();
        let most_steps = (COORDINATES_PER_BLOCK / dims / LANES).max(1);
        // No more room than the chunk's samples take: a small chunk would
        // otherwise zero a block's 32 KiB for a few points.
        let steps = self.samples.div_ceil(LANES as u64);
        let room = most_steps.min(usize::try_from(steps).unwrap_or(usize::MAX)) * LANES;
        let mut lanes = Lanes::new(self.key);
        let mut points = vec![0.0; room * dims];
        let mut values = vec![0.0; room];
        let mut sums = LaneSums::default();
        let mut shift = None;
        let mut pace = halt.pace(most_steps as u64);
        // Samples done, and steps of the lanes since the last look.
        let (mut done, mut steps) = (0, 0);
        while done < self.samples {
            let Some(next) = pace.next_block(steps)? else {
                break;
            };
            let count = (next as usize * LANES).min((self.samples - done) as usize);
            let (points, values) = (&mut points[..count * dims], &mut values[..count]);
            fill_points(&mut lanes, self.domain.lo(), self.domain.width(), points);
            evaluate(dims, points, values);
            let shift = *shift.get_or_insert_with(|| first_finite(&values[..LANES.min(count)]));
            let skip = self.skip;
            let first_bad = (!skip).then(|| values.iter().position(|v| !v.is_finite()));
            if let Some(Some(sample)) = first_bad {
                return Err(Error::NonFiniteValue {
                    point: points[sample * dims..][..dims].into(),
                    value: values[sample],
                });
            }
            add_values(values, shift, skip, &mut sums);
            done += count as u64;
            steps = next;
        }
        let (sum, squares) = (tree_sum(sums.sum), tree_sum(sums.squares));
        if !(sum.is_finite() && squares.is_finite()) {
            return Err(Error::Overflow);
        }
        Ok(McPart::single(
            Accumulator::from_shifted_sums(done, shift.unwrap_or(0.0), sum, squares),
            sums.skipped.iter().sum(),
        ))
    }

    /// The path for vector integrands: [`run_blocks`](Self::run_blocks)
    /// with `m` values a point. Each component's values make, in sample
    /// order, the very sums `run_blocks` makes of a one-component
    /// integrand (the same shift, lanes, arithmetic and tree), so each
    /// component's accumulator is, to the bit, that of a run of the
    /// component alone; [`ComponentSums`] keeps them, and the products of
    /// each pair of components, straight from the block as the integrand
    /// wrote it. One component is `run_blocks` itself.
    ///
    /// With [`NonFinite::Skip`](crate::NonFinite::Skip), a component that
    /// is not finite counts as 0 for that component alone; otherwise the
    /// chunk fails at the first point with one, naming its first such
    /// value.
    pub(crate) fn run_components(
        &self,
        m: usize,
        evaluate: impl Fn(usize, &[f64], &mut [f64]),
        halt: &Halt,
    ) -> Result<McPart, Error> {
        if m == 1 {
            return self.run_blocks(evaluate, halt);
        }
        let dims = self.domain.dims();
        // A block's points, values and shifted values stay in the L2
        // cache. The block size changes no bit, only how often the chunk
        // looks at its halt.
        let per_point = dims + ComponentSums::values_per_point(m);
        let most_steps = (COMPONENT_COORDINATES_PER_BLOCK / per_point / LANES).max(1);
        let block = most_steps * LANES;
        let steps = self.samples.div_ceil(LANES as u64);
        let room = block.min(
            usize::try_from(steps)
                .unwrap_or(usize::MAX)
                .saturating_mul(LANES),
        );
        let mut lanes = Lanes::new(self.key);
        let mut points = vec![0.0; room * dims];
        let mut values = vec![0.0; room * m];
        let mut sums: Option<ComponentSums> = None;
        let mut pace = halt.pace(most_steps as u64);
        let (mut done, mut steps) = (0, 0);
        while done < self.samples {
            let Some(next) = pace.next_block(steps)? else {
                break;
            };
            let count = (next as usize * LANES).min((self.samples - done) as usize);
            let (points, values) = (&mut points[..count * dims], &mut values[..count * m]);
            fill_points(&mut lanes, self.domain.lo(), self.domain.width(), points);
            evaluate(dims, points, values);
            let sums = sums.get_or_insert_with(|| {
                let first = &values[..LANES.min(count) * m];
                let shifts: Vec<f64> = (0..m)
                    .map(|j| {
                        let column: Vec<f64> = first.iter().skip(j).step_by(m).copied().collect();
                        first_finite(&column)
                    })
                    .collect();
                ComponentSums::new(&shifts, room)
            });
            sums.add(values, self.skip);
            // A value that is not finite makes its component's sums so
            // (they are checked here, not each value): name the first.
            if !self.skip && sums.any_non_finite() {
                if let Some(at) = values.iter().position(|v| !v.is_finite()) {
                    let sample = at / m;
                    return Err(Error::NonFiniteValue {
                        point: points[sample * dims..][..dims].into(),
                        value: values[at],
                    });
                }
            }
            done += count as u64;
            steps = next;
        }
        sums.unwrap_or_else(|| ComponentSums::new(&vec![0.0; m], 0))
            .finish(done)
    }
}

/// Whether an accumulator of finite values has a mean or a variance out of
/// the range of an f64: the merge of two chunks' sums can overflow where
/// neither chunk's did.
pub(crate) fn overflowed(values: &Accumulator) -> bool {
    !values.is_finite()
}

/// The first finite value, the shift of a chunk's sums; 0 if there is none
/// (every value of the first step was skipped).
fn first_finite(values: &[f64]) -> f64 {
    values
        .iter()
        .copied()
        .find(|v| v.is_finite())
        .unwrap_or(0.0)
}

/// Adds the lanes' partial sums pairwise, always in the same tree, so the
/// total does not depend on how a machine grouped the lanes.
pub(crate) fn tree_sum(mut partial: [f64; LANES]) -> f64 {
    let mut width = LANES / 2;
    while width > 0 {
        for lane in 0..width {
            partial[lane] += partial[lane + width];
        }
        width /= 2;
    }
    partial[0]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::Instant;

    use super::*;
    use crate::sample::chunk_key;

    fn square(x: f64) -> f64 {
        x * x
    }

    fn chunk(domain: &Domain, samples: u64) -> McChunk<'_> {
        McChunk {
            domain,
            key: chunk_key(9, 0),
            samples,
            skip: false,
        }
    }

    /// The kernel's sums agree with Welford over the same points, taken
    /// one at a time in sample order.
    #[test]
    fn chunk_matches_a_scalar_replay() {
        let never = Halt::never();
        let domain = Domain::interval(&(0.0..1.0)).unwrap();
        for samples in [1, 5, 16, 17, 100, 4096 * 16 + 3] {
            let chunk = chunk(&domain, samples);
            let part = chunk.run_scalar(&square, &never).unwrap();
            let mut replay = Accumulator::new();
            chunk.points().for_each(|x| replay.push(square(x)));
            assert_eq!(part.values[0].count(), samples);
            assert!(
                (part.values[0].mean() - replay.mean()).abs() < 1e-12,
                "{samples}"
            );
            if samples > 1 {
                assert!((part.values[0].variance() / replay.variance() - 1.0).abs() < 1e-9);
            }
        }
    }

    /// In one dimension the block path draws the scalar path's points and
    /// makes its sums, to the bit.
    #[test]
    fn blocks_in_one_dimension_are_the_scalar_path() {
        let never = Halt::never();
        let domain = Domain::interval(&(-2.0..3.0)).unwrap();
        let pointwise = |_dims: usize, points: &[f64], values: &mut [f64]| {
            for (value, x) in values.iter_mut().zip(points) {
                *value = square(*x);
            }
        };
        for samples in [1, 15, 16, 17, 4096 + 5, 100_000] {
            let chunk = chunk(&domain, samples);
            let scalar = chunk.run_scalar(&square, &never).unwrap();
            let blocks = chunk.run_blocks(pointwise, &never).unwrap();
            assert_eq!(scalar.values, blocks.values, "{samples}");
        }
    }

    #[test]
    fn a_cancelled_chunk_stops() {
        let cancel = Halt::new(Arc::new(AtomicBool::new(true)), None);
        let domain = Domain::interval(&(0.0..1.0)).unwrap();
        let chunk = chunk(&domain, 1 << 20);
        assert!(matches!(
            chunk.run_scalar(&square, &cancel),
            Err(Error::Cancelled)
        ));
    }

    /// A chunk that starts past its deadline gives its first step, and
    /// exactly the bits of a chunk of that many samples, on either path.
    #[test]
    fn a_deadline_cuts_a_chunk_to_its_first_step() {
        let late = Halt::new(Arc::new(AtomicBool::new(false)), Some(Instant::now()));
        let never = Halt::never();
        let domain = Domain::interval(&(0.0..1.0)).unwrap();
        let pointwise = |_dims: usize, points: &[f64], values: &mut [f64]| {
            for (value, x) in values.iter_mut().zip(points) {
                *value = square(*x);
            }
        };
        let huge = chunk(&domain, u64::MAX);
        let first_step = chunk(&domain, LANES as u64);
        let cut = huge.run_scalar(&square, &late).unwrap();
        assert_eq!(
            cut.values,
            first_step.run_scalar(&square, &never).unwrap().values
        );
        let cut = huge.run_blocks(pointwise, &late).unwrap();
        assert_eq!(
            cut.values,
            first_step.run_blocks(pointwise, &never).unwrap().values
        );
        assert_eq!(cut.values[0].count(), LANES as u64);
    }

    #[test]
    fn tree_sum_is_pairwise() {
        let big = 2.0f64.powi(60);
        let mut partial = [0.0; LANES];
        partial[0] = big;
        partial[8] = 1.0;
        partial[1] = -big;
        partial[9] = 1.0;
        // The tree adds lane 8 to lane 0 first, and 2^60 + 1 rounds to 2^60,
        // so the total is 0; adding the lanes left to right would give 2.
        assert_eq!(tree_sum(partial), 0.0);
    }
}
