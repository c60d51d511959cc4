//! Randomised quasi-Monte Carlo points: Sobol points, Owen-scrambled.
//!
//! A Sobol sequence (I. M. Sobol, "On the distribution of points in a cube
//! and the approximate evaluation of integrals", USSR Comput. Math. Math.
//! Phys. 7(4), 1967) fills the unit cube more evenly than random points, so
//! a smooth integrand's mean over it converges faster. One scramble of it,
//! a replica, is random and still that even; independent replicas give an
//! honest error estimate, which unscrambled points cannot.

// Used by the QMC method, which lands separately.
#![allow(dead_code)]

use super::joe_kuo;

/// The most dimensions a sequence can have: dimension 1 and one per row of
/// the Joe–Kuo table.
pub(crate) const MAX_DIMENSIONS: usize = joe_kuo::ROWS.len() + 1;

/// A replica has at most `2^MAX_LOG2_POINTS` points.
///
/// Direction numbers are 32-bit, so point `i` depends on the low 32 bits of
/// `i` alone: from `2^32` on the sequence would repeat its first points,
/// which adds nothing to an estimate. 32 bits are also the width Burley's
/// hash scrambles; the float's other 20 bits come from a separate hash
/// ([`ScrambledSobol::fill`] says why that is exact).
pub(crate) const MAX_LOG2_POINTS: u32 = 32;

/// Direction numbers per dimension, one per bit of the point index.
const BITS: usize = MAX_LOG2_POINTS as usize;

/// The Sobol direction numbers of the first `dims` dimensions.
pub(crate) struct SobolDirections {
    dims: usize,
    /// Direction number `k` of dimension `j`, bit-reversed, at
    /// `k * dims + j`: one step of the walk reads one contiguous run.
    ///
    /// Bit-reversed because the scramble works on reversed words: keeping
    /// the walk reversed saves one of the scramble's two reversals.
    reversed: Vec<u32>,
}

impl SobolDirections {
    /// The direction numbers of dimensions 1 to `dims`, as Joe and Kuo's
    /// `sobol.cc` computes them.
    ///
    /// `dims` must be between 1 and [`MAX_DIMENSIONS`]; the caller checks
    /// it and reports a clear error otherwise.
    pub(crate) fn new(dims: usize) -> Self {
        debug_assert!((1..=MAX_DIMENSIONS).contains(&dims));
        let mut reversed = vec![0; BITS * dims];
        for j in 0..dims {
            for (k, v) in directions(j).into_iter().enumerate() {
                reversed[k * dims + j] = v.reverse_bits();
            }
        }
        SobolDirections { dims, reversed }
    }

    /// How many dimensions there are.
    pub(crate) fn dims(&self) -> usize {
        self.dims
    }

    /// Direction number `k` of dimensions `first..first + W`, bit-reversed.
    #[inline(always)]
    fn row<const W: usize>(&self, k: usize, first: usize) -> &[u32; W] {
        let at = k * self.dims + first;
        self.reversed[at..at + W].try_into().unwrap()
    }

    /// Points `start..start + count` of the sequence, dimensions
    /// `first..first + W`, unscrambled and bit-reversed: calls `visit(p, x)`
    /// with point `start + p`.
    ///
    /// Point `n` is the Sobol point of index `gray(n)`, the XOR of the
    /// direction numbers of the bits set in `gray(n)` (Antonov and Saleev,
    /// "An economic method of computing LP_tau-sequences", USSR Comput.
    /// Math. Math. Phys. 19(1), 1979). `gray(n)` and `gray(n + 1)` differ in
    /// one bit, the lowest zero of `n`, so each step is one XOR per
    /// coordinate. The first point is computed directly, so a range gives
    /// the same bits however it is split.
    #[inline(always)]
    fn walk<const W: usize>(
        &self,
        start: u64,
        count: usize,
        first: usize,
        mut visit: impl FnMut(usize, &[u32; W]),
    ) {
        // One XOR per set bit of the index, lowest first; a loop over the
        // set bits alone, as a loop over all 32 with a test would mispredict
        // on every other one.
        let mut index = gray(start);
        let mut x = [0; W];
        while index != 0 {
            xor(&mut x, self.row(index.trailing_zeros() as usize, first));
            index &= index - 1;
        }
        for p in 0..count {
            if p > 0 {
                let previous = start + p as u64 - 1;
                xor(&mut x, self.row(previous.trailing_ones() as usize, first));
            }
            visit(p, &x);
        }
    }
}

/// `x ^= y`, lane by lane.
#[inline(always)]
fn xor<const W: usize>(x: &mut [u32; W], y: &[u32; W]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a ^= b;
    }
}

/// The reflected binary Gray code of `n`.
///
/// Point order: why a chunk of `2^k` points starting at a multiple of `2^k`
/// is a whole aligned block of the sequence. Take `n` in
/// `[j 2^k, (j + 1) 2^k)`. Bits `k` and up of `n ^ (n >> 1)` come from bits
/// `k` and up of `n`, which are `j`'s: the same for the whole chunk. The low
/// `k` bits are the Gray code of `n`'s low `k` bits with the top one flipped
/// by bit `k` of `n`, which is fixed: a bijection. So the chunk's Sobol
/// indices are exactly the aligned block `[J 2^k, (J + 1) 2^k)` with
/// `J = gray(j)`, only in another order; and every such block of a
/// (t, s)-sequence is a (t, k, s)-net (Niederreiter, "Random Number
/// Generation and Quasi-Monte Carlo Methods", SIAM 1992, Definition 4.2).
fn gray(n: u64) -> u64 {
    n ^ (n >> 1)
}

/// The 32 direction numbers of dimension `j` (0-based), as 32-bit binary
/// fractions: `v_k = m_k / 2^k` for `k = 1..=32`.
///
/// The `m_k` after the table's `s` initial ones follow Bratley and Fox's
/// recurrence (ACM TOMS 14(1), 1988, Algorithm 659), as in Joe and Kuo's
/// notes: with `a_1 … a_{s-1}` the polynomial's inner coefficients,
/// `m_k = 2 a_1 m_{k-1} ^ 4 a_2 m_{k-2} ^ … ^ 2^(s-1) a_{s-1} m_{k-s+1}
/// ^ 2^s m_{k-s} ^ m_{k-s}`. Each `m_k` is odd and below `2^k`, so
/// `m_k << (32 - k)` fits 32 bits.
fn directions(j: usize) -> [u32; BITS] {
    if j == 0 {
        // Every m_k is 1.
        return std::array::from_fn(|k| 1 << (BITS - 1 - k));
    }
    let row = &joe_kuo::ROWS[j - 1];
    debug_assert_eq!(usize::from(row.dimension), j + 1);
    let s = usize::from(row.degree);
    // m[k] is m_{k+1}; below 2^32, so u64 holds it and its shifts.
    let mut m = [0u64; BITS];
    for k in 0..BITS {
        m[k] = if k < s {
            u64::from(row.initial[k])
        } else {
            let mut next = m[k - s] ^ m[k - s] << s;
            for i in 1..s {
                if row.coefficients >> (s - 1 - i) & 1 == 1 {
                    next ^= m[k - i] << i;
                }
            }
            next
        };
    }
    std::array::from_fn(|k| (m[k] << (BITS - 1 - k)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points `start..start + count` of the unscrambled sequence,
    /// point-major, as 32-bit fractions: the same walk `fill` takes.
    fn unscrambled(directions: &SobolDirections, start: u64, count: usize) -> Vec<u32> {
        let dims = directions.dims();
        let mut out = vec![0; count * dims];
        for k in 0..dims {
            directions.walk::<1>(start, count, k, |p, x| {
                out[p * dims + k] = x[0].reverse_bits();
            });
        }
        out
    }

    /// Worked out by hand from the recurrence, in sixteenths.
    ///
    /// Direction numbers as binary fractions:
    /// - dimension 1: .1, .01, .001, .0001;
    /// - dimension 2 (s = 1, a = 0, m_1 = 1): m_k = 2 m_{k-1} ^ m_{k-1}, so
    ///   m = 1, 3, 5, 15 and v = .1, .11, .101, .1111;
    /// - dimension 3 (s = 2, a = 1, m = 1, 3): m_3 = 2·3 ^ 4·1 ^ 1 = 3,
    ///   m_4 = 2·3 ^ 4·3 ^ 3 = 9, so v = .1, .11, .011, .1001.
    ///
    /// Point n XORs v_(k+1) for each bit k of gray(n); gray(0..=8) = 0, 1,
    /// 3, 2, 6, 7, 5, 4, 12. Point 4, for one: gray 6 = bits 1 and 2, so
    /// dimension 3 is .11 ^ .011 = .101 = 10/16.
    #[test]
    fn first_points_match_the_recurrence_worked_by_hand() {
        let sixteenths: [[u32; 3]; 9] = [
            [0, 0, 0],
            [8, 8, 8],
            [12, 4, 4],
            [4, 12, 12],
            [6, 6, 10],
            [14, 14, 2],
            [10, 2, 14],
            [2, 10, 6],
            [3, 5, 15],
        ];
        let expected: Vec<u32> = sixteenths.as_flattened().iter().map(|s| s << 28).collect();
        assert_eq!(unscrambled(&SobolDirections::new(3), 0, 9), expected);
    }

    #[test]
    fn dimension_one_is_van_der_corput_in_gray_order() {
        let directions = SobolDirections::new(1);
        for start in [0, 1 << 20, (1 << 32) - 4096] {
            let got = unscrambled(&directions, start, 4096);
            for (p, &x) in got.iter().enumerate() {
                let n = start + p as u64;
                assert_eq!(x, (gray(n) as u32).reverse_bits(), "point {n}");
            }
        }
    }

    /// Asserts that every elementary box of area `2^-m`, `[a/2^i, (a+1)/2^i)
    /// × [b/2^j, (b+1)/2^j)` with `i + j = m`, holds exactly one of the
    /// `2^m` points, given as 32-bit fractions.
    fn assert_0_m_2_net(xy: &[(u32, u32)], m: u32) {
        assert_eq!(xy.len(), 1 << m);
        for i in 0..=m {
            let j = m - i;
            let mut count = vec![0; 1 << m];
            for &(x, y) in xy {
                let (a, b) = (u64::from(x) >> (32 - i), u64::from(y) >> (32 - j));
                count[(a << j | b) as usize] += 1;
            }
            assert!(count.iter().all(|&c| c == 1), "m = {m}, i = {i}");
        }
    }

    /// Dimensions 1 and 2 form a (0, 2)-sequence: every aligned block of
    /// `2^m` points is a (0, m, 2)-net.
    #[test]
    fn first_two_dimensions_are_a_0_m_2_net() {
        let directions = SobolDirections::new(2);
        for start in [0, 3 << 10, (1 << 32) - (1 << 10)] {
            let plain = unscrambled(&directions, start, 1 << 10);
            let plain: Vec<(u32, u32)> = plain.chunks(2).map(|p| (p[0], p[1])).collect();
            for m in 1..=10 {
                assert_0_m_2_net(&plain[..1 << m], m);
            }
        }
    }
}
