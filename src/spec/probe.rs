//! The integrand's values at two fixed points of the domain, kept in every
//! checkpoint: a resume whose integrand gives other values there is
//! refused, instead of mixing two integrands in one estimate.
//!
//! Nothing else in a checkpoint says which function was integrated (a
//! closure has no name or hash), so this catches an integrand changed
//! anywhere near the probes, not one that agrees with the old at both and
//! differs elsewhere.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use crate::driver::checkpoint::PROBES;
use crate::runtime::task::panic_message;
use crate::spec::settings::Bounds;
use crate::{Error, Integrand};

/// Where the probes fall on each axis, as fractions of it: the golden
/// ratio's, never an end, the centre or a simple fraction, where an
/// integrand changed by a symmetric or piecewise term could agree.
const FRACTIONS: [f64; PROBES] = [0.618_033_988_749_894_9, 0.381_966_011_250_105_1];

/// Coordinate `t` of the way along an axis from `lo` to `hi`, where either
/// end may be infinite (Gauss–Kronrod's intervals): on an infinite end the
/// point is mapped as `t / (1 − t)` from the finite one, or from 0.
fn coordinate(lo: f64, hi: f64, t: f64) -> f64 {
    let toward = |end: f64| if end > 0.0 { 1.0 } else { -1.0 };
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => {
            let x = lo + t * (hi - lo);
            // A width beyond an f64: the same point without it.
            if x.is_finite() {
                x
            } else {
                lo * (1.0 - t) + hi * t
            }
        }
        (true, false) => lo + toward(hi) * t / (1.0 - t),
        (false, true) => hi + toward(lo) * (1.0 - t) / t,
        (false, false) => toward(hi) * (t - 0.5) / (t * (1.0 - t)),
    }
}

/// The probes' points: probe `j` at fraction `FRACTIONS[(j + axis) % 2]`
/// of each axis, so that in several dimensions they are not on the
/// diagonal.
fn points(bounds: &Bounds) -> [Vec<f64>; PROBES] {
    let axes: Vec<(f64, f64)> = match bounds {
        Bounds::Interval(range) => vec![(range.start, range.end)],
        Bounds::Box(ranges) => ranges.iter().map(|r| (r.start, r.end)).collect(),
    };
    std::array::from_fn(|j| {
        axes.iter()
            .enumerate()
            .map(|(axis, &(lo, hi))| coordinate(lo, hi, FRACTIONS[(j + axis) % PROBES]))
            .collect()
    })
}

/// The integrand's values at the probes, as bits, or the message of its
/// panic at one: a run whose integrand panics fails with it, here as in a
/// chunk.
fn probe<I: Integrand>(
    integrand: &I,
    bounds: &Bounds,
) -> Result<[(Vec<f64>, u64); PROBES], String> {
    let mut probes = points(bounds).map(|point| (point, 0));
    let mut values = vec![0.0; integrand.components()];
    for (point, bits) in &mut probes {
        catch_unwind(AssertUnwindSafe(|| {
            integrand.evaluate(point.len(), point, &mut values);
        }))
        .map_err(|payload| panic_message(&*payload))?;
        *bits = fold(&values).to_bits();
    }
    Ok(probes)
}

/// One number from a point's values: the value of a scalar integrand; of a
/// vector one, the sum of its components weighted `1, φ, φ², …`, which any
/// change of one component (beyond rounding) changes.
fn fold(values: &[f64]) -> f64 {
    match values {
        [one] => *one,
        _ => {
            let golden = 1.618_033_988_749_895;
            let mut weight = 1.0;
            values.iter().fold(0.0, |sum, value| {
                let term = sum + weight * value;
                weight *= golden;
                term
            })
        }
    }
}

/// The probes' points and bits, or the integrand's panic message.
type Probed = Result<[(Vec<f64>, u64); PROBES], String>;

/// The probes of a run: computed once, when the run starts (the driver
/// calls [`values`](Probes::values) off the thread that drives it), and
/// only for a run that resumes or takes checkpoints. Taken first, they see
/// the integrand as a resume will, before any chunk has called it.
#[derive(Clone)]
pub(crate) struct Probes {
    compute: Arc<dyn Fn() -> Probed + Send + Sync>,
    values: Arc<OnceLock<Probed>>,
}

impl Probes {
    /// The probes of `integrand` over `bounds`.
    pub(crate) fn new<I: Integrand>(integrand: &Arc<I>, bounds: &Bounds) -> Probes {
        let (integrand, bounds) = (integrand.clone(), bounds.clone());
        Probes {
            compute: Arc::new(move || probe(&*integrand, &bounds)),
            values: Arc::new(OnceLock::new()),
        }
    }

    /// The values' bits, computed on the first call, or
    /// [`Error::Panicked`] if the integrand panicked at a probe.
    pub(crate) fn values(&self) -> Result<[u64; PROBES], Error> {
        Ok(self.probes()?.each_ref().map(|(_, bits)| *bits))
    }

    fn probes(&self) -> Result<&[(Vec<f64>, u64); PROBES], Error> {
        self.values
            .get_or_init(|| (self.compute)())
            .as_ref()
            .map_err(|message| Error::Panicked(message.clone()))
    }

    /// Refuses a resume whose integrand does not give the checkpoint's
    /// values at the probes, naming the first point where it differs.
    pub(crate) fn check(&self, saved: [u64; PROBES]) -> Result<(), Error> {
        let value = |bits: u64| f64::from_bits(bits);
        for ((point, found), saved) in self.probes()?.iter().zip(saved) {
            if *found != saved {
                return Err(Error::CheckpointIntegrand {
                    point: point.as_slice().into(),
                    saved: value(saved),
                    found: value(*found),
                });
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Probes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probes")
            .field("values", &self.values.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrand::Scalar;

    #[test]
    fn probes_fall_inside_every_kind_of_axis() {
        for (lo, hi) in [
            (0.0, 1.0),
            (1.0, 0.0),
            (-1e308, 1e308),
            (2.0, f64::INFINITY),
            (f64::NEG_INFINITY, -3.0),
            (f64::NEG_INFINITY, f64::INFINITY),
            (f64::INFINITY, f64::NEG_INFINITY),
        ] {
            for t in FRACTIONS {
                let x = coordinate(lo, hi, t);
                assert!(x.is_finite(), "{lo}..{hi} at {t}: {x}");
                assert!(x > lo.min(hi) && x < lo.max(hi), "{lo}..{hi} at {t}: {x}");
            }
        }
    }

    #[test]
    fn another_integrand_is_named_at_its_first_probe() {
        let bounds = Bounds::Interval(0.0..1.0);
        let line = Probes::new(&Arc::new(Scalar(|x: f64| x)), &bounds);
        let saved = line.values().unwrap();
        assert!(line.check(saved).is_ok());
        let square = Probes::new(&Arc::new(Scalar(|x: f64| 100.0 * x * x)), &bounds);
        let err = square.check(saved).unwrap_err();
        let Error::CheckpointIntegrand {
            point,
            saved,
            found,
        } = err
        else {
            panic!("{err:?}");
        };
        assert_eq!(point[..], [FRACTIONS[0]]);
        assert_eq!(saved, FRACTIONS[0]);
        assert_eq!(found, 100.0 * FRACTIONS[0] * FRACTIONS[0]);
        // A panic at a probe fails the run, as one in a chunk does.
        let panics = Probes::new(&Arc::new(Scalar(|_: f64| -> f64 { panic!("no") })), &bounds);
        assert!(matches!(panics.values(), Err(Error::Panicked(message)) if message == "no"));
    }
}
