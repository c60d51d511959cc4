//! Awaiting an integral never stalls a single-threaded host: with chunks on
//! the bundled pool, no kernel runs on the host thread and the host's other
//! tasks keep running; inline, the host runs them between chunks.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

use common::watchdog;
use futures::task::LocalSpawnExt;
use std::future::Future;

use quadpipe::{Error, Estimate, Executor, Integral, Scalar};

const SAMPLES: u64 = 1 << 23;
const CHUNK: u64 = 1 << 15;

/// A boxed integrand, so one `Watched` type serves every test.
type Integrand = Box<dyn Fn(f64) -> f64 + Send + Sync>;

/// An integral whose integrand counts its calls and notes whether it ever
/// ran on `host`.
struct Watched {
    calls: Arc<AtomicU64>,
    ran_on_host: Arc<AtomicBool>,
    integral: Integral<Scalar<Integrand>>,
}

fn watched(host: thread::ThreadId) -> Watched {
    let (calls, ran_on_host) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let (count, flag) = (calls.clone(), ran_on_host.clone());
    let integrand: Integrand = Box::new(move |x: f64| {
        count.fetch_add(1, Ordering::Relaxed);
        if thread::current().id() == host {
            flag.store(true, Ordering::Relaxed);
        }
        x.sin()
    });
    let integral = Integral::new(integrand, 0.0..1.0)
        .samples(SAMPLES)
        .chunk_size(CHUNK);
    Watched {
        calls,
        ran_on_host,
        integral,
    }
}

/// What a ticker task saw: at each tick, how many integrand calls had been
/// made. It ticks until told to stop.
type Ticks = Rc<RefCell<Vec<u64>>>;

async fn tick(calls: Arc<AtomicU64>, ticks: Ticks, stop: Rc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        ticks.borrow_mut().push(calls.load(Ordering::Relaxed));
        smol::future::yield_now().await;
    }
}

/// The distinct call counts the ticker saw strictly inside the run, in
/// order.
fn progress_points_during_the_run(ticks: &[u64]) -> Vec<u64> {
    let mut inside: Vec<u64> = ticks
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < SAMPLES)
        .collect();
    inside.dedup();
    inside
}

/// Runs `run` (an integral's future) on a smol `LocalExecutor` beside a
/// ticker task, and returns the estimate and what the ticker saw.
fn on_smol_host(
    watched: &Watched,
    run: impl Future<Output = Result<Estimate, Error>>,
) -> (Result<Estimate, Error>, Vec<u64>) {
    let (ticks, stop) = (Ticks::default(), Rc::new(AtomicBool::new(false)));
    let host = smol::LocalExecutor::new();
    let estimate = smol::block_on(host.run(async {
        let ticker = host.spawn(tick(watched.calls.clone(), ticks.clone(), stop.clone()));
        let estimate = run.await;
        stop.store(true, Ordering::Relaxed);
        ticker.await;
        estimate
    }));
    (estimate, ticks.take())
}

/// What must hold when the pool integrates under a single-threaded host.
fn assert_host_kept_running(
    host: &str,
    watched: &Watched,
    estimate: Result<Estimate, Error>,
    ticks: &[u64],
) {
    assert_eq!(estimate.unwrap().samples, SAMPLES);
    assert!(
        !watched.ran_on_host.load(Ordering::Relaxed),
        "a kernel ran on the host thread"
    );
    // Ticks that saw the integral started and not finished: the host ran
    // its other task while the pool integrated. Idle, this machine ticks
    // about a million times during the run; the floor is low because how
    // much of a loaded machine the host thread gets is the OS's choice.
    let during = ticks.iter().filter(|&&c| c > 0 && c < SAMPLES).count();
    println!("{host}: {} ticks, {during} during the run", ticks.len());
    assert!(
        during >= 1000,
        "the host ticked only {during} times during the run"
    );
}

/// One test at a time: three hosts with two workers each would share two
/// CPUs nine ways, and starve the very host thread being watched.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn on_smol_local_executor_the_host_keeps_ticking_while_the_pool_integrates() {
    watchdog(|| {
        let _alone = alone();
        let executor = Executor::builder().threads(2).build().unwrap();
        let watched = watched(thread::current().id());
        let (estimate, ticks) = on_smol_host(&watched, watched.integral.run_on(&executor));
        assert_host_kept_running("smol LocalExecutor host", &watched, estimate, &ticks);
    });
}

#[test]
fn on_futures_local_pool_the_host_keeps_ticking_while_the_pool_integrates() {
    watchdog(|| {
        let _alone = alone();
        let executor = Executor::builder().threads(2).build().unwrap();
        let watched = watched(thread::current().id());
        let (ticks, stop) = (Ticks::default(), Rc::new(AtomicBool::new(false)));
        let mut pool = futures::executor::LocalPool::new();
        pool.spawner()
            .spawn_local(tick(watched.calls.clone(), ticks.clone(), stop.clone()))
            .unwrap();
        let estimate = pool.run_until(watched.integral.run_on(&executor));
        stop.store(true, Ordering::Relaxed);
        pool.run();
        assert_host_kept_running("futures LocalPool host", &watched, estimate, &ticks.take());
    });
}

#[test]
fn inline_the_host_ticks_between_chunks() {
    watchdog(|| {
        let _alone = alone();
        let watched = watched(thread::current().id());
        let (estimate, ticks) = on_smol_host(&watched, watched.integral.run_inline());
        assert_eq!(estimate.unwrap().samples, SAMPLES);
        // Inline was the caller's choice: the kernel ran on the host.
        assert!(watched.ran_on_host.load(Ordering::Relaxed));
        let during = progress_points_during_the_run(&ticks);
        println!(
            "inline: {} ticks, {} during the run",
            ticks.len(),
            during.len()
        );
        // The ticker ran at every chunk boundary, and only there.
        let boundaries: Vec<u64> = (1..SAMPLES / CHUNK).map(|i| i * CHUNK).collect();
        assert_eq!(during, boundaries);
    });
}
