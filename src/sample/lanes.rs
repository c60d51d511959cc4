//! Sixteen xoshiro256++ generators stepped side by side.

use super::GOLDEN_GAMMA;

/// How many independent generators a chunk's stream interleaves: sample `j`
/// of a chunk is output `j / LANES` of lane `j % LANES`.
///
/// The number is part of the definition of every result: it fixes which
/// point each sample is and how partial sums are grouped, whatever the
/// machine's vector width. Sixteen fills two AVX-512 registers per state
/// word, and a narrower machine steps the same lanes in more registers.
pub(crate) const LANES: usize = 16;

/// `LANES` xoshiro256++ generators (Blackman and Vigna, "Scrambled linear
/// pseudorandom number generators", 2021), stored word by word so that one
/// step of every lane is a few whole-array operations, which the compiler
/// turns into vector instructions.
pub(crate) struct Lanes {
    s: [[u64; LANES]; 4],
}

impl Lanes {
    /// The lanes of the stream `key`. Lane `l` starts exactly where
    /// `rand::rngs::Xoshiro256PlusPlus::seed_from_u64(lane_seed(key, l))`
    /// does, and a test holds the two to the same outputs.
    pub(crate) fn new(key: u64) -> Self {
        let mut s = [[0; LANES]; 4];
        for lane in 0..LANES {
            // rand's `seed_from_u64`: four SplitMix64 outputs.
            let mut state = lane_seed(key, lane);
            for word in &mut s {
                state = state.wrapping_add(GOLDEN_GAMMA);
                word[lane] = super::mix64(state);
            }
        }
        Lanes { s }
    }

    /// The next output of every lane.
    #[inline(always)]
    pub(crate) fn next(&mut self) -> [u64; LANES] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut out = [0; LANES];
        for l in 0..LANES {
            out[l] = s0[l]
                .wrapping_add(s3[l])
                .rotate_left(23)
                .wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(45);
        }
        out
    }
}

/// The SplitMix64 state lane `lane` of stream `key` is seeded from. Lanes
/// sit four outputs apart, so together they take consecutive, disjoint
/// outputs of one SplitMix64 sequence.
pub(crate) fn lane_seed(key: u64, lane: usize) -> u64 {
    key.wrapping_add((4 * lane as u64).wrapping_mul(GOLDEN_GAMMA))
}

/// A uniform number in the open interval (0, 1) from 52 random bits.
///
/// Setting the exponent bits of `bits >> 12` gives a value in [1, 2) with
/// spacing 2^-52; subtracting `1 - 2^-53` (exact, by Sterbenz's lemma) moves
/// each value to the middle of its cell. So no sample falls on an endpoint,
/// where an integrand such as `1/sqrt(x)` is infinite. No multiply-add is
/// involved, so the result is the same with or without FMA.
#[inline(always)]
pub(crate) fn unit_open(bits: u64) -> f64 {
    const ONE_MINUS_HALF_ULP: f64 = 1.0 - 1.0 / (1u64 << 53) as f64;
    f64::from_bits((bits >> 12) | 0x3ff0_0000_0000_0000) - ONE_MINUS_HALF_ULP
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{Rng, SeedableRng};

    #[test]
    fn every_lane_is_rands_xoshiro256plusplus() {
        let key = 0x1234_5678_9abc_def0;
        let mut lanes = Lanes::new(key);
        let mut reference: Vec<Xoshiro256PlusPlus> = (0..LANES)
            .map(|lane| Xoshiro256PlusPlus::seed_from_u64(lane_seed(key, lane)))
            .collect();
        for _ in 0..100 {
            let outputs = lanes.next();
            for (lane, rng) in reference.iter_mut().enumerate() {
                assert_eq!(outputs[lane], rng.next_u64());
            }
        }
    }

    #[test]
    fn unit_open_never_reaches_the_endpoints() {
        assert_eq!(unit_open(0), 0.5f64.powi(53));
        assert_eq!(unit_open(u64::MAX), 1.0 - 0.5f64.powi(53));
        assert_eq!(unit_open(1 << 63), 0.5 + 0.5f64.powi(53));
    }
}
