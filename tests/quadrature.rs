//! Adaptive Gauss–Kronrod through the pipeline: classic one-dimensional
//! problems with closed forms to 1e-10 relative (or a clear report that it
//! could not), infinite intervals, endpoint singularities, and the same
//! answer on any runtime.

mod common;

use std::f64::consts::PI;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};

use common::watchdog;
use quadpipe::{Error, Estimate, Executor, Integral, Method, Stop};

/// Integrates `f` over `a..b` by Gauss–Kronrod with relative tolerance
/// `rel` and subdivision `limit`, on the default executor.
fn gk(f: fn(f64) -> f64, a: f64, b: f64, rel: f64, limit: u32) -> Estimate {
    let integral = Integral::new(f, a..b)
        .method(Method::gauss_kronrod().limit(limit))
        .tolerance(0.0, rel);
    pollster::block_on(integral.run()).unwrap()
}

#[test]
fn classic_problems_to_one_part_in_ten_billion() {
    watchdog(|| {
        type Problem = (&'static str, fn(f64) -> f64, f64, f64, f64, u32);
        let problems: [Problem; 10] = [
            (
                "x^3 - 2x + 1/2 on [-1, 2]",
                |x| x * x * x - 2.0 * x + 0.5,
                -1.0,
                2.0,
                2.25,
                50,
            ),
            ("x^19 on [0, 1]", |x| x.powi(19), 0.0, 1.0, 0.05, 50),
            (
                "x^0.5 ln(1/x) on [0, 1]",
                |x| x.sqrt() * (1.0 / x).ln(),
                0.0,
                1.0,
                4.0 / 9.0,
                50,
            ),
            (
                "x^-0.5 ln(1/x) on [0, 1]",
                |x| (1.0 / x).ln() / x.sqrt(),
                0.0,
                1.0,
                4.0,
                50,
            ),
            ("1/sqrt(x) on [0, 1]", |x| 1.0 / x.sqrt(), 0.0, 1.0, 2.0, 50),
            (
                "cos(100x) on [0, 1]",
                |x| (100.0 * x).cos(),
                0.0,
                1.0,
                100f64.sin() / 100.0,
                1000,
            ),
            (
                "cos(1000x) on [0, 1]",
                |x| (1000.0 * x).cos(),
                0.0,
                1.0,
                1000f64.sin() / 1000.0,
                1000,
            ),
            (
                "e^-x on [0, inf)",
                |x| (-x).exp(),
                0.0,
                f64::INFINITY,
                1.0,
                50,
            ),
            (
                "1/(1+x^2) on (-inf, inf)",
                |x| 1.0 / (1.0 + x * x),
                f64::NEG_INFINITY,
                f64::INFINITY,
                PI,
                50,
            ),
            (
                "e^-x^2 on (-inf, inf)",
                |x| (-x * x).exp(),
                f64::NEG_INFINITY,
                f64::INFINITY,
                PI.sqrt(),
                50,
            ),
        ];
        println!(
            "{:<28} {:>24} {:>9} {:>9} {:>6}",
            "problem", "value", "estimate", "actual", "evals"
        );
        for (name, f, a, b, exact, limit) in problems {
            let estimate = gk(f, a, b, 1e-10, limit);
            let actual = (estimate.value - exact).abs();
            println!(
                "{name:<28} {:>24.17e} {:>9.2e} {actual:>9.2e} {:>6}",
                estimate.value, estimate.std_error, estimate.samples
            );
            assert_eq!(estimate.stop, Stop::ToleranceMet, "{name}");
            assert!(
                actual <= 1e-10 * exact.abs(),
                "{name}: actual error {actual:e}"
            );
            assert!(
                actual <= estimate.std_error,
                "{name}: the error estimate bounds the error"
            );
        }
    });
}

#[test]
fn what_cannot_be_done_is_reported_not_claimed() {
    watchdog(|| {
        // Needs 128 subintervals; 50 are allowed.
        let short = gk(|x| (1000.0 * x).cos(), 0.0, 1.0, 1e-10, 50);
        assert_eq!(short.stop, Stop::SubdivisionLimit);
        // Not integrable.
        let divergent = gk(|x| 1.0 / (x * x), 0.0, 1.0, 1e-10, 50);
        assert!(
            matches!(
                divergent.stop,
                Stop::Divergent | Stop::SubdivisionLimit | Stop::ToleranceNotMet
            ),
            "{:?}",
            divergent.stop
        );
        assert_ne!(divergent.stop, Stop::ToleranceMet);
        // Beyond what round-off allows.
        let too_fine = gk(|x| (1000.0 * x).cos(), 0.0, 1.0, 1e-12, 1000);
        assert_ne!(too_fine.stop, Stop::ToleranceMet);
        // An integrand that is infinite inside: an error naming the point.
        let err = pollster::block_on(
            Integral::new(|x: f64| 1.0 / x, -1.0..1.0)
                .method(Method::GAUSS_KRONROD)
                .run(),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::NonFiniteValue { ref point, .. } if point[0] == 0.0),
            "{err:?}"
        );
    });
}

#[test]
fn the_same_bits_everywhere_and_the_sign_of_a_reversed_interval() {
    watchdog(|| {
        let integral = Integral::new(|x: f64| x.sqrt() * (1.0 / x).ln(), 0.0..1.0)
            .method(Method::GAUSS_KRONROD);
        let inline = pollster::block_on(integral.run_inline()).unwrap();
        let executor = Executor::builder().threads(2).build().unwrap();
        assert_eq!(
            executor.block_on(integral.spawn_on(&executor)).unwrap(),
            inline
        );
        assert_eq!(smol::block_on(integral.run()).unwrap(), inline);
        let reversed = Integral::new(|x: f64| x.sqrt() * (1.0 / x).ln(), 1.0..0.0)
            .method(Method::GAUSS_KRONROD);
        assert_eq!(
            pollster::block_on(reversed.run()).unwrap().value,
            -inline.value
        );
        let empty = Integral::new(|x: f64| x, 2.0..2.0).method(Method::GAUSS_KRONROD);
        assert_eq!(pollster::block_on(empty.run()).unwrap().value, 0.0);
    });
}

#[test]
fn bad_settings_are_errors() {
    watchdog(|| {
        fn run<I: quadpipe::Integrand>(integral: Integral<I>) -> Error {
            pollster::block_on(integral.run_inline()).unwrap_err()
        }
        let one = || Integral::new(|x: f64| x, 0.0..1.0);
        assert!(matches!(
            run(one().method(Method::gauss_kronrod().limit(0))),
            Error::ZeroSubdivisionLimit
        ));
        assert!(matches!(
            run(one().method(Method::GAUSS_KRONROD).tolerance(0.0, 1e-20)),
            Error::QuadratureTolerance { .. }
        ));
        assert!(matches!(
            run(one().method(Method::GAUSS_KRONROD).tolerance(0.0, -1.0)),
            Error::InvalidTolerance { .. }
        ));
        assert!(matches!(
            run(Integral::new(|x: f64| x, f64::NAN..1.0).method(Method::GAUSS_KRONROD)),
            Error::NonFiniteBound { .. }
        ));
        let two =
            Integral::over(|p: &[f64]| p[0], [0.0..1.0, 0.0..1.0]).method(Method::GAUSS_KRONROD);
        assert!(matches!(
            pollster::block_on(two.run()),
            Err(Error::QuadratureDimensions { dims: 2 })
        ));
    });
}

/// Break points where bisection would chase a kink or a jump: the first
/// pass's intervals end there, so two rules settle it.
#[test]
fn break_points_settle_kinks_and_jumps_in_one_pass() {
    watchdog(|| {
        type Problem = (&'static str, fn(f64) -> f64, f64, f64);
        let problems: [Problem; 2] = [
            (
                "|x - 1/3|",
                |x| (x - 1.0 / 3.0).abs(),
                1.0 / 3.0,
                5.0 / 18.0,
            ),
            ("step at 0.3", |x| if x < 0.3 { 1.0 } else { 2.0 }, 0.3, 1.7),
        ];
        for (name, f, point, exact) in problems {
            let run = |method: Method| {
                let integral = Integral::new(f, 0.0..1.0).method(method);
                pollster::block_on(integral.run()).unwrap()
            };
            let with = run(Method::gauss_kronrod().points(&[point]).into());
            let without = run(Method::GAUSS_KRONROD);
            assert_eq!(
                (with.stop, with.samples),
                (Stop::ToleranceMet, 42),
                "{name}"
            );
            assert!((with.value - exact).abs() <= 2.0 * f64::EPSILON, "{name}");
            assert!(without.samples > 4 * with.samples, "{name}");
        }
    });
}

#[test]
fn bad_break_points_are_errors() {
    watchdog(|| {
        let run = |range: std::ops::Range<f64>, method: quadpipe::method::GaussKronrod| {
            let integral = Integral::new(|x: f64| x, range).method(method);
            pollster::block_on(integral.run_inline()).unwrap_err()
        };
        let gk = Method::gauss_kronrod;
        for (range, point) in [
            (0.0..1.0, f64::NAN),
            (0.0..1.0, f64::INFINITY),
            (0.0..1.0, 1.5),
            (1.0..0.0, -0.5),
            (0.0..f64::INFINITY, 1.0),
        ] {
            assert!(
                matches!(
                    run(range.clone(), gk().points(&[point])),
                    Error::InvalidBreakPoint { .. }
                ),
                "{range:?}, {point}"
            );
        }
        let many: Vec<f64> = (1..=1001).map(|i| f64::from(i) / 1002.0).collect();
        assert!(matches!(
            run(0.0..1.0, gk().limit(5000).points(&many)),
            Error::TooManyBreakPoints {
                count: 1001,
                max: 1000
            }
        ));
        assert!(matches!(
            run(0.0..1.0, gk().limit(3).points(&[0.2, 0.4, 0.6])),
            Error::TooManyBreakPoints { count: 3, max: 2 }
        ));
        let err = run(0.0..1.0, gk().points(&[2.0]));
        assert_eq!(
            err.to_string(),
            "break point 2 cannot be used: outside the interval"
        );
    });
}

/// What the algorithm reports at its edges comes through the driver: a
/// zero-width interval is exactly 0 after no evaluations, a non-finite
/// value names its point in the caller's variable (not QAGI's `t`), and
/// finite values whose sum overflows are an overflow.
#[test]
fn edges_come_through_the_driver() {
    watchdog(|| {
        let empty = Integral::new(|x: f64| x, 2.0..2.0).method(Method::GAUSS_KRONROD);
        let empty = pollster::block_on(empty.run()).unwrap();
        assert_eq!(
            (
                empty.value.to_bits(),
                empty.std_error,
                empty.samples,
                empty.stop
            ),
            (0, 0.0, 0, Stop::ToleranceMet)
        );
        let tail = |x: f64| if x > 5.0 { f64::NAN } else { (-x).exp() };
        let err = pollster::block_on(
            Integral::new(tail, 0.0..f64::INFINITY)
                .method(Method::GAUSS_KRONROD)
                .run(),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::NonFiniteValue { ref point, value } if point[0] > 5.0 && value.is_nan()),
            "{err:?}"
        );
        let huge = Integral::new(|_: f64| 1e308, 0.0..10.0).method(Method::GAUSS_KRONROD);
        assert!(matches!(
            pollster::block_on(huge.run()),
            Err(Error::Overflow)
        ));
    });
}

/// The two halves of a bisection are two chunks that run at once: each
/// waits at a barrier for the other, which would never come if they ran
/// one after the other.
#[test]
fn the_halves_of_a_bisection_run_side_by_side() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let (calls, both) = (AtomicU64::new(0), Barrier::new(2));
        let integral = Integral::batched(
            move |points: &[f64], values: &mut [f64]| {
                // Calls 0 and 1 are the probes of the task's checkpoints,
                // taken before any chunk; 2 is the first pass; 3 and 4 are
                // the first halves.
                if (3..5).contains(&calls.fetch_add(1, Ordering::SeqCst)) {
                    both.wait();
                }
                for (value, &x) in values.iter_mut().zip(points) {
                    *value = (200.0 * x).cos();
                }
            },
            [0.0..1.0],
        )
        .method(Method::GAUSS_KRONROD);
        let estimate = executor.block_on(integral.spawn_on(&executor)).unwrap();
        assert_eq!(estimate.stop, Stop::ToleranceMet);
        assert!(estimate.samples > 3 * 21);
    });
}
