//! A check that a standard error can be trusted: do the chunks' variances
//! look like estimates of one finite variance?

use crate::Accumulator;

/// Flags a standard error that cannot be trusted because the values are
/// too heavy-tailed for it, from the variances of the chunks of one run.
///
/// A Monte Carlo standard error, `sqrt(variance / n)`, rests on the values
/// having a finite variance, and on the sample variance being near it. For
/// an integrand like `x^-0.75` on [0, 1] the integral is finite but the
/// variance is not: the sample variance is ruled by the few largest values
/// drawn, grows with `n` instead of settling, and a 95% interval can miss
/// the truth by many standard errors. Nothing in a single variance shows
/// it; the chunks do.
///
/// Each chunk of a run is an independent sample of the same size. With a
/// finite variance (and values not too spiky for the chunk size) their
/// variances agree closely: they scatter by about `sqrt((κ − 1) / n)` of
/// the variance, for chunks of `n` values of kurtosis `κ`. With heavy tails
/// each chunk's variance is ruled by its own largest value, so they scatter
/// over orders of magnitude and the largest stands far above the typical
/// one. The check compares the largest chunk variance with their geometric
/// mean (a typical value that one wild chunk hardly moves, kept in constant
/// memory), and flags the run when the ratio exceeds
/// [`MAX_RATIO`](TailCheck::MAX_RATIO), 5.
///
/// What that means: a run is flagged when some chunk's variance is more
/// than five times the typical chunk's. For finite-variance values that
/// takes a kurtosis of roughly the chunk size or more (the log of a chunk
/// variance scatters by about `sqrt((κ − 1) / n)`, and the largest of 32 is
/// about two such scatters above the mean), so that a chunk sees only a
/// handful of the values that make up its variance: then the standard
/// error is itself too noisy to trust, even where the variance is finite.
/// With 32 chunks of 4096 samples, the test in `tests/adversarial.rs`
/// flags 199 of 200 seeded runs of `x^-0.75`, and none of the smooth
/// integrands there (their ratios stay below 1.1); a Gaussian peak of
/// width 7e-4, about seven points per chunk, stays below 3.4. Between the
/// two, `x^-0.6` (infinite variance) is flagged in 177 runs of 200,
/// `x^-0.4` (finite variance, infinite fourth moment: a standard error
/// that converges slowly and erratically) in 61, and `x^-0.25` in 2. Chunks of fewer than two values carry no
/// variance and are passed over; with fewer than
/// [`MIN_CHUNKS`](TailCheck::MIN_CHUNKS) chunks with a variance the check
/// cannot tell and flags nothing. A chunk with zero variance beside one
/// with a positive variance is flagged: the values that matter were not
/// seen in every chunk. All-zero variances (a constant) are not.
///
/// Chunks are pushed in the order the run merges them; the outcome does
/// not depend on that order except by rounding of the geometric mean.
///
/// # Examples
///
/// ```
/// use quadpipe::{Accumulator, TailCheck};
///
/// // Sixteen chunks of a smooth integrand: their variances agree.
/// let mut check = TailCheck::new();
/// for chunk in 0..16 {
///     let mut acc = Accumulator::new();
///     (0..1000).for_each(|i| acc.push(((i * 7 + chunk) % 1000) as f64 / 1000.0));
///     check.push(&acc);
/// }
/// assert!(!check.is_heavy_tailed());
///
/// // One chunk met a value a thousand times the others.
/// let mut wild = Accumulator::new();
/// (0..999).for_each(|i| wild.push((i % 1000) as f64 / 1000.0));
/// wild.push(1000.0);
/// check.push(&wild);
/// assert!(check.is_heavy_tailed());
/// assert!(check.ratio().unwrap() > TailCheck::MAX_RATIO);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TailCheck {
    /// Chunks with a variance (two values or more).
    chunks: u64,
    /// Sum of the natural logs of their variances; `-∞` after a zero.
    sum_ln: f64,
    /// The largest of their variances.
    max: f64,
}

impl TailCheck {
    /// How many chunks with a variance the check needs before it judges.
    /// With fewer, the largest of a few heavy-tailed variances is too often
    /// near the typical one to tell them apart.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::TailCheck::MIN_CHUNKS, 8);
    /// ```
    pub const MIN_CHUNKS: u64 = 8;

    /// The ratio of the largest chunk variance to the geometric mean of all
    /// of them above which the standard error is flagged. See the type's
    /// documentation for what it means and how it was chosen.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::TailCheck::MAX_RATIO, 5.0);
    /// ```
    pub const MAX_RATIO: f64 = 5.0;

    /// A check that has seen no chunk.
    ///
    /// # Examples
    ///
    /// ```
    /// let check = quadpipe::TailCheck::new();
    /// assert_eq!(check.ratio(), None);
    /// assert!(!check.is_heavy_tailed());
    /// ```
    pub const fn new() -> Self {
        TailCheck {
            chunks: 0,
            sum_ln: 0.0,
            max: 0.0,
        }
    }

    /// Takes one chunk's accumulator into account: cheap (a logarithm),
    /// and done once per chunk, never per value.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Accumulator, TailCheck};
    ///
    /// let mut chunk = Accumulator::new();
    /// [1.0, 2.0, 3.0].iter().for_each(|&x| chunk.push(x));
    /// let mut check = TailCheck::new();
    /// check.push(&chunk);
    /// assert_eq!(check.chunks(), 1);
    /// ```
    pub fn push(&mut self, chunk: &Accumulator) {
        if chunk.count() < 2 {
            return;
        }
        let variance = chunk.variance();
        self.chunks += 1;
        // `ln 0 = −∞` keeps the sum at `−∞`, making the ratio infinite
        // unless every variance is zero; a NaN variance (from NaN values)
        // makes it NaN, which counts as flagged.
        self.sum_ln += variance.ln();
        self.max = if variance > self.max || variance.is_nan() {
            variance
        } else {
            self.max
        };
    }

    /// How many chunks with a variance it has seen.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::TailCheck::new().chunks(), 0);
    /// ```
    pub fn chunks(&self) -> u64 {
        self.chunks
    }

    /// The largest chunk variance over their geometric mean: 1 when all
    /// agree, 1 for all-zero variances, `+∞` when some are zero and others
    /// not. `None` with fewer than [`MIN_CHUNKS`](TailCheck::MIN_CHUNKS)
    /// chunks.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Accumulator, TailCheck};
    ///
    /// let mut check = TailCheck::new();
    /// let mut chunk = Accumulator::new();
    /// [0.0, 2.0].iter().for_each(|&x| chunk.push(x));
    /// (0..8).for_each(|_| check.push(&chunk));
    /// assert_eq!(check.ratio(), Some(1.0));
    /// ```
    pub fn ratio(&self) -> Option<f64> {
        if self.chunks < TailCheck::MIN_CHUNKS {
            return None;
        }
        if self.max == 0.0 {
            return Some(1.0);
        }
        let geometric_mean = (self.sum_ln / self.chunks as f64).exp();
        let ratio = self.max / geometric_mean;
        // Rounding can put the mean a hair above the largest; it cannot
        // be. (`f64::max` would also turn a NaN into 1: keep NaN.)
        Some(if ratio < 1.0 { 1.0 } else { ratio })
    }

    /// Whether the chunks say the standard error cannot be trusted: the
    /// [`ratio`](TailCheck::ratio) exceeds
    /// [`MAX_RATIO`](TailCheck::MAX_RATIO) (or is NaN). False with too few
    /// chunks to tell.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Accumulator, TailCheck};
    ///
    /// let mut check = TailCheck::new();
    /// let mut typical = Accumulator::new();
    /// [0.0, 1.0].iter().for_each(|&x| typical.push(x));
    /// (0..9).for_each(|_| check.push(&typical));
    /// assert!(!check.is_heavy_tailed());
    ///
    /// let mut wild = Accumulator::new();
    /// [0.0, 1e3].iter().for_each(|&x| wild.push(x));
    /// check.push(&wild);
    /// assert!(check.is_heavy_tailed());
    /// ```
    pub fn is_heavy_tailed(&self) -> bool {
        self.ratio()
            .is_some_and(|ratio| ratio.is_nan() || ratio > TailCheck::MAX_RATIO)
    }

    /// Appends the state to a checkpoint's bytes, so a resumed run flags
    /// exactly as an uninterrupted one: count, then the two f64s' bits.
    pub(crate) fn encode(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chunks.to_le_bytes());
        out.extend_from_slice(&self.sum_ln.to_bits().to_le_bytes());
        out.extend_from_slice(&self.max.to_bits().to_le_bytes());
    }

    /// The state [`encode`](Self::encode) wrote, bit for bit.
    pub(crate) fn from_raw((chunks, sum_ln, max): (u64, f64, f64)) -> Self {
        TailCheck {
            chunks,
            sum_ln,
            max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(values: &[f64]) -> Accumulator {
        let mut acc = Accumulator::new();
        values.iter().for_each(|&x| acc.push(x));
        acc
    }

    #[test]
    fn short_chunks_are_passed_over_and_few_chunks_say_nothing() {
        let mut check = TailCheck::new();
        (0..100).for_each(|_| check.push(&chunk(&[5.0])));
        assert_eq!(check.chunks(), 0);
        let wild = chunk(&[0.0, 1e9]);
        (0..TailCheck::MIN_CHUNKS - 1).for_each(|_| check.push(&chunk(&[0.0, 1.0])));
        check.push(&wild);
        assert!(check.is_heavy_tailed());
    }

    #[test]
    fn zero_and_nan_variances() {
        let mut constant = TailCheck::new();
        (0..10).for_each(|_| constant.push(&chunk(&[3.0, 3.0, 3.0])));
        assert_eq!(constant.ratio(), Some(1.0));
        let mut mixed = constant;
        mixed.push(&chunk(&[3.0, 4.0]));
        assert_eq!(mixed.ratio(), Some(f64::INFINITY));
        assert!(mixed.is_heavy_tailed());
        let mut nan = TailCheck::new();
        (0..10).for_each(|_| nan.push(&chunk(&[0.0, 1.0])));
        nan.push(&chunk(&[0.0, f64::NAN]));
        assert!(nan.is_heavy_tailed());
    }

    #[test]
    fn encoding_round_trips_the_bits() {
        let mut check = TailCheck::new();
        (1..20).for_each(|i| check.push(&chunk(&[0.0, f64::from(i)])));
        let mut bytes = Vec::new();
        check.encode(&mut bytes);
        let field = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        let back = TailCheck::from_raw((
            field(0),
            f64::from_bits(field(8)),
            f64::from_bits(field(16)),
        ));
        assert_eq!(back, check);
    }
}
