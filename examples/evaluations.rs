//! Evaluations each method needs to reach a relative standard error of
//! 1e-3 on the Genz product-peak and Gaussian families in 5 and 8
//! dimensions, at the sharpness of `tests/common/genz.rs` (`Σ c_i = 7`)
//! and three times sharper (`Σ c_i = 21`, as `tests/vegas.rs` uses).
//!
//! ```text
//! cargo run --release --example evaluations
//! ```
//!
//! Plain Monte Carlo's count is extrapolated from a pilot run of 2^20
//! points (its error falls exactly as N^(−½)); randomised QMC and VEGAS
//! run with `tolerance(0.0, 1e-3)` and report where they stopped: RQMC at
//! the end of a round of its 8 replicas, VEGAS at the end of an iteration
//! of 4096 points (after 2 of warm-up). The actual error is in units of
//! the reported standard error.

#[path = "../tests/common/genz.rs"]
mod genz;

use std::sync::Arc;

use genz::{Family, Genz};
use quadpipe::{Estimate, Integral, Method};

const REL: f64 = 1e-3;
const PILOT: u64 = 1 << 20;
const PER_ITERATION: u64 = 4096;

fn run(genz: &Arc<Genz>, method: impl Into<Method>, samples: u64, tolerance: bool) -> Estimate {
    let (dims, genz) = (genz.dim(), genz.clone());
    let integral = Integral::over(move |x: &[f64]| genz.eval(x), vec![0.0..1.0; dims])
        .method(method)
        .samples(samples)
        .chunk_size(1 << 10)
        .seed(1);
    let integral = if tolerance {
        integral.tolerance(0.0, REL).min_samples(1)
    } else {
        integral
    };
    pollster::block_on(integral.run()).expect("valid settings")
}

fn main() {
    println!(
        "{:<13} {:>2} {:>5} {:>13} {:>18} {:>18} {:>7}",
        "family", "d", "Σc", "MC", "RQMC (σ off)", "VEGAS (σ off)", "MC/VEGAS"
    );
    for sharpness in [1.0, 3.0] {
        for family in [Family::ProductPeak, Family::Gaussian] {
            for d in [5, 8] {
                let mut genz = Genz::new(family, d);
                genz.c.iter_mut().for_each(|c| *c *= sharpness);
                let genz = Arc::new(genz);
                let exact = genz.exact();
                let off = |e: &Estimate| (e.value - exact).abs() / e.std_error;

                let pilot = run(&genz, Method::MONTE_CARLO, PILOT, false);
                let mc = PILOT as f64 * (pilot.std_error / (REL * exact)).powi(2);
                let rqmc = run(&genz, Method::SOBOL, 8 << 24, true);
                let vegas = Method::vegas().iterations(1000).warmup(2).alpha(0.5);
                let vegas = run(&genz, vegas, 1000 * PER_ITERATION, true);
                println!(
                    "{:<13} {d:>2} {:>5.0} {mc:>13.0} {:>11} ({:.1}) {:>11} ({:.1}) {:>7.0}",
                    family.name(),
                    7.0 * sharpness,
                    rqmc.samples,
                    off(&rqmc),
                    vegas.samples,
                    off(&vegas),
                    mc / vegas.samples as f64,
                );
            }
        }
    }
}
