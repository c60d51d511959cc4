//! One chunk of a VEGAS+ iteration: points drawn in a range of
//! hypercubes, mapped through the grid, evaluated, and reduced to the
//! hypercubes' sums and the grid's histogram.
//!
//! The work goes block by block, and within a block pass by pass, each a
//! plain loop over one axis's coordinates of every point, as the plain
//! Monte Carlo kernel (`src/kernel/`) goes lane by lane: the hypercubes'
//! corners, the draw into them, the map, the integrand, the Jacobian, the
//! histogram. The coordinates are kept axis by axis (`y[a][p]`), so the
//! draw and the map run on whole vectors of points, compiled for the best
//! instruction set the CPU has; only the map's look-ups of increments and
//! the histogram's bins go point by point. The integrand sees points one
//! after another, as it asks.
//!
//! The bits do not depend on the instruction set or on this layout:
//! every value goes through the same operations in the same order as the
//! point-by-point reference ([`Grid::map`](super::grid::Grid::map) and
//! [`Histogram::add`](super::grid::Histogram::add)), with no fused
//! multiply-add, and sums run in point order.

use std::ops::Range;

use multiversion::multiversion;

use crate::driver::halt::Halt;
use crate::method::vegas::grid::{Grid, Histogram};
use crate::method::vegas::strata::{CubeSums, CubeTally, Strata};
use crate::sample::{LANES, Lanes, unit_open};
use crate::{Accumulator, Error, Integrand, NonFinite};

/// Coordinates in a block of points: the block's `y`, `x` and cells stay
/// in the L1 cache between being drawn, mapped, evaluated and
/// histogrammed, and a chunk zeroes little for its block. (At 4096, 5-D
/// points cost 6 more instructions each, a third of them the zeroing.)
const COORDINATES_PER_BLOCK: usize = 2048;

/// What chunks of an iteration yield and merge into: each hypercube's
/// sums of `f · J`, in hypercube order, and the squares histogrammed per
/// axis and increment.
pub(crate) struct IterationSums {
    pub(crate) count: u64,
    pub(crate) cubes: Vec<CubeSums>,
    /// The spread of the hypercubes' means, for the estimate of an
    /// iteration cut short: each chunk's own ([`means_of`] its cubes),
    /// merged in chunk order, so a pure function of the cubes and the
    /// chunks' ranges, which checkpoints need not hold.
    pub(crate) means: Accumulator,
    pub(crate) histogram: Histogram,
    pub(crate) skipped: u64,
    /// Each hypercube's weight for the next allocation
    /// ([`Strata::weights_of`]), in hypercube order: set by the pass
    /// around the chunk, so that the chunk that owns a hypercube computes
    /// it, not the driver between iterations.
    pub(crate) weights: Vec<f64>,
}

/// The fixed inputs of a chunk.
pub(crate) struct Chunk<'a, I> {
    pub(crate) integrand: &'a I,
    pub(crate) grid: &'a Grid,
    pub(crate) strata: &'a Strata,
    pub(crate) policy: NonFinite,
}

/// A block's points, axis by axis where the passes run over axes.
pub(super) struct Block {
    /// Points per block, a multiple of [`LANES`].
    pub(super) size: usize,
    /// `y[a * (size + FILL) + p]`: the corner of the point's hypercube,
    /// then the point drawn in it, then mapped to `x` in place. (Each
    /// axis's column `FILL` longer than the points, for the last steps of
    /// [`fill_corners`].)
    y: Vec<f64>,
    /// `x[p * dims + a]`: the points as the integrand takes them.
    pub(super) x: Vec<f64>,
    /// `cells[a * size + p]`: the histogram's bin for the increment of
    /// axis `a` that point `p` fell in ([`Grid::map_axis`]).
    pub(super) cells: Vec<u32>,
    pub(super) jacobians: Vec<f64>,
    /// `f`, then `f · J`.
    values: Vec<f64>,
    /// `(f · J)²`, for the histogram.
    pub(super) squares: Vec<f64>,
    /// The block's runs of points in one hypercube, in order: the
    /// hypercube (counted from the chunk's first) and its points.
    pub(super) runs: Vec<(usize, Range<usize>)>,
}

impl Block {
    pub(super) fn new(dims: usize, points: u64) -> Block {
        let most = (COORDINATES_PER_BLOCK / dims / LANES).max(1) * LANES;
        // A small chunk needs no more than its points, rounded up to a
        // whole step of the lanes.
        let size = most.min((points as usize).div_ceil(LANES).max(1) * LANES);
        Block {
            size,
            y: vec![0.0; (size + FILL) * dims],
            x: vec![0.0; size * dims],
            cells: vec![0; size * dims],
            jacobians: vec![0.0; size],
            values: vec![0.0; size],
            squares: vec![0.0; size],
            runs: Vec::new(),
        }
    }
}

/// Which hypercube the next point belongs to, as the points of a chunk
/// are handed out in order: `n_h` to each hypercube in turn.
pub(super) struct Owners<'a> {
    pub(super) counts: &'a [u64],
    /// The hypercube being filled, counted from the chunk's first.
    pub(super) cube: usize,
    /// Its points not yet handed out.
    pub(super) left: u64,
}

impl Owners<'_> {
    /// The runs of the next `points` points, into `runs`.
    pub(super) fn runs(&mut self, points: usize, runs: &mut Vec<(usize, Range<usize>)>) {
        runs.clear();
        let mut filled = 0;
        while filled < points {
            while self.left == 0 {
                self.left = self.counts[self.cube];
                self.cube += 1;
            }
            let take = (self.left as usize).min(points - filled);
            runs.push((self.cube - 1, filled..filled + take));
            filled += take;
            self.left -= take as u64;
        }
    }
}

impl<I: Integrand> Chunk<'_, I> {
    /// The points of hypercubes `range`, from `lanes`: `f · J` tallied per
    /// hypercube and histogrammed. The one loop of a chunk looks at `halt`
    /// at its top, paced by time. A time limit that passes cuts the chunk
    /// short after its first step of points at least: it gives the
    /// hypercubes it reached, the last perhaps in part. (The points are
    /// drawn a step of lanes at a time, so blocks of any number of steps
    /// give the same bits.)
    pub(crate) fn sample(
        &self,
        lanes: &mut Lanes,
        range: Range<usize>,
        halt: &Halt,
    ) -> Result<IterationSums, Error> {
        let dims = self.grid.dims();
        let counts = &self.strata.counts()[range.clone()];
        let mut count: u64 = counts.iter().sum();
        let mut block = Block::new(dims, count);
        let corners = self.strata.corners(range);
        let widths = self.strata.widths();
        let mut owners = Owners {
            counts,
            cube: 0,
            left: 0,
        };
        let mut histogram = Histogram::new(dims, self.grid.increments());
        // The hypercubes finished so far, and the tally of the next.
        let mut cubes: Vec<CubeSums> = Vec::with_capacity(counts.len());
        let mut tally = CubeTally::default();
        // Their means as they close, pushed in order: `means_of(&cubes)`,
        // but spread through the sampling, where the chain of Welford's
        // divisions runs beside the points instead of after them.
        let mut means = Accumulator::new();
        let mut skipped = 0;
        let mut reached = counts.len();
        let mut pace = halt.pace((block.size / LANES).max(1) as u64);
        // Points done, and steps of the lanes since the last look.
        let (mut done, mut steps) = (0, 0);
        while done < count {
            let Some(next) = pace.next_block(steps)? else {
                count = done;
                reached = owners.cube;
                break;
            };
            let n = (next as usize * LANES)
                .min(block.size)
                .min((count - done) as usize);
            owners.runs(n, &mut block.runs);
            draw_and_map(lanes, self.grid, &corners, &widths, &mut block, n);
            let Block {
                x,
                cells,
                jacobians,
                values,
                squares,
                runs,
                size,
                ..
            } = &mut block;
            let values = &mut values[..n];
            self.integrand.evaluate(dims, &x[..n * dims], values);
            skipped += self.weigh(&x[..n * dims], &jacobians[..n], values)?;
            histogram_block(
                &mut histogram,
                &cells[..dims * *size],
                *size,
                values,
                squares,
            );
            // Runs come in hypercube order: those before a run's are done.
            for (cube, points) in runs.iter() {
                while cubes.len() < *cube {
                    close(&mut tally, &mut cubes, &mut means);
                }
                tally.push_all(&values[points.clone()]);
            }
            done += n as u64;
            steps = next;
        }
        // Every hypercube of the range, or of those a time limit let it
        // reach.
        while cubes.len() < reached {
            close(&mut tally, &mut cubes, &mut means);
        }
        let finite = cubes.iter().all(|c| c.mean.is_finite() && c.m2.is_finite());
        if !(finite && histogram.is_finite()) {
            return Err(Error::Overflow);
        }
        Ok(IterationSums {
            count,
            means,
            cubes,
            histogram,
            skipped,
            weights: Vec::new(),
        })
    }

    /// `f · J` in place of `f`, and how many values were skipped: a value
    /// that is not finite is an error, or with [`NonFinite::Skip`] counts
    /// as 0.
    fn weigh(&self, x: &[f64], jacobians: &[f64], values: &mut [f64]) -> Result<u64, Error> {
        // Every value looked at, no early exit, so that the check runs on
        // whole vectors; the slow path below is for the rare block that
        // fails it.
        if values.iter().fold(true, |finite, v| finite & v.is_finite()) {
            for (value, &jacobian) in values.iter_mut().zip(jacobians) {
                *value *= jacobian;
            }
            return Ok(0);
        }
        let dims = self.grid.dims();
        let mut skipped = 0;
        for (p, (value, &jacobian)) in values.iter_mut().zip(jacobians).enumerate() {
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
        Ok(skipped)
    }
}

/// Closes the hypercube `tally` holds: its sums onto `cubes`, its mean
/// into `means` (so that `means` stays `means_of(cubes)`), and `tally`
/// starts afresh.
#[inline(always)]
fn close(tally: &mut CubeTally, cubes: &mut Vec<CubeSums>, means: &mut Accumulator) {
    let cube = std::mem::take(tally).finish();
    means.push(cube.mean);
    cubes.push(cube);
}

/// The hypercubes' means pushed into an accumulator in order: a chunk's
/// part of [`IterationSums::means`].
pub(crate) fn means_of(cubes: &[CubeSums]) -> Accumulator {
    let mut means = Accumulator::new();
    for cube in cubes {
        means.push(cube.mean);
    }
    means
}

/// Draws the block's first `n` points from `lanes` in their hypercubes
/// (`corner + u · width`) and maps them through `grid`: `x`, `cells` and
/// `jacobians` are then set for those points.
///
/// Lane `l`'s output at step `s`, axis `a`, is coordinate `a` of point
/// `16 s + l`, as [`fill_points`](crate::kernel::fill_points) hands out
/// the lanes' outputs; a last, partial step still steps every lane.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
pub(super) fn draw_and_map(
    lanes: &mut Lanes,
    grid: &Grid,
    corners: &[f64],
    widths: &[f64],
    block: &mut Block,
    n: usize,
) {
    let dims = grid.dims();
    let size = block.size;
    let stride = size + FILL;
    let steps = n.div_ceil(LANES);
    fill_corners(&block.runs, corners, stride, &mut block.y);
    let mut local = lanes.clone();
    for step in 0..steps {
        for (axis, &width) in widths.iter().enumerate() {
            let bits = local.next();
            let y = &mut block.y[axis * stride + step * LANES..][..LANES];
            for (y, &bits) in y.iter_mut().zip(&bits) {
                *y += unit_open(bits) * width;
            }
        }
    }
    *lanes = local;
    block.jacobians[..n].fill(1.0);
    for axis in 0..dims {
        // `y` becomes `x`, axis by axis.
        grid.map_axis(
            axis,
            &mut block.y[axis * stride..][..n],
            &mut block.cells[axis * size..][..n],
            &mut block.jacobians[..n],
        );
    }
    // The points one after another, for the integrand.
    let x = &mut block.x[..n * dims];
    let columns = &block.y[..dims * stride];
    match dims {
        1 => x.copy_from_slice(&columns[..n]),
        2 => interleave::<2>(2, stride, columns, x),
        3 => interleave::<3>(3, stride, columns, x),
        4 => interleave::<4>(4, stride, columns, x),
        5 => interleave::<5>(5, stride, columns, x),
        6 => interleave::<6>(6, stride, columns, x),
        7 => interleave::<7>(7, stride, columns, x),
        8 => interleave::<8>(8, stride, columns, x),
        _ => interleave::<0>(dims, stride, columns, x),
    }
}

/// The block's `(f · J)²` into `squares` and, with the cells
/// (`cells[a * size + p]`), into the histogram. Compiled for the best
/// instruction set, as the draw and the map are (AVX adds a bin's sum and
/// count in one instruction from the square and a constant 1); the bits
/// do not depend on it.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn histogram_block(
    histogram: &mut Histogram,
    cells: &[u32],
    size: usize,
    values: &[f64],
    squares: &mut [f64],
) {
    let n = values.len();
    let squares = &mut squares[..n];
    for (square, &value) in squares.iter_mut().zip(values) {
        *square = value * value;
    }
    histogram.add_block(cells, size, squares);
}

/// The steps of [`fill_corners`].
const FILL: usize = 16;

/// Each point's hypercube's corner into `y`: `y[a * stride + p] =
/// corners[a * cubes + cube]` for the points `p` of each run and every
/// axis `a`, from the corners of the chunk's `cubes` hypercubes, axis
/// after axis ([`Strata::corners`]). In steps of [`FILL`] points from each
/// run's start, whatever its length: a step past the end of a run writes
/// points of the next, which that run then writes again, so every point
/// is written last by its own run, and each step is a few whole vectors
/// (a loop sized to each run, a few points, spent more on its ends than
/// on the points). Each axis's column is `stride`, `FILL` more than the
/// runs reach.
#[inline(always)]
fn fill_corners(runs: &[(usize, Range<usize>)], corners: &[f64], stride: usize, y: &mut [f64]) {
    let dims = y.len() / stride;
    let cubes = corners.len() / dims.max(1);
    if cubes == 0 {
        return;
    }
    for (cube, points) in runs {
        for (corners, column) in corners.chunks_exact(cubes).zip(y.chunks_exact_mut(stride)) {
            let corner = [corners[*cube]; FILL];
            let mut start = points.start;
            while start < points.end {
                column[start..][..FILL].copy_from_slice(&corner);
                start += FILL;
            }
        }
    }
}

/// `x[p * dims + a] = columns[a * stride + p]` for the points of `x`: the
/// block's columns of coordinates as points. `D` is `dims` when it is not
/// 0, so that the stores into the points have a constant stride: about
/// 13 instructions a 5-D point, where a loop over the points with a
/// stride known only at run time took 30.
#[inline(always)]
fn interleave<const D: usize>(dims: usize, stride: usize, columns: &[f64], x: &mut [f64]) {
    const GROUP: usize = 16;
    let dims = if D == 0 { dims } else { D };
    let points = x.len() / dims;
    for (axis, column) in columns.chunks_exact(stride).enumerate().take(dims) {
        let mut groups = x.chunks_exact_mut(GROUP * dims);
        let mut values = column[..points].chunks_exact(GROUP);
        for (points, values) in (&mut groups).zip(&mut values) {
            // Coordinate `axis` of point `l` is `slots[l * dims]`, in
            // bounds for every `l` by the length of `slots`.
            let slots = &mut points[axis..][..(GROUP - 1) * dims + 1];
            for (l, &value) in values.iter().enumerate() {
                slots[l * dims] = value;
            }
        }
        let rest = groups.into_remainder().chunks_exact_mut(dims);
        for (point, &value) in rest.zip(values.remainder()) {
            point[axis] = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::vegas::grid::tests::uniforms;

    /// The columns of a block become its points, with a constant stride
    /// and without, and for blocks that end inside a group of sixteen.
    #[test]
    fn columns_interleave_into_points() {
        let size = 64;
        for dims in 1..=9 {
            let columns: Vec<f64> = uniforms(dims as u64).take(dims * size).collect();
            for points in [0, 1, 15, 16, 17, 48, 61] {
                let mut expected = vec![0.0; points * dims];
                for (p, point) in expected.chunks_exact_mut(dims).enumerate() {
                    for (a, x) in point.iter_mut().enumerate() {
                        *x = columns[a * size + p];
                    }
                }
                let mut x = vec![f64::NAN; points * dims];
                interleave::<0>(dims, size, &columns, &mut x);
                assert_eq!(x, expected, "{dims} axes, {points} points");
                if dims == 5 {
                    let mut x = vec![f64::NAN; points * dims];
                    interleave::<5>(5, size, &columns, &mut x);
                    assert_eq!(x, expected, "5 axes as a constant, {points} points");
                }
            }
        }
    }

    /// Steps past the end of a run are written again by the next run:
    /// every point ends with the corner of its own hypercube, whatever the
    /// runs' lengths.
    #[test]
    fn corners_land_on_each_points_own_hypercube() {
        let lengths = [1, 2, 7, 8, 9, 16, 17, 3, 24, 2];
        let mut runs = Vec::new();
        let mut start = 0;
        for (cube, &length) in lengths.iter().enumerate() {
            runs.push((cube, start..start + length));
            start += length;
        }
        let n = start;
        // Three axes, the corners of axis `a` at `a * cubes`.
        let cubes = lengths.len();
        let corners: Vec<f64> = (0..3 * cubes).map(|c| c as f64 / 100.0).collect();
        let stride = n + FILL;
        let mut y = vec![f64::NAN; 3 * stride];
        fill_corners(&runs, &corners, stride, &mut y);
        for (cube, points) in &runs {
            for p in points.clone() {
                for a in 0..3 {
                    let corner = corners[a * cubes + cube];
                    assert_eq!(y[a * stride + p].to_bits(), corner.to_bits());
                }
            }
        }
    }
}
