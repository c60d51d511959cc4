//! The Genz test families (Genz 1984; formulas and closed forms in
//! `tests/common/genz.rs`) in 2 and 5 dimensions: every estimate lands
//! within 5 standard errors of the exact value, with plain Monte Carlo and
//! with randomised QMC, and on the smooth families in 5 dimensions RQMC's
//! actual error is at least 30 times smaller than plain Monte Carlo's.

mod common;

use std::sync::Arc;

use common::genz::{Family, Genz};
use common::watchdog;
use quadpipe::{Estimate, Integral, Method};

/// 2^20 points, as the target asks; RQMC spreads them over 8 replicas.
const POINTS: u64 = 1 << 20;

fn estimate(genz: &Arc<Genz>, method: &Method, seed: u64) -> Estimate {
    let (dims, genz) = (genz.dim(), genz.clone());
    let integral = Integral::over(move |x: &[f64]| genz.eval(x), vec![0.0..1.0; dims])
        .samples(POINTS)
        .chunk_size(1 << 16)
        .method(method.clone())
        .seed(seed);
    pollster::block_on(integral.run()).unwrap()
}

/// Five standard errors: p ≈ 6e-7 for MC, and still under 1e-3 for a t
/// with 7 degrees of freedom, over the 24 estimates here.
#[test]
fn every_family_lands_within_five_standard_errors() {
    watchdog(|| {
        for d in [2, 5] {
            for family in Family::ALL {
                let genz = Arc::new(Genz::new(family, d));
                let exact = genz.exact();
                for method in [Method::MONTE_CARLO, Method::SOBOL] {
                    let estimate = estimate(&genz, &method, 1);
                    let distance = (estimate.value - exact).abs() / estimate.std_error;
                    println!(
                        "{:>14} d={d} {method:?}: {estimate:.9} exact {exact:.9} ({distance:.2} σ)",
                        family.name()
                    );
                    assert!(
                        distance < 5.0,
                        "{} d={d} {method:?}: {distance:.1} σ",
                        family.name()
                    );
                }
            }
        }
    });
}

/// The root mean square of the actual error over a few seeds: a single
/// run's error can be small by luck, which would make a ratio meaningless.
fn rms_error(genz: &Arc<Genz>, method: Method) -> f64 {
    const SEEDS: u64 = 6;
    let exact = genz.exact();
    let squares: f64 = (0..SEEDS)
        .map(|seed| (estimate(genz, &method, seed).value - exact).powi(2))
        .sum();
    (squares / SEEDS as f64).sqrt()
}

#[test]
fn sobol_beats_monte_carlo_thirty_fold_on_smooth_families_in_five_dimensions() {
    watchdog(|| {
        for family in Family::ALL.into_iter().filter(|f| f.is_smooth()) {
            let genz = Arc::new(Genz::new(family, 5));
            let (mc, qmc) = (
                rms_error(&genz, Method::MONTE_CARLO),
                rms_error(&genz, Method::SOBOL),
            );
            println!(
                "{:>14}: MC error {mc:.3e}, RQMC error {qmc:.3e}, ratio {:.0}",
                family.name(),
                mc / qmc
            );
            assert!(mc / qmc >= 30.0, "{}: ratio {:.1}", family.name(), mc / qmc);
        }
    });
}
