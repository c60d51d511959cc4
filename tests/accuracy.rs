//! Estimates land where the exact values are, and the error bars are honest.

mod common;

use std::f64::consts::PI;

use common::watchdog;
use quadpipe::Integral;

/// Five standard errors: a correct estimator misses by that much with
/// probability 6e-7, so a miss means a bug, not bad luck. The seeds are
/// fixed, so each check is also deterministic.
const TOLERANCE_IN_STD_ERRORS: f64 = 5.0;

fn assert_within(value: f64, std_error: f64, exact: f64) {
    let distance = (value - exact).abs() / std_error;
    assert!(
        distance < TOLERANCE_IN_STD_ERRORS,
        "{value} ± {std_error} is {distance:.1} standard errors from {exact}"
    );
}

#[test]
fn x_over_zero_to_pi() {
    watchdog(|| {
        for seed in [1, 42, 0xdead_beef] {
            let integral = Integral::new(|x| x, 0.0..PI).samples(4_000_000).seed(seed);
            let estimate = pollster::block_on(integral.run()).unwrap();
            assert_within(estimate.value, estimate.std_error, PI * PI / 2.0);
        }
    });
}

#[test]
fn sin_over_zero_to_pi() {
    watchdog(|| {
        for seed in [1, 42, 0xdead_beef] {
            let integral = Integral::new(f64::sin, 0.0..PI)
                .samples(4_000_000)
                .seed(seed);
            let estimate = pollster::block_on(integral.run()).unwrap();
            assert_within(estimate.value, estimate.std_error, 2.0);
        }
    });
}

/// For f(x) = x on [0, pi], f's variance under uniform sampling is pi²/12,
/// so the estimate's standard error is pi · sqrt(pi²/12 / n). The reported
/// one must match: an error bar that is too small lies, one that is too
/// large wastes the user's samples. At n = 4e6 the sample variance is off
/// by about 0.05% (one standard deviation), so 1% is a wide margin.
#[test]
fn std_error_matches_theory() {
    watchdog(|| {
        let samples = 4_000_000;
        let integral = Integral::new(|x| x, 0.0..PI).samples(samples).seed(3);
        let estimate = pollster::block_on(integral.run()).unwrap();
        let theory = PI * (PI * PI / 12.0 / samples as f64).sqrt();
        assert!(
            (estimate.std_error / theory - 1.0).abs() < 0.01,
            "reported {} vs theoretical {theory}",
            estimate.std_error
        );
    });
}

/// A large offset must not wreck the variance: the kernel sums values
/// shifted by a first sample, not raw squares. Here f = 1e9 + x on [0, 1]
/// has the variance of x, 1/12, under an offset of 1e9, where a raw sum of
/// squares would have lost every digit of it.
#[test]
fn large_offsets_keep_the_variance() {
    watchdog(|| {
        let samples = 1_000_000;
        let integral = Integral::new(|x| 1.0e9 + x, 0.0..1.0)
            .samples(samples)
            .seed(8);
        let estimate = pollster::block_on(integral.run()).unwrap();
        let theory = (1.0 / 12.0 / samples as f64).sqrt();
        assert!(
            (estimate.std_error / theory - 1.0).abs() < 0.01,
            "reported {} vs theoretical {theory}",
            estimate.std_error
        );
        assert_within(estimate.value, estimate.std_error, 1.0e9 + 0.5);
    });
}
