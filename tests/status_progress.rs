//! A task's status moves pending → running → finished (or cancelled), and its
//! progress only grows, ending at the total.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{eventually, watchdog};
use quadpipe::{Error, Executor, Integral, Progress, Status, Stop};

/// Occupies the only worker of `executor` until the returned closure is
/// called, so that tasks spawned meanwhile cannot start.
fn occupy_the_only_worker(executor: &Executor) -> impl FnOnce() + '_ {
    assert_eq!(executor.threads(), 1);
    let (release, blocked) = mpsc::channel::<()>();
    let blocker = executor.spawn(async move { blocked.recv().unwrap() });
    move || {
        release.send(()).unwrap();
        executor.block_on(blocker).unwrap();
    }
}

#[test]
fn a_task_goes_pending_running_finished() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let release = occupy_the_only_worker(&executor);

        // The integrand waits at a gate, so the task stays running.
        let gate = Arc::new(AtomicBool::new(false));
        let opened = gate.clone();
        let integrand = move |x: f64| {
            while !opened.load(Ordering::Acquire) {
                thread::yield_now();
            }
            x
        };
        let mut task = Integral::new(integrand, 0.0..1.0)
            .samples(1 << 16)
            .chunk_size(1 << 12)
            .spawn_on(&executor);

        thread::sleep(Duration::from_millis(20));
        assert_eq!(task.status(), Status::Pending);
        assert!(!task.is_finished());

        release();
        assert!(eventually(|| task.status() == Status::Running));
        assert!(!task.is_finished());

        gate.store(true, Ordering::Release);
        let estimate = executor.block_on(&mut task).unwrap();
        assert_eq!(task.status(), Status::Finished);
        assert!(task.is_finished());
        assert_eq!(estimate.samples, 1 << 16);
    });
}

#[test]
fn progress_is_monotonic_and_ends_at_the_total() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let (samples, chunk) = (1 << 22, 1 << 14);
        let mut task = Integral::new(f64::sin, 0.0..1.0)
            .samples(samples)
            .chunk_size(chunk)
            .spawn_on(&executor);

        let mut seen: Vec<Progress> = Vec::new();
        while !task.is_finished() {
            let now = task.progress();
            if seen.last() != Some(&now) {
                seen.push(now);
            }
        }
        let estimate = executor.block_on(&mut task).unwrap();
        let last = task.progress();
        seen.push(last.clone());

        // Enough snapshots that the checks below mean something.
        assert!(seen.len() > 3, "only {} distinct snapshots", seen.len());
        for pair in seen.windows(2) {
            assert!(pair[0].done <= pair[1].done, "{pair:?}");
        }
        for snapshot in &seen {
            assert_eq!(snapshot.total, Some(samples));
            assert!(snapshot.done % chunk == 0 || snapshot.done == samples);
            if let Some(partial) = snapshot
                .estimate
                .as_ref()
                .filter(|_| snapshot.done < samples)
            {
                assert_eq!(partial.stop, Stop::Partial);
                assert_eq!(partial.samples, snapshot.done);
            }
        }
        assert_eq!(last.done, samples);
        assert_eq!(last.fraction(), Some(1.0));
        assert_eq!(last.estimate, Some(estimate.clone()));
        assert_eq!(estimate.stop, Stop::SampleBudget);
    });
}

#[test]
fn a_cancelled_task_reports_cancelled_and_keeps_its_partial_estimate() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let (samples, chunk) = (1 << 40, 1 << 14);
        let mut task = Integral::new(|x| x * x, 0.0..1.0)
            .samples(samples)
            .chunk_size(chunk)
            .spawn_on(&executor);
        assert!(eventually(|| task.progress().done >= 4 * chunk));

        task.cancel();
        assert_eq!(task.status(), Status::Cancelled);
        assert!(task.is_finished());
        assert!(matches!(
            executor.block_on(&mut task),
            Err(Error::Cancelled)
        ));
        assert_eq!(task.status(), Status::Cancelled);

        let kept = task.progress();
        let partial = kept.estimate.expect("the merged prefix's estimate is kept");
        assert!(kept.done >= 4 * chunk && kept.done < samples);
        assert_eq!(partial.samples, kept.done);
        assert_eq!(partial.stop, Stop::Partial);
        // The prefix is a fair estimate of 1/3 in its own right.
        assert!((partial.value - 1.0 / 3.0).abs() < 5.0 * partial.std_error);
    });
}

#[test]
fn a_task_cancelled_before_it_starts_never_runs() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let release = occupy_the_only_worker(&executor);
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let task = executor.spawn(async move { flag.store(true, Ordering::SeqCst) });
        task.cancel();
        assert_eq!(task.status(), Status::Cancelled);
        release();
        assert!(matches!(executor.block_on(task), Err(Error::Cancelled)));
        assert!(!ran.load(Ordering::SeqCst));
    });
}

#[test]
fn plain_futures_report_no_progress() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let mut task = executor.spawn(async { 3 });
        assert_eq!(executor.block_on(&mut task).unwrap(), 3);
        assert_eq!(task.progress(), Progress::default());
        assert_eq!(task.progress().fraction(), None);
    });
}

#[test]
fn status_display_is_lowercase() {
    let names: Vec<String> = [
        Status::Pending,
        Status::Running,
        Status::Finished,
        Status::Cancelled,
        Status::Failed,
    ]
    .iter()
    .map(Status::to_string)
    .collect();
    assert_eq!(
        names,
        ["pending", "running", "finished", "cancelled", "failed"]
    );
}
