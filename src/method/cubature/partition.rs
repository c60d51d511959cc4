//! The partition of the working box into regions, each with the rule's
//! estimate and error, and the step between passes: fold in the halves of
//! the regions just split, then choose the regions to split next.
//!
//! Which regions a pass splits follows I. Gladwell ("Vectorization of one
//! dimensional quadrature codes", 1987), as S. G. Johnson's C `cubature`
//! does when it evaluates in parallel: the worst regions, in order of
//! decreasing error, until the error left in the others would meet the
//! tolerance, but none whose error is below 1/[`SPREAD`] of the worst's.
//! A serial code (HCubature.jl's, SciPy's) splits the worst region, then
//! whichever is worst after it, and near a singularity that is the
//! worst's own halves again and again, never the far smaller regions
//! elsewhere; splitting all the tolerance asks for at once would refine
//! the whole box uniformly there, and spend the budget where it does not
//! matter. On smooth integrands a pass splits the regions a serial code
//! would (on the Genz families of `examples/cubature.rs`, to the same
//! evaluation count); splitting them together is what lets a pass keep
//! every core busy.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::Stop;
use crate::driver::checkpoint::StateReader;

/// What the rule says about one region, per component of the integrand
/// (one, but for a vector integrand).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rated {
    pub(crate) values: Box<[f64]>,
    pub(crate) errors: Box<[f64]>,
    /// The axis to bisect it along: that of the component with the
    /// largest error.
    pub(crate) axis: usize,
}

impl Rated {
    /// The error that ranks the region: the largest of its components'.
    pub(crate) fn error(&self) -> f64 {
        self.errors[1..]
            .iter()
            .fold(self.errors[0], |a, &b| a.max(b))
    }

    /// Component 0's value and error, the axis, then the other
    /// components' values and errors: with one component, the bytes from
    /// before vector integrands.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put(out, self.values[0].to_bits());
        put(out, self.errors[0].to_bits());
        put(out, self.axis as u64);
        for (value, error) in self.values.iter().zip(&self.errors).skip(1) {
            put(out, value.to_bits());
            put(out, error.to_bits());
        }
    }

    pub(crate) fn decode(reader: &mut StateReader<'_>, dims: usize, m: usize) -> Option<Rated> {
        let (mut values, mut errors) = (vec![0.0; m], vec![0.0; m]);
        (values[0], errors[0]) = (reader.f64()?, reader.f64()?);
        let axis = usize::try_from(reader.u64()?).ok().filter(|&a| a < dims)?;
        for j in 1..m {
            (values[j], errors[j]) = (reader.f64()?, reader.f64()?);
        }
        Some(Rated {
            values: values.into(),
            errors: errors.into(),
            axis,
        })
    }
}

/// One region of the partition: a box in the working coordinates, and
/// what the rule said about it.
#[derive(Clone, Debug)]
pub(crate) struct Region {
    /// Regions are numbered as they are made; the number breaks ties
    /// between equal errors, so the order of the heap, and which regions
    /// a pass splits, depend on the estimates alone.
    pub(crate) id: u64,
    /// The lower corner, then the upper one: `2d` coordinates.
    pub(crate) bounds: Box<[f64]>,
    pub(crate) rated: Rated,
    /// [`Rated::error`], which orders the heap.
    pub(crate) error: f64,
}

impl Region {
    /// The two halves of the region, cut at the middle of its axis.
    pub(crate) fn halves(&self) -> [Box<[f64]>; 2] {
        let d = self.bounds.len() / 2;
        let axis = self.rated.axis;
        let (lo, hi) = (self.bounds[axis], self.bounds[d + axis]);
        let middle = lo + 0.5 * (hi - lo);
        let mut lower = self.bounds.clone();
        let mut upper = self.bounds.clone();
        lower[d + axis] = middle;
        upper[axis] = middle;
        [lower, upper]
    }

    /// Whether the middle of its axis is distinct from both ends in an
    /// f64: it can still be bisected.
    fn can_split(&self) -> bool {
        let (d, axis) = (self.bounds.len() / 2, self.rated.axis);
        let (lo, hi) = (self.bounds[axis], self.bounds[d + axis]);
        let middle = lo + 0.5 * (hi - lo);
        lo < middle && middle < hi
    }

    /// The id, the axis, component 0's value and error, the bounds, then
    /// the other components' values and errors: with one component, the
    /// bytes from before vector integrands.
    fn encode(&self, out: &mut Vec<u8>) {
        let rated = &self.rated;
        put(out, self.id);
        put(out, rated.axis as u64);
        put(out, rated.values[0].to_bits());
        put(out, rated.errors[0].to_bits());
        for x in &self.bounds {
            put(out, x.to_bits());
        }
        for (value, error) in rated.values.iter().zip(&rated.errors).skip(1) {
            put(out, value.to_bits());
            put(out, error.to_bits());
        }
    }

    fn decode(reader: &mut StateReader<'_>, dims: usize, m: usize) -> Option<Region> {
        let id = reader.u64()?;
        let axis = usize::try_from(reader.u64()?).ok().filter(|&a| a < dims)?;
        let (mut values, mut errors) = (vec![0.0; m], vec![0.0; m]);
        (values[0], errors[0]) = (reader.f64()?, reader.f64()?);
        let bounds = (0..2 * dims)
            .map(|_| reader.f64())
            .collect::<Option<Box<[f64]>>>()?;
        for j in 1..m {
            (values[j], errors[j]) = (reader.f64()?, reader.f64()?);
        }
        let ordered = (0..dims).all(|k| bounds[k] < bounds[dims + k]);
        let sound = values.iter().all(|v| v.is_finite()) && errors.iter().all(|&e| e >= 0.0);
        let rated = Rated {
            values: values.into(),
            errors: errors.into(),
            axis,
        };
        (ordered && sound).then(|| Region {
            id,
            bounds,
            error: rated.error(),
            rated,
        })
    }
}

/// The heap's order: the largest error first, the oldest region first
/// among equal errors.
impl Ord for Region {
    fn cmp(&self, other: &Region) -> Ordering {
        self.error
            .total_cmp(&other.error)
            .then_with(|| other.id.cmp(&self.id))
    }
}

impl PartialOrd for Region {
    fn partial_cmp(&self, other: &Region) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Region {
    fn eq(&self, other: &Region) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Region {}

/// A sum with Neumaier's compensation: the running value and error of
/// the partition change by small differences (two halves less their
/// parent) pass after pass, and would otherwise drift by rounding.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.compensation += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    pub(crate) fn total(self) -> f64 {
        self.sum + self.compensation
    }

    fn encode(self, out: &mut Vec<u8>) {
        put(out, self.sum.to_bits());
        put(out, self.compensation.to_bits());
    }

    fn decode(reader: &mut StateReader<'_>) -> Option<Sum> {
        Some(Sum {
            sum: reader.f64()?,
            compensation: reader.f64()?,
        })
    }
}

/// The value and error of the whole partition, per component.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Totals {
    pub(crate) value: Vec<Sum>,
    pub(crate) error: Vec<Sum>,
}

impl Totals {
    /// Nothing yet, of `m` components.
    pub(crate) fn new(m: usize) -> Totals {
        Totals {
            value: vec![Sum::default(); m],
            error: vec![Sum::default(); m],
        }
    }

    /// Whether every component's value and error is finite.
    pub(crate) fn is_finite(&self) -> bool {
        let finite = |sum: &Sum| sum.total().is_finite();
        self.value.iter().all(finite) && self.error.iter().all(finite)
    }
}

/// A pass splits no region whose error is below the worst's over this.
/// For a smooth integrand a region's halves have far less error than it
/// (about 2^−6 of it along the axis cut), so a serial code, having split
/// the worst region, would go on to split every region within a factor 16
/// of it before any of the halves: the pass does those together. Near a
/// singularity the halves keep most of the error and a serial code would
/// refine them first; the spread keeps such a pass to a few regions. On
/// `1/|x|` over a box around the origin, with 10^5 evaluations, it leaves
/// a relative error of 3e-10; splitting all the tolerance asks for, 5e-4.
const SPREAD: f64 = 16.0;

/// When the partition is good enough, and how much it may cost.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Goal {
    pub(crate) abs: f64,
    pub(crate) rel: f64,
    /// Integrand evaluations allowed in all.
    pub(crate) budget: u64,
    /// Evaluations of one region.
    pub(crate) per_region: u64,
}

impl Goal {
    /// The error a value may have: `max(abs, rel · |value|)`.
    fn tolerance(&self, value: f64) -> f64 {
        self.abs.max(self.rel * value.abs())
    }
}

/// The state between passes.
#[derive(Clone, Debug)]
pub(crate) struct Partition {
    /// The regions no pass is splitting.
    heap: BinaryHeap<Region>,
    /// The regions the next pass splits (still counted in `totals`); the
    /// initial box alone if `None` and the run has not ended.
    splitting: Option<Arc<[Region]>>,
    /// Over the heap and `splitting`.
    totals: Totals,
    evaluations: u64,
    /// The number of the next region made.
    next_id: u64,
    ended: Option<Stop>,
}

impl Partition {
    /// Nothing evaluated yet, of an integrand of `m` components: the first
    /// pass evaluates the whole box.
    pub(crate) fn new(m: usize) -> Partition {
        Partition {
            heap: BinaryHeap::new(),
            splitting: None,
            totals: Totals::new(m),
            evaluations: 0,
            next_id: 0,
            ended: None,
        }
    }

    /// The regions the next pass splits, `Some([])` for the first pass
    /// (the whole box), `None` once the run has ended.
    pub(crate) fn next(&self) -> Option<Arc<[Region]>> {
        match (&self.ended, &self.splitting) {
            (Some(_), _) => None,
            (None, Some(parents)) => Some(parents.clone()),
            (None, None) => Some(Arc::from([])),
        }
    }

    pub(crate) fn totals(&self) -> &Totals {
        &self.totals
    }

    pub(crate) fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// Folds in a finished pass: the regions it made (the whole box, or
    /// the two halves of each region split, in order) and the totals its
    /// merge ended with; then chooses the regions to split next, or ends
    /// the run.
    ///
    /// `made` holds the bounds and the rule's say per new region.
    pub(crate) fn advance(
        &mut self,
        made: impl IntoIterator<Item = (Box<[f64]>, Rated)>,
        totals: Totals,
        goal: &Goal,
    ) -> Option<Stop> {
        for (bounds, rated) in made {
            self.evaluations += goal.per_region;
            self.heap.push(Region {
                id: self.next_id,
                bounds,
                error: rated.error(),
                rated,
            });
            self.next_id += 1;
        }
        self.totals = totals;
        self.splitting = None;
        self.ended = self.choose(goal);
        self.ended
    }

    /// Pops the regions the next pass splits, or says why there are none.
    /// With several components, the tolerance holds for each, and a
    /// region's rank is its largest component error.
    fn choose(&mut self, goal: &Goal) -> Option<Stop> {
        let tolerances: Vec<f64> = (self.totals.value.iter())
            .map(|value| goal.tolerance(value.total()))
            .collect();
        let mut left: Vec<f64> = self.totals.error.iter().map(|e| e.total()).collect();
        let met = |left: &[f64]| left.iter().zip(&tolerances).all(|(l, t)| l <= t);
        if met(&left) {
            return Some(Stop::ToleranceMet);
        }
        let mut parents = Vec::new();
        let affordable = |count: u64| {
            let cost = 2 * goal.per_region * (count + 1);
            self.evaluations
                .checked_add(cost)
                .is_some_and(|total| total <= goal.budget)
        };
        let floor = self.heap.peek().map_or(0.0, |worst| worst.error / SPREAD);
        while affordable(parents.len() as u64) {
            let Some(worst) = self.heap.peek() else { break };
            if worst.error < floor {
                break;
            }
            if !worst.can_split() {
                // So small that its halves would be itself: bisection can
                // no longer lower the error.
                if parents.is_empty() {
                    return Some(Stop::RoundOff);
                }
                break;
            }
            let worst = self.heap.pop().expect("peeked");
            for (left, error) in left.iter_mut().zip(&worst.rated.errors) {
                *left -= error;
            }
            parents.push(worst);
            if met(&left) {
                break;
            }
        }
        if parents.is_empty() {
            return Some(Stop::ToleranceNotMet);
        }
        self.splitting = Some(parents.into());
        None
    }

    /// Appends the state between passes to a checkpoint's bytes, bit for
    /// bit. A checkpoint falls inside a pass, so the run has not ended.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        debug_assert!(self.ended.is_none());
        put(out, self.evaluations);
        put(out, self.next_id);
        for (value, error) in self.totals.value.iter().zip(&self.totals.error) {
            value.encode(out);
            error.encode(out);
        }
        // The heap's own order is not written: with distinct ids, which
        // region it gives next depends on its contents alone.
        put(out, self.heap.len() as u64);
        for region in self.heap.iter() {
            region.encode(out);
        }
        match &self.splitting {
            None => put(out, u64::MAX),
            Some(parents) => {
                put(out, parents.len() as u64);
                for region in parents.iter() {
                    region.encode(out);
                }
            }
        }
    }

    /// Restores the state between passes from `encode`'s bytes; `None` if
    /// they are not a state of a partition in `dims` dimensions.
    pub(crate) fn decode(&mut self, reader: &mut StateReader<'_>, dims: usize) -> Option<()> {
        let m = self.totals.value.len();
        let evaluations = reader.u64()?;
        let next_id = reader.u64()?;
        let mut totals = Totals::new(m);
        for (value, error) in totals.value.iter_mut().zip(&mut totals.error) {
            (*value, *error) = (Sum::decode(reader)?, Sum::decode(reader)?);
        }
        let regions = reader.u64()?;
        let mut heap = Vec::new();
        for _ in 0..regions {
            heap.push(Region::decode(reader, dims, m)?);
        }
        let splitting = match reader.u64()? {
            u64::MAX => None,
            parents => Some(
                (0..parents)
                    .map(|_| Region::decode(reader, dims, m))
                    .collect::<Option<Arc<[Region]>>>()?,
            ),
        };
        // The first pass has no regions yet; every later one has some.
        let fits = match &splitting {
            None => heap.is_empty() && next_id == 0,
            Some(parents) => !parents.is_empty(),
        };
        let ids_fit = heap
            .iter()
            .chain(splitting.iter().flat_map(|p| p.iter()))
            .all(|region| region.id < next_id);
        if !(fits && ids_fit) {
            return None;
        }
        *self = Partition {
            heap: heap.into(),
            splitting,
            totals,
            evaluations,
            next_id,
            ended: None,
        };
        Some(())
    }
}

pub(crate) fn put(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}
