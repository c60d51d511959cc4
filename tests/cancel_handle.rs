//! A task's `CancelHandle`: cheap, `Clone + Send + Sync`, usable after the
//! task was moved into an await, by another task or thread; every clone
//! reads the same status and progress, and the result goes to whoever
//! awaits the task.

mod common;

use std::sync::Arc;

use common::watchdog;
use futures::StreamExt;
use quadpipe::{CancelHandle, Error, Integral, Spawner, Status};

#[test]
fn the_handle_is_cheap_to_clone_and_shares_across_threads() {
    fn clone_send_sync<T: Clone + Send + Sync + 'static>() {}
    clone_send_sync::<CancelHandle>();
    // One reference count: no bigger than a pointer.
    assert_eq!(size_of::<CancelHandle>(), size_of::<usize>());
}

#[test]
fn another_task_cancels_a_task_that_a_third_awaits() {
    watchdog(|| {
        let executor = Arc::new(smol::Executor::new());
        let endless = Integral::new(f64::cos, 0.0..1.0)
            .samples(u64::MAX)
            .chunk_size(1 << 14);
        let task = endless.spawn_on(&executor);
        let handle = task.cancel_handle();

        // The awaiting task gets the result.
        let awaiter = executor.spawn(task);
        // Another task watches the progress through its own clone and
        // cancels once work is done.
        let watcher = handle.clone();
        let canceller = executor.spawn(async move {
            let mut progress = watcher.progress_stream();
            while let Some(snapshot) = progress.next().await {
                if snapshot.done > 0 {
                    watcher.cancel();
                }
            }
            watcher.progress()
        });
        let (outcome, last) =
            smol::block_on(executor.run(async { (awaiter.await, canceller.await) }));
        assert!(matches!(outcome, Err(Error::Cancelled)));
        // Every clone sees the same end and the same last snapshot.
        assert_eq!(handle.status(), Status::Cancelled);
        assert_eq!(handle.progress(), last);
        assert!(last.estimate.is_some_and(|partial| partial.samples > 0));
    });
}

#[test]
fn the_handle_outlives_the_task_and_its_executor() {
    watchdog(|| {
        let pool = futures::executor::ThreadPool::new().unwrap();
        let integral = Integral::new(f64::sqrt, 0.0..1.0).samples(1 << 18);
        let task = integral.spawn_on(Spawner::from(&pool));
        let handle = task.cancel_handle();
        let estimate = pollster::block_on(task).unwrap();
        drop(pool);
        assert_eq!(handle.status(), Status::Finished);
        assert_eq!(handle.progress().estimate, Some(estimate));
        assert_eq!(handle.checkpoint().unwrap().samples_done(), 1 << 18);
        handle.cancel();
        assert_eq!(handle.status(), Status::Finished);
    });
}
