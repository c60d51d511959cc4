//! A panic fails its own task, with its message, and nothing else.

mod common;

use std::sync::{Arc, Barrier};

use common::watchdog;
use quadpipe::{Error, Executor, Integral, Integrand, Status};

const THREADS: usize = 2;

fn panicking_integral() -> Integral<impl Integrand> {
    Integral::new(
        |x| {
            if x > 0.75 {
                panic!("integrand exploded at {x}");
            }
            x
        },
        0.0..1.0,
    )
    .samples(1 << 20)
    .chunk_size(1 << 14)
}

fn assert_panicked_with(result: Result<impl std::fmt::Debug, Error>, prefix: &str) {
    match result {
        Err(Error::Panicked(message)) => assert!(message.starts_with(prefix), "{message}"),
        other => panic!("expected a panic starting {prefix:?}, got {other:?}"),
    }
}

/// Blocks every worker at once: it finishes only if all `THREADS` workers
/// are alive to take one task each.
fn every_worker_answers(executor: &Executor) -> Vec<String> {
    let barrier = Arc::new(Barrier::new(THREADS));
    let tasks: Vec<_> = (0..THREADS)
        .map(|_| {
            let barrier = barrier.clone();
            executor.spawn(async move {
                barrier.wait();
                std::thread::current().name().unwrap().to_owned()
            })
        })
        .collect();
    let mut names: Vec<String> = tasks
        .into_iter()
        .map(|task| executor.block_on(task).unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_panicking_integrand_fails_its_task_with_the_message() {
    watchdog(|| {
        let executor = Executor::builder().threads(THREADS).build().unwrap();
        let mut task = panicking_integral().spawn_on(&executor);
        match executor.block_on(&mut task) {
            Err(Error::Panicked(message)) => {
                let x: f64 = message
                    .strip_prefix("integrand exploded at ")
                    .and_then(|x| x.parse().ok())
                    .unwrap_or_else(|| panic!("unexpected message {message:?}"));
                assert!(x > 0.75 && x < 1.0);
            }
            other => panic!("expected a panic, got {other:?}"),
        }
        assert_eq!(task.status(), Status::Failed);
    });
}

#[test]
fn the_same_panic_whichever_way_it_runs() {
    watchdog(|| {
        let executor = Executor::builder().threads(THREADS).build().unwrap();
        let inline = pollster::block_on(panicking_integral().run_inline()).unwrap_err();
        let pooled = pollster::block_on(panicking_integral().run_on(&executor)).unwrap_err();
        // Chunks merge in order, so the first failing chunk in chunk order
        // is the one reported: the same point, to the bit.
        assert_eq!(inline.to_string(), pooled.to_string());
    });
}

#[test]
fn workers_survive_panics() {
    watchdog(|| {
        let executor = Executor::builder()
            .threads(THREADS)
            .name("survivor")
            .build()
            .unwrap();
        for round in 0..10 {
            let plain = executor.spawn(async move { panic!("plain task {round}") });
            assert_panicked_with(executor.block_on(plain), "plain task");
            let integral = panicking_integral().spawn_on(&executor);
            assert_panicked_with(executor.block_on(integral), "integrand exploded");
        }
        assert_eq!(
            every_worker_answers(&executor),
            ["survivor-0", "survivor-1"]
        );
        #[cfg(target_os = "linux")]
        assert_eq!(common::threads_named("survivor-"), THREADS);
    });
}

#[test]
fn panics_with_a_non_string_payload_are_reported_too() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let task = executor.spawn(async { std::panic::panic_any(42_u8) });
        assert_panicked_with(executor.block_on(task), "panic payload is not a string");
    });
}
