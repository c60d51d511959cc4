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
