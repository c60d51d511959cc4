//! The process-wide default executor has a handle, and
//! `shutdown_default` ends it with a grace period at the end of `main`.
//!
//! The default executor is process-global, so each case runs in a child
//! process: this test binary again, told which case to check.

mod common;

use std::env;
use std::time::Duration;

use common::{CHILD, in_child, watchdog};
use quadpipe::{Error, Integral, Status};

#[test]
fn shutdown_cancels_what_outlives_the_grace_and_joins_the_workers() {
    if env::var_os(CHILD).is_none() {
        return in_child(
            "shutdown_cancels_what_outlives_the_grace_and_joins_the_workers",
            "2",
        );
    }
    watchdog(|| {
        let executor = quadpipe::default_executor().unwrap();
        assert_eq!(executor.threads(), 2);
        let endless = Integral::new(f64::sin, 0.0..1.0).samples(u64::MAX).spawn();
        let handle = endless.cancel_handle();
        assert!(common::eventually(|| handle.progress().done > 0));
        #[cfg(target_os = "linux")]
        assert_eq!(common::threads_named("quadpipe-worker"), 2);

        let report = quadpipe::shutdown_default(Duration::from_millis(20));
        assert_eq!(
            (report.finished, report.cancelled, report.abandoned),
            (0, 1, 0)
        );
        assert!(matches!(pollster::block_on(endless), Err(Error::Cancelled)));
        assert_eq!(handle.status(), Status::Cancelled);
        assert!(handle.progress().estimate.is_some());
        #[cfg(target_os = "linux")]
        assert_eq!(common::threads_named("quadpipe-worker"), 0);

        // From then on the default executor runs nothing, and says so.
        let spawned = pollster::block_on(quadpipe::spawn(async { 1 }));
        assert!(matches!(spawned, Err(Error::Cancelled)));
        let run = pollster::block_on(Integral::new(f64::exp, 0.0..1.0).run());
        assert!(matches!(run, Err(Error::Cancelled)));
        let blocking = executor.block_on(executor.unblock(|| 1));
        assert!(matches!(blocking, Err(Error::Cancelled)));
        // A second shutdown finds nothing to do.
        let again = quadpipe::shutdown_default(Duration::ZERO);
        assert_eq!(
            (again.finished, again.cancelled, again.abandoned),
            (0, 0, 0)
        );
    });
}

#[test]
fn the_grace_lets_tasks_finish() {
    if env::var_os(CHILD).is_none() {
        return in_child("the_grace_lets_tasks_finish", "1");
    }
    watchdog(|| {
        let integral = Integral::new(f64::exp, 0.0..1.0).samples(1 << 22);
        let reference = pollster::block_on(integral.run_inline()).unwrap();
        let task = integral.spawn();
        let report = quadpipe::shutdown_default(Duration::MAX);
        assert_eq!(
            (report.finished, report.cancelled, report.abandoned),
            (1, 0, 0)
        );
        assert_eq!(pollster::block_on(task).unwrap(), reference);
    });
}

#[test]
fn a_default_executor_never_started_is_not_started_by_shutdown() {
    if env::var_os(CHILD).is_none() {
        return in_child(
            "a_default_executor_never_started_is_not_started_by_shutdown",
            "2",
        );
    }
    watchdog(|| {
        let report = quadpipe::shutdown_default(Duration::from_secs(1));
        assert_eq!(
            (report.finished, report.cancelled, report.abandoned),
            (0, 0, 0)
        );
        #[cfg(target_os = "linux")]
        assert_eq!(common::threads_named("quadpipe-worker"), 0);
        // It still starts on first use afterwards.
        let task = quadpipe::spawn(async { 7 });
        assert_eq!(pollster::block_on(task).unwrap(), 7);
    });
}
