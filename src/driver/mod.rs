//! The driver: one loop for every method. It asks the method for its next
//! pass, runs the pass's chunks on a backend, merges them in chunk order,
//! reports progress, checkpoints, applies the stop rules, and hands the
//! merged pass back to the method, until the method is done or a rule
//! stops the run.
//!
//! Nothing here knows about random numbers or any one method (that is the
//! methods' business), and nothing below it knows about runtimes.

mod backend;
pub(crate) mod checkpoint;
pub(crate) mod halt;
mod merger;
#[cfg(feature = "mpi")]
pub(crate) mod mpi;
pub(crate) mod pass;

use std::time::Instant;

use crate::driver::checkpoint::{Header, StateReader};
use crate::runtime::task::TaskLink;
use crate::spec::stop::StopRules;
use crate::{Error, Estimate, Progress, Stop};
pub(crate) use backend::{Backend, YieldNow};
#[cfg(feature = "mpi")]
pub(crate) use backend::{ChunkResult, spawn_chunk};
pub(crate) use merger::{Checkpointing, Merger, Publishing};
use pass::{Merged, Pass, Passes};

/// Runs `method` pass after pass with its chunks on `backend` until it is
/// done or a rule in `rules` stops it, and returns its estimate, publishing
/// progress to `link` as chunks merge and stopping at once when its flag is
/// set.
pub(crate) async fn drive<M: Passes, B: Backend>(
    mut method: M,
    backend: &B,
    link: &TaskLink,
    mut rules: StopRules,
    checkpointing: Checkpointing,
) -> Result<Estimate, Error> {
    if method.owns_tolerance() {
        rules.tolerance = None;
    }
    announce(method.total(), link);
    checkpointing.probe().await?;
    let started = Instant::now();
    let mut resumed = match &checkpointing.resume {
        Some(checkpoint) => Some(resume(
            &mut method,
            checkpoint.header(),
            checkpoint.state(),
        )?),
        None => None,
    };
    let mut passes_done = resumed.as_ref().map_or(0, |resumed| resumed.passes_done);
    let first = passes_done;
    let mut run_chunks = 0;
    let mut publishing = Publishing::new();
    let stop = loop {
        let (pass, merged, chunks_merged) = match resumed.take() {
            Some(resumed) => (resumed.pass, resumed.merged, resumed.chunks_merged),
            None => {
                // The first pass always runs, as the first chunk always
                // merges: a time limit stops a run that has something.
                if let Some(limit) = rules.time_limit {
                    if passes_done > first && backend.time_is_up(started, limit)? {
                        break Stop::TimeLimit;
                    }
                }
                let Some(pass) = method.next_pass() else {
                    break rules.exhausted();
                };
                if passes_done > first {
                    // What the finished passes give, while the next runs.
                    let estimate = method.estimate(None, Stop::Partial);
                    publish(&method, None, estimate, link);
                }
                let merged = pass.start();
                (pass, merged, 0)
            }
        };
        let mut merger = Merger {
            method: &method,
            pass,
            merged,
            chunks_merged,
            passes_done,
            rules,
            started,
            checkpointing: &checkpointing,
            run_chunks: &mut run_chunks,
            publishing: &mut publishing,
            link,
        };
        // A resumed prefix may be where the rules stopped the run that
        // saved it: they decide again before anything new is merged.
        let stopped = match (chunks_merged > 0).then(|| merger.check()).flatten() {
            Some(stop) => Some(stop),
            None => {
                let merged = backend.merge_chunks(link, &mut merger).await;
                // The task's checkpoint is the last merge's, however the
                // pass ended (a cancel and an error included).
                merger.catch_up();
                merged?
            }
        };
        let (pass, merged) = (merger.pass, merger.merged);
        if let Some(stop) = stopped {
            let estimate = finite(method.estimate(Some((&*pass, &merged)), stop))?;
            publish(&method, Some((&*pass, &merged)), estimate.clone(), link);
            return Ok(estimate);
        }
        let ended = method.end_pass(&pass, merged)?;
        passes_done += 1;
        if let Some(stop) = ended {
            break stop;
        }
        let estimate = method.estimate(None, Stop::Partial);
        let complete = method.is_complete(None);
        // A time limit waits for the next pass's turn (under MPI, all
        // ranks decide it together there).
        let tolerance_only = StopRules {
            time_limit: None,
            ..rules
        };
        if let Some(stop) = tolerance_only.check(&estimate, complete, started) {
            break stop;
        }
    };
    let estimate = finite(method.estimate(None, stop))?;
    publish(&method, None, estimate.clone(), link);
    Ok(estimate)
}

/// A value out of the range of an f64 is an error, never a result: finite
/// sums can still scale past it (a mean of 1e308 over a width of 2).
fn finite(estimate: Estimate) -> Result<Estimate, Error> {
    if estimate.each().all(|(value, _)| value.is_finite()) {
        Ok(estimate)
    } else {
        Err(Error::Overflow)
    }
}

/// Where a checkpoint left a run: the method's state restored, and the pass
/// it was in with its merged prefix.
struct Resumed<M: Passes> {
    passes_done: u64,
    pass: std::sync::Arc<M::Pass>,
    merged: Merged<M>,
    chunks_merged: u64,
}

fn resume<M: Passes>(method: &mut M, header: Header, state: &[u8]) -> Result<Resumed<M>, Error> {
    let corrupt = Error::CheckpointCorrupt {
        reason: "its state does not fit the method",
    };
    let mut reader = StateReader(state);
    method.decode(&mut reader).ok_or(corrupt.clone())?;
    let pass = method.next_pass().ok_or(corrupt.clone())?;
    let merged = pass.decode(&mut reader).ok_or(corrupt.clone())?;
    if !reader.is_done() || header.next_chunk > pass.chunks() {
        return Err(corrupt);
    }
    Ok(Resumed {
        passes_done: header.pass,
        pass,
        merged,
        chunks_merged: header.next_chunk,
    })
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

fn publish<M: Passes>(
    method: &M,
    running: pass::Running<'_, M>,
    estimate: Estimate,
    link: &TaskLink,
) {
    link.progress.set(Progress {
        done: method.done(running),
        total: method.total(),
        estimate: Some(estimate),
    });
}
