//! A synchronous command-line program that stops cleanly on Ctrl-C
//! (SIGINT) or SIGTERM: the handler cancels the run through its cancel
//! handle, and the program prints the partial estimate and saves a
//! checkpoint to resume from, instead of dying with its work lost. Run it
//! again with the same path and it goes on from that checkpoint.
//!
//! ```text
//! cargo run --release --example ctrlc_cli -- [checkpoint path]
//! ```

use std::env;
use std::f64::consts::PI;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use quadpipe::{Checkpoint, Error, Integral};

fn main() -> Result<(), Error> {
    let path = env::args().nth(1).map_or_else(
        || env::temp_dir().join("quadpipe-ctrlc_cli.qpck"),
        PathBuf::from,
    );
    let mut integral = Integral::new(|x: f64| x.sin().powi(2), 0.0..PI)
        .samples(1 << 40)
        .chunk_size(1 << 16)
        .id("sin² over [0, pi]")
        // Saved every 256 chunks too, in case the process dies outright.
        .checkpoint_every(256, &path);
    if let Ok(checkpoint) = Checkpoint::read(&path) {
        println!("resuming from {} samples", checkpoint.samples_done());
        integral = integral.resume(&checkpoint);
    }

    // ANCHOR: readme
    let task = integral.spawn(); // on the default pool
    let handle = task.cancel_handle(); // Clone + Send + Sync
    let on_signal = handle.clone();
    ctrlc::set_handler(move || on_signal.cancel()).expect("install the Ctrl-C handler");

    while !handle.is_finished() {
        println!("progress: {} samples", handle.progress().done);
        thread::sleep(Duration::from_millis(100));
    }
    match pollster::block_on(task) {
        Ok(estimate) => println!("estimate: {estimate}"),
        Err(Error::Cancelled) => {
            if let Some(partial) = handle.progress().estimate {
                println!("partial: {partial}");
            }
            if let Some(checkpoint) = handle.checkpoint() {
                checkpoint.write(&path)?;
                println!("checkpoint: {}", path.display());
            }
        }
        Err(err) => return Err(err),
    }
    // The end of main: join the default pool's threads.
    quadpipe::shutdown_default(Duration::from_secs(1));
    // ANCHOR_END: readme
    Ok(())
}
