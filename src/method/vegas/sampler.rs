//! One chunk of a VEGAS+ iteration: points drawn in a range of
//! hypercubes, mapped through the grid, evaluated, and reduced to the
//! hypercubes' sums and the grid's histogram.
//!
//! The work goes block by block, and within a block pass by pass, each a
//! plain loop over one axis's coordinates of every point, as the plain
//! Monte Carlo kernel (`src/kernel/`) goes lane by lane: draw, move into
//! the hypercubes, map, evaluate, weigh by the Jacobian, histogram. The
//! coordinates are kept axis by axis (`y[a][p]`), so the draw, the move
//! and the map run on whole vectors of points (the map's edge look-ups
//! become gathers on AVX2), compiled for the best instruction set the CPU
//! has. Only the integrand sees points one after another, as it asks.
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
/// in the L1 and L2 caches between being drawn, mapped, evaluated and
/// histogrammed.
const COORDINATES_PER_BLOCK: usize = 4096;

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
    /// `y[a * size + p]`: drawn in the unit cube, moved into the point's
    /// hypercube, then mapped to `x` in place.
    y: Vec<f64>,
    /// `x[p * dims + a]`: the points as the integrand takes them.
    pub(super) x: Vec<f64>,
    /// `cells[a * size + p]`: the increment of axis `a` point `p` fell in.
    pub(super) cells: Vec<u32>,
    pub(super) jacobians: Vec<f64>,
    /// `f`, then `f · J`.
    values: Vec<f64>,
    /// `(f · J)²`, for the histogram.
    pub(super) squares: Vec<f64>,
    /// Scratch for the map: each point's increment's start and width.
    starts: Vec<f64>,
    widths: Vec<f64>,
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
            y: vec![0.0; size * dims],
            x: vec![0.0; size * dims],
            cells: vec![0; size * dims],
            jacobians: vec![0.0; size],
            values: vec![0.0; size],
            squares: vec![0.0; size],
            starts: vec![0.0; size],
            widths: vec![0.0; size],
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
        let widths: Vec<f64> = self
            .strata
            .slices()
            .iter()
            .map(|&s| 1.0 / s as f64)
            .collect();
        let mut owners = Owners {
            counts,
            cube: 0,
            left: 0,
        };
        let mut histogram = Histogram::new(dims, self.grid.increments());
        let mut tallies = vec![CubeTally::default(); counts.len()];
        let mut skipped = 0;
        let mut pace = halt.pace((block.size / LANES).max(1) as u64);
        // Points done, and steps of the lanes since the last look.
        let (mut done, mut steps) = (0, 0);
        while done < count {
            let Some(next) = pace.next_block(steps)? else {
                count = done;
                tallies.truncate(owners.cube);
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
            let squares = &mut squares[..n];
            for (square, &value) in squares.iter_mut().zip(values.iter()) {
                *square = value * value;
            }
            for axis in 0..dims {
                histogram.add_axis(axis, &cells[axis * *size..][..n], squares);
            }
            for (cube, points) in runs.iter() {
                tallies[*cube].push_all(&values[points.clone()]);
            }
            done += n as u64;
            steps = next;
        }
        let cubes: Vec<CubeSums> = tallies.iter().map(CubeTally::finish).collect();
        let finite = cubes.iter().all(|c| c.mean.is_finite() && c.m2.is_finite());
        if !(finite && histogram.is_finite()) {
            return Err(Error::Overflow);
        }
        Ok(IterationSums {
            count,
            means: means_of(&cubes),
            cubes,
            histogram,
            skipped,
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

/// The hypercubes' means pushed into an accumulator in order: a chunk's
/// part of [`IterationSums::means`].
pub(crate) fn means_of(cubes: &[CubeSums]) -> Accumulator {
    let mut means = Accumulator::new();
    for cube in cubes {
        means.push(cube.mean);
    }
    means
}

/// Draws the block's first `n` points from `lanes`, moves each into its
/// hypercube (`corner + u · width`) and maps it through `grid`: `x`,
/// `cells` and `jacobians` are then set for those points.
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
    let steps = n.div_ceil(LANES);
    let mut local = lanes.clone();
    for step in 0..steps {
        for axis in 0..dims {
            let bits = local.next();
            let y = &mut block.y[axis * size + step * LANES..][..LANES];
            for (y, &bits) in y.iter_mut().zip(&bits) {
                *y = unit_open(bits);
            }
        }
    }
    *lanes = local;
    let cubes = corners.len() / dims.max(1);
    block.jacobians[..n].fill(1.0);
    for (axis, &width) in widths.iter().enumerate() {
        let y = &mut block.y[axis * size..][..n];
        let corners = &corners[axis * cubes..][..cubes];
        for (cube, points) in &block.runs {
            let corner = corners[*cube];
            for y in &mut y[points.clone()] {
                *y = corner + *y * width;
            }
        }
        // `y` becomes `x`, axis by axis.
        grid.map_axis(
            axis,
            y,
            &mut block.cells[axis * size..][..n],
            &mut block.jacobians[..n],
            [&mut block.starts[..n], &mut block.widths[..n]],
        );
    }
    // The points one after another, for the integrand.
    for axis in 0..dims {
        let column = &block.y[axis * size..][..n];
        for (point, &x) in block.x[..n * dims].chunks_exact_mut(dims).zip(column) {
            point[axis] = x;
        }
    }
}
