//! Shutdown: in-flight work may finish within the grace period, the rest is
//! cancelled, the workers are joined, and the report says which was which.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::watchdog;
use quadpipe::{Error, Executor, Integral, Status};

fn endless() -> Integral<impl quadpipe::Integrand> {
    Integral::new(f64::sin, 0.0..1.0)
        .samples(u64::MAX)
        .chunk_size(1 << 16)
}

#[test]
fn work_that_fits_the_grace_period_finishes() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        // Every task waits at a gate that opens during the grace period, so
        // all four are in flight when the shutdown starts.
        let gate = Arc::new(AtomicBool::new(false));
        let wait = {
            let gate = gate.clone();
            move || {
                while !gate.load(Ordering::Acquire) {
                    std::thread::yield_now();
                }
            }
        };
        let integrand = {
            let wait = wait.clone();
            move |x: f64| {
                wait();
                x * x
            }
        };
        let integral = Integral::new(integrand, 0.0..1.0).samples(1 << 16);
        let tasks: Vec<_> = (0..3).map(|_| integral.spawn_on(&executor)).collect();
        let blocking = executor.unblock(move || {
            wait();
            42
        });
        let opener = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            gate.store(true, Ordering::Release);
        });
        let report = executor.shutdown(Duration::from_secs(20));
        opener.join().unwrap();
        assert_eq!((report.finished, report.cancelled), (4, 0));
        let reference = pollster::block_on(integral.run_inline()).unwrap();
        for task in tasks {
            assert_eq!(task.status(), Status::Finished);
            assert_eq!(pollster::block_on(task).unwrap(), reference);
        }
        assert_eq!(pollster::block_on(blocking).unwrap(), 42);
    });
}

#[test]
fn what_outlasts_the_grace_period_is_cancelled_and_its_partial_estimate_kept() {
    watchdog(|| {
        let executor = Executor::builder()
            .threads(2)
            .name("qpgrace")
            .build()
            .unwrap();
        let tasks: Vec<_> = (0..2).map(|_| endless().spawn_on(&executor)).collect();
        let started = Instant::now();
        let report = executor.shutdown(Duration::from_millis(100));
        // The grace period, then at most a check interval of each chunk.
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!((report.finished, report.cancelled), (0, 2));
        #[cfg(target_os = "linux")]
        assert_eq!(common::threads_named("qpgrace-"), 0, "workers joined");
        for task in tasks {
            assert_eq!(task.status(), Status::Cancelled);
            assert!(
                task.progress().estimate.is_some(),
                "what was merged is kept"
            );
            assert!(matches!(pollster::block_on(task), Err(Error::Cancelled)));
        }
    });
}

#[test]
fn a_run_driven_elsewhere_ends_cancelled_when_its_executor_shuts_down() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let run = endless().run_on(&executor);
        let driver = std::thread::spawn(move || pollster::block_on(run));
        std::thread::sleep(Duration::from_millis(20));
        executor.shutdown(Duration::from_millis(10));
        assert!(matches!(driver.join().unwrap(), Err(Error::Cancelled)));
    });
}

#[test]
fn dropping_is_a_shutdown_without_grace() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let task = endless().spawn_on(&executor);
        std::thread::sleep(Duration::from_millis(20));
        let started = Instant::now();
        drop(executor);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(task.status(), Status::Cancelled);
        assert!(matches!(pollster::block_on(task), Err(Error::Cancelled)));
    });
}
