//! Honest error bars: over 1000 independent seeds, the 95% interval covers
//! the true value in 93–97% of runs, for plain Monte Carlo (normal
//! quantile) and for randomised QMC (Student's t with replicas − 1 degrees
//! of freedom), in one and three dimensions.
//!
//! With 1000 runs the count of covering runs has a binomial standard
//! deviation of sqrt(1000 · 0.95 · 0.05) ≈ 6.9, so 93–97% is ±2.9 standard
//! deviations around 95%: an honest interval fails this about once in 270
//! seeds-sets, and the seeds are fixed, so the test is deterministic. An
//! interval that lies (from a single QMC point set, say) fails it by far.

mod common;

use common::watchdog;
use quadpipe::{Estimate, Integral, Integrand, Method};

const RUNS: u64 = 1000;

/// How many of `RUNS` seeds give a 95% interval that holds `exact`.
fn coverage<I: Integrand>(integral: Integral<I>, exact: f64) -> u64 {
    (0..RUNS)
        .filter(|&seed| {
            let estimate: Estimate =
                pollster::block_on(integral.clone().seed(seed).run_inline()).unwrap();
            estimate.interval(0.95).contains(&exact)
        })
        .count() as u64
}

fn assert_honest(what: &str, covered: u64) {
    println!("{what}: {covered} of {RUNS} intervals cover the true value");
    assert!(
        (930..=970).contains(&covered),
        "{what}: {covered} of {RUNS}"
    );
}

/// ∫₀¹ eˣ dx = e − 1: a skewed integrand, where a normal interval from few
/// samples is least trustworthy.
fn one_dimension() -> (Integral<impl Integrand>, f64) {
    (Integral::new(f64::exp, 0.0..1.0), std::f64::consts::E - 1.0)
}

/// ∫ over [0,1]³ of x·y·z + sin(x + 2y + 3z): smooth, not separable.
/// The sine part is the imaginary part of Π (e^{ia} − 1)/(ia) for
/// a = 1, 2, 3, and (e^{ia} − 1)/(ia) = (sin a + i(1 − cos a))/a.
fn three_dimensions() -> (Integral<impl Integrand>, f64) {
    let factor = |a: f64| (a.sin() / a, (1.0 - a.cos()) / a);
    let (mut re, mut im) = (1.0, 0.0);
    for a in [1.0, 2.0, 3.0] {
        let (r, i) = factor(a);
        (re, im) = (re * r - im * i, re * i + im * r);
    }
    let exact = 0.125 + im;
    let integral = Integral::over(
        |p: &[f64]| p[0] * p[1] * p[2] + (p[0] + 2.0 * p[1] + 3.0 * p[2]).sin(),
        vec![0.0..1.0; 3],
    );
    (integral, exact)
}

#[test]
fn monte_carlo_intervals_cover_95_percent_in_one_dimension() {
    watchdog(|| {
        let (integral, exact) = one_dimension();
        assert_honest("MC, 1-D", coverage(integral.samples(1000), exact));
    });
}

#[test]
fn monte_carlo_intervals_cover_95_percent_in_three_dimensions() {
    watchdog(|| {
        let (integral, exact) = three_dimensions();
        assert_honest("MC, 3-D", coverage(integral.samples(1000), exact));
    });
}

#[test]
fn sobol_intervals_cover_95_percent_in_one_dimension() {
    watchdog(|| {
        let (integral, exact) = one_dimension();
        let sobol = integral.method(Method::SOBOL).samples(8 * 128);
        assert_honest("RQMC, 1-D", coverage(sobol, exact));
    });
}

#[test]
fn sobol_intervals_cover_95_percent_in_three_dimensions() {
    watchdog(|| {
        let (integral, exact) = three_dimensions();
        let sobol = integral.method(Method::SOBOL).samples(8 * 128);
        assert_honest("RQMC, 3-D", coverage(sobol, exact));
    });
}
