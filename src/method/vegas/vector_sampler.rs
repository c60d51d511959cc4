//! One chunk of a VEGAS+ iteration of a vector integrand: the scalar
//! chunk's points (drawn and mapped by `sampler.rs`, to the bit), `m`
//! values at each, reduced per hypercube to every component's sums and
//! every pair's cross sums, with the weight the map adapts to
//! histogrammed.
//!
//! Each component's values go through the scalar chunk's arithmetic
//! (`f · J`, a [`CubeTally`] per hypercube, in point order), so a
//! component has the sums a scalar run of it alone would have on the
//! same grid and strata.

use std::ops::Range;

use crate::driver::halt::Halt;
use crate::kernel::chunk::{McPart, pairs};
use crate::method::vegas::grid::{Grid, Histogram};
use crate::method::vegas::sampler::{Block, Owners, draw_and_map};
use crate::method::vegas::strata::{CubeSums, CubeTally, Strata};
use crate::sample::{LANES, Lanes};
use crate::{Error, Integrand, NonFinite};

/// What the map and the strata of a vector run adapt to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Adapt {
    /// Every component: the map to `Σ_j |f_j · J|`, the strata to the sum
    /// of the components' variances in each hypercube.
    All,
    /// Component `j` alone, as a scalar run of it would.
    Component(usize),
}

impl Adapt {
    /// What [`Strata::weights_of`] reads of a hypercube (its count and
    /// spread, never its mean): component `j`'s sums, or for every
    /// component their counts with `M2 = Σ_j M2_j`, whose variance of the
    /// mean is the sum of theirs. `cube` holds the hypercube's sums of
    /// every component.
    pub(crate) fn cube(self, cube: &[CubeSums]) -> CubeSums {
        match self {
            Adapt::Component(j) => cube[j],
            Adapt::All => CubeSums {
                count: cube[0].count,
                mean: 0.0,
                m2: cube.iter().fold(0.0, |m2, c| m2 + c.m2),
            },
        }
    }
}

/// What a chunk yields: per hypercube, in order, every component's sums
/// and every pair's co-moment; the weight's histogram; and per component
/// its skipped values.
pub(crate) struct VectorPart {
    pub(crate) count: u64,
    /// Hypercube `c` of the chunk, component `j`, at `c * m + j`.
    pub(crate) cubes: Vec<CubeSums>,
    /// Hypercube `c`, pair `p` (in
    /// [`pair_indices`](crate::kernel::chunk::pair_indices) order), at
    /// `c * pairs(m) + p`: `Σ (v_j − mean_j)(v_k − mean_k)` over its
    /// points.
    pub(crate) comoments: Vec<f64>,
    /// The spread of the hypercubes' means, per component and pair, for
    /// an iteration cut short ([`means_of`]).
    pub(crate) means: McPart,
    pub(crate) histogram: Histogram,
    pub(crate) skipped: Vec<u64>,
}

/// The fixed inputs of a chunk.
pub(crate) struct VectorChunk<'a, I> {
    pub(crate) integrand: &'a I,
    pub(crate) grid: &'a Grid,
    pub(crate) strata: &'a Strata,
    pub(crate) policy: NonFinite,
    pub(crate) components: usize,
    pub(crate) adapt: Adapt,
}

impl<I: Integrand> VectorChunk<'_, I> {
    /// The points of hypercubes `range`, from `lanes`, as the scalar chunk
    /// draws them (and cut short by a time limit as it is): each
    /// component's `f · J` tallied per hypercube, each pair's products,
    /// and the weight histogrammed.
    pub(crate) fn sample(
        &self,
        lanes: &mut Lanes,
        range: Range<usize>,
        halt: &Halt,
    ) -> Result<VectorPart, Error> {
        let (dims, m) = (self.grid.dims(), self.components);
        let counts = &self.strata.counts()[range.clone()];
        let mut count: u64 = counts.iter().sum();
        let mut block = Block::new(dims, count);
        let size = block.size;
        let corners = self.strata.corners(range);
        let widths = self.strata.widths();
        let mut owners = Owners {
            counts,
            cube: 0,
            left: 0,
        };
        let mut histogram = Histogram::new(dims, self.grid.increments());
        // The integrand's values, point after point, weighed in place
        // (`f_j · J`), and again component after component
        // (`columns[j * size + p]`), the scalar chunk's layout.
        let mut values = vec![0.0; size * m];
        let mut columns = vec![0.0; size * m];
        let mut tallies = Tallies::new(counts.len(), m);
        let mut skipped = vec![0; m];
        let mut pace = halt.pace((size / LANES).max(1) as u64);
        let (mut done, mut steps) = (0, 0);
        while done < count {
            let Some(next) = pace.next_block(steps)? else {
                count = done;
                tallies.truncate(owners.cube);
                break;
            };
            let n = (next as usize * LANES)
                .min(size)
                .min((count - done) as usize);
            owners.runs(n, &mut block.runs);
            draw_and_map(lanes, self.grid, &corners, &widths, &mut block, n);
            let points = &block.x[..n * dims];
            let values = &mut values[..n * m];
            self.integrand.evaluate(dims, points, values);
            let jacobians = &block.jacobians[..n];
            self.weigh(points, jacobians, values, &mut skipped)?;
            transpose(values, m, &mut columns, size);
            let squares = &mut block.squares[..n];
            self.weights(values, &columns, size, squares);
            histogram.add_block(&block.cells, size, squares);
            for (cube, points) in &block.runs {
                let rows = &values[points.start * m..points.end * m];
                tallies.push(*cube, rows, &columns, size, points.clone());
            }
            done += n as u64;
            steps = next;
        }
        let (cubes, comoments) = tallies.finish();
        let finite = cubes.iter().all(|c| c.mean.is_finite() && c.m2.is_finite())
            && comoments.iter().all(|c| c.is_finite());
        if !(finite && histogram.is_finite()) {
            return Err(Error::Overflow);
        }
        Ok(VectorPart {
            count,
            means: means_of(&cubes, m),
            cubes,
            comoments,
            histogram,
            skipped,
        })
    }

    /// `f_j · J` in place of the block's values, as the scalar chunk
    /// weighs one component: a value that is not finite is an error
    /// naming the first such point in sample order, or with
    /// [`NonFinite::Skip`] counts as 0 for its component alone.
    fn weigh(
        &self,
        x: &[f64],
        jacobians: &[f64],
        values: &mut [f64],
        skipped: &mut [u64],
    ) -> Result<(), Error> {
        let m = self.components;
        let finite = values.iter().fold(true, |finite, v| finite & v.is_finite());
        let points = values.chunks_exact_mut(m).zip(jacobians);
        if finite {
            for (point, &jacobian) in points {
                for value in point {
                    *value *= jacobian;
                }
            }
            return Ok(());
        }
        let dims = self.grid.dims();
        for (p, (point, &jacobian)) in points.enumerate() {
            for (value, skipped) in point.iter_mut().zip(skipped.iter_mut()) {
                *value = if value.is_finite() {
                    *value * jacobian
                } else if self.policy == NonFinite::Skip {
                    *skipped += 1;
                    0.0
                } else {
                    return Err(Error::NonFiniteValue {
                        point: x[p * dims..(p + 1) * dims].into(),
                        value: *value,
                    });
                };
            }
        }
        Ok(())
    }

    /// The square of each point's weight, for the histogram: `(f_j · J)²`
    /// of the chosen component (the scalar run's bits), or
    /// `(Σ_j |f_j · J|)²`, summed in component order from 0. `values`
    /// holds the block's weighed values point after point, `columns` the
    /// same component after component.
    fn weights(&self, values: &[f64], columns: &[f64], size: usize, squares: &mut [f64]) {
        match self.adapt {
            Adapt::Component(j) => {
                for (square, &v) in squares.iter_mut().zip(&columns[j * size..]) {
                    *square = v * v;
                }
            }
            Adapt::All => {
                let points = values.chunks_exact(self.components);
                for (square, point) in squares.iter_mut().zip(points) {
                    let sum = point.iter().fold(0.0, |sum, v| sum + v.abs());
                    *square = sum * sum;
                }
            }
        }
    }
}

/// The first `values.len() / m` points' values, point after point, into
/// `columns`, component after component (`columns[j * size + p]`).
fn transpose(values: &[f64], m: usize, columns: &mut [f64], size: usize) {
    for (j, column) in columns.chunks_exact_mut(size).enumerate() {
        for (out, point) in column.iter_mut().zip(values.chunks_exact(m)) {
            *out = point[j];
        }
    }
}

/// The sums of a chunk's hypercubes: per hypercube and component a
/// [`CubeTally`], the scalar chunk's (so each component has its bits),
/// and per pair of components the sums of the products of their values,
/// each shifted by the hypercube's first value of its component.
struct Tallies {
    m: usize,
    /// Hypercube `c`, component `j` at `c * m + j`.
    each: Vec<CubeTally>,
    /// Per hypercube: its values so far.
    seen: Vec<u64>,
    /// Per hypercube and component: the shift, and `Σ (v − shift)`.
    shifts: Vec<f64>,
    sums: Vec<f64>,
    /// Per hypercube and pair: `Σ (v_j − shift_j)(v_k − shift_k)`.
    products: Vec<f64>,
    /// A run's shifted values, component after component.
    shifted: Vec<f64>,
}

impl Tallies {
    fn new(cubes: usize, m: usize) -> Tallies {
        Tallies {
            m,
            each: vec![CubeTally::default(); cubes * m],
            seen: vec![0; cubes],
            shifts: vec![0.0; cubes * m],
            sums: vec![0.0; cubes * m],
            products: vec![0.0; cubes * pairs(m)],
            shifted: Vec::new(),
        }
    }

    /// Adds the values of `points`, a run of the block in hypercube
    /// `cube`: `rows` holds them point after point, `columns` component
    /// after component (component `j` at `j * size`).
    fn push(
        &mut self,
        cube: usize,
        rows: &[f64],
        columns: &[f64],
        size: usize,
        points: Range<usize>,
    ) {
        let m = self.m;
        if points.is_empty() {
            return;
        }
        for j in 0..m {
            self.each[cube * m + j].push_all(&columns[j * size..][points.clone()]);
        }
        let shifts = &mut self.shifts[cube * m..][..m];
        if self.seen[cube] == 0 {
            shifts.copy_from_slice(&rows[..m]);
        }
        self.seen[cube] += points.len() as u64;
        let sums = &mut self.sums[cube * m..][..m];
        let products = &mut self.products[cube * pairs(m)..][..pairs(m)];
        self.shifted.resize(m, 0.0);
        for row in rows.chunks_exact(m) {
            // The point's values less their shifts, added to the sums:
            // each component's sum adds the points in order.
            let d = &mut self.shifted[..];
            for ((d, &v), (&shift, sum)) in d.iter_mut().zip(row).zip(shifts.iter().zip(&mut *sums))
            {
                *d = v - shift;
                *sum += *d;
            }
            // Each component's products with the later ones, row by row
            // in `pair_indices` order: every pair's sum, too, adds the
            // points in order.
            let mut rest = &mut products[..];
            for (j, &a) in d.iter().enumerate() {
                let (these, later) = std::mem::take(&mut rest).split_at_mut(m - j - 1);
                for (product, &b) in these.iter_mut().zip(&d[j + 1..]) {
                    *product += a * b;
                }
                rest = later;
            }
        }
    }

    /// Keeps the first `cubes` hypercubes: those a time limit let the
    /// chunk reach.
    fn truncate(&mut self, cubes: usize) {
        let m = self.m;
        self.each.truncate(cubes * m);
        self.seen.truncate(cubes);
        self.shifts.truncate(cubes * m);
        self.sums.truncate(cubes * m);
        self.products.truncate(cubes * pairs(m));
    }

    /// Every hypercube's sums per component, and co-moments per pair:
    /// `Σ d_j d_k − Σ d_j · (Σ d_k / n)`, as the plain Monte Carlo chunk
    /// forms them.
    fn finish(&self) -> (Vec<CubeSums>, Vec<f64>) {
        let (m, pairs) = (self.m, pairs(self.m));
        let cubes = self.each.iter().map(CubeTally::finish).collect();
        let mut comoments = vec![0.0; self.seen.len() * pairs];
        for (c, &n) in self.seen.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let sums = &self.sums[c * m..][..m];
            let products = &self.products[c * pairs..][..pairs];
            let out = &mut comoments[c * pairs..][..pairs];
            let mut p = 0;
            for j in 0..m {
                for k in j + 1..m {
                    out[p] = products[p] - sums[j] * (sums[k] / n as f64);
                    p += 1;
                }
            }
        }
        (cubes, comoments)
    }
}

/// The hypercubes' means of each component pushed into accumulators in
/// order (component `j`'s is the scalar chunk's `means_of` of its sums),
/// and the co-moments of each pair's means about theirs: a chunk's part
/// of the spread an iteration cut short is estimated from. `cubes` holds
/// `m` sums per hypercube.
pub(crate) fn means_of(cubes: &[CubeSums], m: usize) -> McPart {
    let mut part = McPart::empty(m);
    for cube in cubes.chunks_exact(m) {
        for (means, c) in part.values.iter_mut().zip(cube) {
            means.push(c.mean);
        }
    }
    let centres: Vec<f64> = part.values.iter().map(|means| means.mean()).collect();
    let mut deviations = vec![0.0; m];
    for cube in cubes.chunks_exact(m) {
        for ((d, c), centre) in deviations.iter_mut().zip(cube).zip(&centres) {
            *d = c.mean - centre;
        }
        // The pairs in `pair_indices` order, row by row.
        let mut row = &mut part.comoments[..];
        for (j, &a) in deviations.iter().enumerate() {
            let (these, rest) = std::mem::take(&mut row).split_at_mut(m - j - 1);
            for (c, &b) in these.iter_mut().zip(&deviations[j + 1..]) {
                *c += a * b;
            }
            row = rest;
        }
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::chunk::pair_indices;
    use crate::method::vegas::grid::tests::uniforms;

    /// Pushed in runs of any length, each component's sums are those of
    /// a [`CubeTally`] of its values alone, and each pair's co-moment that
    /// of a two-pass sum about the means.
    #[test]
    fn tallies_are_each_components_and_the_pairs_co_moments() {
        let (m, size, points) = (3, 64, 40);
        let mut u = uniforms(5);
        let mut columns = vec![0.0; m * size];
        for j in 0..m {
            for p in 0..points {
                columns[j * size + p] = 1e4 * j as f64 + u.next().unwrap();
            }
        }
        let mut rows = vec![0.0; m * size];
        transpose_back(&columns, m, size, &mut rows);
        let mut tallies = Tallies::new(2, m);
        for run in [0..7, 7..8, 8..25, 25..40] {
            let these = &rows[run.start * m..run.end * m];
            tallies.push(1, these, &columns, size, run);
        }
        let (cubes, comoments) = tallies.finish();
        assert_eq!(cubes[..m], [CubeSums::default(); 3]);
        for j in 0..m {
            let mut alone = CubeTally::default();
            alone.push_all(&columns[j * size..][..points]);
            assert_eq!(cubes[m + j], alone.finish());
        }
        for (p, (j, k)) in pair_indices(m).enumerate() {
            let (a, b) = (
                &columns[j * size..][..points],
                &columns[k * size..][..points],
            );
            let (ma, mb) = (cubes[m + j].mean, cubes[m + k].mean);
            let exact: f64 = a.iter().zip(b).map(|(a, b)| (a - ma) * (b - mb)).sum();
            let scale = (cubes[m + j].m2 * cubes[m + k].m2).sqrt();
            assert!(
                (comoments[pairs(m) + p] - exact).abs() < 1e-12 * scale,
                "{j} {k}"
            );
        }
        // The weight of every component: its spread is the sum of theirs.
        let summed = Adapt::All.cube(&cubes[m..]);
        let m2: f64 = cubes[m..].iter().map(|c| c.m2).sum();
        assert_eq!((summed.count, summed.m2), (points as u64, m2));
        assert_eq!(Adapt::Component(2).cube(&cubes[m..]), cubes[m + 2]);
        // And `transpose` undoes the test's own layout.
        let mut again = vec![0.0; m * size];
        transpose(&rows, m, &mut again, size);
        assert_eq!(again, columns);
    }

    /// `columns` (component `j` at `j * size`) point after point.
    fn transpose_back(columns: &[f64], m: usize, size: usize, rows: &mut [f64]) {
        for (p, row) in rows.chunks_exact_mut(m).enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                *value = columns[j * size + p];
            }
        }
    }
}
