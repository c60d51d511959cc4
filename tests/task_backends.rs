//! One body, every backend: an integral spawned with `spawn_on` gives the
//! same `Task` whether it runs on the bundled pool, a smol executor on one
//! thread or many, async-std, a `futures` thread pool, or inline under
//! pollster and `LocalPool`: status, progress, the partial estimate, the
//! checkpoint and cancel work alike, and the bits are the same.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::thread;

use common::{eventually, watchdog};
use quadpipe::{
    CancelHandle, Error, Estimate, Executor, Inline, Integral, Scalar, Spawner, Status, Stop,
};

type Run = Pin<Box<dyn Future<Output = Result<Estimate, Error>> + Send>>;

type Spec = Integral<Scalar<fn(f64) -> f64>>;

/// Samples per chunk: small, so that a cancel finds many chunks merged.
const CHUNK: u64 = 1 << 14;

/// A run that finishes: 64 chunks.
fn finite() -> Spec {
    Integral::new(f64::exp as fn(f64) -> f64, 0.0..1.0)
        .samples(64 * CHUNK)
        .chunk_size(CHUNK)
        .seed(11)
}

/// The endless run's budget.
const ENDLESS: u64 = 1 << 40;

/// A run that never finishes in a test's time: it is cancelled.
fn endless() -> Spec {
    Integral::new(f64::sin as fn(f64) -> f64, 0.0..2.0)
        .samples(ENDLESS)
        .chunk_size(CHUNK)
        .seed(12)
        .id("endless")
}

fn bits(estimate: &Estimate) -> (u64, u64, u64) {
    (
        estimate.value.to_bits(),
        estimate.std_error.to_bits(),
        estimate.samples,
    )
}

/// Cancels through `handle`, from another thread, once `past` samples are
/// merged: as a signal handler or a timeout would, while the task itself
/// is being awaited.
fn cancel_after(handle: &CancelHandle, past: u64) -> thread::JoinHandle<()> {
    let handle = handle.clone();
    thread::spawn(move || {
        assert!(eventually(|| handle.progress().done > past));
        handle.cancel();
    })
}

/// Cancels `spec`'s task on `spawner` once it has merged more than `past`
/// samples, awaiting it through `drive`, and checks what a cancelled task
/// keeps: its status, the partial estimate (the bits of a finished run of
/// the chunks it merged), and a checkpoint at least that far.
fn cancelled(
    backend: &str,
    spec: &Spec,
    drive: &impl Fn(Run) -> Result<Estimate, Error>,
    spawner: &Spawner,
    past: u64,
) -> quadpipe::Checkpoint {
    let task = spec.spawn_on(spawner);
    // The total is known from the start; an endless run cannot have ended
    // before these looks, however many threads run it.
    assert_eq!(task.progress().total, Some(ENDLESS), "{backend}");
    assert!(!task.status().is_terminal(), "{backend}");
    let handle = task.cancel_handle();
    let canceller = cancel_after(&handle, past);
    let outcome = drive(Box::pin(task));
    canceller.join().unwrap();
    assert!(
        matches!(outcome, Err(Error::Cancelled)),
        "{backend}: {outcome:?}"
    );
    assert_eq!(handle.status(), Status::Cancelled, "{backend}");
    assert!(handle.is_finished(), "{backend}");

    let partial = handle.progress().estimate.expect("chunks were merged");
    assert_eq!(partial.stop, Stop::Partial, "{backend}");
    assert!(
        partial.samples > past && partial.samples % CHUNK == 0,
        "{backend}"
    );
    // The merged prefix is a finished run of fewer samples, to the bit.
    let prefix = pollster::block_on(endless().samples(partial.samples).run_inline()).unwrap();
    assert_eq!(bits(&partial), bits(&prefix), "{backend}: partial estimate");

    let checkpoint = handle.checkpoint().expect("chunks were merged");
    assert!(checkpoint.samples_done() >= partial.samples, "{backend}");
    checkpoint
}

/// The test body: a run to the end, a cancelled run, and that run resumed
/// from its checkpoint and cancelled again, all with the task on
/// `spawner` and awaited through `drive`.
fn check(backend: &str, drive: impl Fn(Run) -> Result<Estimate, Error>, spawner: Spawner) {
    let integral = finite();
    let reference = pollster::block_on(integral.run_inline()).unwrap();

    let task = integral.spawn_on(&spawner);
    // The total is known from the start. (That the task has not ended yet
    // is checked on the endless run: on many threads this one may have.)
    assert_eq!(task.progress().total, Some(64 * CHUNK), "{backend}");
    let handle = task.cancel_handle();
    let estimate = drive(Box::pin(task)).unwrap();
    assert_eq!(bits(&estimate), bits(&reference), "{backend}: estimate");
    assert_eq!(handle.status(), Status::Finished, "{backend}");
    let progress = handle.progress();
    assert_eq!(progress.done, 64 * CHUNK, "{backend}");
    assert_eq!(progress.estimate, Some(estimate), "{backend}");
    let checkpoint = handle.checkpoint().unwrap();
    assert_eq!(checkpoint.samples_done(), 64 * CHUNK, "{backend}");
    // A cancel after the end changes nothing.
    handle.cancel();
    assert_eq!(handle.status(), Status::Finished, "{backend}");

    let first = cancelled(backend, &endless(), &drive, &spawner, 0);
    // Resumed from its checkpoint, the run goes on from there, with the
    // bits of a run never stopped (`cancelled` checks the prefix).
    let resumed = endless().resume(&first);
    cancelled(backend, &resumed, &drive, &spawner, first.samples_done());
}

fn bundled() -> &'static Executor {
    static BUNDLED: OnceLock<Executor> = OnceLock::new();
    BUNDLED.get_or_init(|| {
        Executor::builder()
            .threads(2)
            .name("backends")
            .build()
            .unwrap()
    })
}

#[test]
fn bundled_pool() {
    watchdog(|| check("bundled pool", pollster::block_on, Spawner::from(bundled())));
}

#[test]
fn pollster_inline() {
    watchdog(|| {
        check(
            "pollster, inline",
            pollster::block_on,
            Spawner::from(Inline),
        )
    });
}

#[test]
fn local_pool_inline() {
    watchdog(|| {
        let drive = |run| futures::executor::LocalPool::new().run_until(run);
        check("LocalPool, inline", drive, Spawner::from(Inline));
    });
}

#[test]
fn futures_thread_pool() {
    watchdog(|| {
        let pool = futures::executor::ThreadPool::builder()
            .pool_size(2)
            .create()
            .unwrap();
        check(
            "futures ThreadPool",
            futures::executor::block_on,
            Spawner::from(&pool),
        );
    });
}

#[test]
fn smol_one_thread() {
    watchdog(|| {
        // The task and its chunks are tasks of an executor that only this
        // thread drives, while it awaits the task.
        let executor = Arc::new(smol::Executor::new());
        let drive = |run| smol::block_on(executor.run(run));
        check("smol on one thread", drive, Spawner::from(&executor));
        // Nothing of the runs is left behind on the executor.
        assert!(executor.is_empty());
    });
}

#[test]
fn smol_many_threads() {
    watchdog(|| {
        common::on_smol_threads(2, |executor| {
            check("smol on 2 threads", smol::block_on, Spawner::from(executor))
        });
    });
}

#[test]
fn async_std() {
    watchdog(|| {
        let spawner = Spawner::from_fn(|job| {
            async_std::task::spawn(job);
        });
        check("async-std", async_std::task::block_on, spawner);
    });
}

#[test]
fn a_spawned_future_is_a_task_on_every_backend() {
    watchdog(|| {
        let pool = futures::executor::ThreadPool::new().unwrap();
        let smol = Arc::new(smol::Executor::new());
        for spawner in [
            Spawner::from(bundled()),
            Spawner::from(&pool),
            Spawner::from(&smol),
            Spawner::from(Inline),
        ] {
            let task = spawner.spawn(async { 6 * 7 });
            let handle = task.cancel_handle();
            assert_eq!(smol::block_on(smol.run(task)).unwrap(), 42, "{spawner:?}");
            assert_eq!(handle.status(), Status::Finished, "{spawner:?}");

            let task = spawner.spawn(async { panic!("out of cheese") });
            let outcome = smol::block_on(smol.run(task));
            assert!(
                matches!(outcome, Err(Error::Panicked(ref message)) if message == "out of cheese"),
                "{spawner:?}: {outcome:?}"
            );

            let task = spawner.spawn(futures::future::pending::<()>());
            task.cancel_handle().cancel();
            let outcome = smol::block_on(smol.run(task));
            assert!(matches!(outcome, Err(Error::Cancelled)), "{spawner:?}");
        }
    });
}

#[test]
fn an_inline_task_runs_only_while_awaited() {
    watchdog(|| {
        let task = finite().spawn_on(Inline);
        let handle = task.cancel_handle();
        thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(handle.status(), Status::Pending);
        assert_eq!(handle.progress().done, 0);
        // Detached, it can never run: it ends as cancelled, and says so to
        // its callbacks.
        let (done, outcome) = std::sync::mpsc::channel();
        task.on_done(move |result| done.send(result.is_err()).unwrap());
        task.detach();
        assert_eq!(handle.status(), Status::Cancelled);
        assert!(outcome.recv().unwrap());
    });
}
