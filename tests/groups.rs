//! Task groups: cancel-all, fail-fast, keep-going, nesting, bounded
//! concurrency, roll-up progress, and groups awaited from smol and pollster.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use common::{DropGuard, eventually, watchdog};
use quadpipe::{Error, Estimate, Executor, Integral, Integrand, Status, TaskGroup};

const THREADS: usize = 2;

fn executor() -> Arc<Executor> {
    Arc::new(Executor::builder().threads(THREADS).build().unwrap())
}

/// An integral far too long to finish, whose integrand holds a drop guard.
fn endless(live: &Arc<AtomicUsize>) -> Integral<impl Integrand> {
    let guard = DropGuard::new(live);
    Integral::new(
        move |x| {
            let _holds = &guard;
            x
        },
        0.0..1.0,
    )
    .samples(1 << 50)
    .chunk_size(1 << 14)
}

/// The k-th member of a small sweep: ∫₀¹ xᵏ dx, a few chunks long.
fn power(k: i32) -> Integral<impl Integrand> {
    Integral::new(move |x: f64| x.powi(k), 0.0..1.0)
        .samples(1 << 16)
        .chunk_size(1 << 13)
        .seed(k as u64)
}

/// An integral that fails with `Error::NonFiniteValue` at its first chunk.
fn failing() -> Integral<impl Integrand> {
    Integral::new(|x: f64| if x > 0.5 { f64::NAN } else { x }, 0.0..1.0).samples(1 << 16)
}

#[test]
fn cancel_cancels_every_child_and_the_waiting_never_start() {
    watchdog(|| {
        let executor = executor();
        let live = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let group = TaskGroup::new().limit(3);
        for _ in 0..10 {
            let (executor, live, started) = (executor.clone(), live.clone(), started.clone());
            group.spawn(move || {
                started.fetch_add(1, Ordering::SeqCst);
                endless(&live).spawn_on(&executor)
            });
        }
        assert!(eventually(|| group.progress().done > 0));
        let handle = group.handle();
        handle.cancel();
        assert_eq!(group.status(), Status::Cancelled);
        assert!(matches!(pollster::block_on(group), Err(Error::Cancelled)));

        // Every child ended cancelled; only the three running had started.
        let progress = handle.progress();
        assert_eq!(progress.cancelled, 10);
        assert_eq!((progress.finished, progress.failed), (0, 0));
        assert_eq!((progress.running, progress.pending), (0, 0));
        assert_eq!(started.load(Ordering::SeqCst), 3);
        for index in 0..10 {
            assert_eq!(handle.child(index).unwrap().status, Status::Cancelled);
        }
        // The cancelled children keep the work they did.
        assert!(progress.done > 0 && progress.done <= progress.total);
        // No integrand outlives the cancel.
        assert!(eventually(|| live.load(Ordering::SeqCst) == 0));
    });
}

#[test]
fn dropping_the_group_cancels_its_children() {
    watchdog(|| {
        let executor = executor();
        let live = Arc::new(AtomicUsize::new(0));
        let group = TaskGroup::new();
        for _ in 0..4 {
            let (executor, live) = (executor.clone(), live.clone());
            group.spawn(move || endless(&live).spawn_on(&executor));
        }
        let handle = group.handle();
        drop(group);
        assert_eq!(handle.status(), Status::Cancelled);
        assert!(eventually(|| handle.progress().cancelled == 4));
        assert!(eventually(|| live.load(Ordering::SeqCst) == 0));
    });
}

#[test]
fn first_failure_cancels_the_siblings_and_fails_the_group() {
    watchdog(|| {
        let executor = executor();
        let live = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let group = TaskGroup::new().limit(3);
        for index in 0..20 {
            let (executor, live, started) = (executor.clone(), live.clone(), started.clone());
            group.spawn(move || {
                started.fetch_add(1, Ordering::SeqCst);
                if index == 2 {
                    failing().spawn_on(&executor)
                } else {
                    endless(&live).spawn_on(&executor)
                }
            });
        }
        let handle = group.handle();
        let err = pollster::block_on(group).unwrap_err();
        assert!(matches!(err, Error::NonFiniteValue { .. }), "{err}");
        assert_eq!(handle.status(), Status::Failed);

        let progress = handle.progress();
        assert_eq!((progress.failed, progress.cancelled), (1, 19));
        assert_eq!(progress.finished, 0);
        assert_eq!(handle.child(2).unwrap().status, Status::Failed);
        assert_eq!(handle.child(0).unwrap().status, Status::Cancelled);
        // The failure stopped the group before a slot freed for a fourth.
        assert_eq!(started.load(Ordering::SeqCst), 3);
        assert!(eventually(|| live.load(Ordering::SeqCst) == 0));
    });
}

#[test]
fn keep_going_runs_every_child_and_returns_each_outcome() {
    watchdog(|| {
        let executor = executor();
        let build = |executor: &Arc<Executor>| {
            let group = TaskGroup::new().limit(2).keep_going();
            for k in 0..6 {
                let executor = executor.clone();
                group.spawn(move || {
                    if k == 2 {
                        failing().spawn_on(&executor)
                    } else {
                        power(k).spawn_on(&executor)
                    }
                });
            }
            group
        };

        let outcomes = pollster::block_on(build(&executor).outcomes());
        assert_eq!(outcomes.len(), 6);
        for (k, outcome) in outcomes.iter().enumerate() {
            if k == 2 {
                assert!(matches!(outcome, Err(Error::NonFiniteValue { .. })));
            } else {
                // Same bits as the integral run alone.
                let alone = pollster::block_on(power(k as i32).run_on(&*executor)).unwrap();
                assert_eq!(outcome.as_ref().unwrap(), &alone, "child {k}");
            }
        }

        // Awaited directly, the group fails with the failure, after all ran.
        let group = build(&executor);
        let handle = group.handle();
        let err = pollster::block_on(group).unwrap_err();
        assert!(matches!(err, Error::NonFiniteValue { .. }), "{err}");
        let progress = handle.progress();
        assert_eq!(
            (progress.finished, progress.failed, progress.cancelled),
            (5, 1, 0)
        );
        assert_eq!(handle.status(), Status::Failed);
    });
}

#[test]
fn a_finished_group_gives_the_values_in_spawn_order_with_the_bits_of_each_run() {
    watchdog(|| {
        let executor = executor();
        // Small children on one slot end in spawn order; many slots do not.
        let group = TaskGroup::new().limit(4);
        for k in (0..8).rev() {
            let executor = executor.clone();
            group.spawn(move || power(k).spawn_on(&executor));
        }
        let handle = group.handle();
        let values = pollster::block_on(group).unwrap();
        let alone: Vec<Estimate> = (0..8)
            .rev()
            .map(|k| pollster::block_on(power(k).run_inline()).unwrap())
            .collect();
        assert_eq!(values, alone);
        assert_eq!(handle.status(), Status::Finished);
    });
}

#[test]
fn groups_nest_and_a_failure_deep_inside_fails_the_outer_group() {
    watchdog(|| {
        let executor = executor();
        let live = Arc::new(AtomicUsize::new(0));

        // Three inner groups of three integrals each.
        let outer = TaskGroup::new().limit(2);
        for a in 0..3 {
            let executor = executor.clone();
            outer.spawn(move || {
                let inner = TaskGroup::new();
                for b in 0..3 {
                    let executor = executor.clone();
                    inner.spawn(move || power(3 * a + b).spawn_on(&executor));
                }
                inner
            });
        }
        let handle = outer.handle();
        let values = pollster::block_on(outer).unwrap();
        for (a, inner) in values.iter().enumerate() {
            for (b, estimate) in inner.iter().enumerate() {
                let alone = pollster::block_on(power(3 * a as i32 + b as i32).run_inline());
                assert_eq!(estimate, &alone.unwrap());
            }
        }
        let progress = handle.progress();
        assert_eq!(progress.finished, 3);
        assert_eq!((progress.done, progress.total), (9 << 16, 9 << 16));
        assert_eq!(handle.child(2).unwrap().progress.done, 3 << 16);

        // A failing grandchild fails its group, which fails the outer one
        // and cancels the other inner group's endless children.
        let outer = TaskGroup::new().limit(2);
        for a in 0..2 {
            let (executor, live) = (executor.clone(), live.clone());
            outer.spawn(move || {
                let inner = TaskGroup::new();
                for b in 0..2 {
                    let (executor, live) = (executor.clone(), live.clone());
                    if a == 1 && b == 1 {
                        inner.spawn(move || failing().spawn_on(&executor));
                    } else {
                        inner.spawn(move || endless(&live).spawn_on(&executor));
                    }
                }
                inner
            });
        }
        let handle = outer.handle();
        let err = pollster::block_on(outer).unwrap_err();
        assert!(matches!(err, Error::NonFiniteValue { .. }), "{err}");
        let progress = handle.progress();
        assert_eq!((progress.failed, progress.cancelled), (1, 1));
        assert_eq!(handle.child(0).unwrap().status, Status::Cancelled);
        assert_eq!(handle.child(1).unwrap().status, Status::Failed);
        assert!(eventually(|| live.load(Ordering::SeqCst) == 0));

        // Cancelling the outer group cancels the grandchildren.
        let outer = TaskGroup::new().limit(2);
        for _ in 0..2 {
            let (executor, live) = (executor.clone(), live.clone());
            outer.spawn(move || {
                let inner = TaskGroup::new();
                let live = live.clone();
                inner.spawn(move || endless(&live).spawn_on(&executor));
                inner
            });
        }
        assert!(eventually(|| outer.progress().done > 0));
        outer.cancel();
        assert!(matches!(pollster::block_on(outer), Err(Error::Cancelled)));
        assert!(eventually(|| live.load(Ordering::SeqCst) == 0));
    });
}

/// Children alive at once (started, not yet ended) and the most there were.
#[derive(Default)]
struct HighWater {
    alive: AtomicUsize,
    most: AtomicUsize,
}

impl HighWater {
    fn enter(&self) {
        let alive = self.alive.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(alive, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn a_sweep_of_ten_thousand_never_holds_more_children_than_its_limit() {
    watchdog(|| {
        const CHILDREN: usize = 10_000;
        const LIMIT: usize = 3;
        let executor = executor();
        let water = Arc::new(HighWater::default());
        // Holds every child at its first point until all are spawned, so
        // the first LIMIT children are surely alive at once.
        let gate = Arc::new(AtomicBool::new(false));
        let group = TaskGroup::new().limit(LIMIT);
        for k in 0..CHILDREN {
            let (executor, water, gate) = (executor.clone(), water.clone(), gate.clone());
            group.spawn(move || {
                water.enter();
                let integrand = move |x| {
                    while !gate.load(Ordering::Acquire) {
                        thread::yield_now();
                    }
                    x
                };
                let task = Integral::new(integrand, 0.0..1.0)
                    .samples(1000)
                    .seed(k as u64)
                    .spawn_on(&executor);
                // Registered before the group's own callback, so it runs
                // before the group frees the slot.
                task.on_done(move |_| water.leave());
                task
            });
        }
        let handle = group.handle();
        gate.store(true, Ordering::Release);
        let values = pollster::block_on(group).unwrap();
        assert_eq!(values.len(), CHILDREN);
        // The limit was reached, and never passed.
        assert_eq!(water.most.load(Ordering::SeqCst), LIMIT);
        assert_eq!(water.alive.load(Ordering::SeqCst), 0);
        let progress = handle.progress();
        assert_eq!(progress.finished, CHILDREN);
        assert_eq!(progress.done, CHILDREN as u64 * 1000);
    });
}

#[test]
fn children_that_fail_at_once_neither_recurse_nor_stall_the_group() {
    watchdog(|| {
        // A spec that fails its checks gives a task that has already ended,
        // so its end arrives while the group is still starting it.
        let group = TaskGroup::new().limit(1).keep_going();
        for _ in 0..100_000 {
            group.spawn(|| Integral::new(|x| x, 0.0..1.0).samples(0).spawn());
        }
        let outcomes = pollster::block_on(group.outcomes());
        assert_eq!(outcomes.len(), 100_000);
        let odd = outcomes
            .iter()
            .position(|o| !matches!(o, Err(Error::ZeroSamples)));
        assert_eq!(odd, None, "{:?}", odd.map(|i| &outcomes[i]));
    });
}

#[test]
fn a_panicking_start_fails_its_child_and_late_spawns_are_cancelled() {
    watchdog(|| {
        let mut group = TaskGroup::<Estimate>::new().keep_going();
        let index = group.spawn(|| -> quadpipe::Task<Estimate> { panic!("no such parameter") });
        assert_eq!(group.child(index).unwrap().status, Status::Failed);
        let err = pollster::block_on(&mut group).unwrap_err();
        assert!(matches!(err, Error::Panicked(ref m) if m == "no such parameter"));

        // The group has ended: a child added now never starts.
        let late = group.spawn(|| -> quadpipe::Task<Estimate> { unreachable!() });
        assert_eq!(group.child(late).unwrap().status, Status::Cancelled);

        // Likewise after a cancel.
        let group = TaskGroup::<Estimate>::new();
        group.cancel();
        let late = group.spawn(|| -> quadpipe::Task<Estimate> { unreachable!() });
        assert_eq!(group.child(late).unwrap().status, Status::Cancelled);
    });
}

#[test]
fn rolled_up_progress_stays_consistent_and_ends_exact() {
    watchdog(|| {
        const CHILDREN: usize = 40;
        let executor = executor();
        let group = TaskGroup::new().limit(3);
        for k in 0..CHILDREN {
            let executor = executor.clone();
            group.spawn(move || power(k as i32).spawn_on(&executor));
        }
        let handle = group.handle();
        let watcher = {
            let handle = handle.clone();
            thread::spawn(move || {
                let mut last = (0, 0);
                // At least one look, even if the group ends before this
                // thread first runs (its workers may hold both cores).
                loop {
                    let ended = handle.status().is_terminal();
                    let p = handle.progress();
                    assert!(p.done <= p.total, "{p:?}");
                    assert_eq!(p.children(), CHILDREN, "{p:?}");
                    assert!(p.running <= 3 && p.active.len() <= p.running, "{p:?}");
                    // Work done and children ended only grow.
                    assert!(
                        p.done >= last.0 && p.ended() >= last.1,
                        "{p:?} after {last:?}"
                    );
                    last = (p.done, p.ended());
                    if ended {
                        break;
                    }
                }
            })
        };
        pollster::block_on(group).unwrap();
        // The watcher's assertions, whatever it saw.
        watcher.join().unwrap();
        let p = handle.progress();
        assert_eq!(
            (p.done, p.total),
            ((CHILDREN as u64) << 16, (CHILDREN as u64) << 16)
        );
        assert_eq!((p.finished, p.failed, p.cancelled), (CHILDREN, 0, 0));
        assert_eq!((p.pending, p.running), (0, 0));
        // Each child keeps its final snapshot and estimate.
        let child = handle.child(7).unwrap();
        assert_eq!(child.progress.done, 1 << 16);
        let alone = pollster::block_on(power(7).run_inline()).unwrap();
        assert_eq!(child.progress.estimate, Some(alone));
    });
}

/// One sweep, awaited from whatever runtime: its values, in order.
fn sweep(executor: &Arc<Executor>) -> TaskGroup<Estimate> {
    let group = TaskGroup::new().limit(2);
    for k in 0..6 {
        let executor = executor.clone();
        group.spawn(move || power(k).spawn_on(&executor));
    }
    group
}

#[test]
fn a_group_is_awaited_alike_from_smol_and_pollster() {
    watchdog(|| {
        let executor = executor();
        let reference = pollster::block_on(sweep(&executor)).unwrap();

        assert_eq!(smol::block_on(sweep(&executor)).unwrap(), reference);

        // As a task of a multi-threaded smol executor.
        let smol_executor = Arc::new(smol::Executor::new());
        let results = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        thread::scope(|scope| {
            for _ in 0..2 {
                let (smol_executor, stopped) = (smol_executor.clone(), stopped.clone());
                scope.spawn(move || smol::block_on(smol_executor.run(stopped.recv())));
            }
            let tasks: Vec<_> = (0..3)
                .map(|_| smol_executor.spawn(sweep(&executor)))
                .collect();
            for task in tasks {
                results.lock().unwrap().push(smol::block_on(task).unwrap());
            }
            drop(stop);
        });
        for values in results.lock().unwrap().iter() {
            assert_eq!(values, &reference);
        }

        // Cancelled through its handle from a smol task.
        let group = sweep(&executor);
        let handle = group.handle();
        let cancel = smol_executor.spawn(async move { handle.cancel() });
        smol::block_on(smol_executor.run(cancel));
        assert!(matches!(smol::block_on(group), Err(Error::Cancelled)));
    });
}

#[test]
fn children_on_the_default_executor_count_as_well() {
    watchdog(|| {
        let calls = Arc::new(AtomicU64::new(0));
        let group = TaskGroup::new();
        for k in 0..4 {
            let calls = calls.clone();
            group.spawn(move || {
                calls.fetch_add(1, Ordering::SeqCst);
                power(k).spawn()
            });
        }
        let values = pollster::block_on(group).unwrap();
        assert_eq!(values.len(), 4);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    });
}

#[test]
fn the_sweep_example_ends_with_its_counts() {
    common::watchdog_for(std::time::Duration::from_secs(300), || {
        let output = std::process::Command::new(common::example("sweep"))
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(output.status.success(), "{stdout}");
        let lines: Vec<&str> = stdout.lines().collect();

        // Fail-fast: the child with b > a failed and the others finished
        // or were cancelled, so they add up to the grid.
        let fail_fast = lines
            .iter()
            .find(|l| l.starts_with("fail-fast: 24"))
            .unwrap();
        let counts: Vec<usize> = fail_fast
            .split([':', ','])
            .skip(2)
            .map(|part| part.split_whitespace().next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(counts.len(), 3, "{fail_fast}");
        assert_eq!(counts[1], 1, "{fail_fast}");
        assert_eq!(counts.iter().sum::<usize>(), 24, "{fail_fast}");
        assert!(
            stdout.contains("fail-fast: child 3 (a = 1, b = 1.5) failed: integrand returned NaN")
        );

        // Keep going: exactly one summary line, the last.
        assert_eq!(lines.iter().filter(|l| l.starts_with("sweep: ")).count(), 1);
        assert_eq!(
            lines.last(),
            Some(&"sweep: 24 children: 23 finished, 1 failed, 0 cancelled")
        );
    });
}

#[test]
fn a_child_whose_end_cannot_be_told_counts_as_cancelled() {
    watchdog(|| {
        let executor = executor();
        let group = TaskGroup::new();
        // The start awaits its own task: its result is taken, so the group
        // can never hear of it, and must not wait for it forever.
        group.spawn(move || {
            let mut task = executor.spawn(async { 1 });
            pollster::block_on(&mut task).unwrap();
            task
        });
        let outcomes = pollster::block_on(group.outcomes());
        assert!(matches!(outcomes[..], [Err(Error::Cancelled)]));
    });
}
