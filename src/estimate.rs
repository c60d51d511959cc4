//! The result of an integration: a value, its standard error, and why it stopped.

use std::fmt;

/// Why a run stopped sampling.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Stop};
///
/// # pollster::block_on(async {
/// let estimate = Integral::new(|x| x, 0.0..1.0).samples(1000).run_inline().await?;
/// assert_eq!(estimate.stop, Stop::SampleBudget);
/// assert_eq!(estimate.stop.to_string(), "sample budget reached");
/// # Ok::<(), quadpipe::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stop {
    /// Every sample of the budget was drawn and merged.
    SampleBudget,
    /// The domain has zero width, so the integral is exactly 0 and nothing
    /// was sampled.
    Exact,
    /// A [`Source`](crate::Source) ran out of numbers.
    EndOfInput,
    /// The run had not ended when this estimate was taken: a progress
    /// snapshot, or the last merged prefix of a cancelled run.
    Partial,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::SampleBudget => "sample budget reached",
            Stop::Exact => "exact: the domain has zero width",
            Stop::EndOfInput => "end of input",
            Stop::Partial => "partial: the run had not ended",
        })
    }
}

/// An estimate of an integral.
///
/// `Display` prints `value ± std_error (samples samples)`, with six
/// decimals unless the format asks for another precision (`{:.15}`).
///
/// # Examples
///
/// ```
/// use quadpipe::Integral;
///
/// # pollster::block_on(async {
/// let estimate = Integral::new(|x| x, 0.0..std::f64::consts::PI)
///     .samples(100_000)
///     .seed(7)
///     .run_inline()
///     .await?;
/// // Within 5 standard errors of pi²/2.
/// let exact = std::f64::consts::PI.powi(2) / 2.0;
/// assert!((estimate.value - exact).abs() < 5.0 * estimate.std_error);
/// assert_eq!(estimate.samples, 100_000);
/// println!("{estimate}"); // e.g. 4.934802 ± 0.008052 (100000 samples)
/// # Ok::<(), quadpipe::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Estimate {
    /// The estimate of the integral.
    pub value: f64,
    /// Its standard error: one standard deviation of the estimator.
    pub std_error: f64,
    /// How many integrand evaluations it rests on.
    pub samples: u64,
    /// Why sampling stopped.
    pub stop: Stop,
}

impl Estimate {
    pub(crate) fn new(value: f64, std_error: f64, samples: u64, stop: Stop) -> Self {
        Estimate {
            value,
            std_error,
            samples,
            stop,
        }
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precision = f.precision().unwrap_or(6);
        write!(
            f,
            "{:.precision$} ± {:.precision$} ({} samples)",
            self.value, self.std_error, self.samples
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_the_documented_form() {
        let estimate = Estimate::new(4.934802, 0.00009, 10_000_000, Stop::SampleBudget);
        assert_eq!(
            estimate.to_string(),
            "4.934802 ± 0.000090 (10000000 samples)"
        );
        assert_eq!(format!("{estimate:.2}"), "4.93 ± 0.00 (10000000 samples)");
    }
}
