//! Plain Monte Carlo: chunks of independent uniform points.

use std::sync::Arc;

use crate::driver::checkpoint::StateReader;
use crate::driver::halt::Halt;
use crate::driver::pass::{OnePass, Pass};
use crate::kernel::chunk::{McChunk, McPart, overflowed, pair_indices};
use crate::result::estimate::ComponentEstimate;
use crate::sample::chunk_key;
use crate::spec::domain::Domain;
use crate::spec::settings::Settings;
use crate::{Accumulator, Error, Estimate, Integrand, NonFinite, Stop, TailCheck};

/// The integral over a domain by plain Monte Carlo: the mean of the
/// integrand at uniform random points, times the domain's volume.
pub(crate) struct PlainMonteCarlo<I> {
    pub(crate) integrand: Arc<I>,
    pub(crate) domain: Domain,
    pub(crate) seed: u64,
    pub(crate) samples: u64,
    pub(crate) chunk_size: u64,
    pub(crate) policy: NonFinite,
    /// Values a point: 1, or a vector integrand's `m`.
    pub(crate) components: usize,
}

impl<I: Integrand> PlainMonteCarlo<I> {
    /// Plain Monte Carlo over the spec's box, which must be finite.
    pub(crate) fn new(integrand: &Arc<I>, settings: &Settings) -> Result<Self, Error> {
        let domain = settings.domain()?;
        Ok(PlainMonteCarlo {
            integrand: integrand.clone(),
            chunk_size: settings.chunk_size_for(settings.samples, domain.dims()),
            domain,
            seed: settings.seed,
            samples: settings.samples,
            policy: settings.non_finite,
            components: integrand.components(),
        })
    }
}

/// The chunks merged so far: their sums, and the spread of their
/// variances (per component), which says whether the standard error can be
/// trusted.
#[derive(Clone, Debug, Default)]
pub(crate) struct McMerged {
    sums: McPart,
    tails: Vec<TailCheck>,
}

impl<I: Integrand> Pass for PlainMonteCarlo<I> {
    type Part = McPart;
    type Merged = McMerged;

    fn chunks(&self) -> u64 {
        self.total().unwrap_or(0).div_ceil(self.chunk_size)
    }

    fn run_chunk(&self, index: u64, halt: &Halt) -> Result<McPart, Error> {
        let start = index * self.chunk_size;
        let chunk = McChunk {
            domain: &self.domain,
            key: chunk_key(self.seed, index),
            samples: self.chunk_size.min(self.samples - start),
            skip: self.policy == NonFinite::Skip,
        };
        self.integrand.mc_chunk(&chunk, halt)
    }

    fn start(&self) -> McMerged {
        McMerged {
            sums: McPart::empty(self.components),
            tails: vec![TailCheck::default(); self.components],
        }
    }

    fn merge(&self, merged: &mut McMerged, part: McPart) {
        merged.sums.merge(&part);
        for (tails, values) in merged.tails.iter_mut().zip(&part.values) {
            tails.push(values);
        }
    }

    fn overflowed(&self, merged: &McMerged) -> bool {
        merged.sums.values.iter().any(overflowed)
    }

    /// The merged sums (see [`encode_part`]), then each component's check
    /// of the chunks' variances: with one component, the bytes of a scalar
    /// run before vector integrands came.
    fn encode(&self, merged: &McMerged, out: &mut Vec<u8>) {
        encode_part(&merged.sums, out);
        for tails in &merged.tails {
            tails.encode(out);
        }
    }

    fn decode(&self, reader: &mut StateReader<'_>) -> Option<McMerged> {
        let sums = decode_part(reader, self.components)?;
        let tails = (0..self.components)
            .map(|_| reader.moments().map(TailCheck::from_raw))
            .collect::<Option<Vec<_>>>()?;
        Some(McMerged { sums, tails })
    }

    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &McPart, out: &mut Vec<u8>) {
        encode_part(part, out);
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<McPart> {
        let mut reader = StateReader(bytes);
        let part = decode_part(&mut reader, self.components)?;
        reader.is_done().then_some(part)
    }
}

/// Each component's accumulator and count of skipped values, then the
/// co-moments (none with one component).
pub(crate) fn encode_part(part: &McPart, out: &mut Vec<u8>) {
    for (values, skipped) in part.values.iter().zip(&part.skipped) {
        values.encode(out);
        out.extend_from_slice(&skipped.to_le_bytes());
    }
    for comoment in &part.comoments {
        out.extend_from_slice(&comoment.to_bits().to_le_bytes());
    }
}

/// The part `encode_part` wrote, of `components` components.
pub(crate) fn decode_part(reader: &mut StateReader<'_>, components: usize) -> Option<McPart> {
    let mut part = McPart::empty(components);
    for (values, skipped) in part.values.iter_mut().zip(&mut part.skipped) {
        *values = Accumulator::from_raw(reader.moments()?);
        *skipped = reader.u64()?;
    }
    for comoment in &mut part.comoments {
        *comoment = reader.f64()?;
    }
    Some(part)
}

impl<I: Integrand> OnePass for PlainMonteCarlo<I> {
    /// A domain of zero width has integral exactly 0: nothing to sample.
    fn total(&self) -> Option<u64> {
        Some(if self.domain.is_degenerate() {
            0
        } else {
            self.samples
        })
    }

    fn done(&self, merged: &McMerged) -> u64 {
        merged.sums.count()
    }

    fn estimate(&self, merged: &McMerged, stop: Stop) -> Estimate {
        let m = self.components;
        let (sums, count) = (&merged.sums, merged.sums.count());
        let each: Vec<ComponentEstimate> = (0..m)
            .map(|j| {
                let values = &sums.values[j];
                let (value, std_error) = if self.domain.is_degenerate() {
                    (0.0, 0.0)
                } else {
                    self.domain.scale(values.mean(), values.std_error())
                };
                ComponentEstimate {
                    value,
                    std_error,
                    skipped: sums.skipped[j],
                    heavy_tails: merged.tails[j].is_heavy_tailed(),
                }
            })
            .collect();
        let stop = if self.domain.is_degenerate() {
            Stop::Exact
        } else {
            stop
        };
        if m == 1 {
            let only = each[0];
            return Estimate::new(only.value, only.std_error, count, stop)
                .with_skipped(only.skipped)
                .with_heavy_tails(only.heavy_tails);
        }
        // cov(mean_j, mean_k) = C_jk / (n − 1) / n, scaled as the values
        // are; the diagonal is each component's squared standard error.
        let mut covariance = vec![0.0; m * m];
        let volume = self.domain.scale(1.0, 1.0).1;
        let scale = |c: f64| {
            if count < 2 {
                f64::INFINITY
            } else {
                c / (count - 1) as f64 / count as f64 * volume * volume
            }
        };
        for (&c, (j, k)) in sums.comoments.iter().zip(pair_indices(m)) {
            // A reversed box flips every component's sign: no pair's.
            covariance[j * m + k] = scale(c);
            covariance[k * m + j] = covariance[j * m + k];
        }
        for (j, c) in each.iter().enumerate() {
            covariance[j * m + j] = c.std_error * c.std_error;
        }
        if self.domain.is_degenerate() {
            covariance.fill(0.0);
        }
        Estimate::vector(each, Some(covariance), count, stop)
    }
}
