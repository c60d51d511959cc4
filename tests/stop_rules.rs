//! Stop rules: a tolerance stops at the same chunk on any thread count,
//! an unreachable one is reported, a minimum holds, a time limit stops.

mod common;

use std::time::Duration;

use common::watchdog;
use quadpipe::{Error, Executor, Integral, Stop};

fn tolerant() -> Integral<impl quadpipe::Integrand> {
    Integral::new(|x: f64| x.exp(), 0.0..1.0)
        .samples(1 << 30)
        .chunk_size(1 << 14)
        .seed(21)
        .tolerance(0.0, 2e-4)
}

#[test]
fn a_tolerance_stops_at_the_same_chunk_on_any_thread_count() {
    watchdog(|| {
        let reference = pollster::block_on(tolerant().run_inline()).unwrap();
        assert_eq!(reference.stop, Stop::ToleranceMet);
        assert!(reference.std_error <= 2e-4 * reference.value);
        assert!(reference.samples < 1 << 30);
        assert_eq!(
            reference.samples % (1 << 14),
            0,
            "stops at a chunk boundary"
        );
        for threads in [1, 2, 4] {
            let executor = Executor::builder().threads(threads).build().unwrap();
            let estimate = executor.block_on(tolerant().spawn_on(&executor)).unwrap();
            assert_eq!(estimate, reference, "{threads} threads");
        }
        // One chunk earlier, the target was not met: the first boundary
        // that meets it is the one it stopped at.
        let before = pollster::block_on(
            tolerant()
                .samples(reference.samples - (1 << 14))
                .run_inline(),
        )
        .unwrap();
        assert_eq!(before.stop, Stop::ToleranceNotMet);
        assert!(before.std_error > 2e-4 * before.value);
    });
}

#[test]
fn an_unreachable_tolerance_spends_the_budget_and_says_so() {
    watchdog(|| {
        let integral = Integral::new(f64::sin, 0.0..1.0)
            .samples(1 << 18)
            .tolerance(1e-12, 0.0);
        let estimate = pollster::block_on(integral.run()).unwrap();
        assert_eq!(estimate.stop, Stop::ToleranceNotMet);
        assert_eq!(estimate.samples, 1 << 18);
        assert_eq!(
            estimate.stop.to_string(),
            "budget spent without meeting the tolerance"
        );
    });
}

#[test]
fn the_minimum_sample_count_holds_even_when_the_target_is_met_at_once() {
    watchdog(|| {
        let integral = Integral::new(|x| x, 0.0..1.0)
            .samples(1 << 22)
            .chunk_size(1 << 12)
            .tolerance(10.0, 0.0);
        let default_min = pollster::block_on(integral.run()).unwrap();
        assert_eq!(
            (default_min.samples, default_min.stop),
            (1 << 16, Stop::ToleranceMet)
        );
        let raised = pollster::block_on(integral.min_samples(100_000).run()).unwrap();
        // The first chunk boundary at or after the minimum.
        assert_eq!(raised.samples, 100_000_u64.div_ceil(1 << 12) * (1 << 12));
    });
}

#[test]
fn a_time_limit_stops_a_run_that_would_never_end() {
    watchdog(|| {
        let integral = Integral::new(f64::sin, 0.0..1.0)
            .samples(u64::MAX)
            .time_limit(Duration::from_millis(100));
        let started = std::time::Instant::now();
        let estimate = pollster::block_on(integral.run()).unwrap();
        assert_eq!(estimate.stop, Stop::TimeLimit);
        assert!(!estimate.stop.is_reproducible());
        assert!(estimate.samples > 0);
        // A chunk boundary comes within milliseconds; the watchdog is the
        // real bound, this only says it did not run on for long.
        assert!(started.elapsed() < Duration::from_secs(10));
    });
}

#[test]
fn bad_stop_rules_are_errors() {
    watchdog(|| {
        let base = Integral::new(|x| x, 0.0..1.0).samples(1000);
        let err = |integral: &Integral<_>| pollster::block_on(integral.run_inline()).unwrap_err();
        for (abs, rel) in [
            (-1.0, 0.1),
            (0.0, 0.0),
            (f64::NAN, 0.1),
            (0.1, f64::INFINITY),
        ] {
            assert!(matches!(
                err(&base.clone().tolerance(abs, rel)),
                Error::InvalidTolerance { .. }
            ));
        }
        assert!(matches!(
            err(&base.clone().time_limit(Duration::ZERO)),
            Error::ZeroTimeLimit
        ));
        assert!(matches!(
            err(&base.clone().tolerance(0.1, 0.0).min_samples(1001)),
            Error::MinSamplesAboveBudget {
                min_samples: 1001,
                samples: 1000
            }
        ));
    });
}
