//! The hot loop: sample, evaluate, sum, vectorised, with the instruction
//! set picked at run time.
//!
//! The loop is compiled for AVX-512, AVX2 and SSE4.1 (by `multiversion`) and
//! the best the CPU has is picked when it first runs; a default build needs
//! no target flags. The results do not depend on the pick: every path steps
//! the same 16 lanes, adds each lane's values in sample order with plain
//! multiplies and adds (no FMA, which rounds differently), and leaves the
//! lanes' sums to the caller's fixed reduction tree.

pub(crate) mod chunk;
pub(crate) mod components;

use std::env;
use std::sync::OnceLock;

use multiversion::multiversion;
use multiversion::target::target_cfg_f;

use crate::sample::{LANES, LaneGroup, Lanes, unit_open};

/// Set `QUADPIPE_KERNEL=baseline` to run the loop compiled for the default
/// target instead of the dispatched one: for tests that hold the two to the
/// same bits, and for anyone who suspects the dispatch.
const KERNEL_VAR: &str = "QUADPIPE_KERNEL";

/// The map from the unit interval onto `[lo, lo + width]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Interval {
    pub(crate) lo: f64,
    pub(crate) width: f64,
}

impl Interval {
    /// The point a lane's output stands for.
    #[inline(always)]
    pub(crate) fn point(self, bits: u64) -> f64 {
        self.lo + self.width * unit_open(bits)
    }
}

/// Each lane's sums of `f(x) - shift` and of its square, in sample order,
/// and, when non-finite values are skipped, how many each lane skipped.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LaneSums {
    pub(crate) sum: [f64; LANES],
    pub(crate) squares: [f64; LANES],
    pub(crate) skipped: [u64; LANES],
}

impl LaneSums {
    /// Adds one value to lane `lane`'s sums: the scalar path, for the
    /// partial steps at the start and end of a chunk. With `skip`, a value
    /// that is not finite is counted, and added as 0.
    pub(crate) fn add(&mut self, lane: usize, value: f64, shift: f64, skip: bool) {
        let value = if skip && !value.is_finite() {
            self.skipped[lane] += 1;
            0.0
        } else {
            value
        };
        let d = value - shift;
        self.sum[lane] += d;
        self.squares[lane] += d * d;
    }
}

/// Steps of the lanes the loop draws, evaluates and sums at a time: 128
/// steps of 16 lanes, 16 KiB of points, which stay in the L1 cache from
/// being drawn to being summed (and 64 cost AVX2 0.05 more instructions a
/// sample, in the setup of each block's passes).
const BLOCK: usize = 128;

/// Where the loop keeps a block's points and values. The caller holds one
/// for a whole chunk, so that it is zeroed once, not at every call (a call
/// may be a few steps, when a slow integrand makes a chunk look at its
/// halt often).
pub(crate) type Buffer = [f64; BLOCK * LANES];

/// A buffer for [`sum_steps`].
pub(crate) fn buffer() -> Buffer {
    [0.0; BLOCK * LANES]
}

/// Steps every lane `steps` times, adding `f` at each lane's points to its
/// sums, on the best instruction set the CPU has (or the baseline one when
/// `QUADPIPE_KERNEL=baseline`). With `SKIP`, values that are not finite
/// are counted, and added as 0.
pub(crate) fn sum_steps<const SKIP: bool, F: Fn(f64) -> f64>(
    f: &F,
    interval: Interval,
    shift: f64,
    lanes: &mut Lanes,
    steps: u64,
    sums: &mut LaneSums,
    buffer: &mut Buffer,
) {
    if baseline_forced() {
        sum_steps_baseline::<SKIP, F>(f, interval, shift, lanes, steps, sums, buffer);
    } else {
        sum_steps_dispatched::<SKIP, F>(f, interval, shift, lanes, steps, sums, buffer);
    }
}

/// The loop compiled for the default target, never dispatched.
pub(crate) fn sum_steps_baseline<const SKIP: bool, F: Fn(f64) -> f64>(
    f: &F,
    interval: Interval,
    shift: f64,
    lanes: &mut Lanes,
    steps: u64,
    sums: &mut LaneSums,
    buffer: &mut Buffer,
) {
    const SHAPE: usize = shape(
        cfg!(target_feature = "avx512f"),
        cfg!(target_feature = "avx2"),
        cfg!(target_feature = "bmi2"),
    );
    in_shape::<SHAPE, SKIP, F>(f, interval, shift, lanes, steps, sums, buffer);
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub(crate) fn sum_steps_dispatched<const SKIP: bool, F: Fn(f64) -> f64>(
    f: &F,
    interval: Interval,
    shift: f64,
    lanes: &mut Lanes,
    steps: u64,
    sums: &mut LaneSums,
    buffer: &mut Buffer,
) {
    const SHAPE: usize = shape(
        target_cfg_f!(target_feature = "avx512f"),
        target_cfg_f!(target_feature = "avx2"),
        target_cfg_f!(target_feature = "bmi2"),
    );
    in_shape::<SHAPE, SKIP, F>(f, interval, shift, lanes, steps, sums, buffer);
}

/// [`in_shape`]'s shape for AVX-512: its 32 registers hold all 16 lanes'
/// state and sums, and two steps are drawn at a time.
const ALL_LANES_UNROLLED: usize = 0;
/// For AVX2 without BMI2: eight lanes at a time, in both passes; all 16
/// at once spilled the lanes' state out of the 16 registers.
const HALF_THE_LANES: usize = 1;
/// For everything else: all 16 lanes drawn at once, eight summed.
const ALL_LANES: usize = 2;

/// The loop shape for an instruction set with (or without) AVX-512, AVX2
/// and BMI2. With BMI2's scalar rotate (`rorx`), LLVM steps groups of
/// fewer than 16 lanes one lane at a time instead of in vectors (26
/// instructions a sample on AVX2 in an `x86-64-v3` build), so AVX2 takes
/// the smaller groups only without it, as in the default build's
/// dispatched copy.
const fn shape(avx512: bool, avx2: bool, bmi2: bool) -> usize {
    match (avx512, avx2, bmi2) {
        (true, _, _) => ALL_LANES_UNROLLED,
        (false, true, false) => HALF_THE_LANES,
        _ => ALL_LANES,
    }
}

/// The loop in the shape `SHAPE` (see [`shape`]): the one that needs the
/// fewest instructions there, callgrind on AVX2 and SSE2, the count of the
/// loops' instructions on AVX-512. Every shape gives the same bits.
#[inline(always)]
fn in_shape<const SHAPE: usize, const SKIP: bool, F: Fn(f64) -> f64>(
    f: &F,
    interval: Interval,
    shift: f64,
    lanes: &mut Lanes,
    steps: u64,
    sums: &mut LaneSums,
    buffer: &mut Buffer,
) {
    match SHAPE {
        ALL_LANES_UNROLLED => {
            in_groups::<16, 2, 16, SKIP, F>(f, interval, shift, lanes, steps, sums, buffer);
        }
        HALF_THE_LANES => {
            in_groups::<8, 1, 8, SKIP, F>(f, interval, shift, lanes, steps, sums, buffer);
        }
        _ => in_groups::<16, 1, 8, SKIP, F>(f, interval, shift, lanes, steps, sums, buffer),
    }
}

/// The loop itself, in three passes over each block of steps: draw every
/// point of the block, evaluate the integrand at each, add the values to
/// the lanes' sums. The draw goes `DRAW` lanes at a time, `UNROLL` steps
/// at a time; the sums `SUM` lanes at a time. The lanes never meet and
/// each lane's values are added in sample order, so any group sizes that
/// divide 16 give the same bits ([`in_shape`] picks them).
///
/// The sums take `e = shift - value` and subtract it: the same bits as
/// adding `value - shift` (rounding to nearest is symmetric, so `e` is
/// exactly `-(value - shift)`, and `sum - e` is `sum + (value - shift)`;
/// `e` is `+0` where `value - shift` is, but `sum + 0` and `sum - 0` differ
/// only when `sum` is `-0`, which a sum started at `+0` never is), and the
/// value folds into the subtraction as a memory operand, where `value -
/// shift` first loads it into a register.
///
/// Why not one pass per step: an integrand that calls out (libm's `sin`)
/// clobbers every vector register at each call, so a fused loop spills its
/// lanes' state around every call, and LLVM vectorised the fused loop
/// worse even for integrands that do not call out. Measured on AVX2, best
/// of 7 runs: `sin` 13.2 ns per sample against 18.4 fused, `exp(-x)` 6.0
/// against 7.3, `x² − 1` 0.58 against 1.5, `x` 0.57 against 0.55. In
/// separate passes nothing is live across the calls, and each pass is a
/// plain loop over arrays, written lane by lane so it vectorises.
#[inline(always)]
fn in_groups<
    const DRAW: usize,
    const UNROLL: usize,
    const SUM: usize,
    const SKIP: bool,
    F: Fn(f64) -> f64,
>(
    f: &F,
    interval: Interval,
    shift: f64,
    lanes: &mut Lanes,
    steps: u64,
    sums: &mut LaneSums,
    buffer: &mut Buffer,
) {
    let mut done = 0;
    while done < steps {
        let block = BLOCK.min((steps - done) as usize);
        let values = &mut buffer[..block * LANES];
        for first in (0..LANES).step_by(DRAW) {
            let mut group = LaneGroup::<DRAW>::take(lanes, first);
            let mut runs = values.chunks_exact_mut(UNROLL * LANES);
            for run in &mut runs {
                for step in run.chunks_exact_mut(LANES) {
                    draw(&mut group, interval, &mut step[first..first + DRAW]);
                }
            }
            for step in runs.into_remainder().chunks_exact_mut(LANES) {
                draw(&mut group, interval, &mut step[first..first + DRAW]);
            }
            group.put(lanes, first);
        }
        for value in values.iter_mut() {
            *value = f(*value);
        }
        for first in (0..LANES).step_by(SUM) {
            let mut sum = [0.0; SUM];
            let mut squares = [0.0; SUM];
            let mut skipped = [0; SUM];
            sum.copy_from_slice(&sums.sum[first..first + SUM]);
            squares.copy_from_slice(&sums.squares[first..first + SUM]);
            for step in values.chunks_exact(LANES) {
                let mut e = [0.0; SUM];
                for l in 0..SUM {
                    e[l] = shift - step[first + l];
                }
                if SKIP {
                    for l in 0..SUM {
                        let finite = e[l].is_finite();
                        skipped[l] += u64::from(!finite);
                        e[l] = if finite { e[l] } else { shift };
                    }
                }
                for l in 0..SUM {
                    sum[l] -= e[l];
                }
                for l in 0..SUM {
                    squares[l] += e[l] * e[l];
                }
            }
            sums.sum[first..first + SUM].copy_from_slice(&sum);
            sums.squares[first..first + SUM].copy_from_slice(&squares);
            for (total, &more) in sums.skipped[first..first + SUM].iter_mut().zip(&skipped) {
                *total += more;
            }
        }
        done += block as u64;
    }
}

/// Steps a group of lanes once and writes their points to `points`.
#[inline(always)]
fn draw<const G: usize>(group: &mut LaneGroup<G>, interval: Interval, points: &mut [f64]) {
    let bits = group.next();
    let mut x = [0.0; G];
    for l in 0..G {
        x[l] = interval.point(bits[l]);
    }
    points.copy_from_slice(&x);
}

/// Draws points for the point-wise and batched forms: each step of the
/// lanes gives one coordinate of 16 points, written one point after
/// another into `points` (`lo.len()` coordinates each). A last, partial
/// step still steps every lane, as the scalar path does.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub(crate) fn fill_points(lanes: &mut Lanes, lo: &[f64], width: &[f64], points: &mut [f64]) {
    let dims = lo.len();
    let mut local = lanes.clone();
    for step in points.chunks_mut(LANES * dims) {
        for axis in 0..dims {
            let bits = local.next();
            let interval = Interval {
                lo: lo[axis],
                width: width[axis],
            };
            let coordinates: [f64; LANES] = std::array::from_fn(|l| interval.point(bits[l]));
            for (point, &x) in step.chunks_exact_mut(dims).zip(&coordinates) {
                point[axis] = x;
            }
        }
    }
    *lanes = local;
}

/// Adds a block of values, in sample order from a lane-0 boundary, to the
/// lanes' sums, a whole step of 16 at a time; with `skip`, values that are
/// not finite count as 0. The caller has checked for them otherwise.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub(crate) fn add_values(values: &[f64], shift: f64, skip: bool, sums: &mut LaneSums) {
    let mut local = *sums;
    let mut steps = values.chunks_exact(LANES);
    for step in &mut steps {
        let mut d: [f64; LANES] = std::array::from_fn(|l| step[l] - shift);
        if skip {
            for (d, skipped) in d.iter_mut().zip(&mut local.skipped) {
                let finite = d.is_finite();
                *skipped += u64::from(!finite);
                *d = if finite { *d } else { -shift };
            }
        }
        for (sum, &d) in local.sum.iter_mut().zip(&d) {
            *sum += d;
        }
        for (squares, &d) in local.squares.iter_mut().zip(&d) {
            *squares += d * d;
        }
    }
    for (lane, &value) in steps.remainder().iter().enumerate() {
        local.add(lane, value, shift, skip);
    }
    *sums = local;
}

fn baseline_forced() -> bool {
    static FORCED: OnceLock<bool> = OnceLock::new();
    *FORCED.get_or_init(|| env::var(KERNEL_VAR).is_ok_and(|value| value == "baseline"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sums of 5000 steps of `f` on the baseline and the dispatched
    /// path, as bits. Generic, so `f` is inlined into each path as in use.
    fn both_paths<F: Fn(f64) -> f64>(f: F) -> [[u64; LANES]; 4] {
        let interval = Interval {
            lo: -1.25,
            width: 3.5,
        };
        let run = |dispatched: bool| {
            let mut lanes = Lanes::new(0xfeed);
            let mut sums = LaneSums::default();
            let path = if dispatched {
                sum_steps_dispatched::<false, F>
            } else {
                sum_steps_baseline::<false, F>
            };
            path(
                &f,
                interval,
                0.3,
                &mut lanes,
                5000,
                &mut sums,
                &mut buffer(),
            );
            sums
        };
        let (baseline, dispatched) = (run(false), run(true));
        [
            baseline.sum.map(f64::to_bits),
            dispatched.sum.map(f64::to_bits),
            baseline.squares.map(f64::to_bits),
            dispatched.squares.map(f64::to_bits),
        ]
    }

    /// Whatever the CPU dispatches to gives the baseline's bits, lane by
    /// lane, for integrands that vectorise and for ones that call libm.
    #[test]
    fn dispatched_and_baseline_paths_agree_to_the_bit() {
        for [
            baseline_sum,
            dispatched_sum,
            baseline_squares,
            dispatched_squares,
        ] in [
            both_paths(|x| x),
            both_paths(|x| x * x - 3.0 * x),
            both_paths(f64::sin),
            both_paths(|x: f64| (-x * x).exp()),
        ] {
            assert_eq!(dispatched_sum, baseline_sum);
            assert_eq!(dispatched_squares, baseline_squares);
        }
    }

    /// 301 steps: two whole blocks and a partial one of odd length, so the
    /// unrolled draws end on a single step.
    const STEPS: u64 = 2 * BLOCK as u64 + 45;

    const INTERVAL: Interval = Interval {
        lo: -1.25,
        width: 3.5,
    };

    /// The sums of [`STEPS`] steps as the scalar path adds them: one value
    /// at a time, `value - shift` added with `+=`.
    fn one_by_one(f: impl Fn(f64) -> f64, shift: f64, skip: bool) -> LaneSums {
        let mut lanes = Lanes::new(0xfeed);
        let mut sums = LaneSums::default();
        for _ in 0..STEPS {
            for (lane, &bits) in lanes.next().iter().enumerate() {
                sums.add(lane, f(INTERVAL.point(bits)), shift, skip);
            }
        }
        sums
    }

    /// The sums of the same steps through the loop in the shape for
    /// `SHAPE`, compiled here for the default target.
    fn in_shape_of<const SHAPE: usize, const SKIP: bool, F: Fn(f64) -> f64>(
        f: &F,
        shift: f64,
    ) -> LaneSums {
        let mut lanes = Lanes::new(0xfeed);
        let mut sums = LaneSums::default();
        let (sums_ref, buffer) = (&mut sums, &mut buffer());
        in_shape::<SHAPE, SKIP, F>(f, INTERVAL, shift, &mut lanes, STEPS, sums_ref, buffer);
        sums
    }

    fn bits(sums: LaneSums) -> ([u64; LANES], [u64; LANES], [u64; LANES]) {
        (
            sums.sum.map(f64::to_bits),
            sums.squares.map(f64::to_bits),
            sums.skipped,
        )
    }

    /// Every shape gives the bits of adding one value at a time; returns
    /// how many values were skipped.
    fn assert_every_shape_adds_as_one_by_one<const SKIP: bool>(
        f: impl Fn(f64) -> f64 + Copy,
        shift: f64,
    ) -> u64 {
        let expected = bits(one_by_one(f, shift, SKIP));
        let shapes = [
            (
                ALL_LANES_UNROLLED,
                in_shape_of::<ALL_LANES_UNROLLED, SKIP, _>(&f, shift),
            ),
            (
                HALF_THE_LANES,
                in_shape_of::<HALF_THE_LANES, SKIP, _>(&f, shift),
            ),
            (ALL_LANES, in_shape_of::<ALL_LANES, SKIP, _>(&f, shift)),
        ];
        for (shape, sums) in shapes {
            assert_eq!(bits(sums), expected, "shape {shape}, shift {shift}");
        }
        expected.2.iter().sum()
    }

    /// For an integrand whose values equal the shift (zeros to sum), one
    /// with values far from it, and one with values that are not finite.
    #[test]
    fn every_shape_gives_the_bits_of_adding_one_value_at_a_time() {
        assert_every_shape_adds_as_one_by_one::<false>(|_| 0.75, 0.75);
        assert_every_shape_adds_as_one_by_one::<false>(|x| 3.0 * x - 1e3, 0.3);
        let holes = |x: f64| if x > 1.5 { f64::NAN } else { x.exp() };
        let skipped = assert_every_shape_adds_as_one_by_one::<true>(holes, -2.0);
        assert!(skipped > 100, "{skipped} values skipped");
    }
}
