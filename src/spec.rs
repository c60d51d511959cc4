//! A checked integral, ready to run: what `Integral` turns into when a run
//! starts.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::checkpoint::{Header, fnv1a};
use crate::domain::Domain;
use crate::method::gauss_kronrod::{GkSettings, MIN_RELATIVE};
use crate::method::plain::PlainMonteCarlo;
use crate::method::quadrature::GaussKronrod;
use crate::method::sobol::RandomisedSobol;
use crate::method::vegas::{self, Vegas, VegasSettings};
use crate::pipeline::{Backend, Checkpointing, ChunkedWork, drive};
use crate::stop::{StopRules, Tolerance};
use crate::task::TaskLink;
use crate::{Checkpoint, Error, Estimate, Integrand, Method, NonFinite};

const PLAIN_KIND: u8 = <PlainMonteCarlo<crate::Scalar<fn(f64) -> f64>> as ChunkedWork>::KIND;
const SOBOL_KIND: u8 = <RandomisedSobol<crate::Scalar<fn(f64) -> f64>> as ChunkedWork>::KIND;
const QUADRATURE_KIND: u8 = <GaussKronrod<crate::Scalar<fn(f64) -> f64>> as ChunkedWork>::KIND;

/// The minimum sample count of a tolerance stop when none is set: enough
/// that the standard error itself is known to a few percent, so one lucky
/// early chunk cannot end a run.
pub(crate) const DEFAULT_MIN_SAMPLES: u64 = 1 << 16;

/// The region an `Integral` was given, before it is checked.
#[derive(Clone, Debug)]
pub(crate) enum Bounds {
    /// A one-dimensional, oriented interval.
    Interval(Range<f64>),
    /// A box: one range per axis.
    Box(Vec<Range<f64>>),
}

/// Everything an `Integral` was told, before it is checked.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) bounds: Bounds,
    pub(crate) samples: u64,
    pub(crate) seed: u64,
    pub(crate) chunk_size: u64,
    pub(crate) method: Method,
    pub(crate) tolerance: Option<(f64, f64)>,
    pub(crate) min_samples: Option<u64>,
    pub(crate) time_limit: Option<Duration>,
    pub(crate) non_finite: NonFinite,
    /// Names the integrand in checkpoints: a closure has no name of its own.
    pub(crate) id: Arc<str>,
    pub(crate) checkpoint_every: Option<(u64, PathBuf)>,
    pub(crate) resume: Option<Checkpoint>,
}

/// A checked integral.
pub(crate) struct Spec<I> {
    integrand: Arc<I>,
    plan: Plan,
    settings: Settings,
    rules: StopRules,
}

/// What the method works on: a domain to sample, or an interval to
/// subdivide (whose bounds may be infinite).
enum Plan {
    Sampling(Domain),
    Vegas(Domain, VegasSettings),
    Quadrature(f64, f64, GkSettings),
}

impl<I: Integrand> Spec<I> {
    /// Checks every setting, in the order a reader would: the domain, the
    /// budget, the stop rules, then what the method needs.
    pub(crate) fn new(integrand: &Arc<I>, settings: &Settings) -> Result<Self, Error> {
        let plan = match settings.method {
            Method::GaussKronrod { limit } => quadrature(settings, limit)?,
            _ => Plan::Sampling(match &settings.bounds {
                Bounds::Interval(range) => Domain::interval(range)?,
                Bounds::Box(ranges) => Domain::cube(ranges)?,
            }),
        };
        if settings.samples == 0 {
            return Err(Error::ZeroSamples);
        }
        if settings.chunk_size == 0 {
            return Err(Error::ZeroChunkSize);
        }
        let mut rules = stop_rules(settings)?;
        let plan = match (plan, settings.method) {
            (Plan::Sampling(domain), Method::Sobol { replicas }) => {
                check_sobol(&domain, settings, replicas)?;
                Plan::Sampling(domain)
            }
            (
                Plan::Sampling(domain),
                Method::Vegas {
                    iterations,
                    warmup,
                    alpha,
                    increments,
                },
            ) => {
                let vegas =
                    VegasSettings::new(iterations, warmup, alpha, increments, settings.samples)?;
                Plan::Vegas(domain, vegas)
            }
            // The quadrature's tolerance is its own; only a time limit is
            // checked by the pipeline.
            (plan @ Plan::Quadrature(..), _) => {
                rules.tolerance = None;
                plan
            }
            (plan, _) => plan,
        };
        if settings
            .checkpoint_every
            .as_ref()
            .is_some_and(|(every, _)| *every == 0)
        {
            return Err(Error::ZeroCheckpointInterval);
        }
        if let Some(checkpoint) = &settings.resume {
            check_resume(&checkpoint.header(), &header(settings))?;
        }
        Ok(Spec {
            integrand: integrand.clone(),
            plan,
            settings: settings.clone(),
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
        let header = header(&self.settings);
        let resume = self.settings.resume.as_ref();
        [
            u64::from(header.kind),
            header.fingerprint,
            header.seed,
            header.samples,
            header.chunk_size,
            resume.map_or(u64::MAX, |checkpoint| checkpoint.header().next_chunk),
            resume.map_or(u64::MAX, Checkpoint::samples_done),
        ]
        .iter()
        .flat_map(|field| field.to_le_bytes())
        .collect()
    }

    /// Samples in the whole budget: 0 when the domain has zero width, and
    /// not known in advance for quadrature.
    pub(crate) fn total(&self) -> Option<u64> {
        match &self.plan {
            Plan::Sampling(domain) if domain.is_degenerate() => Some(0),
            Plan::Sampling(_) => Some(self.settings.samples),
            Plan::Vegas(domain, _) if domain.is_degenerate() => Some(0),
            Plan::Vegas(_, vegas) => Some(vegas.total()),
            Plan::Quadrature(..) => None,
        }
    }

    /// Runs the integral with its chunks computed by `backend`; `publish` puts a
    /// checkpoint in `link` at every merge, for a task's handle.
    pub(crate) async fn run<B: Backend>(
        self,
        backend: B,
        link: TaskLink,
        publish: bool,
    ) -> Result<Estimate, Error> {
        let Spec {
            integrand,
            plan,
            settings,
            rules,
        } = self;
        let checkpointing = Checkpointing {
            header: Some(header(&settings)),
            resume: settings.resume.clone(),
            publish,
            every: settings.checkpoint_every.clone(),
        };
        let domain = match plan {
            Plan::Quadrature(a, b, quadrature) => {
                let work = GaussKronrod {
                    integrand,
                    a,
                    b,
                    settings: quadrature,
                };
                return drive(Arc::new(work), &backend, link, rules, checkpointing).await;
            }
            Plan::Vegas(domain, vegas) => {
                let work = Vegas {
                    integrand,
                    domain,
                    seed: settings.seed,
                    chunk_size: settings.chunk_size,
                    policy: settings.non_finite,
                    settings: vegas,
                };
                return work.run(&backend, link, rules, checkpointing).await;
            }
            Plan::Sampling(domain) => domain,
        };
        match settings.method {
            Method::Sobol { replicas } => {
                let work = RandomisedSobol::new(
                    integrand,
                    domain,
                    settings.seed,
                    settings.samples,
                    settings.chunk_size,
                    replicas,
                    settings.non_finite,
                );
                drive(Arc::new(work), &backend, link, rules, checkpointing).await
            }
            _ => {
                let work = PlainMonteCarlo {
                    integrand,
                    domain,
                    seed: settings.seed,
                    samples: settings.samples,
                    chunk_size: settings.chunk_size,
                    policy: settings.non_finite,
                };
                drive(Arc::new(work), &backend, link, rules, checkpointing).await
            }
        }
    }
}

/// The relative tolerance of Gauss–Kronrod when none is set.
const DEFAULT_QUADRATURE_REL: f64 = 1e-10;

/// Gauss–Kronrod's plan: one dimension, bounds that are not NaN (infinite
/// is fine: QAGI maps them), and a tolerance QUADPACK accepts.
fn quadrature(settings: &Settings, limit: u32) -> Result<Plan, Error> {
    let (a, b) = match &settings.bounds {
        Bounds::Interval(range) => (range.start, range.end),
        Bounds::Box(ranges) if ranges.len() == 1 => (ranges[0].start, ranges[0].end),
        Bounds::Box(ranges) => return Err(Error::QuadratureDimensions { dims: ranges.len() }),
    };
    for value in [a, b] {
        if value.is_nan() {
            return Err(Error::NonFiniteBound { axis: 0, value });
        }
    }
    if limit == 0 {
        return Err(Error::ZeroSubdivisionLimit);
    }
    let (abs, rel) = settings.tolerance.unwrap_or((0.0, DEFAULT_QUADRATURE_REL));
    let valid = |t: f64| t.is_finite() && t >= 0.0;
    if !(valid(abs) && valid(rel) && (abs > 0.0 || rel >= MIN_RELATIVE)) {
        return Err(Error::InvalidTolerance { abs, rel });
    }
    Ok(Plan::Quadrature(
        a,
        b,
        GkSettings {
            abs,
            rel,
            limit: limit as usize,
        },
    ))
}

/// What every checkpoint of this spec says about it (`next_chunk` aside).
fn header(settings: &Settings) -> Header {
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
    let (kind, method): (u8, Vec<u8>) = match settings.method {
        Method::Sobol { replicas } => (SOBOL_KIND, replicas.to_le_bytes().to_vec()),
        Method::GaussKronrod { limit } => (QUADRATURE_KIND, limit.to_le_bytes().to_vec()),
        Method::Vegas {
            iterations,
            warmup,
            alpha,
            increments,
        } => (
            vegas::KIND,
            [
                iterations.to_le_bytes(),
                warmup.to_le_bytes(),
                increments.to_le_bytes(),
            ]
            .concat()
            .into_iter()
            .chain(bits(alpha))
            .collect(),
        ),
        _ => (PLAIN_KIND, Vec::new()),
    };
    let (abs, rel) = settings.tolerance.unwrap_or((f64::NAN, f64::NAN));
    let stop_rules = [
        bits(abs),
        bits(rel),
        settings.min_samples.unwrap_or(u64::MAX).to_le_bytes(),
    ]
    .concat();
    let policy = [settings.non_finite as u8];
    Header {
        kind,
        fingerprint: fnv1a(&[
            settings.id.as_bytes(),
            &domain,
            &method,
            &policy,
            &stop_rules,
        ]),
        seed: settings.seed,
        samples: settings.samples,
        chunk_size: settings.chunk_size,
        next_chunk: 0,
    }
}

/// A checkpoint from another spec would resume a run it is not part of:
/// name what differs.
fn check_resume(saved: &Header, this: &Header) -> Result<(), Error> {
    let field = if saved.kind != this.kind {
        "method"
    } else if saved.fingerprint != this.fingerprint {
        "integrand id, domain, method, non-finite policy or stop rules"
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

/// What randomised QMC needs: replicas that can have a spread, a dimension
/// the direction numbers cover, and power-of-two point counts, since a
/// Sobol sequence is balanced only on blocks of 2^m points.
fn check_sobol(domain: &Domain, settings: &Settings, replicas: u32) -> Result<(), Error> {
    use crate::sample::sobol::{MAX_DIMENSIONS, MAX_LOG2_POINTS};

    if replicas < 2 {
        return Err(Error::TooFewReplicas { replicas });
    }
    if domain.dims() > MAX_DIMENSIONS {
        return Err(Error::TooManyDimensions {
            dims: domain.dims(),
            max: MAX_DIMENSIONS,
        });
    }
    let per_replica = settings.samples / u64::from(replicas);
    if settings.samples % u64::from(replicas) != 0
        || !per_replica.is_power_of_two()
        || per_replica.trailing_zeros() > MAX_LOG2_POINTS
    {
        return Err(Error::SobolSamples {
            samples: settings.samples,
            replicas,
        });
    }
    if !settings.chunk_size.is_power_of_two() {
        return Err(Error::SobolChunkSize {
            chunk_size: settings.chunk_size,
        });
    }
    Ok(())
}
