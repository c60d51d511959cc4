//! Random streams: where each chunk's points come from.
//!
//! Chunk `i` of a run with seed `s` draws from a stream keyed by
//! [`chunk_key(s, i)`](chunk_key) and by nothing else, so its points do not
//! depend on which thread draws them, or when.

mod joe_kuo;
mod lanes;
mod sobol;

pub(crate) use lanes::{LANES, LaneGroup, Lanes, unit_open};
#[allow(unused_imports)] // Used by the QMC method, which lands separately.
pub(crate) use sobol::{MAX_DIMENSIONS, MAX_LOG2_POINTS, ScrambledSobol, SobolDirections};

/// The golden-ratio increment of SplitMix64 (Steele, Lea and Flood, "Fast
/// splittable pseudorandom number generators", OOPSLA 2014).
pub(crate) const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function (Stafford's "Mix13" constants): a bijection
/// on `u64` that sends neighbouring inputs to unrelated outputs.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key of chunk `chunk`'s stream in a run seeded with `seed`.
///
/// The seed is mixed before the chunk index goes in. With `seed ^ chunk`,
/// neighbouring seeds would share streams (seed 1's chunk 0 would be seed
/// 0's chunk 1) and two runs that should be independent would not be.
pub(crate) fn chunk_key(seed: u64, chunk: u64) -> u64 {
    mix64(mix64(seed.wrapping_add(GOLDEN_GAMMA)) ^ chunk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn neighbouring_seeds_do_not_share_streams() {
        let keys: HashSet<u64> = (0..64)
            .flat_map(|seed| (0..1024).map(move |chunk| chunk_key(seed, chunk)))
            .collect();
        assert_eq!(keys.len(), 64 * 1024);
    }
}
