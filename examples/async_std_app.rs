//! The integral under async-std, with its chunks spawned on async-std's own
//! executor through the `Spawner` adapter: no quadpipe threads at all. The
//! bundled pool gives the same bits, which the example checks. Then a run
//! far too long to finish is spawned on async-std as a task, driver and
//! chunks, and a timeout cancels it; its partial estimate is printed.
//!
//! ```text
//! cargo run --release --example async_std_app
//! ```

use std::f64::consts::PI;
use std::time::Duration;

use quadpipe::{Error, Integral, Spawner};

fn main() -> Result<(), Error> {
    // ANCHOR: readme
    async_std::task::block_on(async {
        // Chunks become async-std tasks, on async-std's thread pool.
        let spawner = Spawner::from_fn(|job| {
            async_std::task::spawn(job);
        });
        let integral = Integral::new(|x| x, 0.0..PI).samples(100_000_000).seed(42);
        let estimate = integral.run_on(&spawner).await?;
        println!("∫ x over [0, pi] on async-std's pool = {estimate:.12}");

        // The same spec on quadpipe's own pool: the same bits.
        assert_eq!(integral.run().await?, estimate);
        println!("the bundled pool gives the same bits");

        // Far too long to finish: a Task on async-std, given 200 ms. The
        // timeout drops the task, which cancels it; its cancel handle
        // still reads the partial estimate.
        let endless = Integral::new(|x: f64| x * x, 0.0..1.0).samples(1 << 50);
        let task = endless.spawn_on(&spawner);
        let handle = task.cancel_handle();
        if async_std::future::timeout(Duration::from_millis(200), task)
            .await
            .is_err()
        {
            let partial = handle.progress().estimate.expect("some chunks were merged");
            println!(
                "partial: {partial} (exact: 1/3), {} after 200 ms",
                handle.status()
            );
        }
        Ok(())
    })
    // ANCHOR_END: readme
}
