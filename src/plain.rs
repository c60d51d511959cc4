//! Plain Monte Carlo over an interval: chunks, their sums, the estimate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::kernel::{Interval, LaneSums, sum_steps};
use crate::pipeline::ChunkedWork;
use crate::sample::{LANES, Lanes, chunk_key};
use crate::{Accumulator, Error, Estimate, Stop};

/// Steps (of `LANES` samples each) between two looks at the cancel flag:
/// 16 Ki samples, a few microseconds of a cheap integrand, so a cancelled
/// chunk stops well within its own time.
const STEPS_PER_CHECK: u64 = 1024;

/// The integral of `f` over an interval by plain Monte Carlo: the mean of
/// `f` at uniform random points, times the interval's length.
pub(crate) struct PlainMonteCarlo<F> {
    pub(crate) f: Arc<F>,
    /// The lower end of the interval, whichever way round it was given.
    pub(crate) lo: f64,
    pub(crate) width: f64,
    /// The interval was given from its upper end to its lower end, so the
    /// integral changes sign.
    pub(crate) reversed: bool,
    pub(crate) seed: u64,
    pub(crate) samples: u64,
    pub(crate) chunk_size: u64,
}

impl<F> PlainMonteCarlo<F>
where
    F: Fn(f64) -> f64,
{
    fn interval(&self) -> Interval {
        Interval {
            lo: self.lo,
            width: self.width,
        }
    }

    /// The points of a chunk keyed `key`, one at a time in sample order:
    /// the slow path's view of what the kernel does lanes at once.
    fn points(&self, key: u64, samples: u64) -> impl Iterator<Item = f64> {
        let interval = self.interval();
        let mut lanes = Lanes::new(key);
        let mut outputs = [0; LANES];
        (0..samples).map(move |sample| {
            let lane = sample as usize % LANES;
            if lane == 0 {
                outputs = lanes.next();
            }
            interval.point(outputs[lane])
        })
    }

    /// Finds the first sample, in sample order, whose value is not finite.
    ///
    /// The slow path, taken only when a chunk's sums are not finite, so the
    /// hot loop never tests a value.
    fn locate_non_finite(&self, key: u64, samples: u64) -> Error {
        let f = &*self.f;
        self.points(key, samples)
            .find_map(|x| {
                let value = f(x);
                (!value.is_finite()).then(|| Error::NonFiniteValue {
                    point: Box::new([x]),
                    value,
                })
            })
            .unwrap_or(Error::Overflow)
    }
}

impl<F> ChunkedWork for PlainMonteCarlo<F>
where
    F: Fn(f64) -> f64 + Send + Sync + 'static,
{
    /// An interval of zero width has integral exactly 0: nothing to sample.
    fn total(&self) -> u64 {
        if self.width == 0.0 { 0 } else { self.samples }
    }

    fn chunks(&self) -> u64 {
        self.total().div_ceil(self.chunk_size)
    }

    /// Sums `f` over chunk `index`'s samples.
    ///
    /// Each lane keeps its own sums of `f(x) - shift` and of its square, in
    /// sample order (the kernel's job); the lanes' sums are then added in a
    /// fixed tree. The shift is the chunk's first value, close enough to the
    /// mean that the sum of squares does not cancel.
    fn run_chunk(&self, index: u64, cancel: &AtomicBool) -> Result<Accumulator, Error> {
        let (f, interval) = (&*self.f, self.interval());
        let start = index * self.chunk_size;
        let samples = self.chunk_size.min(self.samples - start);
        let key = chunk_key(self.seed, index);
        let mut lanes = Lanes::new(key);
        let mut sums = LaneSums::default();
        let full_steps = samples / LANES as u64;
        let tail = (samples % LANES as u64) as usize;

        // Step 0 is peeled: its first value fixes the shift, and in a chunk
        // shorter than one step it is also the only, partial, step.
        let first_lanes = if full_steps > 0 { LANES } else { tail };
        let bits = lanes.next();
        let mut values = [0.0; LANES];
        for (value, &bits) in values.iter_mut().zip(&bits[..first_lanes]) {
            *value = f(interval.point(bits));
        }
        let shift = values[0];
        for (lane, &value) in values[..first_lanes].iter().enumerate() {
            sums.add(lane, value, shift);
        }

        let mut step = 1;
        while step < full_steps {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let block = STEPS_PER_CHECK.min(full_steps - step);
            sum_steps(f, interval, shift, &mut lanes, block, &mut sums);
            step += block;
        }

        if full_steps > 0 && tail > 0 {
            let bits = lanes.next();
            for (lane, &bits) in bits.iter().enumerate().take(tail) {
                sums.add(lane, f(interval.point(bits)), shift);
            }
        }

        let (sum, squares) = (tree_sum(sums.sum), tree_sum(sums.squares));
        if !(sum.is_finite() && squares.is_finite()) {
            return Err(self.locate_non_finite(key, samples));
        }
        Ok(Accumulator::from_shifted_sums(samples, shift, sum, squares))
    }

    fn estimate(&self, merged: &Accumulator, stop: Stop) -> Estimate {
        if self.width == 0.0 {
            return Estimate::new(0.0, 0.0, 0, Stop::Exact);
        }
        let value = self.width * merged.mean();
        Estimate::new(
            if self.reversed { -value } else { value },
            self.width * merged.std_error(),
            merged.count(),
            stop,
        )
    }
}

/// Adds the lanes' partial sums pairwise, always in the same tree, so the
/// total does not depend on how a machine grouped the lanes.
fn tree_sum(mut partial: [f64; LANES]) -> f64 {
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
    use super::*;

    fn plain(samples: u64, chunk_size: u64) -> PlainMonteCarlo<fn(f64) -> f64> {
        PlainMonteCarlo {
            f: Arc::new((|x| x * x) as fn(f64) -> f64),
            lo: 0.0,
            width: 1.0,
            reversed: false,
            seed: 9,
            samples,
            chunk_size,
        }
    }

    /// The kernel's sums agree with Welford over the same points, taken
    /// one at a time in sample order, on the dispatched and the baseline
    /// path alike.
    #[test]
    fn chunk_matches_a_scalar_replay() {
        let never = AtomicBool::new(false);
        for samples in [1, 5, 16, 17, 100, 4096 * 16 + 3] {
            let work = plain(samples, samples);
            let chunk = work.run_chunk(0, &never).unwrap();
            let mut replay = Accumulator::new();
            for x in work.points(chunk_key(9, 0), samples) {
                replay.push(x * x);
            }
            assert_eq!(chunk.count(), samples);
            assert!((chunk.mean() - replay.mean()).abs() < 1e-12, "{samples}");
            if samples > 1 {
                assert!((chunk.variance() / replay.variance() - 1.0).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn a_cancelled_chunk_stops() {
        let cancel = AtomicBool::new(true);
        let work = plain(1 << 20, 1 << 20);
        assert!(matches!(work.run_chunk(0, &cancel), Err(Error::Cancelled)));
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
