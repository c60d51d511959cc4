//! Adaptive cubature in 2 to 15 dimensions as a method of passes: the
//! Genz–Malik rule on a partition of the box, bisecting the regions with
//! the largest errors, many at once.
//!
//! The first pass evaluates the rule on the whole box. Each later pass
//! splits the worst regions (as many as it takes for the others to meet
//! the tolerance, within the budget: see [`partition`]), each along the
//! axis where the integrand's fourth difference is largest, and evaluates
//! the rule on both halves of each; a chunk is a group of those regions,
//! whose nodes go to the integrand in one call. Merged in chunk order, the
//! halves replace their parents in the running totals, and the partition
//! chooses the next regions from those totals alone, so the sequence of
//! passes and the bits are the same on any thread count.
//!
//! - [`rule`]: the Genz–Malik rule, its error estimate and its choice of
//!   axis.
//! - [`axis`]: the maps of infinite axes.
//! - [`partition`]: the regions, and the step between passes.

mod axis;
mod partition;
mod rule;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::driver::checkpoint::StateReader;
use crate::driver::halt::Halt;
use crate::driver::pass::{Pass, Passes, Running};
use crate::result::estimate::ComponentEstimate;
use crate::spec::settings::{Bounds, Settings};
use crate::{Error, Estimate, Integrand, NonFinite, Stop};
use axis::Axis;
use partition::{Goal, Partition, Rated, Region, Totals, put};
use rule::GenzMalik;

/// The most dimensions [`Method::cubature`](crate::Method::cubature)
/// takes: the rule's `2^d` vertices make a region cost 33,249 evaluations
/// in 15 dimensions, and its weights, which grow as `d²` with alternating
/// signs, cost about five digits there. Beyond, Monte Carlo or VEGAS does
/// better.
///
/// # Examples
///
/// ```
/// use quadpipe::method::MAX_CUBATURE_DIMS;
/// use quadpipe::{Error, Integral, Method};
///
/// let box16 = vec![0.0..1.0; MAX_CUBATURE_DIMS + 1];
/// let integral = Integral::over(|x: &[f64]| x[0], box16).method(Method::cubature());
/// let err = pollster::block_on(integral.run_inline()).unwrap_err();
/// assert!(matches!(err, Error::CubatureDimensions { dims: 16, .. }));
/// ```
pub const MAX_CUBATURE_DIMS: usize = 15;

/// The relative tolerance of cubature when none is set, as SciPy's
/// `cubature` and HCubature.jl (`√ε`) default to.
const DEFAULT_REL: f64 = 1e-8;

/// Integrand evaluations in a chunk when the caller set no chunk size:
/// about 0.1 ms of a cheap integrand, which keeps spawning and merging a
/// chunk (a few microseconds) small, and makes a pass of a hundred regions
/// in two dimensions a handful of chunks for the cores to share.
const DEFAULT_CHUNK_EVALUATIONS: u64 = 1 << 13;

/// Adaptive cubature in 2 to [`MAX_CUBATURE_DIMS`] dimensions: the Genz–Malik rule
/// of degree 7 with its embedded degree-5 error estimate, bisecting the
/// regions with the largest error along the axis with the largest fourth
/// difference (Genz and Malik, 1980; the algorithm of Cuba's Cuhre,
/// HCubature.jl and SciPy's `cubature(rule="genz-malik")`).
///
/// Deterministic; for smooth integrands in a few dimensions it reaches
/// 1e-8 in thousands to a few hundred thousand evaluations, where Monte
/// Carlo would need billions. It stops when its error estimate meets the
/// [`tolerance`](crate::Integral::tolerance) (relative 1e-8 if none is
/// set), with [`Stop::ToleranceMet`]; when the evaluation budget,
/// [`samples`](crate::Integral::samples), leaves no room to split another
/// region, with [`Stop::ToleranceNotMet`]; or when the worst region is too
/// small to bisect in an f64, with [`Stop::RoundOff`]. The estimate's
/// `std_error` holds the error estimate (a bound meant to hold, not one
/// standard deviation), and `samples` the evaluations.
///
/// A vector integrand ([`Integral::vector`](crate::Integral::vector))
/// keeps every component's value and error per region; a region ranks by
/// the largest of its components' errors (the maximum norm, as Cuba's
/// Cuhre), is cut along the axis that component's fourth difference picks,
/// and the run stops when every component meets the tolerance. Its
/// estimate has each component, without a covariance.
///
/// An infinite bound is mapped to a finite one by a change of variables
/// per axis (`x = a + t/(1 − t)`, or `t/(1 − t²)` for a whole line), as
/// SciPy does. In one dimension use [`Method::gauss_kronrod`](crate::Method::gauss_kronrod):
/// the rule needs `d ≥ 2`, and a one-dimensional run fails with
/// [`Error::CubatureDimensions`] saying so.
///
/// Each pass splits many regions at once, a chunk a group of them; a run
/// stops at a cancel between chunks, reports the value so far (± the sum
/// of the regions' errors) as its progress, and checkpoints its partition,
/// so a resumed run takes the same steps to the same bits.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Method, Stop};
///
/// let integral = Integral::over(
///     |x: &[f64]| (x[0] + 2.0 * x[1]).cos(),
///     [0.0..1.0, 0.0..1.0],
/// )
/// .tolerance(0.0, 1e-10)
/// .method(Method::cubature());
/// let estimate = pollster::block_on(integral.run_inline())?;
/// let exact = (2f64.cos() + 1f64.cos() - 3f64.cos() - 1.0) / 2.0;
/// assert!((estimate.value - exact).abs() < 1e-10 * exact.abs());
/// assert_eq!(estimate.stop, Stop::ToleranceMet);
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cubature {
    /// No settings yet: the builder is where they will go.
    _private: (),
}

impl Cubature {
    /// Cubature with the defaults: see [`Cubature`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::method::Cubature::new(), quadpipe::Method::cubature());
    /// ```
    pub const fn new() -> Cubature {
        Cubature { _private: () }
    }

    /// The settings that decide the bits, for a checkpoint's fingerprint:
    /// none yet.
    pub(crate) fn fingerprint(&self, _out: &mut Vec<u8>) {}
}

/// A cubature run: the integrand, the maps of its axes, and the partition
/// between passes.
pub(crate) struct CubatureRun<I> {
    integrand: Arc<I>,
    shape: Arc<Shape>,
    partition: Partition,
}

/// What every pass of a run shares.
struct Shape {
    rule: GenzMalik,
    axes: Box<[Axis]>,
    goal: Goal,
    /// Regions split per chunk: two regions evaluated each.
    parents_per_chunk: usize,
    /// Values a point: 1, or a vector integrand's `m`.
    components: usize,
}

impl Shape {
    fn dims(&self) -> usize {
        self.axes.len()
    }
}

impl<I: Integrand> CubatureRun<I> {
    /// Checks what the rule needs: 2 to [`MAX_CUBATURE_DIMS`] axes, each with a
    /// lower bound below its upper one (either may be infinite), a budget
    /// for one application of the rule, and no skipping of non-finite
    /// values.
    pub(crate) fn new(
        integrand: &Arc<I>,
        settings: &Settings,
        _method: &Cubature,
    ) -> Result<Self, Error> {
        let ranges = match &settings.bounds {
            Bounds::Interval(_) => {
                return Err(Error::CubatureDimensions {
                    dims: 1,
                    max: MAX_CUBATURE_DIMS,
                });
            }
            Bounds::Box(ranges) => ranges,
        };
        match ranges.len() {
            0 => return Err(Error::NoAxes),
            dims if dims == 1 || dims > MAX_CUBATURE_DIMS => {
                return Err(Error::CubatureDimensions {
                    dims,
                    max: MAX_CUBATURE_DIMS,
                });
            }
            _ => {}
        }
        let axes = ranges
            .iter()
            .enumerate()
            .map(|(index, range)| Axis::new(index, range))
            .collect::<Result<Box<[Axis]>, Error>>()?;
        let volume: f64 = axes
            .iter()
            .map(|axis| axis.range())
            .map(|(lo, hi)| hi - lo)
            .product();
        if !(volume.is_finite() && volume > 0.0) {
            return Err(Error::VolumeOutOfRange { volume });
        }
        if settings.non_finite == NonFinite::Skip {
            return Err(Error::QuadratureCannotSkip);
        }
        let rule = GenzMalik::new(axes.len());
        let per_region = rule.evaluations() as u64;
        if settings.samples < per_region {
            return Err(Error::CubatureBudget {
                samples: settings.samples,
                min: per_region,
            });
        }
        // The spec checked a tolerance that is set.
        let (abs, rel) = settings.tolerance.unwrap_or((0.0, DEFAULT_REL));
        let per_chunk = settings.chunk_size.unwrap_or(DEFAULT_CHUNK_EVALUATIONS);
        let parents_per_chunk = usize::try_from(per_chunk / (2 * per_region))
            .unwrap_or(usize::MAX)
            .max(1);
        Ok(CubatureRun {
            integrand: integrand.clone(),
            shape: Arc::new(Shape {
                rule,
                axes,
                goal: Goal {
                    abs,
                    rel,
                    budget: settings.samples,
                    per_region,
                },
                parents_per_chunk,
                components: integrand.components(),
            }),
            partition: Partition::new(integrand.components()),
        })
    }
}

impl<I: Integrand> Passes for CubatureRun<I> {
    type Pass = CubaturePass<I>;

    /// How many evaluations it takes is not known in advance; the budget
    /// bounds it.
    fn total(&self) -> Option<u64> {
        None
    }

    fn next_pass(&self) -> Option<Arc<CubaturePass<I>>> {
        Some(Arc::new(CubaturePass {
            integrand: self.integrand.clone(),
            shape: self.shape.clone(),
            parents: self.partition.next()?,
            totals: self.partition.totals().clone(),
        }))
    }

    fn end_pass(&mut self, pass: &CubaturePass<I>, merged: Merged) -> Result<Option<Stop>, Error> {
        if !merged.totals.is_finite() {
            return Err(Error::Overflow);
        }
        let made = pass.regions(merged.applied);
        Ok(self
            .partition
            .advance(made, merged.totals, &self.shape.goal))
    }

    fn done(&self, running: Running<'_, Self>) -> u64 {
        let running = running.map_or(0, |(_, merged)| merged.applied.len() as u64);
        self.partition.evaluations() + running * self.shape.goal.per_region
    }

    /// The partition's value and the sum of its regions' errors (in the
    /// place of the standard error), the running pass's halves in place
    /// of their parents; `NaN ± ∞` before the first region. For a vector
    /// integrand, so for each component (and no covariance).
    fn estimate(&self, running: Running<'_, Self>, stop: Stop) -> Estimate {
        let done = self.done(running);
        let totals = running.map_or(self.partition.totals(), |(_, merged)| &merged.totals);
        let each: Vec<ComponentEstimate> = (totals.value.iter().zip(&totals.error))
            .map(|(value, error)| ComponentEstimate {
                value: if done == 0 { f64::NAN } else { value.total() },
                std_error: if done == 0 {
                    f64::INFINITY
                } else {
                    error.total()
                },
                skipped: 0,
                heavy_tails: false,
            })
            .collect();
        if let [only] = each[..] {
            return Estimate::new(only.value, only.std_error, done, stop);
        }
        Estimate::vector(each, None, done, stop)
    }

    /// Cubature applies its tolerance itself: the driver checks only a
    /// time limit.
    fn owns_tolerance(&self) -> bool {
        true
    }

    fn encode(&self, out: &mut Vec<u8>) {
        self.partition.encode(out);
    }

    fn decode(&mut self, reader: &mut StateReader<'_>) -> Option<()> {
        self.partition.decode(reader, self.shape.dims())
    }
}

/// One pass: the rule on the whole box, or on both halves of each region
/// split, a group of regions a chunk.
pub(crate) struct CubaturePass<I> {
    integrand: Arc<I>,
    shape: Arc<Shape>,
    /// The regions split; none in the first pass, which evaluates the
    /// whole box.
    parents: Arc<[Region]>,
    /// The partition's totals before the pass.
    totals: Totals,
}

/// The chunks of a pass merged so far: the rule on each region evaluated,
/// in order, and the partition's totals with them in place of their
/// parents.
pub(crate) struct Merged {
    applied: Vec<Rated>,
    totals: Totals,
}

impl<I> CubaturePass<I> {
    /// The boxes the pass evaluates, in order: the whole box, or the
    /// halves of each parent.
    fn boxes(&self, parents: &[Region]) -> Vec<Box<[f64]>> {
        if self.parents.is_empty() {
            let (lo, hi): (Vec<f64>, Vec<f64>) =
                self.shape.axes.iter().map(|axis| axis.range()).unzip();
            return vec![lo.into_iter().chain(hi).collect()];
        }
        parents.iter().flat_map(Region::halves).collect()
    }

    /// The parents chunk `index` splits.
    fn parents_of(&self, index: u64) -> &[Region] {
        let per = self.shape.parents_per_chunk;
        let start = (index as usize).saturating_mul(per).min(self.parents.len());
        let end = start.saturating_add(per).min(self.parents.len());
        &self.parents[start..end]
    }

    /// The regions a finished pass made, for the partition.
    fn regions(&self, applied: Vec<Rated>) -> impl Iterator<Item = (Box<[f64]>, Rated)> {
        self.boxes(&self.parents).into_iter().zip(applied)
    }

    /// Adds a chunk's regions to `merged`: each pair of halves in place of
    /// its parent, or the whole box in the first pass; component by
    /// component.
    fn fold(&self, merged: &mut Merged, part: Vec<Rated>) {
        let Totals { value, error } = &mut merged.totals;
        for j in 0..value.len() {
            let (value, error) = (&mut value[j], &mut error[j]);
            if self.parents.is_empty() {
                for rated in &part {
                    value.add(rated.values[j]);
                    error.add(rated.errors[j]);
                }
            } else {
                let first = merged.applied.len() / 2;
                for (parent, halves) in self.parents[first..].iter().zip(part.chunks_exact(2)) {
                    value.add(halves[0].values[j]);
                    value.add(halves[1].values[j]);
                    value.add(-parent.rated.values[j]);
                    error.add(halves[0].errors[j]);
                    error.add(halves[1].errors[j]);
                    error.add(-parent.rated.errors[j]);
                }
            }
        }
        merged.applied.extend(part);
    }

    /// Regions evaluated in the whole pass.
    fn regions_in_pass(&self) -> usize {
        if self.parents.is_empty() {
            1
        } else {
            2 * self.parents.len()
        }
    }
}

impl<I: Integrand> CubaturePass<I> {
    /// The rule on each box: their nodes, mapped to the caller's
    /// coordinates, go to the integrand in one call.
    fn evaluate(&self, boxes: &[Box<[f64]>]) -> Result<Vec<Rated>, Error> {
        let shape = &*self.shape;
        let (d, n, m) = (
            shape.dims(),
            shape.goal.per_region as usize,
            shape.components,
        );
        let mut points = vec![0.0; boxes.len() * n * d];
        let (mut centre, mut half) = (vec![0.0; d], vec![0.0; d]);
        for (bounds, out) in boxes.iter().zip(points.chunks_exact_mut(n * d)) {
            centre_and_half(bounds, &mut centre, &mut half);
            shape.rule.nodes(&centre, &half, out);
        }
        // Map infinite axes: the caller's coordinates, and dx/dt.
        let mapped = !shape.axes.iter().all(|axis| axis.is_finite());
        let mut jacobians = Vec::new();
        if mapped {
            jacobians = points
                .chunks_exact_mut(d)
                .map(|point| {
                    let mut jacobian = 1.0;
                    for (x, axis) in point.iter_mut().zip(&shape.axes) {
                        let (mapped, slope) = axis.map(*x);
                        *x = mapped;
                        jacobian *= slope;
                    }
                    jacobian
                })
                .collect();
        }
        let mut values = vec![0.0; boxes.len() * n * m];
        self.integrand.evaluate(d, &points, &mut values);
        for (at, value) in values.iter_mut().enumerate() {
            let i = at / m;
            if !value.is_finite() {
                return Err(Error::NonFiniteValue {
                    point: points[i * d..(i + 1) * d].into(),
                    value: *value,
                });
            }
            // Where the integrand has decayed to 0, an overflowing dx/dt
            // near t = 1 must not make 0 · ∞.
            if mapped && *value != 0.0 {
                *value *= jacobians[i];
                if !value.is_finite() {
                    return Err(Error::Overflow);
                }
            }
        }
        let mut column = vec![0.0; if m > 1 { n } else { 0 }];
        Ok(boxes
            .iter()
            .zip(values.chunks_exact(n * m))
            .map(|(bounds, values)| {
                centre_and_half(bounds, &mut centre, &mut half);
                if m == 1 {
                    let applied = shape.rule.apply(values, &half);
                    return Rated {
                        values: Box::new([applied.value]),
                        errors: Box::new([applied.error]),
                        axis: applied.axis,
                    };
                }
                let (mut each, mut errors) = (vec![0.0; m], vec![0.0; m]);
                let (mut axis, mut worst) = (0, f64::NEG_INFINITY);
                for j in 0..m {
                    for (x, point) in column.iter_mut().zip(values.chunks_exact(m)) {
                        *x = point[j];
                    }
                    let applied = shape.rule.apply(&column, &half);
                    (each[j], errors[j]) = (applied.value, applied.error);
                    if applied.error > worst {
                        (axis, worst) = (applied.axis, applied.error);
                    }
                }
                Rated {
                    values: each.into(),
                    errors: errors.into(),
                    axis,
                }
            })
            .collect())
    }
}

/// The centre and half-widths of a box given as its two corners.
fn centre_and_half(bounds: &[f64], centre: &mut [f64], half: &mut [f64]) {
    let d = centre.len();
    for k in 0..d {
        half[k] = 0.5 * (bounds[d + k] - bounds[k]);
        centre[k] = bounds[k] + half[k];
    }
}

impl<I: Integrand> Pass for CubaturePass<I> {
    type Part = Vec<Rated>;
    type Merged = Merged;

    fn chunks(&self) -> u64 {
        if self.parents.is_empty() {
            return 1;
        }
        self.parents.len().div_ceil(self.shape.parents_per_chunk) as u64
    }

    /// The rule on the chunk's regions: one call of the integrand on all
    /// their nodes, so a cancel is looked at once, before it.
    fn run_chunk(&self, index: u64, halt: &Halt) -> Result<Vec<Rated>, Error> {
        if halt.is_cancelled() {
            return Err(Error::Cancelled);
        }
        self.evaluate(&self.boxes(self.parents_of(index)))
    }

    fn start(&self) -> Merged {
        Merged {
            applied: Vec::with_capacity(self.regions_in_pass()),
            totals: self.totals.clone(),
        }
    }

    fn merge(&self, merged: &mut Merged, part: Vec<Rated>) {
        self.fold(merged, part);
    }

    fn overflowed(&self, merged: &Merged) -> bool {
        !merged.totals.is_finite()
    }

    fn encode(&self, merged: &Merged, out: &mut Vec<u8>) {
        put(out, merged.applied.len() as u64);
        for applied in &merged.applied {
            applied.encode(out);
        }
    }

    /// The regions back, and the totals folded again from them: the same
    /// additions in the same order give the same bits.
    fn decode(&self, reader: &mut StateReader<'_>) -> Option<Merged> {
        let len = usize::try_from(reader.u64()?).ok()?;
        // A checkpoint falls after a chunk: whole chunks, or the pass.
        let total = self.regions_in_pass();
        if len > total || !(len == total || len % (2 * self.shape.parents_per_chunk) == 0) {
            return None;
        }
        let applied = (0..len)
            .map(|_| Rated::decode(reader, self.shape.dims(), self.shape.components))
            .collect::<Option<Vec<_>>>()?;
        let mut merged = self.start();
        self.fold(&mut merged, applied);
        Some(merged)
    }

    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &Vec<Rated>, out: &mut Vec<u8>) {
        put(out, part.len() as u64);
        for applied in part {
            applied.encode(out);
        }
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<Vec<Rated>> {
        let mut reader = StateReader(bytes);
        let len = usize::try_from(reader.u64()?).ok()?;
        if len > 2 * self.shape.parents_per_chunk.max(1) {
            return None;
        }
        let part = (0..len)
            .map(|_| Rated::decode(&mut reader, self.shape.dims(), self.shape.components))
            .collect::<Option<Vec<_>>>()?;
        reader.is_done().then_some(part)
    }
}
