//! Stop rules: when a run stops sampling before its whole budget.

use std::time::{Duration, Instant};

use crate::{Estimate, Stop};

/// The rules a run checks at each chunk boundary, on the estimate of the
/// prefix of chunks merged so far, in chunk order. Decided on that prefix,
/// a tolerance stop falls at the same chunk on any thread count, so it is
/// as reproducible as the estimate; only a time limit depends on timing.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StopRules {
    pub(crate) tolerance: Option<Tolerance>,
    pub(crate) time_limit: Option<Duration>,
}

/// Stop once the standard error is at most `max(abs, rel · |value|)`, for
/// every component of a vector integrand, but not before `min_samples`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tolerance {
    pub(crate) abs: f64,
    pub(crate) rel: f64,
    pub(crate) min_samples: u64,
}

impl Tolerance {
    pub(crate) fn is_met(&self, estimate: &Estimate) -> bool {
        estimate.samples >= self.min_samples
            && estimate
                .each()
                .all(|(value, std_error)| std_error <= self.abs.max(self.rel * value.abs()))
    }
}

impl StopRules {
    /// Why to stop after this merge, if at all. `complete` says whether the
    /// prefix is one a data-dependent rule may look at (a randomised QMC
    /// run is only balanced at the end of a round over all its replicas).
    ///
    /// Past the time limit the stop is a time stop even if the tolerance
    /// is met too: the last chunk merged may be one the limit cut short,
    /// and the stop is then not reproducible.
    pub(crate) fn check(
        &self,
        estimate: &Estimate,
        complete: bool,
        started: Instant,
    ) -> Option<Stop> {
        if self.is_time_up(started) {
            return Some(Stop::TimeLimit);
        }
        if complete
            && self
                .tolerance
                .is_some_and(|tolerance| tolerance.is_met(estimate))
        {
            return Some(Stop::ToleranceMet);
        }
        None
    }

    /// Whether the time limit, if any, has passed since `started`: chunks
    /// running then stop and give what they have done.
    pub(crate) fn is_time_up(&self, started: Instant) -> bool {
        self.time_limit
            .is_some_and(|limit| started.elapsed() >= limit)
    }

    /// Why the run stopped when it ran through its whole budget.
    pub(crate) fn exhausted(&self) -> Stop {
        if self.tolerance.is_some() {
            Stop::ToleranceNotMet
        } else {
            Stop::SampleBudget
        }
    }

    /// Whether any rule needs the estimate at each merge.
    pub(crate) fn is_empty(&self) -> bool {
        self.tolerance.is_none() && self.time_limit.is_none()
    }
}
