//! QUADPACK's QAGS (QAGI on an infinite interval, QAGP with break points)
//! as a state machine: [`Quadrature::next`] says which subintervals to
//! evaluate, [`Quadrature::advance`] folds their [`Piece`]s into the
//! partition and takes one of `dqagse`'s steps, until it has an outcome.
//!
//! R. Piessens, E. de Doncker-Kapenga, C. W. Überhuber and D. K. Kahaner,
//! "QUADPACK: A Subroutine Package for Automatic Integration", Springer,
//! 1983 (the Fortran is on netlib; scipy ships it in
//! `scipy/integrate/quadpack/`). A Gauss–Kronrod pair gives an interval's
//! integral and, from the difference of its two rules, an error estimate;
//! the interval with the largest error is bisected until the errors sum to
//! less than the tolerance. Where bisection converges only slowly, towards
//! an endpoint singularity such as `x^a · ln(1/x)`, Wynn's epsilon algorithm
//! extrapolates the sequence of sums to its limit.
//!
//! Everything here is plain `f64` arithmetic and `sqrt` (no `mul_add`, whose
//! single rounding differs from a multiply and an add, and no `powf`, which
//! libms round differently), so the same integrand and settings give the
//! same bits on every platform where the integrand itself does. The state
//! between steps is plain data, written to a checkpoint bit for bit, so a
//! resumed run takes the same steps.
//!
//! Checked against QUADPACK itself as scipy runs it (`tests.rs`): on 19
//! problems for QAGS and QAGI and 10 for QAGP, that between them end in
//! every status, the same evaluations, subintervals, status and value to
//! the bit; the error estimates agree to 1e-9 (to the bit, too, with
//! `powf(1.5)` in place of `r · sqrt(r)`), but for one that ends in
//! round-off, where errors that cancel leave 2e-5.

use crate::driver::checkpoint::StateReader;
use crate::method::gauss_kronrod::qags::{Ended, Qags, get_f64s, put, put_f64s};
use crate::method::gauss_kronrod::rules::{Map, Piece};
use crate::method::gauss_kronrod::status::{GkOutcome, GkSettings, GkStatus};

/// Where a [`Quadrature`] is.
#[derive(Clone, Debug)]
enum State {
    /// Nothing evaluated yet: the initial partition is next.
    Start,
    /// Bisecting the interval with the largest error, pass after pass.
    Bisecting(Box<Qags>),
    /// Done.
    Ended(Ended),
}

/// QAGS, QAGI or QAGP on `[a, b]` as a state machine: [`next`](Self::next)
/// gives the subintervals of the working interval to evaluate,
/// [`advance`](Self::advance) takes the rule's estimates over them, until
/// [`outcome`](Self::outcome) has the result. Each step is a function of
/// the state and the estimates alone, so it takes the same steps and gives
/// the same bits however the estimates were computed.
#[derive(Clone, Debug)]
pub(crate) struct Quadrature {
    settings: GkSettings,
    map: Map,
    /// The initial partition of the working interval: its ends, with the
    /// break points between them in ascending order.
    initial: Vec<f64>,
    /// Whether the caller's interval is reversed: its value is negated.
    negate: bool,
    state: State,
    /// Integrand evaluations in the steps taken.
    evaluations: u64,
}

impl Quadrature {
    /// The integral of an integrand over `[a, b]`, either bound possibly
    /// infinite, with the intervals between `points` (finite bounds only)
    /// as its initial partition, to within
    /// `max(settings.abs, settings.rel · |integral|)` if it can.
    ///
    /// An infinite bound is mapped onto (0, 1] as in QAGI: `[a, ∞)` by
    /// `x = a + (1 − t)/t`, `(−∞, b]` by `x = b − (1 − t)/t`, and `(−∞, ∞)`
    /// as the sum of both halves at once, `f(x) + f(−x)` with
    /// `x = (1 − t)/t`. A reversed interval gives the negated integral over
    /// the ordered one, a zero-width one exactly 0 without evaluating
    /// anything. Points at the ends and repeated points are ignored.
    ///
    /// # Errors
    ///
    /// [`GkStatus::Invalid`] if a bound is NaN, the settings are not valid
    /// (see [`GkSettings`]), a point is not finite or outside `[a, b]`, or
    /// there are points and an infinite bound, or more intervals than
    /// `settings.limit`.
    pub(crate) fn new(
        a: f64,
        b: f64,
        points: &[f64],
        settings: GkSettings,
    ) -> Result<Quadrature, GkStatus> {
        if a.is_nan() || b.is_nan() || !settings.is_valid() {
            return Err(GkStatus::Invalid);
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let (map, lo, hi) = match (lo.is_infinite(), hi.is_infinite()) {
            (false, false) => (Map::Finite, lo, hi),
            (false, true) => (Map::Upper(lo), 0.0, 1.0),
            (true, false) => (Map::Lower(hi), 0.0, 1.0),
            (true, true) => (Map::Whole, 0.0, 1.0),
        };
        let mut inside = Vec::with_capacity(points.len());
        for &point in points {
            let usable = matches!(map, Map::Finite) && lo <= point && point <= hi;
            if !usable {
                return Err(GkStatus::Invalid);
            }
            if lo < point && point < hi {
                inside.push(point);
            }
        }
        inside.sort_by(f64::total_cmp);
        inside.dedup_by(|x, y| x == y);
        if inside.len() >= settings.limit {
            return Err(GkStatus::Invalid);
        }
        let state = if a == b {
            State::Ended(Ended {
                value: 0.0,
                error: 0.0,
                intervals: 0,
                status: GkStatus::Converged,
            })
        } else {
            State::Start
        };
        let mut initial = Vec::with_capacity(inside.len() + 2);
        initial.push(lo);
        initial.extend(inside);
        initial.push(hi);
        Ok(Quadrature {
            settings,
            map,
            initial,
            negate: a > b,
            state,
            evaluations: 0,
        })
    }

    /// How the working interval maps onto the caller's: what to evaluate
    /// for each interval [`next`](Self::next) gives.
    pub(crate) fn map(&self) -> Map {
        self.map
    }

    /// The subintervals to evaluate next, `None` once the run has ended:
    /// the initial partition, then the two halves of the interval with the
    /// largest error, step after step.
    pub(crate) fn next(&self) -> Option<Vec<(f64, f64)>> {
        match &self.state {
            State::Start => Some(self.initial.windows(2).map(|w| (w[0], w[1])).collect()),
            State::Bisecting(qags) => {
                let (lo, mid, hi) = qags.worst();
                Some(vec![(lo, mid), (mid, hi)])
            }
            State::Ended(_) => None,
        }
    }

    /// Takes the step for the estimates over [`next`](Self::next)'s
    /// intervals, in its order.
    ///
    /// # Errors
    ///
    /// [`GkStatus::Overflow`] if an estimate, or the result, is not
    /// finite; the run cannot go on.
    ///
    /// # Panics
    ///
    /// If the run has ended, or `pieces` are fewer than the intervals.
    pub(crate) fn advance(&mut self, pieces: &[Piece]) -> Result<(), GkStatus> {
        self.evaluations += self.map.evaluations() * pieces.len() as u64;
        if !pieces.iter().all(Piece::is_finite) {
            return Err(GkStatus::Overflow);
        }
        let ended = match &mut self.state {
            State::Start if self.initial.len() == 2 => {
                let (lo, hi) = (self.initial[0], self.initial[1]);
                Qags::start(pieces[0], lo, hi, self.settings)
            }
            State::Start => Qags::start_at_points(pieces, &self.initial, self.settings),
            State::Bisecting(qags) => match qags.bisected(pieces[0], pieces[1]) {
                Some(ended) => Err(ended),
                None => return Ok(()),
            },
            State::Ended(_) => panic!("a quadrature that has ended takes no more steps"),
        };
        self.state = match ended {
            Ok(qags) => State::Bisecting(Box::new(qags)),
            // Finite intervals whose sum overflows.
            Err(ended) if !(ended.value.is_finite() && ended.error.is_finite()) => {
                return Err(GkStatus::Overflow);
            }
            Err(ended) => State::Ended(ended),
        };
        Ok(())
    }

    /// Integrand evaluations so far.
    pub(crate) fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// The result, once the run has ended.
    pub(crate) fn outcome(&self) -> Option<GkOutcome> {
        let State::Ended(ended) = &self.state else {
            return None;
        };
        Some(GkOutcome {
            value: if self.negate {
                -ended.value
            } else {
                ended.value
            },
            error: ended.error,
            evaluations: self.evaluations,
            intervals: ended.intervals,
            status: ended.status,
        })
    }

    /// The sum over the partition so far and its error (`area ± errsum`),
    /// or the result once there is one; `None` before the first step.
    pub(crate) fn so_far(&self) -> Option<(f64, f64)> {
        let (value, error) = match &self.state {
            State::Start => return None,
            State::Bisecting(qags) => qags.so_far(),
            State::Ended(ended) => (ended.value, ended.error),
        };
        Some((if self.negate { -value } else { value }, error))
    }

    /// Appends the state between steps to a checkpoint's bytes, bit for
    /// bit. The settings, bounds and points are not in it: they come from
    /// the spec, which the checkpoint's fingerprint pins.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put(out, self.evaluations);
        match &self.state {
            State::Start => put(out, 0),
            State::Bisecting(qags) => {
                put(out, 1);
                qags.encode(out);
            }
            State::Ended(ended) => {
                put(out, 2);
                put_f64s(out, &[ended.value, ended.error]);
                put(out, ended.intervals as u64);
                put(out, ended.status.code());
            }
        }
    }

    /// Restores the state between steps from `encode`'s bytes; `None` if
    /// they are not a state of this run.
    pub(crate) fn decode(&mut self, reader: &mut StateReader<'_>) -> Option<()> {
        let evaluations = reader.u64()?;
        let state = match reader.u64()? {
            0 => State::Start,
            1 => State::Bisecting(Box::new(Qags::decode(reader, self.settings)?)),
            2 => {
                let [value, error] = get_f64s(reader)?;
                let intervals = usize::try_from(reader.u64()?).ok()?;
                let status = GkStatus::from_code(reader.u64()?)?;
                State::Ended(Ended {
                    value,
                    error,
                    intervals,
                    status,
                })
            }
            _ => return None,
        };
        if let State::Bisecting(qags) = &state {
            // Not a state of another interval, or other break points.
            let width = self.initial[self.initial.len() - 1] - self.initial[0];
            if !qags.fits(width, self.initial.len() - 1) {
                return None;
            }
        }
        self.evaluations = evaluations;
        self.state = state;
        Some(())
    }
}

/// Runs a [`Quadrature`] to its end on `eval`, which gets the nodes of one
/// interval at a time and fills `values[i]` with `f(points[i])`: QUADPACK
/// as a plain function, for the tests that hold it to QUADPACK's bits.
/// Every interval of a step is evaluated, as the driver's chunks are; the
/// first failure in interval order is the step's.
#[cfg(test)]
pub(crate) fn integrate(
    eval: &mut dyn FnMut(&[f64], &mut [f64]),
    a: f64,
    b: f64,
    points: &[f64],
    settings: &GkSettings,
) -> GkOutcome {
    let mut quadrature = match Quadrature::new(a, b, points, *settings) {
        Ok(quadrature) => quadrature,
        Err(status) => return GkOutcome::failed(status, 0),
    };
    let map = quadrature.map();
    while let Some(intervals) = quadrature.next() {
        let pieces: Vec<_> = intervals
            .iter()
            .map(|&interval| map.estimate(interval, &mut *eval))
            .collect();
        let evaluations = quadrature.evaluations() + map.evaluations() * pieces.len() as u64;
        let pieces = match pieces.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(pieces) => pieces,
            Err(status) => return GkOutcome::failed(status, evaluations),
        };
        if let Err(status) = quadrature.advance(&pieces) {
            return GkOutcome::failed(status, quadrature.evaluations());
        }
    }
    quadrature
        .outcome()
        .expect("a quadrature with nothing left to evaluate has ended")
}
