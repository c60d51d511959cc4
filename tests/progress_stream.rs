//! Progress as a stream, progress hooks and done callbacks: they report
//! faithfully, and the pipeline never waits for them.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use common::{eventually, watchdog};
use futures::StreamExt;
use quadpipe::{Error, Estimate, Executor, Integral, Integrand, Progress, Status};

const SAMPLES: u64 = 1 << 22;
const CHUNK: u64 = 1 << 14;

fn integral() -> Integral<impl Integrand> {
    Integral::new(f64::sin, 0.0..1.0)
        .samples(SAMPLES)
        .chunk_size(CHUNK)
        .seed(3)
}

/// A stream of snapshots being collected, for a runtime to drive.
type Collecting = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Progress>> + Send>>;

/// A runtime's way to drive a future to completion on this thread.
type Driver = fn(Collecting) -> Vec<Progress>;

fn assert_faithful(snapshots: &[Progress], estimate: Estimate) {
    assert!(!snapshots.is_empty());
    for pair in snapshots.windows(2) {
        assert!(
            pair[0].done < pair[1].done,
            "no repeats, no going back: {pair:?}"
        );
    }
    let last = snapshots.last().unwrap();
    assert_eq!(last.done, SAMPLES);
    assert_eq!(last.estimate, Some(estimate));
}

#[test]
fn a_stream_follows_the_task_to_its_end_from_any_runtime() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let reference = pollster::block_on(integral().run_inline()).unwrap();
        let drivers: [(&str, Driver); 4] = [
            ("pollster", |s| pollster::block_on(s)),
            ("futures", |s| futures::executor::block_on(s)),
            ("smol", |s| smol::block_on(s)),
            ("async-std", |s| async_std::task::block_on(s)),
        ];
        for (name, drive) in drivers {
            let mut task = integral().spawn_on(&executor);
            let snapshots = drive(Box::pin(task.progress_stream().collect::<Vec<_>>()));
            let estimate = executor.block_on(&mut task).unwrap();
            assert_eq!(estimate, reference, "{name}");
            assert_faithful(&snapshots, estimate);
        }
    });
}

#[test]
fn a_slow_consumer_sees_the_latest_and_never_holds_the_task_up() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let mut task = integral().spawn_on(&executor);
        let mut stream = task.progress_stream();
        let first = pollster::block_on(stream.next()).unwrap();
        // Consume nothing more until the task is over: it must finish on its
        // own, without anyone reading its progress.
        executor.block_on(&mut task).unwrap();
        let rest: Vec<Progress> = pollster::block_on(stream.collect());
        // Everything in between coalesced into the final snapshot.
        assert_eq!(rest.len(), 1, "{rest:?}");
        assert_eq!(rest[0].done, SAMPLES);
        assert!(first.done < SAMPLES);
    });
}

#[test]
fn several_streams_watch_one_task() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let mut task = integral().spawn_on(&executor);
        let streams: Vec<_> = (0..3).map(|_| task.progress_stream()).collect();
        let watchers: Vec<_> = streams
            .into_iter()
            .map(|stream| {
                std::thread::spawn(move || pollster::block_on(stream.collect::<Vec<_>>()))
            })
            .collect();
        let estimate = executor.block_on(&mut task).unwrap();
        for watcher in watchers {
            assert_faithful(&watcher.join().unwrap(), estimate.clone());
        }
    });
}

#[test]
fn a_stream_ends_when_its_task_is_cancelled() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let task = Integral::new(|x| x, 0.0..1.0)
            .samples(1 << 50)
            .spawn_on(&executor);
        let stream = task.progress_stream();
        let watcher = std::thread::spawn(move || pollster::block_on(stream.collect::<Vec<_>>()));
        assert!(eventually(|| task.progress().done > 0));
        task.cancel();
        let snapshots = watcher.join().unwrap();
        assert!(snapshots.iter().all(|p| p.total == Some(1 << 50)));
    });
}

#[test]
fn a_plain_task_streams_one_empty_snapshot() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let task = executor.spawn(async { 1 });
        let snapshots: Vec<Progress> = pollster::block_on(task.progress_stream().collect());
        assert_eq!(snapshots, [Progress::default()]);
    });
}

#[test]
fn a_blocked_hook_never_holds_the_task_up() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let (gate, blocked) = mpsc::channel::<()>();
        let blocked = Mutex::new(blocked);
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        let mut task = integral().spawn_on(&executor);
        task.on_progress(move |progress| {
            log.lock().unwrap().push(progress.done);
            // The first call blocks until the task has ended.
            if log.lock().unwrap().len() == 1 {
                blocked.lock().unwrap().recv().unwrap();
            }
        });
        let estimate = executor.block_on(&mut task).unwrap();
        assert_eq!(
            calls.lock().unwrap().len(),
            1,
            "the hook is still in its first call"
        );
        gate.send(()).unwrap();
        // Released, the hook gets the final snapshot, the rest coalesced.
        assert!(eventually(|| calls.lock().unwrap().last() == Some(&SAMPLES)));
        assert!(calls.lock().unwrap().len() <= 3);
        assert_eq!(task.progress().estimate, Some(estimate));
    });
}

#[test]
fn a_panicking_hook_does_not_break_the_integration() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let reference = pollster::block_on(integral().run_inline()).unwrap();
        let calls = Arc::new(Mutex::new(0));
        let count = calls.clone();
        let task = integral().spawn_on(&executor);
        task.on_progress(move |_| {
            *count.lock().unwrap() += 1;
            panic!("hook failed");
        });
        assert_eq!(executor.block_on(task).unwrap(), reference);
        // Not called again after its panic.
        assert_eq!(*calls.lock().unwrap(), 1);
    });
}

#[test]
fn done_callbacks_get_the_result() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let (sender, results) = mpsc::channel();
        let mut task = integral().spawn_on(&executor);
        for id in 0..3 {
            let sender = sender.clone();
            task.on_done(move |result| {
                if id == 1 {
                    panic!("a callback failed");
                }
                sender.send((id, result.unwrap())).unwrap();
            });
        }
        let estimate = executor.block_on(&mut task).unwrap();
        let mut got: Vec<(i32, Estimate)> = results.iter().take(2).collect();
        got.sort_by_key(|(id, _)| *id);
        assert_eq!(got, [(0, estimate.clone()), (2, estimate)]);
    });
}

#[test]
fn done_callbacks_see_cancels_errors_and_past_results() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let (sender, results) = mpsc::channel();

        let endless = Integral::new(|x| x, 0.0..1.0)
            .samples(1 << 50)
            .spawn_on(&executor);
        let to = sender.clone();
        endless.on_done(move |result| to.send(result.map(|_| ())).unwrap());
        endless.cancel();
        assert!(matches!(results.recv().unwrap(), Err(Error::Cancelled)));

        let failing = Integral::new(|x| x, 0.0..1.0)
            .samples(0)
            .spawn_on(&executor);
        let to = sender.clone();
        failing.on_done(move |result| to.send(result.map(|_| ())).unwrap());
        assert!(matches!(results.recv().unwrap(), Err(Error::ZeroSamples)));
        assert_eq!(failing.status(), Status::Failed);

        // Registered after the task ended, it runs at once, on this thread.
        let done = executor.spawn(async { 8 });
        assert!(eventually(|| done.is_finished()));
        let ran = Arc::new(Mutex::new(None));
        let record = ran.clone();
        done.on_done(move |result| {
            *record.lock().unwrap() = Some((result.unwrap(), std::thread::current().id()));
        });
        assert_eq!(*ran.lock().unwrap(), Some((8, std::thread::current().id())));
        assert_eq!(executor.block_on(done).unwrap(), 8);
    });
}
