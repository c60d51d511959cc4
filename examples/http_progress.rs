//! A tiny smol TCP service on 127.0.0.1 that streams the progress of an
//! integration to its client, a line at a time, and cancels the work the
//! moment the client hangs up.
//!
//! ```text
//! cargo run --release --example http_progress
//! ```
//!
//! The example serves on a free port and runs two clients against it: one
//! asks for a run far too long to finish, reads three lines and hangs up;
//! the other asks for 10^8 samples and reads to the end. The protocol is a
//! line with the sample count from the client, then progress lines and a
//! final `done` line from the server.

use std::f64::consts::PI;
use std::time::Duration;

use futures::{AsyncBufReadExt, AsyncWriteExt, StreamExt};
use quadpipe::Integral;
use smol::Timer;
use smol::io::BufReader;
use smol::net::{TcpListener, TcpStream};

/// How often a client gets a progress line. Snapshots in between coalesce:
/// the integration never waits for a slow client.
const LINE_EVERY: Duration = Duration::from_millis(20);

/// Serves one client: runs the integral it asks for and streams progress.
async fn serve(stream: TcpStream) -> std::io::Result<()> {
    let mut request = String::new();
    BufReader::new(stream.clone())
        .read_line(&mut request)
        .await?;
    let samples: u64 = request.trim().parse().unwrap_or(1_000_000);
    let task = Integral::new(f64::sin, 0.0..PI).samples(samples).spawn();
    let mut progress = task.progress_stream();
    let mut writer = stream;
    while let Some(snapshot) = progress.next().await {
        let line = match snapshot.estimate {
            Some(estimate) => format!("{} {estimate}\n", snapshot.done),
            None => format!("{} -\n", snapshot.done),
        };
        if let Err(err) = writer.write_all(line.as_bytes()).await {
            // Dropping `task` cancels the integration at once.
            println!(
                "server: client went away ({}); cancelled after {} samples",
                err.kind(),
                task.progress().done
            );
            return Ok(());
        }
        Timer::after(LINE_EVERY).await;
    }
    let estimate = task.await.map_err(std::io::Error::other)?;
    writer
        .write_all(format!("done {estimate}\n").as_bytes())
        .await
}

/// A client that asks for `samples` and reads at most `lines` lines.
async fn client(port: u16, samples: u64, lines: usize) -> std::io::Result<Vec<String>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(format!("{samples}\n").as_bytes()).await?;
    let received = BufReader::new(stream)
        .lines()
        .take(lines)
        .collect::<Vec<_>>()
        .await;
    received.into_iter().collect()
    // The stream is dropped here: the client hangs up.
}

fn main() -> std::io::Result<()> {
    smol::block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let server = smol::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                smol::spawn(serve(stream)).detach();
            }
        });

        let impatient = client(port, 1 << 50, 3).await?;
        println!(
            "impatient client read {} lines, then hung up:",
            impatient.len()
        );
        impatient.iter().for_each(|line| println!("  {line}"));

        let patient = client(port, 100_000_000, usize::MAX).await?;
        println!("patient client read {} lines; the last:", patient.len());
        println!("  {}", patient.last().map_or("", String::as_str));

        // Give the server a moment to notice the first hang-up and say so.
        Timer::after(Duration::from_millis(100)).await;
        drop(server);
        Ok(())
    })
}
