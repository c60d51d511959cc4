//! Bad input gets its own clear error when the run starts: never a panic,
//! never a hang, never a silently wrong number.

mod common;

use common::watchdog;
use quadpipe::{Error, Estimate, Executor, Integral, Integrand, Status};

/// Runs `integral` every way there is and checks that all agree on the
/// error, and that a spawned task fails with it.
fn every_way(integral: &Integral<impl Integrand>) -> Error {
    let executor = Executor::builder().threads(2).build().unwrap();
    let inline = pollster::block_on(integral.run_inline()).unwrap_err();
    let results: [Result<Estimate, Error>; 3] = [
        pollster::block_on(integral.run()),
        pollster::block_on(integral.run_on(&executor)),
        {
            let mut task = integral.spawn_on(&executor);
            let result = executor.block_on(&mut task);
            assert_eq!(task.status(), Status::Failed);
            result
        },
    ];
    for result in results {
        assert_eq!(result.unwrap_err().to_string(), inline.to_string());
    }
    inline
}

#[test]
fn non_finite_bounds() {
    watchdog(|| {
        for (bounds, bad) in [
            (f64::NAN..1.0, f64::NAN),
            (0.0..f64::NAN, f64::NAN),
            (f64::NEG_INFINITY..0.0, f64::NEG_INFINITY),
            (0.0..f64::INFINITY, f64::INFINITY),
        ] {
            match every_way(&Integral::new(|x| x, bounds)) {
                Error::NonFiniteBound { axis: 0, value } => {
                    assert_eq!(value.to_bits(), bad.to_bits());
                }
                other => panic!("expected NonFiniteBound, got {other:?}"),
            }
        }
        let err = every_way(&Integral::new(|x| x, 0.0..f64::INFINITY));
        assert_eq!(err.to_string(), "bound of axis 0 is not finite: inf");
    });
}

#[test]
fn zero_samples() {
    watchdog(|| {
        let err = every_way(&Integral::new(|x| x, 0.0..1.0).samples(0));
        assert!(matches!(err, Error::ZeroSamples));
        assert_eq!(err.to_string(), "sample count is zero");
    });
}

#[test]
fn zero_chunk_size() {
    watchdog(|| {
        let err = every_way(&Integral::new(|x| x, 0.0..1.0).chunk_size(0));
        assert!(matches!(err, Error::ZeroChunkSize));
        assert_eq!(err.to_string(), "chunk size is zero");
    });
}

#[test]
fn zero_width_is_still_checked() {
    watchdog(|| {
        let err = every_way(&Integral::new(|x| x, 1.0..1.0).samples(0));
        assert!(matches!(err, Error::ZeroSamples));
    });
}

#[test]
fn zero_threads() {
    let err = Executor::builder().threads(0).build().unwrap_err();
    assert!(matches!(err, Error::ZeroThreads));
    assert_eq!(err.to_string(), "thread count is zero");
}

/// ln(x) is NaN for x < 0: the error names the first such point in sample
/// order, the same point whichever way the run goes.
#[test]
fn a_non_finite_value_names_the_point() {
    watchdog(|| {
        let err = every_way(
            &Integral::new(f64::ln, -1.0..1.0)
                .samples(1 << 16)
                .chunk_size(1000),
        );
        match &err {
            Error::NonFiniteValue { point, value } => {
                assert_eq!(point.len(), 1);
                assert!(point[0] < 0.0 && point[0] > -1.0);
                assert!(value.is_nan());
                assert!(point[0].ln().is_nan());
            }
            other => panic!("expected NonFiniteValue, got {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("integrand returned NaN at x = -0."),
            "{err}"
        );
    });
}

/// An infinity is caught as a NaN is.
#[test]
fn an_infinite_value_is_caught_too() {
    watchdog(|| {
        let integrand = |x: f64| if x > 0.5 { f64::INFINITY } else { x };
        let err = every_way(&Integral::new(integrand, 0.0..1.0).samples(100));
        match err {
            Error::NonFiniteValue { point, value } => {
                assert!(point[0] > 0.5);
                assert_eq!(value, f64::INFINITY);
            }
            other => panic!("expected NonFiniteValue, got {other:?}"),
        }
    });
}

#[test]
fn values_too_large_to_square_are_an_overflow() {
    watchdog(|| {
        let err = every_way(&Integral::new(|x| 1.0e200 * x, 0.0..1.0).samples(1000));
        assert!(matches!(err, Error::Overflow), "{err:?}");
    });
}

/// Whether sums overflow does not depend on where chunks split them: the
/// merge of finite chunks is checked as a chunk's own sums are (with one
/// value per chunk, ±1e160 once gave `Ok(3.9e143 ± inf)`).
#[test]
fn an_overflow_is_caught_at_any_chunk_size() {
    watchdog(|| {
        let alternating = |x: f64| if x < 0.5 { 1e160 } else { -1e160 };
        for chunk_size in [1, 7, 64, 1 << 20] {
            for method in [quadpipe::Method::MONTE_CARLO, quadpipe::Method::VEGAS] {
                let integral = Integral::new(alternating, 0.0..1.0)
                    .samples(1024)
                    .chunk_size(chunk_size)
                    .method(method);
                let err = every_way(&integral);
                assert!(matches!(err, Error::Overflow), "{chunk_size}: {err:?}");
            }
        }
    });
}

/// Finite values whose integral is out of the range of an f64 are an
/// overflow, not `Ok(inf)`.
#[test]
fn an_integral_too_large_for_an_f64_is_an_overflow() {
    watchdog(|| {
        let err = every_way(&Integral::new(|_| 1e308, 0.0..2.0).samples(1000));
        assert!(matches!(err, Error::Overflow), "{err:?}");
        let wide = Integral::over(|_: &[f64]| 1e300, [0.0..1e5, 0.0..1e5]).samples(1000);
        assert!(matches!(every_way(&wide), Error::Overflow));
    });
}

/// The sweep: every constructor and setter with the invalid values we could
/// think of, each through every way of running, each with its documented
/// error.
#[test]
fn the_sweep_of_invalid_settings() {
    use quadpipe::Method;
    use std::time::Duration;

    watchdog(|| {
        let one = || Integral::new(|x| x, 0.0..1.0).samples(1 << 12);
        let cube = |bounds: Vec<std::ops::Range<f64>>| {
            Integral::over(|p: &[f64]| p[0], bounds).samples(1 << 12)
        };
        let batched = |bounds: Vec<std::ops::Range<f64>>| {
            Integral::batched(|_: &[f64], v: &mut [f64]| v.fill(1.0), bounds).samples(1 << 12)
        };
        let sobol = |samples: u64| one().samples(samples).method(Method::SOBOL);

        // Intervals and boxes.
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                every_way(&Integral::new(|x| x, bad..1.0)),
                Error::NonFiniteBound { axis: 0, .. }
            ));
            for axis in 0..3 {
                let mut bounds = vec![0.0..1.0; 3];
                bounds[axis].end = bad;
                assert!(
                    matches!(every_way(&cube(bounds.clone())), Error::NonFiniteBound { axis: a, .. } if a == axis)
                );
                assert!(
                    matches!(every_way(&batched(bounds)), Error::NonFiniteBound { axis: a, .. } if a == axis)
                );
            }
        }
        for bounds in [
            vec![1.0..0.0],
            vec![0.0..1.0, 3.0..-3.0],
            vec![0.0..1.0, 2.0..2.0],
        ] {
            assert!(matches!(
                every_way(&cube(bounds.clone())),
                Error::EmptyAxis { .. }
            ));
            assert!(matches!(
                every_way(&batched(bounds)),
                Error::EmptyAxis { .. }
            ));
        }
        assert!(matches!(every_way(&cube(vec![])), Error::NoAxes));
        assert!(matches!(every_way(&batched(vec![])), Error::NoAxes));
        let tiny = vec![0.0..1e-200, 0.0..1e-200];
        assert!(
            matches!(every_way(&cube(tiny)), Error::VolumeOutOfRange { volume } if volume == 0.0)
        );
        let huge = vec![-1e200..1e200, -1e200..1e200];
        assert!(matches!(
            every_way(&cube(huge)),
            Error::VolumeOutOfRange { .. }
        ));

        // Budget and chunks.
        assert!(matches!(
            every_way(&cube(vec![0.0..1.0]).samples(0)),
            Error::ZeroSamples
        ));
        assert!(matches!(
            every_way(&cube(vec![0.0..1.0]).chunk_size(0)),
            Error::ZeroChunkSize
        ));

        // Stop rules.
        for (abs, rel) in [
            (-1e-3, 0.0),
            (0.0, -1e-3),
            (0.0, 0.0),
            (f64::NAN, 1e-3),
            (1e-3, f64::NAN),
            (f64::INFINITY, 0.0),
            (0.0, f64::NEG_INFINITY),
        ] {
            assert!(
                matches!(
                    every_way(&one().tolerance(abs, rel)),
                    Error::InvalidTolerance { .. }
                ),
                "{abs} {rel}"
            );
        }
        assert!(matches!(
            every_way(&one().tolerance(0.0, 1e-3).min_samples(u64::MAX)),
            Error::MinSamplesAboveBudget { .. }
        ));
        assert!(matches!(
            every_way(&one().time_limit(Duration::ZERO)),
            Error::ZeroTimeLimit
        ));
        assert!(matches!(
            every_way(&one().checkpoint_every(0, std::env::temp_dir())),
            Error::ZeroCheckpointInterval
        ));

        // Randomised QMC's own needs.
        for replicas in [0, 1] {
            let few = one().method(Method::sobol().replicas(replicas));
            assert!(matches!(every_way(&few), Error::TooFewReplicas { .. }));
        }
        for samples in [1000, 8 * 1000, 7 << 10, (8u64 << 32) * 2] {
            assert!(
                matches!(every_way(&sobol(samples)), Error::SobolSamples { .. }),
                "{samples}"
            );
        }
        assert!(matches!(
            every_way(&sobol(8 << 12).chunk_size(1000)),
            Error::SobolChunkSize { chunk_size: 1000 }
        ));
        let wide = cube(vec![0.0..1.0; 1001])
            .samples(8 << 4)
            .method(Method::SOBOL);
        assert!(matches!(
            every_way(&wide),
            Error::TooManyDimensions {
                dims: 1001,
                max: 1000
            }
        ));

        // VEGAS's own needs.
        let vegas = |iterations, warmup, alpha, increments| {
            one().samples(1000).method(
                Method::vegas()
                    .iterations(iterations)
                    .warmup(warmup)
                    .alpha(alpha)
                    .increments(increments),
            )
        };
        for (integral, reason) in [
            (vegas(0, 0, 0.5, 0), "iterations must be at least 1"),
            (vegas(5, 5, 0.5, 0), "warmup must be fewer than iterations"),
            (vegas(5, 1, -1.0, 0), "alpha must be finite and at least 0"),
            (vegas(5, 1, f64::NAN, 0), "alpha must be finite"),
            (vegas(5, 1, f64::INFINITY, 0), "alpha must be finite"),
            (
                vegas(5, 1, 0.5, 1 << 20),
                "increments must be at most 65536",
            ),
            (
                vegas(5, 1, 0.5, 0).samples(9),
                "each iteration needs at least 2 samples",
            ),
        ] {
            let err = every_way(&integral);
            assert!(
                matches!(err, Error::InvalidVegas { reason: r } if r.starts_with(reason)),
                "{reason}: {err}"
            );
        }
        assert_eq!(
            every_way(&sobol(1000)).to_string(),
            "randomised QMC needs 8 × a power of two samples, at most 8 × 2^32; 1000 is not (try 1024)"
        );
    });
}

#[test]
fn absurd_but_valid_settings_run() {
    watchdog(|| {
        // The largest budget runs until stopped; the largest chunk is one chunk.
        let endless = Integral::new(|x| x, 0.0..1.0).samples(u64::MAX);
        let task = endless.spawn();
        assert!(common::eventually(|| task.progress().done > 0));
        task.cancel();
        let one_chunk = Integral::new(|x| x, 0.0..1.0)
            .samples(1000)
            .chunk_size(u64::MAX);
        assert_eq!(pollster::block_on(one_chunk.run()).unwrap().samples, 1000);
        // An interval level outside (0, 1) gives NaN bounds, not a panic.
        let estimate =
            pollster::block_on(Integral::new(|x| x, 0.0..1.0).samples(100).run()).unwrap();
        for level in [0.0, 1.0, -0.5, f64::NAN] {
            let interval = estimate.interval(level);
            assert!(
                interval.start().is_nan() && interval.end().is_nan(),
                "{level}"
            );
        }
    });
}
