//! Plain Monte Carlo: chunks of independent uniform points.

use std::sync::Arc;

use crate::driver::checkpoint::StateReader;
use crate::driver::halt::Halt;
use crate::driver::pass::{OnePass, Pass};
use crate::kernel::chunk::{McChunk, McPart, overflowed};
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
        })
    }
}

/// The chunks merged so far: their sums, and the spread of their
/// variances, which says whether the standard error can be trusted.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct McMerged {
    sums: McPart,
    tails: TailCheck,
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
        McMerged::default()
    }

    fn merge(&self, merged: &mut McMerged, part: McPart) {
        merged.sums.values.merge(&part.values);
        merged.sums.skipped += part.skipped;
        merged.tails.push(&part.values);
    }

    fn overflowed(&self, merged: &McMerged) -> bool {
        overflowed(&merged.sums.values)
    }

    /// The merged accumulator, the count of skipped values, and the check
    /// of the chunks' variances.
    fn encode(&self, merged: &McMerged, out: &mut Vec<u8>) {
        encode_part(&merged.sums, out);
        merged.tails.encode(out);
    }

    fn decode(&self, reader: &mut StateReader<'_>) -> Option<McMerged> {
        let sums = decode_part(reader)?;
        let tails = TailCheck::from_raw((reader.u64()?, reader.f64()?, reader.f64()?));
        Some(McMerged { sums, tails })
    }

    #[cfg(feature = "mpi")]
    fn encode_part(&self, part: &McPart, out: &mut Vec<u8>) {
        encode_part(part, out);
    }

    #[cfg(feature = "mpi")]
    fn decode_part(&self, bytes: &[u8]) -> Option<McPart> {
        let mut reader = StateReader(bytes);
        let part = decode_part(&mut reader)?;
        reader.is_done().then_some(part)
    }
}

/// A chunk's accumulator and its count of skipped values.
fn encode_part(part: &McPart, out: &mut Vec<u8>) {
    part.values.encode(out);
    out.extend_from_slice(&part.skipped.to_le_bytes());
}

fn decode_part(reader: &mut StateReader<'_>) -> Option<McPart> {
    let values = Accumulator::from_raw((reader.u64()?, reader.f64()?, reader.f64()?));
    let skipped = reader.u64()?;
    Some(McPart { values, skipped })
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
        merged.sums.values.count()
    }

    fn estimate(&self, merged: &McMerged, stop: Stop) -> Estimate {
        if self.domain.is_degenerate() {
            return Estimate::new(0.0, 0.0, 0, Stop::Exact);
        }
        let values = &merged.sums.values;
        let (value, std_error) = self.domain.scale(values.mean(), values.std_error());
        Estimate::new(value, std_error, values.count(), stop)
            .with_skipped(merged.sums.skipped)
            .with_heavy_tails(merged.tails.is_heavy_tailed())
    }
}
