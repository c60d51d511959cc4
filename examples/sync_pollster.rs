//! Plain synchronous code: start an integral, print its progress while it
//! runs, then block on the result with `pollster`. No async runtime at all.
//!
//! ```text
//! cargo run --release --example sync_pollster
//! ```
//!
//! The integral is of exp(-x²) over [-3, 3], which is sqrt(pi)·erf(3).

use std::thread;
use std::time::Duration;

use quadpipe::Integral;

/// sqrt(pi) · erf(3).
const EXACT: f64 = 1.7724146965190422;

fn main() -> Result<(), quadpipe::Error> {
    // ANCHOR: readme
    let integral = Integral::new(|x: f64| (-x * x).exp(), -3.0..3.0)
        .samples(400_000_000)
        .seed(1);
    let task = integral.spawn(); // runs on the default pool, one worker per core
    while !task.is_finished() {
        let progress = task.progress();
        let percent = 100.0 * progress.fraction().unwrap_or(0.0);
        match progress.estimate {
            Some(estimate) => println!("{percent:5.1}%  {estimate}"),
            None => println!("{percent:5.1}%"),
        }
        thread::sleep(Duration::from_millis(50));
    }
    let estimate = pollster::block_on(task)?;
    println!("∫ exp(-x²) dx over [-3, 3] = {estimate}");
    // ANCHOR_END: readme
    println!(
        "exact {EXACT}: {:.2} standard errors away",
        (estimate.value - EXACT).abs() / estimate.std_error
    );
    Ok(())
}
