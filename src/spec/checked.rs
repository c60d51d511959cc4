//! A checked integral, ready to run: what `Integral` turns into when a run
//! starts.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::driver::checkpoint::{Header, PROBES, fnv1a};
use crate::driver::pass::Passes;
use crate::driver::{Checkpointing, drive};
use crate::method::{Visit, dispatch};
use crate::runtime::spawn::Spawner;
use crate::runtime::task::TaskLink;
use crate::spec::probe::Probes;
use crate::spec::settings::{Bounds, DEFAULT_MIN_SAMPLES, Settings};
use crate::spec::stop::{StopRules, Tolerance};
use crate::{Error, Estimate, Integrand, Method};

/// A checked integral: the settings every method shares are checked here,
/// each method's own when [`dispatch`] builds it.
pub(crate) struct Spec<I> {
    integrand: Arc<I>,
    settings: Settings,
    method: Method,
    rules: StopRules,
}

/// A run, ready to be awaited, and what it will report as its total.
pub(crate) struct Prepared {
    pub(crate) total: Option<u64>,
    pub(crate) run: Pin<Box<dyn Future<Output = Result<Estimate, Error>> + Send>>,
}

impl<I: Integrand> Spec<I> {
    /// Checks the settings every method shares, in the order a reader
    /// would: the budget, the stop rules, the checkpoints.
    pub(crate) fn new(
        integrand: &Arc<I>,
        settings: &Settings,
        method: Method,
    ) -> Result<Self, Error> {
        if integrand.components() == 0 {
            return Err(Error::NoComponents);
        }
        if settings.samples == 0 {
            return Err(Error::ZeroSamples);
        }
        if settings.chunk_size == Some(0) {
            return Err(Error::ZeroChunkSize);
        }
        let rules = stop_rules(settings)?;
        if settings
            .checkpoint_every
            .as_ref()
            .is_some_and(|(every, _)| *every == 0)
        {
            return Err(Error::ZeroCheckpointInterval);
        }
        if let Some(checkpoint) = &settings.resume {
            let saved = checkpoint.header();
            check_resume(&saved, &header(settings, &method, integrand.components()))?;
        }
        Ok(Spec {
            integrand: integrand.clone(),
            settings: settings.clone(),
            method,
            rules,
        })
    }

    /// Whether the run writes checkpoint files.
    #[cfg(feature = "mpi")]
    pub(crate) fn writes_checkpoint_files(&self) -> bool {
        self.settings.checkpoint_every.is_some()
    }

    /// Bytes that differ between two specs that would not give the same
    /// bits: the checkpoint header's fields, and where a resume starts.
    #[cfg(feature = "mpi")]
    pub(crate) fn fingerprint(&self) -> Vec<u8> {
        let header = header(&self.settings, &self.method, self.integrand.components());
        let resume = self.settings.resume.as_ref().map(crate::Checkpoint::header);
        [
            u64::from(header.kind),
            header.fingerprint,
            header.seed,
            header.samples,
            header.chunk_size,
            resume.map_or(u64::MAX, |resume| resume.pass),
            resume.map_or(u64::MAX, |resume| resume.next_chunk),
            resume.map_or(u64::MAX, |resume| resume.done),
        ]
        .iter()
        .flat_map(|field| field.to_le_bytes())
        .collect()
    }

    /// What a run of this spec does with checkpoints; `publish` puts one in
    /// the task's link as chunks merge, for a task's handle.
    pub(crate) fn checkpointing(&self, publish: bool) -> Checkpointing {
        Checkpointing {
            header: Some(header(
                &self.settings,
                &self.method,
                self.integrand.components(),
            )),
            probes: Some(Probes::new(&self.integrand, &self.settings.bounds)),
            resume: self.settings.resume.clone(),
            publish,
            every: self.settings.checkpoint_every.clone(),
        }
    }

    /// The stop rules the driver applies.
    #[cfg(feature = "mpi")]
    pub(crate) fn rules(&self) -> StopRules {
        self.rules
    }

    /// Checks the method against the spec and returns its run, with chunks
    /// on `spawner` and progress to `link`.
    pub(crate) fn prepare(
        &self,
        spawner: Spawner,
        link: TaskLink,
        publish: bool,
    ) -> Result<Prepared, Error> {
        let prepare = Prepare {
            spawner,
            link,
            rules: self.rules,
            checkpointing: self.checkpointing(publish),
        };
        self.dispatch(prepare)
    }

    /// Checks the method against the spec and hands it to `visitor`.
    pub(crate) fn dispatch<V: Visit>(&self, visitor: V) -> Result<V::Output, Error> {
        dispatch(&self.method, &self.integrand, &self.settings, visitor)
    }
}

/// The visit that turns a checked method into its run on a spawner.
struct Prepare {
    spawner: Spawner,
    link: TaskLink,
    rules: StopRules,
    checkpointing: Checkpointing,
}

impl Visit for Prepare {
    type Output = Prepared;

    fn visit<M: Passes + Sync>(self, method: M) -> Prepared {
        let Prepare {
            spawner,
            link,
            rules,
            checkpointing,
        } = self;
        Prepared {
            total: method.total(),
            run: Box::pin(
                async move { drive(method, &spawner, &link, rules, checkpointing).await },
            ),
        }
    }
}

/// What every checkpoint of this spec says about it (`next_chunk` aside).
/// A vector integrand's component count is part of its fingerprint; a
/// scalar one's fingerprint is what it was before vectors came.
fn header(settings: &Settings, method: &Method, components: usize) -> Header {
    let bits = |x: f64| x.to_bits().to_le_bytes();
    let mut domain = Vec::new();
    match &settings.bounds {
        Bounds::Interval(range) => {
            domain.push(0);
            domain.extend(bits(range.start).into_iter().chain(bits(range.end)));
        }
        Bounds::Box(ranges) => {
            domain.push(1);
            for range in ranges {
                domain.extend(bits(range.start).into_iter().chain(bits(range.end)));
            }
        }
    }
    let (kind, method) = method.fingerprint();
    let (abs, rel) = settings.tolerance.unwrap_or((f64::NAN, f64::NAN));
    let stop_rules = [
        bits(abs),
        bits(rel),
        settings.min_samples.unwrap_or(u64::MAX).to_le_bytes(),
    ]
    .concat();
    let policy = [settings.non_finite as u8];
    let components = (components as u64).to_le_bytes();
    let mut parts: Vec<&[u8]> = vec![
        settings.id.as_bytes(),
        &domain,
        &method,
        &policy,
        &stop_rules,
    ];
    if u64::from_le_bytes(components) != 1 {
        parts.push(&components);
    }
    Header {
        kind,
        fingerprint: fnv1a(&parts),
        seed: settings.seed,
        samples: settings.samples,
        // 0: the default policy, itself a function of the spec.
        chunk_size: settings.chunk_size.unwrap_or(0),
        pass: 0,
        next_chunk: 0,
        done: 0,
        probes: [0; PROBES],
    }
}

/// A checkpoint from another spec would resume a run it is not part of:
/// name what differs.
fn check_resume(saved: &Header, this: &Header) -> Result<(), Error> {
    let field = if saved.kind != this.kind {
        "method"
    } else if saved.fingerprint != this.fingerprint {
        "integrand id, components, domain, method, non-finite policy or stop rules"
    } else if saved.seed != this.seed {
        "seed"
    } else if saved.samples != this.samples {
        "sample budget"
    } else if saved.chunk_size != this.chunk_size {
        "chunk size"
    } else {
        return Ok(());
    };
    Err(Error::CheckpointMismatch { field })
}

fn stop_rules(settings: &Settings) -> Result<StopRules, Error> {
    let tolerance = match settings.tolerance {
        None => None,
        Some((abs, rel)) => {
            let valid = |t: f64| t.is_finite() && t >= 0.0;
            if !(valid(abs) && valid(rel) && (abs > 0.0 || rel > 0.0)) {
                return Err(Error::InvalidTolerance { abs, rel });
            }
            let min_samples = settings
                .min_samples
                .unwrap_or(DEFAULT_MIN_SAMPLES.min(settings.samples));
            if min_samples > settings.samples {
                return Err(Error::MinSamplesAboveBudget {
                    min_samples,
                    samples: settings.samples,
                });
            }
            Some(Tolerance {
                abs,
                rel,
                min_samples,
            })
        }
    };
    if settings.time_limit == Some(Duration::ZERO) {
        return Err(Error::ZeroTimeLimit);
    }
    Ok(StopRules {
        tolerance,
        time_limit: settings.time_limit,
    })
}
