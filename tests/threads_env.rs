//! `QUADPIPE_THREADS` sets the default executor's thread count.
//!
//! The default executor starts once per process, so each case runs in a
//! child process: this test binary again, with the variable set and told
//! which case to check.

mod common;

use std::env;
use std::sync::{Arc, Barrier};

use common::{CHILD, in_child, watchdog};
use quadpipe::{Error, Integral};

#[test]
fn three_threads() {
    if env::var_os(CHILD).is_none() {
        return in_child("three_threads", "3");
    }
    watchdog(|| {
        // Three tasks that each wait for the other two: they can only all
        // finish on three workers at once.
        let barrier = Arc::new(Barrier::new(3));
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let barrier = barrier.clone();
                quadpipe::spawn(async move {
                    barrier.wait();
                })
            })
            .collect();
        for task in tasks {
            pollster::block_on(task).unwrap();
        }
        // Linux truncates thread names to 15 bytes: "quadpipe-worker".
        #[cfg(target_os = "linux")]
        assert_eq!(common::threads_named("quadpipe-worker"), 3);
    });
}

#[test]
fn invalid_values_are_an_error() {
    if env::var_os(CHILD).is_none() {
        for value in ["0", "many", "-2", ""] {
            in_child("invalid_values_are_an_error", value);
        }
        return;
    }
    watchdog(|| {
        let expected = env::var("QUADPIPE_THREADS").unwrap();
        let err = pollster::block_on(Integral::new(|x| x, 0.0..1.0).run()).unwrap_err();
        match &err {
            Error::InvalidThreadsVar { value } => assert_eq!(value, &expected),
            other => panic!("expected InvalidThreadsVar, got {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            format!("QUADPIPE_THREADS is not a positive integer: {expected:?}")
        );
        let spawned = pollster::block_on(quadpipe::spawn(async { 1 })).unwrap_err();
        assert!(matches!(spawned, Error::InvalidThreadsVar { .. }));
    });
}
