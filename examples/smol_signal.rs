//! A smol service that stops cleanly on SIGINT or SIGTERM: the signals
//! arrive as a stream (smol-rs's `async-signal`), a task of the service
//! cancels the run through its cancel handle, and the service prints the
//! partial estimate and saves a checkpoint, writing the file off the event
//! loop.
//!
//! ```text
//! cargo run --release --example smol_signal -- [checkpoint path]
//! ```

use std::env;
use std::path::PathBuf;
use std::time::Duration;

use async_signal::{Signal, Signals};
use futures::StreamExt;
use quadpipe::{Error, Integral};
use smol::Timer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = env::args().nth(1).map_or_else(
        || env::temp_dir().join("quadpipe-smol_signal.qpck"),
        PathBuf::from,
    );
    let integral = Integral::over(|p: &[f64]| (p[0] * p[1]).exp(), [0.0..1.0, 0.0..1.0])
        .samples(1 << 40)
        .chunk_size(1 << 16)
        .id("exp(xy) over the unit square");

    // ANCHOR: readme
    smol::block_on(async {
        let mut signals = Signals::new([Signal::Int, Signal::Term])?;
        let task = integral.spawn();
        let handle = task.cancel_handle();

        // A task of the service cancels the run on the first signal.
        let on_signal = handle.clone();
        smol::spawn(async move {
            if signals.next().await.is_some() {
                on_signal.cancel();
            }
        })
        .detach();
        // Another reports progress until the run ends.
        let watcher = handle.clone();
        smol::spawn(async move {
            while !watcher.is_finished() {
                println!("progress: {} samples", watcher.progress().done);
                Timer::after(Duration::from_millis(100)).await;
            }
        })
        .detach();

        match task.await {
            Ok(estimate) => println!("estimate: {estimate}"),
            Err(Error::Cancelled) => {
                if let Some(partial) = handle.progress().estimate {
                    println!("partial: {partial}");
                }
                if let Some(checkpoint) = handle.checkpoint() {
                    let to = path.clone();
                    // File IO on smol's blocking pool, not the event loop.
                    smol::unblock(move || checkpoint.write(to)).await?;
                    println!("checkpoint: {}", path.display());
                }
            }
            Err(err) => return Err(err.into()),
        }
        Ok(())
    })
    // ANCHOR_END: readme
}
