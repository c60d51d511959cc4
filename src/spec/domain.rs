//! The region of integration: an oriented interval or a box.

use std::ops::Range;

use crate::Error;

/// A validated domain: per-axis lower bounds and widths, and the sign of
/// the integral.
#[derive(Clone, Debug)]
pub(crate) struct Domain {
    lo: Box<[f64]>,
    width: Box<[f64]>,
    volume: f64,
    /// A one-dimensional interval given from its upper end: the integral
    /// changes sign, as in mathematics.
    reversed: bool,
}

impl Domain {
    /// The interval from `bounds.start` to `bounds.end`, either way round;
    /// zero width is allowed (the integral is exactly 0), a width beyond
    /// `f64::MAX` is not: every point would be sampled as an infinity.
    pub(crate) fn interval(bounds: &Range<f64>) -> Result<Domain, Error> {
        let Range { start, end } = *bounds;
        for value in [start, end] {
            if !value.is_finite() {
                return Err(Error::NonFiniteBound { axis: 0, value });
            }
        }
        let (lo, hi) = (start.min(end), start.max(end));
        if !(hi - lo).is_finite() {
            return Err(Error::VolumeOutOfRange { volume: hi - lo });
        }
        Ok(Domain {
            lo: Box::new([lo]),
            width: Box::new([hi - lo]),
            volume: hi - lo,
            reversed: start > end,
        })
    }

    /// The box with one range per axis, each `lower..upper` with
    /// `lower < upper`. (A box is a set: it has no orientation, so a
    /// reversed or empty axis is an error, not a sign.)
    pub(crate) fn cube(bounds: &[Range<f64>]) -> Result<Domain, Error> {
        if bounds.is_empty() {
            return Err(Error::NoAxes);
        }
        for (axis, range) in bounds.iter().enumerate() {
            for value in [range.start, range.end] {
                if !value.is_finite() {
                    return Err(Error::NonFiniteBound { axis, value });
                }
            }
            if range.start >= range.end {
                return Err(Error::EmptyAxis {
                    axis,
                    lower: range.start,
                    upper: range.end,
                });
            }
        }
        let width: Box<[f64]> = bounds.iter().map(|r| r.end - r.start).collect();
        let volume = width.iter().product::<f64>();
        if !(volume.is_finite() && volume > 0.0) {
            return Err(Error::VolumeOutOfRange { volume });
        }
        Ok(Domain {
            lo: bounds.iter().map(|r| r.start).collect(),
            width,
            volume,
            reversed: false,
        })
    }

    pub(crate) fn dims(&self) -> usize {
        self.lo.len()
    }

    pub(crate) fn lo(&self) -> &[f64] {
        &self.lo
    }

    pub(crate) fn width(&self) -> &[f64] {
        &self.width
    }

    /// A one-dimensional interval given from its upper end.
    pub(crate) fn is_reversed(&self) -> bool {
        self.reversed
    }

    /// Zero width: the integral is exactly 0, nothing to sample.
    pub(crate) fn is_degenerate(&self) -> bool {
        self.volume == 0.0
    }

    /// The integral and its standard error from the integrand's mean and
    /// the standard error of that mean.
    ///
    /// The value can overflow although the mean and the size are finite
    /// (`1e308` over a width of 2); the driver refuses such an estimate
    /// with [`Error::Overflow`].
    ///
    /// A domain of zero volume has integral exactly 0, whatever its points
    /// gave: 0 · ∞, for the infinite standard error of a single sample,
    /// would be NaN.
    pub(crate) fn scale(&self, mean: f64, std_error: f64) -> (f64, f64) {
        if self.volume == 0.0 {
            return (0.0, 0.0);
        }
        let value = self.volume * mean;
        (
            if self.reversed { -value } else { value },
            self.volume * std_error,
        )
    }
}
