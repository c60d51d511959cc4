//! Everything an `Integral` was told about the problem, before it is
//! checked: what the methods read.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::spec::domain::Domain;
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
    /// Samples per chunk, if the caller chose; else [`default_chunk_size`].
    pub(crate) chunk_size: Option<u64>,
    pub(crate) tolerance: Option<(f64, f64)>,
    pub(crate) min_samples: Option<u64>,
    pub(crate) time_limit: Option<Duration>,
    pub(crate) non_finite: NonFinite,
    /// Names the integrand in checkpoints: a closure has no name of its own.
    pub(crate) id: Arc<str>,
    pub(crate) checkpoint_every: Option<(u64, PathBuf)>,
    pub(crate) resume: Option<Checkpoint>,
}

/// The most samples in a default chunk: about 0.6 ms of a cheap integrand
/// on one AVX2 core, ~15 ms of one that calls `sin`.
pub(crate) const MAX_DEFAULT_CHUNK: u64 = 1 << 20;

/// Chunks a pass is cut into by default, when its budget allows: enough to
/// keep dozens of cores busy to the end of the pass and to report progress
/// often, few enough that spawning and merging them (a few microseconds
/// each) stays under a percent.
pub(crate) const DEFAULT_CHUNKS_PER_PASS: u64 = 64;

/// The fewest coordinates a default chunk draws: 2^14 samples of a cheap
/// one-dimensional integrand (about 7 µs), fewer samples of a
/// many-dimensional one, whose points cost more each.
const MIN_DEFAULT_CHUNK_COORDINATES: u64 = 1 << 14;

/// Never fewer samples than this in a default chunk, whatever the
/// dimension.
const MIN_DEFAULT_CHUNK: u64 = 1 << 12;

/// The chunk size of a pass of `samples` points in `dims` dimensions when
/// the caller chose none: a power of two near `samples / 64`, between a
/// floor that keeps the per-chunk cost small and 2^20. A pure function of
/// the spec, never of the machine or the thread count, so the bits stay
/// the same everywhere; a power of two, as randomised QMC needs.
pub(crate) fn default_chunk_size(samples: u64, dims: usize) -> u64 {
    let dims = dims.clamp(1, 1 << 20) as u64;
    let floor = (MIN_DEFAULT_CHUNK_COORDINATES / dims.next_power_of_two()).max(MIN_DEFAULT_CHUNK);
    let share = (samples / DEFAULT_CHUNKS_PER_PASS).max(1);
    let power_of_two = 1u64 << (63 - share.leading_zeros());
    power_of_two.clamp(floor, MAX_DEFAULT_CHUNK)
}

impl Settings {
    /// Samples per chunk in a pass of `samples` points in `dims`
    /// dimensions: the caller's choice, or the default policy.
    pub(crate) fn chunk_size_for(&self, samples: u64, dims: usize) -> u64 {
        self.chunk_size
            .unwrap_or_else(|| default_chunk_size(samples, dims))
    }

    /// The region as a box to sample: finite bounds, a volume that fits.
    pub(crate) fn domain(&self) -> Result<Domain, Error> {
        match &self.bounds {
            Bounds::Interval(range) => Domain::interval(range),
            Bounds::Box(ranges) => Domain::cube(ranges),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_chunks_cut_a_pass_into_about_64() {
        assert_eq!(default_chunk_size(1 << 20, 5), 1 << 14);
        assert_eq!(default_chunk_size(1 << 26, 1), 1 << 20);
        assert_eq!(default_chunk_size(1 << 40, 3), 1 << 20);
        // Small passes keep the floor: 2^14 coordinates, 2^12 samples.
        assert_eq!(default_chunk_size(1 << 16, 1), 1 << 14);
        assert_eq!(default_chunk_size(1 << 16, 2), 1 << 13);
        assert_eq!(default_chunk_size(1 << 16, 5), 1 << 12);
        assert_eq!(default_chunk_size(1, 1000), 1 << 12);
        assert_eq!(default_chunk_size(1_000_000, 1), 1 << 14);
        for samples in [1, 1000, 1 << 20, u64::MAX] {
            for dims in [1, 2, 7, 64, usize::MAX] {
                assert!(default_chunk_size(samples, dims).is_power_of_two());
            }
        }
    }
}
