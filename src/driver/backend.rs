//! Where a pass's chunks are computed: this process's threads (a
//! [`Spawner`]: a pool, the caller's runtime, or inline), or several
//! processes (MPI, behind the `mpi` feature). Either way the parts come back
//! to the [`Merger`] in chunk order, so the bits do not depend on the
//! backend.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::driver::Merger;
use crate::driver::halt::{EarlyStart, Halt};
use crate::driver::pass::{Pass, Passes};
use crate::runtime::job::Job;
use crate::runtime::spawn::{Spawner, Target};
use crate::runtime::task::{TaskLink, panic_message};
use crate::{Error, Stop};

/// Chunks in flight per worker thread: enough that a worker that finishes a
/// chunk finds the next one queued while the driver wakes up to merge, few
/// enough that a cancel discards little queued work. Each costs a task
/// allocation, not a buffer of samples.
const CHUNKS_IN_FLIGHT_PER_THREAD: usize = 4;

/// A caller blocked on a run stops computing chunks once one takes longer
/// than this, about what waking a sleeping worker costs on a virtual
/// machine: past it, the workers are worth their wake-up, and a third
/// thread on the cores would hold up the in-order merge.
const CALLER_CHUNK_LIMIT: Duration = Duration::from_micros(50);

/// A caller's first chunk that has run this fraction of
/// [`CALLER_CHUNK_LIMIT`] starts the rest of the pass on the workers: the
/// whole pass is then likely worth their wake-up.
const EARLY_START_FRACTION: u32 = 5;

/// Who, besides the workers, computes the chunk the driver waits for when
/// no worker has started it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Helper {
    /// Nobody: the driver waits.
    Nobody,
    /// The driver runs on a worker of the pool: always, or the run would
    /// wait for the very worker it holds.
    Worker,
    /// The thread blocked on the run: while chunks are quick.
    Caller,
}

/// Computes a pass's chunks and hands their parts to a [`Merger`].
pub(crate) trait Backend {
    /// Computes the chunks from the merger's next one on and merges them in
    /// chunk order, publishing prefixes as it goes. `Some(stop)` if a rule
    /// of the merger's stopped the run; `None` when the pass's chunks are
    /// all merged.
    async fn merge_chunks<M: Passes>(
        &self,
        link: &TaskLink,
        merger: &mut Merger<'_, M>,
    ) -> Result<Option<Stop>, Error>;

    /// Whether `limit` has passed since `started`: a decision that every
    /// part of the run takes alike (under MPI, rank 0's, broadcast).
    fn time_is_up(&self, started: Instant, limit: Duration) -> Result<bool, Error> {
        Ok(started.elapsed() >= limit)
    }
}

impl Backend for Spawner {
    async fn merge_chunks<M: Passes>(
        &self,
        link: &TaskLink,
        merger: &mut Merger<'_, M>,
    ) -> Result<Option<Stop>, Error> {
        match self.target() {
            Target::Pool { pool, caller_helps } => {
                let spawn = {
                    let pool = pool.clone();
                    move |job| pool.spawn_detached(job)
                };
                // On a worker of its own pool, a driver runs the chunk it
                // waits for itself if no worker has started it, as rayon's
                // `join` pops its own job back: blocked there (pollster
                // inside a task) it would otherwise wait for the worker it
                // holds. A caller blocked on the run helps the same way
                // while chunks are quick, which spares a small run the
                // workers' wake-ups.
                let helper = if pool.is_current_worker() {
                    Helper::Worker
                } else if *caller_helps {
                    Helper::Caller
                } else {
                    Helper::Nobody
                };
                merge_spawned(pool.threads(), spawn, helper, &link.stop, merger).await
            }
            Target::Jobs { spawn, parallelism } => {
                let spawn = {
                    let spawn = spawn.clone();
                    move |job| {
                        spawn(job);
                        true
                    }
                };
                merge_spawned(*parallelism, spawn, Helper::Nobody, &link.stop, merger).await
            }
            Target::Inline => merge_inline(merger).await,
        }
    }
}

/// Keeps a window of chunks running through `spawn` (false: the executor is
/// gone) and merges them strictly in chunk order, so the result, and any
/// stop decided on it, does not depend on which finished first. With
/// `helps`, the chunk awaited is run right here if no worker has started
/// it, then the driver yields so that other tasks get their turn.
///
/// Chunks stop when `cancel` is set: by a cancel of the task, or by this
/// function ending with chunks still in flight (a stop rule, an error, or
/// the caller dropping the future). Chunks already past a stop are
/// discarded.
async fn merge_spawned<M: Passes>(
    parallelism: usize,
    spawn: impl Fn(Job) -> bool + Clone + Send + 'static,
    helper: Helper,
    cancel: &Arc<AtomicBool>,
    merger: &mut Merger<'_, M>,
) -> Result<Option<Stop>, Error> {
    let mut helps = helper != Helper::Nobody;
    let mut stop_chunks = SetOnDrop(Some(cancel.clone()));
    let halt = Arc::new(Halt::new(cancel.clone(), deadline(merger)));
    let window = parallelism * CHUNKS_IN_FLIGHT_PER_THREAD;
    let mut in_flight = VecDeque::with_capacity(window);
    if helper == Helper::Caller {
        // Before waking a worker: run chunks here while what is left of
        // the pass looks quicker than a wake-up. The first one hands the
        // rest to the workers from inside itself if it runs long.
        let first = merger.chunks_merged;
        let spawned = Arc::new(Mutex::new(Vec::new()));
        while merger.chunks_merged < merger.chunks() {
            let index = merger.chunks_merged;
            let started = Instant::now();
            let mut probe = Halt::new(cancel.clone(), deadline(merger));
            if index == first && index + 1 < merger.chunks() {
                let rest = index + 1..merger.chunks().min(index + 1 + window as u64);
                let at = started + CALLER_CHUNK_LIMIT / EARLY_START_FRACTION;
                let start = spawn_later(&merger.pass, &spawn, rest, &halt, &spawned);
                probe = probe.with_early_start(EarlyStart::new(at, start));
            }
            let part = run_chunk_caught(&*merger.pass, index, &probe)?;
            in_flight.extend(
                spawned
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .drain(..),
            );
            if let Some(stop) = merger.merge(part).await? {
                return Ok(Some(stop));
            }
            // A slow chunk: the workers take the rest, the caller waits.
            let took = started.elapsed();
            helps = took <= CALLER_CHUNK_LIMIT;
            let left = merger.chunks() - merger.chunks_merged;
            let later = took.saturating_mul(u32::try_from(left).unwrap_or(u32::MAX));
            if !in_flight.is_empty() || later > CALLER_CHUNK_LIMIT {
                break;
            }
        }
    }
    let mut next = merger.chunks_merged + in_flight.len() as u64;
    loop {
        while in_flight.len() < window && next < merger.chunks() {
            in_flight.push_back(spawn_halting(&merger.pass, &spawn, next, &halt)?);
            next += 1;
        }
        let Some(mut chunk) = in_flight.pop_front() else {
            // Every chunk is merged and none is running: leave the flag
            // clear for the run's next pass.
            stop_chunks.0 = None;
            return Ok(None);
        };
        // Publish the prefix merged so far while waiting for more, so the
        // last merge is published once, as the final result.
        merger.report();
        let awaited = poll_fn(|cx| match Pin::new(&mut chunk.result).poll(cx) {
            Poll::Ready(part) => Poll::Ready(Some(part)),
            Poll::Pending if helps && chunk.claim() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        })
        .await;
        let part = match awaited {
            // A dropped sender means the executor dropped the chunk: it shut down.
            Some(part) => part.unwrap_or(Err(Error::Cancelled))?,
            None => {
                let started = Instant::now();
                let part = run_chunk_caught(&*merger.pass, chunk.index, &halt)?;
                if helper == Helper::Caller && started.elapsed() > CALLER_CHUNK_LIMIT {
                    helps = false;
                }
                YieldNow::default().await;
                part
            }
        };
        if let Some(stop) = merger.merge(part).await? {
            return Ok(Some(stop));
        }
    }
}

/// A chunk's part, when it is computed.
pub(crate) type ChunkResult<P> = oneshot::Receiver<Result<P, Error>>;

/// A spawned chunk: where its part arrives, and who runs it.
pub(crate) struct Chunk<P> {
    pub(crate) result: ChunkResult<P>,
    index: u64,
    /// Set by whoever starts the chunk: the job, or the driver itself.
    claimed: Arc<AtomicBool>,
}

impl<P> Chunk<P> {
    /// Takes the chunk for the caller to run, if nobody has started it.
    fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::Relaxed)
    }
}

/// When the merger's time limit passes, if it has one (and it is not too
/// far off to be an instant).
fn deadline<M: Passes>(merger: &Merger<'_, M>) -> Option<Instant> {
    let limit = merger.rules.time_limit?;
    merger.started.checked_add(limit)
}

/// Spawns chunk `index` of `pass` through `spawn`, to stop at `cancel` but
/// at no time limit (under MPI, rank 0 decides that between chunks); the
/// part arrives on the chunk's receiver. `Err(Cancelled)` if the executor
/// is gone.
#[cfg(feature = "mpi")]
pub(crate) fn spawn_chunk<P: Pass>(
    pass: &Arc<P>,
    spawn: impl Fn(Job) -> bool,
    index: u64,
    cancel: &Arc<AtomicBool>,
) -> Result<Chunk<P::Part>, Error> {
    spawn_halting(
        pass,
        spawn,
        index,
        &Arc::new(Halt::new(cancel.clone(), None)),
    )
}

/// What spawns chunks `rest` of `pass` through `spawn`, to stop at `halt`,
/// into `into`, when called: the start a caller's first chunk makes early.
/// A spawn that fails (the executor is gone) ends the list; the driver
/// spawns that chunk again and sees the failure.
fn spawn_later<P: Pass>(
    pass: &Arc<P>,
    spawn: &(impl Fn(Job) -> bool + Clone + Send + 'static),
    rest: Range<u64>,
    halt: &Arc<Halt>,
    into: &Arc<Mutex<Vec<Chunk<P::Part>>>>,
) -> impl FnOnce() + Send + 'static {
    let (pass, spawn, halt, into) = (pass.clone(), spawn.clone(), halt.clone(), into.clone());
    move || {
        let chunks = rest.map(|index| spawn_halting(&pass, &spawn, index, &halt));
        *into.lock().unwrap_or_else(PoisonError::into_inner) =
            chunks.map_while(Result::ok).collect();
    }
}

/// Spawns chunk `index` of `pass` through `spawn`, to stop at `halt`; the
/// part arrives on the chunk's receiver. `Err(Cancelled)` if the executor
/// is gone.
fn spawn_halting<P: Pass>(
    pass: &Arc<P>,
    spawn: impl Fn(Job) -> bool,
    index: u64,
    halt: &Arc<Halt>,
) -> Result<Chunk<P::Part>, Error> {
    let (sender, receiver) = oneshot::channel();
    let claimed = Arc::new(AtomicBool::new(false));
    let (pass, halt, claim) = (pass.clone(), halt.clone(), claimed.clone());
    let job = async move {
        // A chunk still queued when its run is cancelled never starts, nor
        // one its driver took back to run itself.
        if !halt.is_cancelled() && !claim.swap(true, Ordering::Relaxed) {
            let _ = sender.send(run_chunk_caught(&*pass, index, &halt));
        }
    };
    if spawn(Box::pin(job)) {
        Ok(Chunk {
            result: receiver,
            index,
            claimed,
        })
    } else {
        Err(Error::Cancelled)
    }
}

/// Runs chunks one after another in the awaiting task, yielding between
/// them so that a single-threaded host keeps running its other tasks.
async fn merge_inline<M: Passes>(merger: &mut Merger<'_, M>) -> Result<Option<Stop>, Error> {
    // A cancel of the run's task, from another thread, stops the chunk
    // running here at its next check; dropping the future between chunks
    // is the other cancel. A time limit still cuts a chunk short.
    let halt = Halt::new(merger.link.stop.clone(), deadline(merger));
    let pass = merger.pass.clone();
    while merger.chunks_merged < merger.chunks() {
        // As on a pool, the last merge is published as the final result.
        merger.report();
        YieldNow::default().await;
        let part = run_chunk_caught(&*pass, merger.chunks_merged, &halt)?;
        if let Some(stop) = merger.merge(part).await? {
            return Ok(Some(stop));
        }
    }
    Ok(None)
}

/// Runs one chunk, turning a panic of the integrand into an error.
fn run_chunk_caught<P: Pass>(pass: &P, index: u64, halt: &Halt) -> Result<P::Part, Error> {
    catch_unwind(AssertUnwindSafe(|| pass.run_chunk(index, halt)))
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
