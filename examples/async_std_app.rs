//! The integral under async-std, with its chunks spawned on async-std's own
//! executor through the `Spawner` adapter: no quadpipe threads at all. The
//! bundled pool gives the same bits, which the example checks.
//!
//! ```text
//! cargo run --release --example async_std_app
//! ```

use std::f64::consts::PI;

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
        Ok(())
    })
    // ANCHOR_END: readme
}
