//! Everything an `Integral` was told about the problem, before it is
//! checked: what the methods read.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::Domain;
use crate::{Checkpoint, Error, NonFinite};

/// The minimum sample count of a tolerance stop when none is set: enough
/// that the standard error itself is known to a few percent, so one lucky
/// early chunk cannot end a run.
pub(crate) const DEFAULT_MIN_SAMPLES: u64 = 1 << 16;

/// The region an `Integral` was given, before it is checked.
#[derive(Clone, Debug)]
pub(crate) enum Bounds {
    /// A one-dimensional, oriented interval.
    Interval(Range<f64>),
    /// A box: one range per axis.
    Box(Vec<Range<f64>>),
}

/// Everything an `Integral` was told, before it is checked.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) bounds: Bounds,
    pub(crate) samples: u64,
    pub(crate) seed: u64,
    pub(crate) chunk_size: u64,
    pub(crate) tolerance: Option<(f64, f64)>,
    pub(crate) min_samples: Option<u64>,
    pub(crate) time_limit: Option<Duration>,
    pub(crate) non_finite: NonFinite,
    /// Names the integrand in checkpoints: a closure has no name of its own.
    pub(crate) id: Arc<str>,
    pub(crate) checkpoint_every: Option<(u64, PathBuf)>,
    pub(crate) resume: Option<Checkpoint>,
}

impl Settings {
    /// The region as a box to sample: finite bounds, a volume that fits.
    pub(crate) fn domain(&self) -> Result<Domain, Error> {
        match &self.bounds {
            Bounds::Interval(range) => Domain::interval(range),
            Bounds::Box(ranges) => Domain::cube(ranges),
        }
    }
}
