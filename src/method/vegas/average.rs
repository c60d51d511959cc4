//! The weighted average of VEGAS's iterations, and its `χ²`.

use crate::driver::checkpoint::StateReader;

/// The average of independent iteration estimates, and the `χ²` of
/// their agreement.
///
/// Estimate `k` of `n_k` samples, with value `I_k` and standard error
/// `σ_k`, gets a weight proportional to `n_k`, the inverse of its
/// *expected* variance: `Ī = Σ n_k I_k / Σ n_k`, with standard error
/// `√(Σ n_k² σ_k²) / Σ n_k`. vegas's `RAvg` weighs by `1/σ_k²` instead,
/// the inverse of the *estimated* variance; but where an iteration's
/// error comes from a rare region (a sliver of a discontinuity, the
/// tail of a peak), the iterations that miss it report both a smaller
/// value and a smaller `σ_k`, and the weights drag the average down:
/// over 200 seeds at 2^14 samples in d = 2, the 95% intervals held the
/// exact value of Genz's discontinuous family 86.5% of the time with
/// `1/σ_k²`, and ≥ 93% with `n_k` (see the README's VEGAS section). Once
/// the warm-up has adapted the grid, the counted iterations have equal
/// budgets and nearly equal variances, so the `n_k` weights cost little.
///
/// `χ²/dof = Σ (I_k − Ī_σ)²/σ_k² / (n − 1)`, about the `1/σ_k²`-weighted
/// mean `Ī_σ` as vegas forms it, should be near 1 when the estimates
/// agree within their errors; a much larger value says the iterations
/// disagree, typically because early ones were taken on a grid that had
/// not yet adapted. (About `Ī` its expectation would exceed `n − 1` when
/// the `σ_k` differ.) vegas accumulates `Σ I²/σ²` and subtracts, which
/// cancels badly when the estimates agree to many digits; here `Ī_σ` and
/// `χ²` are updated one estimate at a time by West's weighted form of
/// Welford's update (D. H. D. West, "Updating mean and variance
/// estimates: an improved method", Comm. ACM 22(9), 532–535, 1979),
/// which is the same sums without the cancellation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct IterationAverage {
    count: u64,
    /// `W = Σ 1/σ_k²`.
    weight: f64,
    /// `Ī_σ`.
    mean: f64,
    /// `Σ (I_k − Ī_σ)²/σ_k²`.
    chi2: f64,
    /// `Σ n_k`.
    samples: f64,
    /// `Ī`.
    value: f64,
    /// `Σ n_k² σ_k²`.
    spread: f64,
}

impl IterationAverage {
    /// No estimates yet.
    pub(crate) const fn new() -> IterationAverage {
        IterationAverage {
            count: 0,
            weight: 0.0,
            mean: 0.0,
            chi2: 0.0,
            samples: 0.0,
            value: 0.0,
            spread: 0.0,
        }
    }

    /// Adds an estimate of `samples` samples and its standard error.
    ///
    /// The variance taken is `σ² + (8 ε I)² + TINY` (ε the machine
    /// epsilon, `TINY` = 1e-257): an estimate with zero error, such as a
    /// constant integrand gives, would otherwise take infinite weight and
    /// turn the average into NaN, and no estimate is better than the
    /// rounding of its own value. vegas's `RAvg.add` adds `10 ε I²`
    /// instead, a floor of `√(10 ε) = 4.7e-8` of the value: with a large
    /// offset (`1e6 + x`) that floor, not the sampling, made the error bar,
    /// 10^7 times too large, and `χ²/dof` meaningless.
    ///
    /// An estimate with an infinite standard error (or one whose square
    /// overflows) and a finite value says nothing: it gets no weight and
    /// is not counted. Any other non-finite
    /// input, a NaN or an infinite value, makes the value, the standard
    /// error and `χ²/dof` NaN from then on, so the caller sees it.
    pub(crate) fn add(&mut self, value: f64, std_error: f64, samples: u64) {
        /// vegas's `TINY`, `10^(min_10_exp + 50)`.
        const TINY: f64 = 1e-257;
        if value.is_finite() && std_error.is_infinite() {
            return;
        }
        if !(value.is_finite() && std_error.is_finite()) {
            self.weight = f64::NAN;
            self.mean = f64::NAN;
            self.chi2 = f64::NAN;
            self.value = f64::NAN;
            self.spread = f64::NAN;
            return;
        }
        let rounding = 8.0 * f64::EPSILON * value;
        let variance = std_error * std_error + rounding * rounding + TINY;
        let w = 1.0 / variance;
        if w == 0.0 {
            // The variance overflowed: as good as an infinite error.
            return;
        }
        self.count += 1;
        self.weight += w;
        let delta = value - self.mean;
        self.mean += delta * (w / self.weight);
        self.chi2 += w * delta * (value - self.mean);
        let n = samples.max(1) as f64;
        self.samples += n;
        self.value += (value - self.value) * (n / self.samples);
        self.spread += n * n * variance;
    }

    /// Appends the state to a checkpoint's bytes, bit for bit.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.count.to_le_bytes());
        for x in [
            self.weight,
            self.mean,
            self.chi2,
            self.samples,
            self.value,
            self.spread,
        ] {
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
    }

    /// The state `encode` wrote.
    pub(crate) fn decode(reader: &mut StateReader<'_>) -> Option<IterationAverage> {
        Some(IterationAverage {
            count: reader.u64()?,
            weight: reader.f64()?,
            mean: reader.f64()?,
            chi2: reader.f64()?,
            samples: reader.f64()?,
            value: reader.f64()?,
            spread: reader.f64()?,
        })
    }

    /// How many estimates carry weight.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The weighted average `Σ n_k I_k / Σ n_k`; NaN with no estimates.
    pub(crate) fn value(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.value
        }
    }

    /// Its standard error, `√(Σ n_k² σ_k²) / Σ n_k`; infinite with no
    /// estimates.
    pub(crate) fn std_error(&self) -> f64 {
        if self.count == 0 {
            f64::INFINITY
        } else {
            self.spread.sqrt() / self.samples
        }
    }

    /// [`chi2_per_dof`](Self::chi2_per_dof) and its degrees of freedom,
    /// the estimates counted less one, as an estimate reports them.
    pub(crate) fn chi2(&self) -> (f64, u32) {
        let dof = u32::try_from(self.count.saturating_sub(1)).unwrap_or(u32::MAX);
        (self.chi2_per_dof(), dof)
    }

    /// `Σ (I_k − Ī)²/σ_k² / (n − 1)`; 0 with fewer than two estimates, as
    /// vegas reports it (nothing to disagree with).
    pub(crate) fn chi2_per_dof(&self) -> f64 {
        if self.count < 2 {
            // NaN must still show.
            self.chi2 * 0.0
        } else {
            self.chi2 / (self.count - 1) as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::vegas::grid::tests::{assert_close, uniforms};
    use crate::result::stats::normal_quantile;

    #[test]
    fn average_of_two_and_three_iterations() {
        let mut avg = IterationAverage::new();
        assert!(avg.value().is_nan());
        assert_eq!(avg.std_error(), f64::INFINITY);
        assert_eq!(avg.chi2_per_dof(), 0.0);
        // Equal samples: Ī = 1.1, σ = √(0.1² + 0.2²)/2; about the
        // 1/σ²-weighted mean (weights 100 and 25, Ī_σ = 1.04), χ² =
        // 100 (0.04)² + 25 (0.16)² = 0.8 on one degree of freedom.
        avg.add(1.0, 0.1, 100);
        assert_eq!(avg.chi2_per_dof(), 0.0);
        avg.add(1.2, 0.2, 100);
        // The rounding floor (8 ε I)² added to each variance moves these
        // by less than 1e-25.
        assert_close(avg.value(), 1.1, 1e-13);
        assert_close(avg.std_error(), 0.05f64.sqrt() / 2.0, 1e-13);
        assert_close(avg.chi2_per_dof(), 0.8, 1e-12);
        // A third of twice the samples: Ī = (1 + 1.2 + 1.8)/4 = 1, σ =
        // √(100² · 0.01 + 100² · 0.04 + 200² · 0.01)/400 = 3/40; Ī_σ =
        // 44/45 and χ² = 3825/2025 = 17/9 as with equal weights.
        avg.add(0.9, 0.1, 200);
        assert_eq!(avg.count(), 3);
        assert_close(avg.value(), 1.0, 1e-13);
        assert_close(avg.std_error(), 3.0 / 40.0, 1e-13);
        assert_close(avg.chi2_per_dof(), 17.0 / 18.0, 1e-12);
    }

    #[test]
    fn average_chi2_is_near_one_for_honest_errors() {
        // 10_000 estimates of 3.0, each normal with its own σ between 0.01
        // and 1. χ²/dof then has mean 1 and standard deviation
        // √(2/9999) ≈ 0.014; 0.06 is over four of them.
        let mut avg = IterationAverage::new();
        let mut u = uniforms(4);
        let mut spread = 0.0;
        for _ in 0..10_000 {
            let sigma = 0.01 + 0.99 * u.next().unwrap();
            let z = normal_quantile(u.next().unwrap());
            avg.add(3.0 + sigma * z, sigma, 1000);
            spread += sigma * sigma;
        }
        assert!(
            (avg.chi2_per_dof() - 1.0).abs() < 0.06,
            "{}",
            avg.chi2_per_dof()
        );
        // The rounding floor (8 ε I)², 3e-29, on variances down to 1e-4.
        assert_close(avg.std_error(), spread.sqrt() / 10_000.0, 1e-9);
        assert!((avg.value() - 3.0).abs() < 4.0 * avg.std_error());
    }

    #[test]
    fn average_handles_exact_and_non_finite_estimates() {
        // Zero errors: the rounding floor keeps the weights finite.
        let mut exact = IterationAverage::new();
        exact.add(2.0, 0.0, 10);
        exact.add(2.0, 0.0, 10);
        assert_eq!((exact.value(), exact.chi2_per_dof()), (2.0, 0.0));
        // The floor's variance, (8 ε · 2)², twice over.
        assert_close(exact.std_error(), 16.0 * f64::EPSILON / 2f64.sqrt(), 1e-12);
        // An infinite error carries no information and is not counted.
        let mut avg = IterationAverage::new();
        avg.add(1.0, 0.5, 10);
        avg.add(7.0, f64::INFINITY, 10);
        assert_eq!(avg.count(), 1);
        assert_close(avg.value(), 1.0, 1e-15);
        // NaN shows, and stays.
        for (value, error) in [(f64::NAN, 0.1), (1.0, f64::NAN), (f64::INFINITY, 0.1)] {
            let mut avg = IterationAverage::new();
            avg.add(1.0, 0.5, 10);
            avg.add(value, error, 10);
            avg.add(1.0, 0.5, 10);
            assert!(avg.value().is_nan() && avg.std_error().is_nan());
            assert!(avg.chi2_per_dof().is_nan());
        }
    }
}
