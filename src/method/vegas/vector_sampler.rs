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
use crate::kernel::chunk::{McPart, pair_indices, pairs};
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
    /// What [`Strata::update`] reads of a hypercube (its count and
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
    /// Hypercube `c`, pair `p` (in [`pair_indices`] order), at
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
        // The integrand's values, point after point, then `f_j · J`
        // component after component (`columns[j * size + p]`).
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
            self.weigh(points, jacobians, values, &mut columns, size, &mut skipped)?;
            let squares = &mut block.squares[..n];
            self.weights(&columns, size, squares);
            for axis in 0..dims {
                histogram.add_axis(axis, &block.cells[axis * size..][..n], squares);
            }
            for (cube, points) in &block.runs {
                tallies.push(*cube, &columns, size, points.clone());
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

    /// `f_j · J` of the block's points into `columns` (component `j` at
    /// `j * size`), as the scalar chunk weighs one component: a value that
    /// is not finite is an error naming the first such point in sample
    /// order, or with [`NonFinite::Skip`] counts as 0 for its component
    /// alone.
    fn weigh(
        &self,
        x: &[f64],
        jacobians: &[f64],
        values: &[f64],
        columns: &mut [f64],
        size: usize,
        skipped: &mut [u64],
    ) -> Result<(), Error> {
        let m = self.components;
        let n = jacobians.len();
        if values.iter().fold(true, |finite, v| finite & v.is_finite()) {
            for (j, column) in columns.chunks_exact_mut(size).enumerate() {
                let points = values.chunks_exact(m).zip(jacobians);
                for (out, (point, &jacobian)) in column[..n].iter_mut().zip(points) {
                    *out = point[j] * jacobian;
                }
            }
            return Ok(());
        }
        let dims = self.grid.dims();
        for (p, (point, &jacobian)) in values.chunks_exact(m).zip(jacobians).enumerate() {
            for (j, &value) in point.iter().enumerate() {
                columns[j * size + p] = if value.is_finite() {
                    value * jacobian
                } else if self.policy == NonFinite::Skip {
                    skipped[j] += 1;
                    0.0
                } else {
                    return Err(Error::NonFiniteValue {
                        point: x[p * dims..(p + 1) * dims].into(),
                        value,
                    });
                };
            }
        }
        Ok(())
    }

    /// The square of each point's weight, for the histogram: `(f_j · J)²`
    /// of the chosen component (the scalar run's bits), or
    /// `(Σ_j |f_j · J|)²`, summed in component order.
    fn weights(&self, columns: &[f64], size: usize, squares: &mut [f64]) {
        let n = squares.len();
        match self.adapt {
            Adapt::Component(j) => {
                for (square, &v) in squares.iter_mut().zip(&columns[j * size..][..n]) {
                    *square = v * v;
                }
            }
            Adapt::All => {
                squares.fill(0.0);
                for column in columns.chunks_exact(size) {
                    for (sum, &v) in squares.iter_mut().zip(&column[..n]) {
                        *sum += v.abs();
                    }
                }
                for square in squares.iter_mut() {
                    *square *= *square;
                }
            }
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
    /// `cube`, from `columns` (component `j` at `j * size`).
    fn push(&mut self, cube: usize, columns: &[f64], size: usize, points: Range<usize>) {
        let (m, len) = (self.m, points.len());
        if len == 0 {
            return;
        }
        let column = |j: usize| &columns[j * size..][points.clone()];
        for j in 0..m {
            self.each[cube * m + j].push_all(column(j));
        }
        let shifts = &mut self.shifts[cube * m..][..m];
        if self.seen[cube] == 0 {
            for (j, shift) in shifts.iter_mut().enumerate() {
                *shift = column(j)[0];
            }
        }
        self.seen[cube] += len as u64;
        self.shifted.resize(m * len, 0.0);
        let sums = &mut self.sums[cube * m..][..m];
        for (j, (shifted, (sum, &shift))) in self
            .shifted
            .chunks_exact_mut(len)
            .zip(sums.iter_mut().zip(shifts.iter()))
            .enumerate()
        {
            for (d, &v) in shifted.iter_mut().zip(column(j)) {
                *d = v - shift;
                *sum += *d;
            }
        }
        let products = &mut self.products[cube * pairs(m)..][..pairs(m)];
        for (product, (j, k)) in products.iter_mut().zip(pair_indices(m)) {
            let (a, b) = (
                &self.shifted[j * len..][..len],
                &self.shifted[k * len..][..len],
            );
            for (a, b) in a.iter().zip(b) {
                *product += a * b;
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
            for ((out, &product), (j, k)) in out.iter_mut().zip(products).zip(pair_indices(m)) {
                *out = product - sums[j] * (sums[k] / n as f64);
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
    for cube in cubes.chunks_exact(m) {
        for (c, (j, k)) in part.comoments.iter_mut().zip(pair_indices(m)) {
            *c += (cube[j].mean - centres[j]) * (cube[k].mean - centres[k]);
        }
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let mut tallies = Tallies::new(2, m);
        for run in [0..7, 7..8, 8..25, 25..40] {
            tallies.push(1, &columns, size, run);
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
    }
}
