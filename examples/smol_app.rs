//! A smol program: one integral runs on quadpipe's pool while another task
//! of the program keeps ticking, and a second, far too long integral,
//! spawned on smol's own executor (its driver and its chunks), is cancelled
//! by a timeout; its partial estimate is still there to print.
//!
//! ```text
//! cargo run --release --example smol_app
//! ```

use std::f64::consts::PI;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quadpipe::{Error, Integral, Spawner};
use smol::Timer;

fn main() -> Result<(), Error> {
    // ANCHOR: readme
    smol::block_on(async {
        // A task of the host program that must not stall.
        let ticks = Arc::new(AtomicU64::new(0));
        let counter = ticks.clone();
        let ticker = smol::spawn(async move {
            loop {
                Timer::after(Duration::from_millis(1)).await;
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });

        // Runs on quadpipe's default pool; this task only merges results.
        let sin = Integral::new(f64::sin, 0.0..PI)
            .samples(200_000_000)
            .seed(7);
        let estimate = sin.run().await?;
        println!("∫ sin over [0, pi] = {estimate} (exact: 2)");
        println!(
            "the host ticked {} times meanwhile",
            ticks.load(Ordering::Relaxed)
        );

        // Far too long to finish, and on smol's own executor: the task and
        // its chunks are smol tasks. Give it 200 ms, then cancel.
        let on_smol = Spawner::from_fn(|job| smol::spawn(job).detach());
        let endless = Integral::new(|x: f64| x * x, 0.0..1.0).samples(1 << 50);
        let mut task = endless.spawn_on(&on_smol);
        let finished = smol::future::or(async { Some((&mut task).await) }, async {
            Timer::after(Duration::from_millis(200)).await;
            None
        })
        .await;
        if finished.is_none() {
            task.cancel();
            let partial = task.progress().estimate.expect("some chunks were merged");
            println!(
                "partial: {partial} (exact: 1/3), {} after 200 ms",
                task.status()
            );
        }
        drop(ticker);
        Ok(())
    })
    // ANCHOR_END: readme
}
