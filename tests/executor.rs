//! The bundled executor: worker names, block_on refusing to deadlock,
//! shutdown on drop, and blocking work on threads of its own.

mod common;

use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use common::watchdog;
use quadpipe::{Error, Executor, Integral, Status};

fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_owned()
}

#[test]
fn workers_are_named() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let name = executor.block_on(executor.spawn(async { thread_name() }));
        assert_eq!(name.unwrap(), "quadpipe-worker-0");
    });
}

#[test]
fn block_on_from_a_worker_panics_instead_of_deadlocking() {
    watchdog(|| {
        let executor = Arc::new(Executor::builder().threads(1).build().unwrap());
        let inner = executor.clone();
        let task = executor.spawn(async move { inner.block_on(async { 1 }) });
        match executor.block_on(task) {
            Err(Error::Panicked(message)) => {
                assert!(message.contains("own worker threads"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // The worker lives on.
        assert_eq!(executor.block_on(executor.spawn(async { 2 })).unwrap(), 2);
    });
}

#[test]
fn block_on_from_another_executors_worker_is_fine() {
    watchdog(|| {
        let outer = Executor::builder().threads(1).build().unwrap();
        let inner = Arc::new(Executor::builder().threads(1).build().unwrap());
        let nested = inner.clone();
        let task = outer.spawn(async move { nested.block_on(nested.spawn(async { 5 })) });
        assert_eq!(outer.block_on(task).unwrap().unwrap(), 5);
    });
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_an_executor_with_tasks_in_flight_cancels_them_and_joins_its_threads() {
    watchdog(|| {
        let executor = Executor::builder()
            .threads(2)
            .name("qpdrop")
            .build()
            .unwrap();
        let endless = Integral::new(|x| x, 0.0..1.0).samples(1 << 50);
        let integrals: Vec<_> = (0..3).map(|_| endless.spawn_on(&executor)).collect();
        let pending = executor.spawn(futures::future::pending::<()>());
        endless.spawn_on(&executor).detach();
        assert!(common::eventually(|| integrals
            .iter()
            .all(|t| t.progress().done > 0)));
        let workers = || {
            ["qpdrop-0", "qpdrop-1"]
                .map(common::threads_named)
                .iter()
                .sum::<usize>()
        };
        assert_eq!(workers(), 2);

        drop(executor);

        // Joined: the workers are gone by the time drop returns.
        assert_eq!(workers(), 0);
        for task in integrals {
            assert_eq!(task.status(), Status::Cancelled);
            assert!(matches!(pollster::block_on(task), Err(Error::Cancelled)));
        }
        assert!(matches!(pollster::block_on(pending), Err(Error::Cancelled)));
    });
}

#[test]
fn a_run_on_a_dropped_executor_is_cancelled() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let run = Integral::new(|x| x, 0.0..1.0)
            .samples(1 << 40)
            .run_on(&executor);
        let waiting = thread::spawn(move || pollster::block_on(run));
        thread::sleep(std::time::Duration::from_millis(20));
        drop(executor);
        assert!(matches!(waiting.join().unwrap(), Err(Error::Cancelled)));
    });
}

#[test]
fn dropping_an_executor_on_its_own_worker_does_not_deadlock() {
    watchdog(|| {
        let slot = Arc::new(Mutex::new(Some(
            Executor::builder().threads(2).build().unwrap(),
        )));
        let guard = slot.lock().unwrap();
        let executor = guard.as_ref().unwrap();
        let inside = slot.clone();
        let (done, finished) = std::sync::mpsc::channel();
        executor
            .spawn(async move {
                let executor = inside.lock().unwrap().take();
                drop(executor);
                done.send(thread_name()).unwrap();
            })
            .detach();
        drop(guard);
        assert!(finished.recv().unwrap().starts_with("quadpipe-worker-"));
    });
}

#[test]
fn unblock_runs_on_threads_of_its_own_and_never_starves_the_workers() {
    watchdog(|| {
        const CLOSURES: usize = 3;
        let executor = Executor::builder()
            .threads(1)
            .name("qpunblock")
            .build()
            .unwrap();
        // Every closure blocks until all have started and this thread joins
        // them: that needs a thread for each, none of them the worker.
        let barrier = Arc::new(Barrier::new(CLOSURES + 1));
        let tasks: Vec<_> = (0..CLOSURES)
            .map(|_| {
                let barrier = barrier.clone();
                executor.unblock(move || {
                    barrier.wait();
                    thread_name()
                })
            })
            .collect();
        // Meanwhile the only worker still runs tasks.
        assert_eq!(executor.block_on(executor.spawn(async { 9 })).unwrap(), 9);
        barrier.wait();
        for task in tasks {
            assert_eq!(executor.block_on(task).unwrap(), "qpunblock-blocking");
        }
    });
}

#[test]
fn unblock_reports_panics() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let mut task = executor.unblock(|| -> u8 { panic!("blocking work failed") });
        match executor.block_on(&mut task) {
            Err(Error::Panicked(message)) => assert_eq!(message, "blocking work failed"),
            other => panic!("expected a panic, got {other:?}"),
        }
        assert_eq!(task.status(), Status::Failed);
    });
}

#[test]
fn the_default_executor_runs_spawned_futures() {
    watchdog(|| {
        let task = quadpipe::spawn(async { thread_name() });
        assert!(
            pollster::block_on(task)
                .unwrap()
                .starts_with("quadpipe-worker-")
        );
    });
}
