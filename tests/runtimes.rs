//! One body, every runtime: the same integrals give the same bits whether
//! the caller awaits them under pollster, the `futures` executors, the
//! bundled executor, smol or async-std, and whether the chunks run on the
//! bundled pool or on the caller's own runtime through a `Spawner`.

mod common;

use std::f64::consts::PI;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use common::watchdog;
use quadpipe::{Error, Estimate, Executor, Inline, Integral, Scalar, Spawner};

type Run = Pin<Box<dyn Future<Output = Result<Estimate, Error>> + Send>>;

type Spec = Integral<Scalar<fn(f64) -> f64>>;

/// Integrals chosen for their odd corners: a partial last chunk and lane
/// step, a reversed interval, many small chunks, and an error.
fn integrals() -> Vec<Spec> {
    let identity: fn(f64) -> f64 = |x| x;
    vec![
        Integral::new(identity, 0.0..PI)
            .samples((1 << 20) + 3)
            .seed(1),
        Integral::new(f64::sin as fn(f64) -> f64, PI..0.0)
            .samples(1 << 19)
            .seed(2),
        Integral::new(f64::exp as fn(f64) -> f64, -1.0..1.0)
            .samples(100_000)
            .chunk_size(997)
            .seed(3),
        Integral::new(f64::ln as fn(f64) -> f64, -1.0..1.0).samples(1 << 16),
    ]
}

fn bundled() -> &'static Executor {
    static BUNDLED: OnceLock<Executor> = OnceLock::new();
    BUNDLED.get_or_init(|| {
        Executor::builder()
            .threads(2)
            .name("matrix")
            .build()
            .unwrap()
    })
}

/// The bits of an outcome, errors included (by their text).
fn bits(outcome: Result<Estimate, Error>) -> Result<(u64, u64, u64), String> {
    outcome
        .map(|e| (e.value.to_bits(), e.std_error.to_bits(), e.samples))
        .map_err(|err| err.to_string())
}

/// The test body: every integral, awaited through `drive`, with its chunks
/// on the bundled pool, on `own` (the driver's runtime), and as a Task.
fn check(driver: &str, drive: impl Fn(Run) -> Result<Estimate, Error>, own: Spawner) {
    for integral in integrals() {
        let reference = bits(pollster::block_on(integral.run_inline()));
        let runs: [(&str, Run); 3] = [
            ("bundled pool", Box::pin(integral.run_on(bundled()))),
            ("own runtime", Box::pin(integral.run_on(&own))),
            (
                "task on the bundled pool",
                Box::pin(integral.spawn_on(bundled())),
            ),
        ];
        for (chunks, run) in runs {
            assert_eq!(
                bits(drive(run)),
                reference,
                "{driver}, chunks on the {chunks}: {integral:?}"
            );
        }
    }
}

#[test]
fn pollster() {
    watchdog(|| check("pollster", pollster::block_on, Spawner::from(Inline)));
}

#[test]
fn futures_block_on() {
    watchdog(|| {
        let pool = futures::executor::ThreadPool::new().unwrap();
        check(
            "futures::block_on",
            futures::executor::block_on,
            Spawner::from(&pool),
        );
    });
}

#[test]
fn futures_local_pool() {
    watchdog(|| {
        let drive = |run| futures::executor::LocalPool::new().run_until(run);
        check("LocalPool", drive, Spawner::from(Inline));
    });
}

#[test]
fn bundled_executor_block_on() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        check(
            "Executor::block_on",
            |run| executor.block_on(run),
            Spawner::from(&executor),
        );
    });
}

#[test]
fn smol_block_on() {
    watchdog(|| {
        let own = Spawner::from_fn(|job| smol::spawn(job).detach());
        check("smol::block_on", smol::block_on, own);
    });
}

#[test]
fn smol_multi_threaded_executor() {
    watchdog(|| {
        common::on_smol_threads(2, |executor| {
            let drive = |run| smol::block_on(executor.spawn(run));
            check(
                "smol::Executor on 2 threads",
                drive,
                Spawner::from(executor),
            )
        });
    });
}

#[test]
fn async_std_block_on() {
    watchdog(|| {
        let own = Spawner::from_fn(|job| {
            async_std::task::spawn(job);
        });
        check("async_std::task::block_on", async_std::task::block_on, own);
    });
}
