//! One axis of the box cubature works on, and how it maps onto the
//! caller's axis: the identity for a finite range, a change of variables
//! for an infinite one.
//!
//! The crate's `Domain` samples finite boxes only, and Gauss–Kronrod's
//! maps fold a whole line onto (0, 1] as `f(x) + f(−x)`, which fits one
//! interval but not an axis among others; so each infinite axis is mapped
//! here on its own, as SciPy's `cubature` does:
//!
//! - `[a, ∞)`: `x = a + t / (1 − t)`, `t ∈ [0, 1)`, `dx = dt / (1 − t)²`;
//! - `(−∞, b]`: `x = b − t / (1 − t)`, likewise;
//! - `(−∞, ∞)`: `x = t / (1 − t²)`, `t ∈ (−1, 1)`,
//!   `dx = (1 + t²) / (1 − t²)² dt`.
//!
//! The rule's nodes lie strictly inside each region, so `t = ±1`, where
//! the maps are singular, is never evaluated.

use std::ops::Range;

use crate::Error;

/// How one axis of the working box maps onto the caller's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Axis {
    /// A finite range, worked on as it is.
    Finite(f64, f64),
    /// `[a, ∞)`, from `t ∈ [0, 1)`.
    Upper(f64),
    /// `(−∞, b]`, from `t ∈ [0, 1)`.
    Lower(f64),
    /// `(−∞, ∞)`, from `t ∈ (−1, 1)`.
    Whole,
}

impl Axis {
    /// The map of the caller's range `lower..upper` on axis `index`.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteBound`] for a NaN bound, [`Error::EmptyAxis`] if
    /// the lower bound is not below the upper one (`+∞` as a lower bound,
    /// or `−∞` as an upper one, included), and
    /// [`Error::VolumeOutOfRange`] for a finite range wider than
    /// `f64::MAX`.
    pub(crate) fn new(index: usize, range: &Range<f64>) -> Result<Axis, Error> {
        let Range { start, end } = *range;
        for value in [start, end] {
            if value.is_nan() {
                return Err(Error::NonFiniteBound { axis: index, value });
            }
        }
        if start >= end {
            return Err(Error::EmptyAxis {
                axis: index,
                lower: start,
                upper: end,
            });
        }
        Ok(match (start.is_finite(), end.is_finite()) {
            (true, true) if (end - start).is_finite() => Axis::Finite(start, end),
            (true, true) => {
                return Err(Error::VolumeOutOfRange {
                    volume: end - start,
                });
            }
            (true, false) => Axis::Upper(start),
            (false, true) => Axis::Lower(end),
            (false, false) => Axis::Whole,
        })
    }

    /// The range of `t` the working box spans on this axis.
    pub(crate) fn range(self) -> (f64, f64) {
        match self {
            Axis::Finite(lo, hi) => (lo, hi),
            Axis::Upper(_) | Axis::Lower(_) => (0.0, 1.0),
            Axis::Whole => (-1.0, 1.0),
        }
    }

    /// Whether the map is the identity.
    pub(crate) fn is_finite(self) -> bool {
        matches!(self, Axis::Finite(..))
    }

    /// The caller's coordinate at `t`, and `|dx/dt|` there (the map of
    /// `(−∞, b]` runs backwards, from `b` at `t = 0`).
    pub(crate) fn map(self, t: f64) -> (f64, f64) {
        match self {
            Axis::Finite(..) => (t, 1.0),
            Axis::Upper(a) => {
                let s = 1.0 / (1.0 - t);
                (a + t * s, s * s)
            }
            Axis::Lower(b) => {
                let s = 1.0 / (1.0 - t);
                (b - t * s, s * s)
            }
            Axis::Whole => {
                let s = 1.0 / (1.0 - t * t);
                (t * s, (1.0 + t * t) * s * s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Jacobian is the derivative of the map, in absolute value:
    /// checked by a central difference at a few points of each.
    #[test]
    fn jacobians_are_derivatives_of_the_maps() {
        for axis in [Axis::Upper(1.5), Axis::Lower(-2.0), Axis::Whole] {
            let (lo, hi) = axis.range();
            for k in 1..10 {
                let t = lo + (hi - lo) * f64::from(k) / 10.0;
                let step = 1e-6;
                let slope = (axis.map(t + step).0 - axis.map(t - step).0) / (2.0 * step);
                let (_, jacobian) = axis.map(t);
                assert!(
                    (slope.abs() - jacobian).abs() < 1e-6 * jacobian,
                    "{axis:?} at {t}: {slope} vs {jacobian}"
                );
            }
        }
    }

    #[test]
    fn bounds_are_checked() {
        let inf = f64::INFINITY;
        assert_eq!(Axis::new(0, &(0.0..inf)).unwrap(), Axis::Upper(0.0));
        assert_eq!(Axis::new(0, &(-inf..3.0)).unwrap(), Axis::Lower(3.0));
        assert_eq!(Axis::new(0, &(-inf..inf)).unwrap(), Axis::Whole);
        assert!(matches!(
            Axis::new(2, &(f64::NAN..1.0)),
            Err(Error::NonFiniteBound { axis: 2, .. })
        ));
        for empty in [1.0..1.0, inf..inf, -inf..-inf, 2.0..1.0, inf..0.0] {
            assert!(matches!(
                Axis::new(1, &empty),
                Err(Error::EmptyAxis { axis: 1, .. })
            ));
        }
        assert!(matches!(
            Axis::new(0, &(-f64::MAX..f64::MAX)),
            Err(Error::VolumeOutOfRange { .. })
        ));
    }
}
