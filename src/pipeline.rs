//! The driver: chunks in flight, merged in chunk order, with progress and
//! cancellation.
//!
//! Nothing here knows about random numbers (that is the work's business),
//! and nothing below it knows about runtimes.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::checkpoint::{Checkpoint, Header};
use crate::spawn::{Job, Spawner, Target};
use crate::stop::StopRules;
use crate::task::{TaskLink, panic_message};
use crate::{Error, Estimate, Progress, Stop};

/// Chunks in flight per worker thread: enough that a worker that finishes a
/// chunk finds the next one queued while the driver wakes up to merge, few
/// enough that a cancel discards little queued work. Each costs a task
/// allocation, not a buffer of samples.
const CHUNKS_IN_FLIGHT_PER_THREAD: usize = 4;

/// Work split into chunks `0..chunks()`, where chunk `i` is a pure function
/// of the work and `i`: the same chunk gives the same bits on any thread.
pub(crate) trait ChunkedWork: Send + Sync + 'static {
    /// What one chunk yields.
    type Part: Send + 'static;
    /// The chunks merged so far, in chunk order.
    type Merged: Send;

    /// Units of work (samples) in the whole budget, when known in advance.
    fn total(&self) -> Option<u64>;

    /// How many chunks the whole budget is split into.
    fn chunks(&self) -> u64;

    /// Does chunk `index`, looking at `cancel` often enough to stop within
    /// a small part of a chunk's time; `Err(Cancelled)` if it stopped.
    fn run_chunk(&self, index: u64, cancel: &AtomicBool) -> Result<Self::Part, Error>;

    /// Nothing merged yet.
    fn start(&self) -> Self::Merged;

    /// Adds the next chunk's part; called in chunk order.
    fn merge(&self, merged: &mut Self::Merged, part: Self::Part);

    /// Units of work merged so far.
    fn done(&self, merged: &Self::Merged) -> u64;

    /// The estimate that the merged chunks give.
    fn estimate(&self, merged: &Self::Merged, stop: Stop) -> Estimate;

    /// Whether a data-dependent stop rule may look at this prefix.
    fn is_complete(&self, _merged: &Self::Merged) -> bool {
        true
    }

    /// The method's tag in a checkpoint.
    const KIND: u8;

    /// Appends the merged state to a checkpoint's bytes, bit for bit.
    fn encode(&self, merged: &Self::Merged, out: &mut Vec<u8>);

    /// The merged state back from `encode`'s bytes; `None` if they are not
    /// a state of this work.
    fn decode(&self, state: &[u8]) -> Option<Self::Merged>;

    /// Appends one chunk's part to a message for another process, bit for
    /// bit.
    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &Self::Part, out: &mut Vec<u8>);

    /// The part back from exactly the bytes `encode_part` wrote.
    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<Self::Part>;
}

/// Where a run's chunks are computed: this process's threads (a
/// [`Spawner`]), or several processes (MPI, behind the `mpi` feature).
/// Either way the parts come back to the [`Merger`] in chunk order, so the
/// bits do not depend on the backend.
pub(crate) trait Backend {
    /// Computes the chunks from the merger's next one on and merges them in
    /// chunk order, publishing prefixes through `report`, until a rule of
    /// the merger's stops the run or the chunks run out; returns why.
    async fn merge_chunks<W: ChunkedWork>(
        &self,
        work: &Arc<W>,
        link: &TaskLink,
        merger: &mut Merger<'_, W>,
        report: &(dyn Fn(&W::Merged) + Send + Sync),
    ) -> Result<Stop, Error>;

    /// Whether `limit` has passed since `started`: a decision that every
    /// part of the run takes alike (under MPI, rank 0's, broadcast).
    fn time_is_up(&self, started: Instant, limit: Duration) -> Result<bool, Error> {
        Ok(started.elapsed() >= limit)
    }
}

impl Backend for Spawner {
    async fn merge_chunks<W: ChunkedWork>(
        &self,
        work: &Arc<W>,
        link: &TaskLink,
        merger: &mut Merger<'_, W>,
        report: &(dyn Fn(&W::Merged) + Send + Sync),
    ) -> Result<Stop, Error> {
        match self.target() {
            Target::Pool(pool) => {
                let spawn = |job| pool.spawn_detached(job);
                merge_spawned(work, pool.threads(), spawn, &link.stop, merger, report).await
            }
            Target::Jobs { spawn, parallelism } => {
                let spawn = |job| {
                    spawn(job);
                    true
                };
                merge_spawned(work, *parallelism, spawn, &link.stop, merger, report).await
            }
            Target::Inline => merge_inline(&**work, merger, report).await,
        }
    }
}

/// What a run does with checkpoints: where it starts, and where it saves.
#[derive(Debug, Default)]
pub(crate) struct Checkpointing {
    /// The spec's part of every checkpoint's header.
    pub(crate) header: Option<Header>,
    /// Start from this checkpoint's merged prefix instead of nothing.
    pub(crate) resume: Option<Checkpoint>,
    /// Publish a checkpoint to the task at every merge.
    pub(crate) publish: bool,
    /// Write a checkpoint to this path after every so many chunks.
    pub(crate) every: Option<(u64, PathBuf)>,
}

/// Runs `work` until its budget is spent or a rule in `rules` stops it, and
/// returns its estimate, publishing progress to `link` as chunks merge and
/// stopping at once when its flag is set.
pub(crate) async fn drive<W: ChunkedWork, B: Backend>(
    work: Arc<W>,
    backend: &B,
    link: TaskLink,
    rules: StopRules,
    checkpointing: Checkpointing,
) -> Result<Estimate, Error> {
    announce(work.total(), &link);
    let (merged, stop) = drive_merged(&work, backend, &link, rules, checkpointing).await?;
    let estimate = work.estimate(&merged, stop);
    link.progress.set(Progress {
        done: work.done(&merged),
        total: work.total(),
        estimate: (work.done(&merged) > 0 || work.chunks() == 0).then_some(estimate),
    });
    Ok(estimate)
}

/// What [`drive`] does, up to the merged chunks and why they stopped: for a
/// method that runs the driver more than once (VEGAS, once per iteration)
/// and so announces its total and publishes its final estimate itself.
/// Prefixes are published as partial estimates while chunks are awaited.
pub(crate) async fn drive_merged<W: ChunkedWork, B: Backend>(
    work: &Arc<W>,
    backend: &B,
    link: &TaskLink,
    rules: StopRules,
    checkpointing: Checkpointing,
) -> Result<(W::Merged, Stop), Error> {
    let partial = |merged: &W::Merged| {
        let done = work.done(merged);
        link.progress.set(Progress {
            done,
            total: work.total(),
            estimate: Some(work.estimate(merged, Stop::Partial)),
        });
    };
    let (merged, chunks_merged) = match &checkpointing.resume {
        Some(checkpoint) => {
            let merged = work
                .decode(checkpoint.state())
                .ok_or(Error::CheckpointCorrupt {
                    reason: "its state does not fit the method",
                })?;
            (merged, checkpoint.header().next_chunk)
        }
        None => (work.start(), 0),
    };
    let mut merger = Merger {
        work: &**work,
        rules,
        started: Instant::now(),
        merged,
        chunks_merged,
        checkpointing,
        link,
    };
    let stop = backend
        .merge_chunks(work, link, &mut merger, &partial)
        .await?;
    Ok((merger.merged, stop))
}

/// Publishes the total before any work is done, so that a handle knows it
/// from the moment it is returned.
pub(crate) fn announce(total: Option<u64>, link: &TaskLink) {
    link.progress.set(Progress {
        done: 0,
        total,
        estimate: None,
    });
}

/// The ordered prefix of merged chunks, the rules that may end the run at
/// one of its boundaries, and the checkpoints taken there.
pub(crate) struct Merger<'w, W: ChunkedWork> {
    work: &'w W,
    pub(crate) rules: StopRules,
    pub(crate) started: Instant,
    pub(crate) merged: W::Merged,
    /// Chunks in `merged`: the next chunk to merge.
    pub(crate) chunks_merged: u64,
    checkpointing: Checkpointing,
    link: &'w TaskLink,
}

impl<W: ChunkedWork> Merger<'_, W> {
    /// Merges the next chunk, takes any checkpoint due, and returns
    /// `Some(stop)` if a rule ends the run here.
    pub(crate) fn merge(&mut self, part: W::Part) -> Result<Option<Stop>, Error> {
        self.work.merge(&mut self.merged, part);
        self.chunks_merged += 1;
        self.checkpoint()?;
        if self.rules.is_empty() {
            return Ok(None);
        }
        let estimate = self.work.estimate(&self.merged, Stop::Partial);
        let complete = self.work.is_complete(&self.merged);
        Ok(self.rules.check(&estimate, complete, self.started))
    }

    fn checkpoint(&self) -> Result<(), Error> {
        let Some(header) = self.checkpointing.header else {
            return Ok(());
        };
        let due = self
            .checkpointing
            .every
            .as_ref()
            .filter(|(every, _)| self.chunks_merged % every == 0);
        if !self.checkpointing.publish && due.is_none() {
            return Ok(());
        }
        let mut state = Vec::new();
        self.work.encode(&self.merged, &mut state);
        let header = Header {
            kind: W::KIND,
            next_chunk: self.chunks_merged,
            ..header
        };
        let checkpoint = Checkpoint::new(&header, &state);
        if let Some((_, path)) = due {
            checkpoint.write(path)?;
        }
        if self.checkpointing.publish {
            self.link.set_checkpoint(checkpoint);
        }
        Ok(())
    }
}

/// Keeps a window of chunks running through `spawn` (false: the executor is
/// gone) and merges them strictly in chunk order, so the result, and any
/// stop decided on it, does not depend on which finished first. Returns why
/// the run stopped.
///
/// Chunks stop when `cancel` is set: by a cancel of the task, or by this
/// function ending with chunks still in flight (a stop rule, an error, or
/// the caller dropping the future). Chunks already past a stop are
/// discarded.
async fn merge_spawned<W: ChunkedWork>(
    work: &Arc<W>,
    parallelism: usize,
    spawn: impl Fn(Job) -> bool,
    cancel: &Arc<AtomicBool>,
    merger: &mut Merger<'_, W>,
    report: &(dyn Fn(&W::Merged) + Send + Sync),
) -> Result<Stop, Error> {
    let mut stop_chunks = SetOnDrop(Some(cancel.clone()));
    let window = parallelism * CHUNKS_IN_FLIGHT_PER_THREAD;
    let mut in_flight = VecDeque::with_capacity(window);
    let mut next = merger.chunks_merged;
    loop {
        while in_flight.len() < window && next < work.chunks() {
            in_flight.push_back(spawn_chunk(work, &spawn, next, cancel)?);
            next += 1;
        }
        let Some(chunk) = in_flight.pop_front() else {
            // Every chunk is merged and none is running: leave the flag
            // clear for the task's next run of the driver (VEGAS's next
            // iteration).
            stop_chunks.0 = None;
            return Ok(merger.rules.exhausted());
        };
        // Publish the prefix merged so far while waiting for more, so the
        // last merge is published once, as the final result.
        if work.done(&merger.merged) > 0 {
            report(&merger.merged);
        }
        // A dropped sender means the executor dropped the chunk: it shut down.
        let part = chunk.await.unwrap_or(Err(Error::Cancelled))?;
        if let Some(stop) = merger.merge(part)? {
            return Ok(stop);
        }
    }
}

pub(crate) type ChunkResult<P> = oneshot::Receiver<Result<P, Error>>;

pub(crate) fn spawn_chunk<W: ChunkedWork>(
    work: &Arc<W>,
    spawn: impl Fn(Job) -> bool,
    index: u64,
    cancel: &Arc<AtomicBool>,
) -> Result<ChunkResult<W::Part>, Error> {
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
    merger: &mut Merger<'_, W>,
    report: &(dyn Fn(&W::Merged) + Send + Sync),
) -> Result<Stop, Error> {
    // Nothing can set it: dropping the future between chunks is the cancel.
    let never = AtomicBool::new(false);
    let first = merger.chunks_merged;
    for index in first..work.chunks() {
        if index > first {
            // As on a pool, the last merge is published as the final result.
            report(&merger.merged);
            YieldNow::default().await;
        }
        if let Some(stop) = merger.merge(run_chunk_caught(work, index, &never)?)? {
            return Ok(stop);
        }
    }
    Ok(merger.rules.exhausted())
}

/// Runs one chunk, turning a panic of the integrand into an error.
fn run_chunk_caught<W: ChunkedWork>(
    work: &W,
    index: u64,
    cancel: &AtomicBool,
) -> Result<W::Part, Error> {
    catch_unwind(AssertUnwindSafe(|| work.run_chunk(index, cancel)))
        .unwrap_or_else(|payload| Err(Error::Panicked(panic_message(payload.as_ref()))))
}

/// Sets the flag it holds, if any, when dropped.
struct SetOnDrop(Option<Arc<AtomicBool>>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Relaxed);
        }
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
