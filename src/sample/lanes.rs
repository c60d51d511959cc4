//! Sixteen xoshiro256+ generators stepped side by side.

use super::GOLDEN_GAMMA;

/// How many independent generators a chunk's stream interleaves: sample `j`
/// of a chunk is output `j / LANES` of lane `j % LANES`.
///
/// The number is part of the definition of every result: it fixes which
/// point each sample is and how partial sums are grouped, whatever the
/// machine's vector width. Sixteen fills two AVX-512 registers per state
/// word, and a narrower machine steps the same lanes in more registers.
pub(crate) const LANES: usize = 16;

/// `LANES` xoshiro256+ generators (Blackman and Vigna, "Scrambled linear
/// pseudorandom number generators", ACM TOMS 2021), stored word by word so
/// that one step of every lane is a few whole-array operations, which the
/// compiler turns into vector instructions.
///
/// xoshiro256+ rather than xoshiro256++: its output is a single add, where
/// ++ adds a rotate (three instructions on AVX2) and another add, and the
/// kernel is 16% faster for it. Its one weakness, linear dependencies in
/// the lowest bits, does not reach a sample: only the top 52 bits become a
/// float, the use its authors recommend it for.
#[derive(Clone)]
pub(crate) struct Lanes {
    s: [[u64; LANES]; 4],
}

impl Lanes {
    /// The lanes of the stream `key`. Lane `l`'s state is four SplitMix64
    /// outputs from `lane_seed(key, l)`, the seeding its authors recommend
    /// (and rand's `seed_from_u64` uses).
    pub(crate) fn new(key: u64) -> Self {
        let mut s = [[0; LANES]; 4];
        for lane in 0..LANES {
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
        step(s0, s1, s2, s3)
    }
}

/// `G` consecutive lanes of a [`Lanes`], taken out to be stepped on their
/// own. The lanes never interact, so stepping them in groups gives each lane
/// the same outputs as stepping all at once: a machine picks the group size
/// that fits its vector registers (16 lanes of four words fill AVX-512's but
/// would spill AVX2's), and the bits do not change.
pub(crate) struct LaneGroup<const G: usize> {
    s: [[u64; G]; 4],
}

impl<const G: usize> LaneGroup<G> {
    /// Lanes `first..first + G` of `lanes`.
    #[inline(always)]
    pub(crate) fn take(lanes: &Lanes, first: usize) -> Self {
        let mut s = [[0; G]; 4];
        for (group, word) in s.iter_mut().zip(&lanes.s) {
            group.copy_from_slice(&word[first..first + G]);
        }
        LaneGroup { s }
    }

    /// Puts the lanes back where they came from.
    #[inline(always)]
    pub(crate) fn put(&self, lanes: &mut Lanes, first: usize) {
        for (word, group) in lanes.s.iter_mut().zip(&self.s) {
            word[first..first + G].copy_from_slice(group);
        }
    }

    /// The next output of every lane in the group.
    #[inline(always)]
    pub(crate) fn next(&mut self) -> [u64; G] {
        let [s0, s1, s2, s3] = &mut self.s;
        step(s0, s1, s2, s3)
    }
}

/// One xoshiro256+ step of every lane, one lane after another; LLVM packs
/// the lanes into vectors. (Written as whole-array passes, one per
/// operation, the same step vectorised worse.)
#[inline(always)]
fn step<const G: usize>(
    s0: &mut [u64; G],
    s1: &mut [u64; G],
    s2: &mut [u64; G],
    s3: &mut [u64; G],
) -> [u64; G] {
    let mut out = [0; G];
    for l in 0..G {
        out[l] = s0[l].wrapping_add(s3[l]);
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

/// The SplitMix64 state lane `lane` of stream `key` is seeded from. Lanes
/// sit four outputs apart, so together they take consecutive, disjoint
/// outputs of one SplitMix64 sequence.
fn lane_seed(key: u64, lane: usize) -> u64 {
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

    /// xoshiro256+ as in its authors' `xoshiro256plus.c`, one generator.
    struct Reference([u64; 4]);

    impl Reference {
        /// Seeded as in `splitmix64.c`, starting from `seed`.
        fn new(mut seed: u64) -> Self {
            Reference(std::array::from_fn(|_| {
                seed = seed.wrapping_add(GOLDEN_GAMMA);
                crate::sample::mix64(seed)
            }))
        }

        fn next(&mut self) -> u64 {
            let s = &mut self.0;
            let result = s[0].wrapping_add(s[3]);
            let t = s[1] << 17;
            s[2] ^= s[0];
            s[3] ^= s[1];
            s[1] ^= s[2];
            s[0] ^= s[3];
            s[2] ^= t;
            s[3] = s[3].rotate_left(45);
            result
        }
    }

    /// The first outputs of the authors' C code (xoshiro256plus.c seeded by
    /// splitmix64.c from 0x123456789abcdef0), compiled with gcc.
    const FROM_THE_C_CODE: [u64; 6] = [
        0x5795dc6e6ca682c7,
        0x236b954319200b4d,
        0xccf9305505e9e869,
        0xf98c5a74e5c2f75e,
        0x4503f3156556418e,
        0x7be3df106bdde1f9,
    ];

    #[test]
    fn lane_zero_is_the_reference_c_code() {
        let mut lanes = Lanes::new(0x1234_5678_9abc_def0);
        let outputs: Vec<u64> = (0..6).map(|_| lanes.next()[0]).collect();
        assert_eq!(outputs, FROM_THE_C_CODE);
    }

    #[test]
    fn every_lane_is_xoshiro256plus_from_its_own_seed() {
        let key = 0x0bad_cafe_f00d_d00d;
        let mut lanes = Lanes::new(key);
        let mut reference: Vec<Reference> = (0..LANES)
            .map(|lane| Reference::new(lane_seed(key, lane)))
            .collect();
        for _ in 0..100 {
            let outputs = lanes.next();
            for (lane, rng) in reference.iter_mut().enumerate() {
                assert_eq!(outputs[lane], rng.next());
            }
        }
    }

    #[test]
    fn stepping_in_groups_gives_every_lane_the_same_outputs() {
        let mut whole = Lanes::new(99);
        let mut grouped = Lanes::new(99);
        let expected: Vec<[u64; LANES]> = (0..50).map(|_| whole.next()).collect();
        let mut got = vec![[0; LANES]; 50];
        for first in (0..LANES).step_by(4) {
            let mut group = LaneGroup::<4>::take(&grouped, first);
            for outputs in &mut got {
                outputs[first..first + 4].copy_from_slice(&group.next());
            }
            group.put(&mut grouped, first);
        }
        assert_eq!(got, expected);
        assert_eq!(
            grouped.next(),
            whole.next(),
            "the states went back in place"
        );
    }

    #[test]
    fn unit_open_never_reaches_the_endpoints() {
        assert_eq!(unit_open(0), 0.5f64.powi(53));
        assert_eq!(unit_open(u64::MAX), 1.0 - 0.5f64.powi(53));
        assert_eq!(unit_open(1 << 63), 0.5 + 0.5f64.powi(53));
    }
}
