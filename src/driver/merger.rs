//! The ordered prefix of a pass's merged chunks, the stop rules checked at
//! each of its boundaries, and the checkpoints taken there.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::driver::checkpoint::{Checkpoint, Header, PROBES};
use crate::driver::pass::{Merged, Pass, Passes};
use crate::runtime::executor::unblock_io;
use crate::runtime::task::TaskLink;
use crate::spec::probe::Probes;
use crate::spec::stop::StopRules;
use crate::{Error, Progress, Stop};

/// What a run does with checkpoints: where it starts, and where it saves.
#[derive(Debug, Default)]
pub(crate) struct Checkpointing {
    /// The spec's part of every checkpoint's header.
    pub(crate) header: Option<Header>,
    /// The integrand's values every checkpoint keeps.
    pub(crate) probes: Option<Probes>,
    /// Start from this checkpoint instead of from nothing.
    pub(crate) resume: Option<Checkpoint>,
    /// Publish a checkpoint to the task as chunks merge (see
    /// [`Publishing`]): the run is a spawned task (or an MPI rank), whose
    /// driver runs on its backend.
    pub(crate) publish: bool,
    /// Write a checkpoint to this path after every so many chunks.
    pub(crate) every: Option<(u64, PathBuf)>,
}

impl Checkpointing {
    /// Takes the integrand's probes before any chunk calls the integrand,
    /// and refuses a resume whose integrand gives other values there. Only
    /// a run that resumes or takes checkpoints calls the integrand for them.
    pub(crate) async fn probe(&self) -> Result<(), Error> {
        let Some(probes) = &self.probes else {
            return Ok(());
        };
        let checkpoints = self.header.is_some() && (self.publish || self.every.is_some());
        if !checkpoints && self.resume.is_none() {
            return Ok(());
        }
        if self.publish {
            // A spawned task's driver runs on its backend beside its chunks
            // (an MPI rank's on the rank's thread): it calls the integrand
            // as a chunk would, without a trip to another thread, which
            // cost a tiny task ~30 µs, more than its own work.
            probes.values()?;
        } else {
            // A run the caller drives may be on the host's event loop.
            let taking = probes.clone();
            unblock_io(move || taking.values()).await??;
        }
        match &self.resume {
            Some(checkpoint) => probes.check(checkpoint.header().probes),
            None => Ok(()),
        }
    }
}

/// One pass of a run, as its chunks merge.
pub(crate) struct Merger<'r, M: Passes> {
    pub(crate) method: &'r M,
    pub(crate) pass: Arc<M::Pass>,
    pub(crate) merged: Merged<M>,
    /// Chunks in `merged`: the next chunk to merge.
    pub(crate) chunks_merged: u64,
    /// Passes the method finished before this one.
    pub(crate) passes_done: u64,
    pub(crate) rules: StopRules,
    pub(crate) started: Instant,
    pub(crate) checkpointing: &'r Checkpointing,
    /// Chunks merged by the whole run, for `checkpoint_every`.
    pub(crate) run_chunks: &'r mut u64,
    pub(crate) publishing: &'r mut Publishing,
    pub(crate) link: &'r TaskLink,
}

/// How often a spawned task's checkpoint is taken as chunks merge. Taking
/// one encodes and checksums the whole state, which for VEGAS holds every
/// hypercube's sums (megabytes at 2^22 points): at every merge that was
/// most of a spawned run's time. So a checkpoint that took 50 µs or more
/// to take is taken again only when that was at most 1/[`MOST_SHARE`] of
/// the time since, and the driver publishes the last merged prefix when a
/// pass ends (finished, stopped or failed; a cancel drops the driver, and
/// the task keeps the last one published). A small state, plain MC's or
/// RQMC's, is published at every merge, as before.
///
/// [`MOST_SHARE`]: Publishing::MOST_SHARE
#[derive(Debug)]
pub(crate) struct Publishing {
    /// When the last checkpoint was published.
    last: Instant,
    /// How long taking it took.
    took: Duration,
    /// Whether a merged prefix is newer than the checkpoint published.
    behind: bool,
}

impl Publishing {
    /// The largest share of a run's time its published checkpoints take.
    const MOST_SHARE: u32 = 20;

    pub(crate) fn new() -> Publishing {
        Publishing {
            last: Instant::now(),
            took: Duration::ZERO,
            behind: false,
        }
    }

    /// A checkpoint quicker to take than this is taken at every merge.
    const ALWAYS_BELOW: Duration = Duration::from_micros(50);

    /// Whether a checkpoint is worth taking now.
    fn is_due(&self) -> bool {
        self.took < Self::ALWAYS_BELOW || self.last.elapsed() >= self.took * Self::MOST_SHARE
    }
}

impl<M: Passes> Merger<'_, M> {
    /// Chunks in the pass.
    pub(crate) fn chunks(&self) -> u64 {
        self.pass.chunks()
    }

    /// Merges the next chunk, takes any checkpoint due, and returns
    /// `Some(stop)` if a rule ends the run here.
    pub(crate) async fn merge(
        &mut self,
        part: <M::Pass as Pass>::Part,
    ) -> Result<Option<Stop>, Error> {
        // Past the time limit the part may be a chunk the limit cut short,
        // and the rules stop the run here: no checkpoint of it, so the
        // task's is brought up to the prefix before it.
        let time_up = self.rules.is_time_up(self.started);
        if time_up {
            self.catch_up();
        }
        self.pass.merge(&mut self.merged, part);
        if self.pass.overflowed(&self.merged) {
            return Err(Error::Overflow);
        }
        self.chunks_merged += 1;
        *self.run_chunks += 1;
        if time_up {
            return Ok(self.check());
        }
        if let Some((checkpoint, path)) = self.checkpoint() {
            // Off the thread that drives the run, which may be the host's
            // event loop; the run waits for the write, so writes land in
            // order and one that fails ends the run.
            unblock_io(move || checkpoint.write(path)).await??;
        }
        Ok(self.check())
    }

    /// Why the rules stop the run at this prefix, if they do.
    pub(crate) fn check(&self) -> Option<Stop> {
        if self.rules.is_empty() {
            return None;
        }
        let running = Some((&*self.pass, &self.merged));
        let estimate = self.method.estimate(running, Stop::Partial);
        let complete = self.method.is_complete(running);
        self.rules.check(&estimate, complete, self.started)
    }

    /// Publishes the prefix merged so far as the running estimate.
    pub(crate) fn report(&self) {
        if self.chunks_merged == 0 {
            return;
        }
        let running = Some((&*self.pass, &self.merged));
        self.link.progress.set(Progress {
            done: self.method.done(running),
            total: self.method.total(),
            estimate: Some(self.method.estimate(running, Stop::Partial)),
        });
    }

    /// Takes the checkpoint of this prefix if one is due: publishes it to
    /// the task (if it is taken, or if publishing is due), and returns it
    /// with its path if a file is due.
    fn checkpoint(&mut self) -> Option<(Checkpoint, PathBuf)> {
        let header = self.checkpointing.header?;
        let file = self
            .checkpointing
            .every
            .as_ref()
            .filter(|(every, _)| *self.run_chunks % every == 0);
        let publish = self.checkpointing.publish;
        if file.is_none() && !(publish && self.publishing.is_due()) {
            self.publishing.behind |= publish;
            return None;
        }
        let taking = Instant::now();
        let checkpoint = self.take(header);
        if publish {
            self.link.set_checkpoint(checkpoint.clone());
            *self.publishing = Publishing {
                last: Instant::now(),
                took: taking.elapsed(),
                behind: false,
            };
        }
        file.map(|(_, path)| (checkpoint, path.clone()))
    }

    /// The checkpoint of the prefix merged so far.
    fn take(&self, header: Header) -> Checkpoint {
        let mut state = Vec::new();
        self.method.encode(&mut state);
        self.pass.encode(&self.merged, &mut state);
        let header = Header {
            pass: self.passes_done,
            next_chunk: self.chunks_merged,
            done: self.method.done(Some((&*self.pass, &self.merged))),
            probes: self
                .checkpointing
                .probes
                .as_ref()
                .and_then(|probes| probes.values().ok())
                .unwrap_or([0; PROBES]),
            ..header
        };
        Checkpoint::new(&header, &state)
    }

    /// Publishes the merged prefix's checkpoint if the task's is older:
    /// when the pass ends, however it ends.
    pub(crate) fn catch_up(&mut self) {
        if let (true, Some(header)) = (self.publishing.behind, self.checkpointing.header) {
            self.link.set_checkpoint(self.take(header));
            self.publishing.behind = false;
        }
    }
}
