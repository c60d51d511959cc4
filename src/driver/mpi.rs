//! Many processes: an integral over MPI, with the bits of one process.
//!
//! Every rank runs the same spec. The chunks go round in rounds: in each,
//! rank `r` computes a block of consecutive chunks on its own bundled
//! executor (all its cores), and the ranks' parts are gathered to every
//! rank (`MPI_Allgatherv`), where they are merged one chunk at a time in
//! chunk order, exactly as a single process merges them. So every rank
//! holds the same merged state, takes the same decisions on it (a
//! tolerance stops at the same chunk, VEGAS refines the same grid), and
//! ends with the same estimate as `Integral::run` on one machine, to the
//! bit. Memory stays bounded: a round holds one part per chunk of the round,
//! never the whole run. An all-reduce would be shorter, but MPI chooses
//! the order in which it adds, and the bits would depend on it.
//!
//! What no merged state decides is decided once and shared: rank 0 says
//! when a time limit has passed, and every round's message says whether
//! its rank failed or was cancelled, so that all ranks stop together with
//! an error that names the rank, and none waits for a rank that left.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mpi::datatype::PartitionMut;
use mpi::traits::{Communicator, CommunicatorCollectives, Root};

use crate::driver::pass::{Pass, Passes};
use crate::driver::{Backend, ChunkResult, Merger, drive, spawn_chunk};
use crate::method::Visit;
use crate::runtime::executor::{PoolHandle, default_executor};
use crate::runtime::task::TaskLink;
use crate::{Checkpoint, Error, Estimate, Integral, Integrand, Progress, Stop};

/// Chunks each rank computes per round, per worker thread of rank 0: as
/// many as the local driver keeps in flight, so that a round keeps every
/// core busy while the gather between rounds stays rare.
const CHUNKS_PER_THREAD: u64 = 4;

/// What a rank's message for a round starts with.
const OK: u8 = 0;
const FAILED: u8 = 1;
const CANCELLED: u8 = 2;

/// Cancels an MPI run and reads its progress, from another thread of the
/// same rank.
///
/// A cancel stops this rank's chunks at once; the other ranks stop at the
/// end of the round they are in, with [`Error::RankFailed`] naming this
/// rank. Progress is the same on every rank: samples merged, and the
/// running estimate.
///
/// # Examples
///
/// ```no_run
/// use mpi::traits::Communicator;
/// use quadpipe::{Integral, MpiControl};
///
/// let universe = mpi::initialize().unwrap();
/// let control = MpiControl::new();
/// let watcher = control.clone();
/// std::thread::spawn(move || loop {
///     std::thread::sleep(std::time::Duration::from_secs(1));
///     eprintln!("{} samples merged", watcher.progress().done);
/// });
/// let estimate = Integral::new(|x| x * x, 0.0..1.0)
///     .samples(1 << 34)
///     .run_mpi_with(&universe.world(), &control)?;
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MpiControl {
    link: TaskLink,
}

impl MpiControl {
    /// A control for one run.
    ///
    /// # Examples
    ///
    /// ```
    /// let control = quadpipe::MpiControl::new();
    /// assert_eq!(control.progress().done, 0);
    /// ```
    pub fn new() -> MpiControl {
        MpiControl::default()
    }

    /// Asks the run to stop: it returns [`Error::Cancelled`] on this rank.
    ///
    /// # Examples
    ///
    /// ```
    /// let control = quadpipe::MpiControl::new();
    /// control.cancel();
    /// ```
    pub fn cancel(&self) {
        self.link.stop.store(true, Ordering::Relaxed);
    }

    /// The run's progress so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let control = quadpipe::MpiControl::new();
    /// assert_eq!(control.progress().estimate, None);
    /// ```
    pub fn progress(&self) -> Progress {
        self.link.progress.get()
    }

    /// The run's state at its last merge, the same on every rank: save it
    /// (from one rank) and a later run can
    /// [`resume`](Integral::resume) from it, under MPI or not, and end
    /// with the bits of an uninterrupted run. `None` before the first merge.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use mpi::traits::Communicator;
    /// use quadpipe::{Integral, MpiControl};
    ///
    /// let universe = mpi::initialize().unwrap();
    /// let world = universe.world();
    /// let integral = Integral::new(|x| x * x, 0.0..1.0).samples(1 << 34);
    /// let control = MpiControl::new();
    /// if integral.run_mpi_with(&world, &control).is_err() && world.rank() == 0 {
    ///     if let Some(checkpoint) = control.checkpoint() {
    ///         checkpoint.write("integral.checkpoint")?;
    ///     }
    /// }
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.link.checkpoint()
    }
}

impl<I: Integrand> Integral<I> {
    /// Runs the integral on every rank of `communicator`, each rank's share
    /// of the chunks on its own default executor, and returns on every rank
    /// the same estimate, bit for bit, as [`run`](Integral::run) gives in
    /// one process. Every rank must call it with the same integral (the
    /// spec is compared first). Blocks the calling thread, which makes all
    /// the MPI calls: an MPI initialised without thread support is enough.
    ///
    /// Each rank uses every thread of its executor: launch ranks that are
    /// not bound to one core each (OpenMPI's default for up to two ranks),
    /// for example with `mpirun --bind-to none`.
    ///
    /// # Errors
    ///
    /// As [`run`](Integral::run), the same on every rank: a rank that
    /// fails or is cancelled returns its own error, and every other rank
    /// [`Error::RankFailed`] naming it. [`Error::RankFailed`] also if the
    /// ranks' integrals differ, and [`Error::MpiCheckpointFiles`] if
    /// [`checkpoint_every`](Integral::checkpoint_every) is set.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use mpi::traits::Communicator;
    ///
    /// let universe = mpi::initialize().unwrap();
    /// let world = universe.world();
    /// let estimate = quadpipe::Integral::new(|x| x, 0.0..std::f64::consts::PI)
    ///     .samples(1 << 34)
    ///     .run_mpi(&world)?;
    /// if world.rank() == 0 {
    ///     println!("{estimate} on {} ranks", world.size());
    /// }
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn run_mpi(&self, communicator: &impl Communicator) -> Result<Estimate, Error> {
        self.run_mpi_with(communicator, &MpiControl::new())
    }

    /// [`run_mpi`](Integral::run_mpi), with a control to cancel the run or
    /// read its progress from another thread.
    ///
    /// # Errors
    ///
    /// As [`run_mpi`](Integral::run_mpi); [`Error::Cancelled`] on a rank
    /// whose control cancelled.
    ///
    /// # Examples
    ///
    /// See [`MpiControl`].
    pub fn run_mpi_with(
        &self,
        communicator: &impl Communicator,
        control: &MpiControl,
    ) -> Result<Estimate, Error> {
        let prepared = self.spec().and_then(|spec| {
            if spec.writes_checkpoint_files() {
                return Err(Error::MpiCheckpointFiles);
            }
            let executor = default_executor()?;
            Ok((spec, executor))
        });
        let per_rank = prepared.as_ref().map_or(1, |(_, executor)| {
            executor.threads() as u64 * CHUNKS_PER_THREAD
        });
        let fingerprint = prepared
            .as_ref()
            .map_or_else(|_| Vec::new(), |(spec, _)| spec.fingerprint());
        let agreed = agree(
            communicator,
            prepared.as_ref().err(),
            &fingerprint,
            per_rank,
        );
        // This rank's own error first; the others name it by its rank.
        let (spec, executor) = prepared?;
        let per_rank = agreed?;
        let run = RunOnRanks {
            backend: MpiBackend {
                communicator,
                pool: executor.handle(),
                cancel: control.link.stop.clone(),
                per_rank,
            },
            link: &control.link,
            rules: spec.rules(),
            checkpointing: spec.checkpointing(true),
        };
        spec.dispatch(run)?
    }
}

/// The visit that runs a checked method over the ranks.
struct RunOnRanks<'a, C> {
    backend: MpiBackend<'a, C>,
    link: &'a TaskLink,
    rules: crate::spec::stop::StopRules,
    checkpointing: crate::driver::Checkpointing,
}

impl<C: Communicator> Visit for RunOnRanks<'_, C> {
    type Output = Result<Estimate, Error>;

    fn visit<M: Passes + Sync>(self, method: M) -> Result<Estimate, Error> {
        let RunOnRanks {
            backend,
            link,
            rules,
            checkpointing,
        } = self;
        pollster::block_on(drive(method, &backend, link, rules, checkpointing))
    }
}

/// Checks that every rank is ready to run the same spec, and returns the
/// chunks per rank per round, rank 0's choice. Collective, and every rank
/// decides alike: if any rank failed or differs, all return an error (a
/// rank that failed returns its own, which its caller holds).
fn agree(
    communicator: &impl Communicator,
    failed: Option<&Error>,
    fingerprint: &[u8],
    per_rank: u64,
) -> Result<u64, Error> {
    let mut message = Vec::new();
    match failed {
        Some(err) => {
            message.push(FAILED);
            message.extend_from_slice(err.to_string().as_bytes());
        }
        None => {
            message.push(OK);
            message.extend_from_slice(&per_rank.to_le_bytes());
            message.extend_from_slice(fingerprint);
        }
    }
    let messages = all_gather(communicator, &message);
    if let Some(rank) = messages.iter().position(|message| message[0] == FAILED) {
        let reason = String::from_utf8_lossy(&messages[rank][1..]).into_owned();
        return Err(Error::RankFailed { rank, reason });
    }
    // The same spec everywhere; the round size is rank 0's, whatever the
    // others' thread counts.
    let spec = |message: &[u8]| message[9..].to_vec();
    if let Some(rank) = messages
        .iter()
        .position(|message| spec(message) != spec(&messages[0]))
    {
        return Err(Error::RankFailed {
            rank,
            reason: "its integral differs from rank 0's (integrand id, domain, \
                     method, stop rules, seed, budget, chunk size or resume point)"
                .into(),
        });
    }
    let per_rank = messages[0][1..9].try_into().expect("8 bytes");
    Ok(u64::from_le_bytes(per_rank).max(1))
}

/// Every rank's `message`, in rank order, on every rank.
fn all_gather(communicator: &impl Communicator, message: &[u8]) -> Vec<Vec<u8>> {
    let size = usize::try_from(communicator.size()).expect("a communicator has ranks");
    let length = mpi::Count::try_from(message.len()).expect("a round's message is under 2 GiB");
    let mut lengths = vec![0 as mpi::Count; size];
    communicator.all_gather_into(&length, &mut lengths[..]);
    let offsets: Vec<mpi::Count> = lengths
        .iter()
        .scan(0, |at, &length| {
            let offset = *at;
            *at += length;
            Some(offset)
        })
        .collect();
    let total = lengths.iter().map(|&length| length as usize).sum();
    let mut all = vec![0u8; total];
    {
        let mut partition = PartitionMut::new(&mut all[..], &lengths[..], &offsets[..]);
        communicator.all_gather_varcount_into(message, &mut partition);
    }
    offsets
        .iter()
        .zip(&lengths)
        .map(|(&offset, &length)| all[offset as usize..(offset + length) as usize].to_vec())
        .collect()
}

/// The chunks of a run spread over the ranks of a communicator.
struct MpiBackend<'c, C> {
    communicator: &'c C,
    pool: PoolHandle,
    cancel: Arc<AtomicBool>,
    per_rank: u64,
}

impl<C: Communicator> MpiBackend<'_, C> {
    /// Starts computing `chunks` on this rank's pool.
    fn start_local<P: Pass>(&self, pass: &Arc<P>, chunks: Range<u64>) -> Local<P::Part> {
        let spawn = |job| self.pool.spawn_detached(job);
        let mut local = Local {
            pending: Vec::with_capacity(chunks.clone().count()),
            failed: None,
        };
        for index in chunks {
            match spawn_chunk(pass, spawn, index, &self.cancel) {
                Ok(chunk) => local.pending.push(chunk.result),
                Err(err) => {
                    local.failed = Some(err);
                    break;
                }
            }
        }
        local
    }
    /// This rank's message for a round: its status (with the error's text
    /// if it failed), then each part that it computed, length first.
    fn message<P: Pass>(&self, pass: &P, parts: &[P::Part], failed: Option<&Error>) -> Vec<u8> {
        let mut message = Vec::new();
        match failed {
            _ if self.cancel.load(Ordering::Relaxed) => message.push(CANCELLED),
            Some(err) => {
                message.push(FAILED);
                let text = err.to_string();
                push_field(&mut message, |out| out.extend_from_slice(text.as_bytes()));
            }
            None => message.push(OK),
        }
        if message[0] != CANCELLED {
            for part in parts {
                push_field(&mut message, |out| pass.encode_part(part, out));
            }
        }
        message
    }
}

/// This rank's chunks of a round, in flight.
struct Local<P> {
    pending: Vec<ChunkResult<P>>,
    /// Why the chunks after the pending ones were not started.
    failed: Option<Error>,
}

impl<P> Local<P> {
    /// The parts of the chunks before the first that failed, in chunk
    /// order, and its error. Chunks still running after an error finish
    /// and are dropped: a round holds few of them.
    async fn finish(self) -> (Vec<P>, Option<Error>) {
        let mut parts = Vec::with_capacity(self.pending.len());
        for chunk in self.pending {
            match chunk.await.unwrap_or(Err(Error::Cancelled)) {
                Ok(part) => parts.push(part),
                Err(err) => return (parts, Some(err)),
            }
        }
        (parts, self.failed)
    }
}

/// Appends what `write` writes, length first.
fn push_field(message: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let at = message.len();
    message.extend_from_slice(&[0; 8]);
    write(message);
    let length = (message.len() - at - 8) as u64;
    message[at..at + 8].copy_from_slice(&length.to_le_bytes());
}

/// Splits off the length-prefixed field at the front of `bytes`.
fn next_field<'m>(bytes: &mut &'m [u8]) -> Option<&'m [u8]> {
    let (length, rest) = bytes.split_first_chunk::<8>()?;
    let (field, rest) = rest.split_at(u64::from_le_bytes(*length) as usize);
    *bytes = rest;
    Some(field)
}

impl<C: Communicator> Backend for MpiBackend<'_, C> {
    async fn merge_chunks<M: Passes>(
        &self,
        _link: &TaskLink,
        merger: &mut Merger<'_, M>,
    ) -> Result<Option<Stop>, Error> {
        let work = merger.pass.clone();
        // Decided once per round, by rank 0, not at each merge by each.
        let time_limit = merger.rules.time_limit.take();
        let rank = u64::try_from(self.communicator.rank()).expect("ranks are not negative");
        let size = self.communicator.size() as u64;
        let per_round = self.per_rank.saturating_mul(size);
        // The round from chunk `start` on: its end, and this rank's share.
        let round = |start: u64| {
            let end = work.chunks().min(start.saturating_add(per_round));
            let from = start.saturating_add(rank * self.per_rank).min(end);
            (end, from..from.saturating_add(self.per_rank).min(end))
        };
        let mut local = self.start_local(&work, round(merger.chunks_merged).1);
        loop {
            let start = merger.chunks_merged;
            if start >= work.chunks() {
                return Ok(None);
            }
            let end = round(start).0;
            let (parts, failed) = local.finish().await;
            // The next round computes while this one's parts travel and
            // merge; if this one ends the run, the next is dropped.
            local = match failed {
                None => self.start_local(&work, round(end).1),
                Some(_) => Local {
                    pending: Vec::new(),
                    failed: None,
                },
            };
            let message = self.message(&*work, &parts, failed.as_ref());
            let messages = all_gather(self.communicator, &message);
            // In rank order, which is chunk order, as one process merges:
            // the parts a rank computed before its failure merge first, and
            // a stop rule met there wins over the failure, whose chunk one
            // process would never have awaited.
            for (sender, message) in messages.iter().enumerate() {
                let mut rest = &message[1..];
                let reason = match message[0] {
                    OK => None,
                    CANCELLED => Some("cancelled".to_owned()),
                    _ => {
                        next_field(&mut rest).map(|text| String::from_utf8_lossy(text).into_owned())
                    }
                };
                while let Some(part) = next_field(&mut rest) {
                    let part = work.decode_part(part).expect("a part this version encoded");
                    if let Some(stop) = merger.merge(part).await? {
                        return Ok(Some(stop));
                    }
                }
                if let Some(reason) = reason {
                    return Err(if sender as u64 == rank {
                        match failed {
                            Some(err) if message[0] == FAILED => err,
                            _ => Error::Cancelled,
                        }
                    } else {
                        Error::RankFailed {
                            rank: sender,
                            reason,
                        }
                    });
                }
            }
            if merger.chunks_merged < work.chunks() {
                merger.report();
            }
            if let Some(limit) = time_limit {
                if self.time_is_up(merger.started, limit)? {
                    return Ok(Some(Stop::TimeLimit));
                }
            }
        }
    }

    fn time_is_up(&self, started: Instant, limit: Duration) -> Result<bool, Error> {
        let mut up = u8::from(started.elapsed() >= limit);
        self.communicator.process_at_rank(0).broadcast_into(&mut up);
        Ok(up == 1)
    }
}
