//! The driver: chunks in flight, merged in chunk order, with progress and
//! cancellation.
//!
//! Nothing here knows about random numbers (that is the work's business),
//! and nothing below it knows about runtimes.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::channel::oneshot;

use crate::spawn::{Job, Spawner, Target};
use crate::task::{TaskLink, panic_message};
use crate::{Accumulator, Error, Estimate, Progress, Stop};

/// Chunks in flight per worker thread: enough that a worker that finishes a
/// chunk finds the next one queued while the driver wakes up to merge, few
/// enough that a cancel discards little queued work. Each costs a task
/// allocation, not a buffer of samples.
const CHUNKS_IN_FLIGHT_PER_THREAD: usize = 4;

/// Work split into chunks `0..chunks()`, where chunk `i` is a pure function
/// of the work and `i`: the same chunk gives the same bits on any thread.
pub(crate) trait ChunkedWork: Send + Sync + 'static {
    /// Units of work (samples) in all.
    fn total(&self) -> u64;

    /// How many chunks the work is split into.
    fn chunks(&self) -> u64;

    /// Does chunk `index`, looking at `cancel` often enough to stop within
    /// a small part of a chunk's time; `Err(Cancelled)` if it stopped.
    fn run_chunk(&self, index: u64, cancel: &AtomicBool) -> Result<Accumulator, Error>;

    /// The estimate that the merged chunks give.
    fn estimate(&self, merged: &Accumulator, stop: Stop) -> Estimate;
}

/// Runs `work` to the end and returns its estimate, publishing progress to
/// `link` at every merge and stopping when its flag is set.
pub(crate) async fn drive<W: ChunkedWork>(
    work: Arc<W>,
    spawner: Spawner,
    link: TaskLink,
) -> Result<Estimate, Error> {
    let report = |merged: &Accumulator, stop: Stop| {
        link.progress.set(Progress {
            done: merged.count(),
            total: Some(work.total()),
            estimate: (merged.count() > 0 || work.chunks() == 0)
                .then(|| work.estimate(merged, stop)),
        });
    };
    announce(&*work, &link);
    let partial = |merged: &Accumulator| report(merged, Stop::Partial);
    let merged = match spawner.target() {
        Target::Pool(pool) => {
            let spawn = |job| pool.spawn_detached(job);
            merge_spawned(&work, pool.threads(), spawn, &link.stop, partial).await?
        }
        Target::Jobs { spawn, parallelism } => {
            let spawn = |job| {
                spawn(job);
                true
            };
            merge_spawned(&work, *parallelism, spawn, &link.stop, partial).await?
        }
        Target::Inline => merge_inline(&*work, partial).await?,
    };
    let stop = Stop::SampleBudget;
    report(&merged, stop);
    Ok(work.estimate(&merged, stop))
}

/// Publishes the total before any work is done, so that a handle knows it
/// from the moment it is returned.
pub(crate) fn announce<W: ChunkedWork>(work: &W, link: &TaskLink) {
    link.progress.set(Progress {
        done: 0,
        total: Some(work.total()),
        estimate: None,
    });
}

/// Keeps a window of chunks running through `spawn` (false: the executor is
/// gone) and merges them strictly in chunk order, so the result does not
/// depend on which finished first.
///
/// Chunks stop when `cancel` is set: by a cancel of the task, or by this
/// function ending (the last merge, an error, or the caller dropping the
/// future).
async fn merge_spawned<W: ChunkedWork>(
    work: &Arc<W>,
    parallelism: usize,
    spawn: impl Fn(Job) -> bool,
    cancel: &Arc<AtomicBool>,
    report: impl Fn(&Accumulator),
) -> Result<Accumulator, Error> {
    let _stop_chunks = SetOnDrop(cancel.clone());
    let window = parallelism * CHUNKS_IN_FLIGHT_PER_THREAD;
    let mut in_flight = VecDeque::with_capacity(window);
    let mut next = 0;
    let mut merged = Accumulator::new();
    loop {
        while in_flight.len() < window && next < work.chunks() {
            in_flight.push_back(spawn_chunk(work, &spawn, next, cancel)?);
            next += 1;
        }
        let Some(chunk) = in_flight.pop_front() else {
            return Ok(merged);
        };
        // Publish the prefix merged so far while waiting for more, so the
        // last merge is published once, as the final result.
        if merged.count() > 0 {
            report(&merged);
        }
        // A dropped sender means the executor dropped the chunk: it shut down.
        let part = chunk.await.unwrap_or(Err(Error::Cancelled))?;
        merged.merge(&part);
    }
}

type ChunkResult = oneshot::Receiver<Result<Accumulator, Error>>;

fn spawn_chunk<W: ChunkedWork>(
    work: &Arc<W>,
    spawn: impl Fn(Job) -> bool,
    index: u64,
    cancel: &Arc<AtomicBool>,
) -> Result<ChunkResult, Error> {
    let (sender, receiver) = oneshot::channel();
    let (work, cancel) = (work.clone(), cancel.clone());
    let job = async move {
        // A chunk still queued when its run is cancelled never starts.
        if !cancel.load(Ordering::Relaxed) {
            let _ = sender.send(run_chunk_caught(&*work, index, &cancel));
        }
    };
    if spawn(Box::pin(job)) {
        Ok(receiver)
    } else {
        Err(Error::Cancelled)
    }
}

/// Runs chunks one after another in the awaiting task, yielding between
/// them so that a single-threaded host keeps running its other tasks.
async fn merge_inline<W: ChunkedWork>(
    work: &W,
    report: impl Fn(&Accumulator),
) -> Result<Accumulator, Error> {
    // Nothing can set it: dropping the future between chunks is the cancel.
    let never = AtomicBool::new(false);
    let mut merged = Accumulator::new();
    for index in 0..work.chunks() {
        if index > 0 {
            // As on a pool, the last merge is published as the final result.
            report(&merged);
            YieldNow::default().await;
        }
        merged.merge(&run_chunk_caught(work, index, &never)?);
    }
    Ok(merged)
}

/// Runs one chunk, turning a panic of the integrand into an error.
fn run_chunk_caught<W: ChunkedWork>(
    work: &W,
    index: u64,
    cancel: &AtomicBool,
) -> Result<Accumulator, Error> {
    catch_unwind(AssertUnwindSafe(|| work.run_chunk(index, cancel)))
        .unwrap_or_else(|payload| Err(Error::Panicked(panic_message(payload.as_ref()))))
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Pending once, ready the next time: lets the executor run other tasks.
#[derive(Debug, Default)]
pub(crate) struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
