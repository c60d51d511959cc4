//! Count, mean and spread of a stream of values, mergeable in a fixed order.

/// Running count, mean and sum of squared deviations (`M2`) of a stream of
/// values.
///
/// Single values enter by Welford's update, which never forms a raw sum of
/// squares and so keeps its precision on data with a large offset. Two
/// accumulators combine by the formula of Chan, Golub and LeVeque (1979),
/// which is what lets chunks of one integral be summed on different threads
/// and merged afterwards. Merging is deterministic: the same merges in the
/// same order give the same bits, which is why the pipeline merges chunks in
/// chunk order.
///
/// # Extreme values
///
/// Welford's `x − mean` overflows when the values span more than `f64::MAX`
/// (1e308 then −1e308), though their mean always fits. When a difference
/// overflows, that one update is redone on halved values, so any finite
/// values give their true mean, to rounding; values that do not come near
/// the limit never take that path and keep their bits. The spread (`M2`)
/// itself can exceed `f64::MAX`: it is then `+∞`, and so are
/// [`variance`](Self::variance) and [`std_error`](Self::std_error),
/// never NaN; [`is_finite`](Self::is_finite) tells.
///
/// ```
/// use quadpipe::Accumulator;
///
/// let mut acc = Accumulator::new();
/// [1e308, 1e308, 1e308, -1e308].iter().for_each(|&x| acc.push(x));
/// assert_eq!(acc.mean(), 5e307);
/// assert_eq!(acc.std_error(), f64::INFINITY);
/// assert!(!acc.is_finite());
/// ```
///
/// # Examples
///
/// Merging two halves gives the statistics of the whole, to rounding:
///
/// ```
/// use quadpipe::Accumulator;
///
/// let data = [1.0e9 + 4.0, 1.0e9 + 7.0, 1.0e9 + 13.0, 1.0e9 + 16.0];
/// let mut whole = Accumulator::new();
/// data.iter().for_each(|&x| whole.push(x));
///
/// let mut left = Accumulator::new();
/// let mut right = Accumulator::new();
/// data[..2].iter().for_each(|&x| left.push(x));
/// data[2..].iter().for_each(|&x| right.push(x));
/// left.merge(&right);
///
/// assert_eq!(left.count(), 4);
/// assert_eq!(left.mean(), 1.0e9 + 10.0);
/// // The offset of 1e9 would wreck a naive sum of squares; here both agree
/// // with the exact variance, 30.
/// assert_eq!(whole.variance(), 30.0);
/// assert_eq!(left.variance(), 30.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Accumulator {
    count: u64,
    mean: f64,
    m2: f64,
}

impl Accumulator {
    /// An empty accumulator: no values, mean 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let acc = quadpipe::Accumulator::new();
    /// assert_eq!(acc.count(), 0);
    /// ```
    pub const fn new() -> Self {
        Accumulator {
            count: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }

    /// Builds an accumulator from sums of values shifted by `shift`:
    /// `shifted_sum = Σ(x - shift)` and `shifted_squares = Σ(x - shift)²`
    /// over `count` values.
    ///
    /// This is how the kernel reports a chunk: plain sums vectorise where
    /// Welford's division per value would not, and shifting by a value near
    /// the mean (the chunk's first value) keeps the sum of squares from
    /// cancelling catastrophically.
    pub(crate) fn from_shifted_sums(
        count: u64,
        shift: f64,
        shifted_sum: f64,
        shifted_squares: f64,
    ) -> Self {
        if count == 0 {
            return Accumulator::new();
        }
        let n = count as f64;
        let mean_offset = shifted_sum / n;
        let m2 = shifted_squares - shifted_sum * mean_offset;
        Accumulator {
            count,
            mean: shift + mean_offset,
            // Rounding can take a tiny variance below zero; it cannot be.
            // But `f64::max` would also turn a NaN (∞ − ∞, from sums that
            // overflowed) into a variance of 0: keep it out of range.
            m2: if m2.is_nan() {
                f64::INFINITY
            } else {
                m2.max(0.0)
            },
        }
    }

    /// An accumulator from the three numbers that are its whole state, as
    /// [`encode`](Self::encode) wrote them: a checkpoint, bit for bit.
    pub(crate) fn from_raw((count, mean, m2): (u64, f64, f64)) -> Self {
        Accumulator { count, mean, m2 }
    }

    /// Appends the state to a checkpoint's bytes.
    pub(crate) fn encode(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.mean.to_bits().to_le_bytes());
        out.extend_from_slice(&self.m2.to_bits().to_le_bytes());
    }

    /// Adds one value (Welford's update).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut acc = quadpipe::Accumulator::new();
    /// acc.push(2.0);
    /// acc.push(4.0);
    /// assert_eq!(acc.mean(), 3.0);
    /// ```
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        if !delta.is_finite() && x.is_finite() {
            return self.push_halved(x);
        }
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Welford's update where `x − mean` overflows: the same formula on
    /// `x/2` and `mean/2`, whose difference is finite. Halving is exact
    /// (bar subnormals, far below these magnitudes). The new half-mean lies
    /// between the old half-mean and `x/2`, so doubling it stays finite;
    /// adding a doubled step to the whole mean could overflow on the way.
    /// `M2` may overflow to `+∞`, never to NaN: both factors of its
    /// increment are finite.
    #[cold]
    fn push_halved(&mut self, x: f64) {
        let half_delta = x / 2.0 - self.mean / 2.0;
        self.mean = 2.0 * (self.mean / 2.0 + half_delta / self.count as f64);
        let half_rest = x / 2.0 - self.mean / 2.0;
        self.m2 += 4.0 * (half_delta * half_rest);
    }

    /// Adds every value that `other` has seen (Chan et al.'s merge).
    ///
    /// The result depends on the order of merges only through rounding;
    /// the pipeline fixes that order so its results are reproducible.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Accumulator;
    ///
    /// let mut a = Accumulator::new();
    /// a.push(1.0);
    /// let mut b = Accumulator::new();
    /// b.push(3.0);
    /// a.merge(&b);
    /// assert_eq!((a.count(), a.mean(), a.variance()), (2, 2.0, 2.0));
    /// ```
    pub fn merge(&mut self, other: &Accumulator) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        // 2^64 values cannot be pushed, but merging an accumulator into
        // itself doubles its count; saturate rather than wrap.
        let count = self.count.saturating_add(other.count);
        let (na, nb, n) = (self.count as f64, other.count as f64, count as f64);
        let delta = other.mean - self.mean;
        if delta.is_finite() || !(self.mean.is_finite() && other.mean.is_finite()) {
            self.mean += delta * (nb / n);
            self.m2 += other.m2 + delta * delta * (na * nb / n);
        } else {
            // As in `push_halved`: the means are finite but a difference
            // of them overflows, so merge halves. M2 may overflow to +∞.
            let half_delta = other.mean / 2.0 - self.mean / 2.0;
            self.mean = 2.0 * (self.mean / 2.0 + half_delta * (nb / n));
            self.m2 += other.m2 + 4.0 * (half_delta * half_delta * (na * nb / n));
        }
        self.count = count;
    }

    /// Whether the mean and the spread are both finite.
    ///
    /// False once a value was NaN or infinite, or when finite values are
    /// so spread out that their sum of squared deviations exceeds
    /// `f64::MAX`: then [`variance`](Self::variance) and
    /// [`std_error`](Self::std_error) are `+∞`, though the mean is right.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut acc = quadpipe::Accumulator::new();
    /// acc.push(1e300);
    /// assert!(acc.is_finite());
    /// acc.push(-1e300); // the squared deviations overflow
    /// assert!(!acc.is_finite());
    /// assert_eq!(acc.mean(), 0.0);
    /// ```
    pub fn is_finite(&self) -> bool {
        self.mean.is_finite() && self.m2.is_finite()
    }

    /// How many values have been added.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut acc = quadpipe::Accumulator::new();
    /// acc.push(1.0);
    /// assert_eq!(acc.count(), 1);
    /// ```
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The sum of the values, as `count × mean`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut acc = quadpipe::Accumulator::new();
    /// (1..=100).for_each(|i| acc.push(f64::from(i)));
    /// assert_eq!(acc.sum(), 5050.0);
    /// ```
    pub fn sum(&self) -> f64 {
        self.count as f64 * self.mean
    }

    /// The mean of the values, 0 when there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut acc = quadpipe::Accumulator::new();
    /// acc.push(1.0);
    /// acc.push(2.0);
    /// assert_eq!(acc.mean(), 1.5);
    /// ```
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The unbiased sample variance (divides by `count - 1`); infinite with
    /// fewer than two values, since nothing is known about the spread.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut acc = quadpipe::Accumulator::new();
    /// acc.push(1.0);
    /// assert_eq!(acc.variance(), f64::INFINITY);
    /// acc.push(3.0);
    /// assert_eq!(acc.variance(), 2.0);
    /// ```
    pub fn variance(&self) -> f64 {
        if self.count < 2 {
            f64::INFINITY
        } else {
            self.m2 / (self.count - 1) as f64
        }
    }

    /// The standard error of the mean, `sqrt(variance / count)`; infinite
    /// with fewer than two values.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut acc = quadpipe::Accumulator::new();
    /// [1.0, 3.0].iter().for_each(|&x| acc.push(x));
    /// assert_eq!(acc.std_error(), 1.0);
    /// ```
    pub fn std_error(&self) -> f64 {
        (self.variance() / self.count as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_sums_match_welford() {
        let data: Vec<f64> = (0..1000).map(|i| 1.0e6 + (i as f64 * 0.37).sin()).collect();
        let mut welford = Accumulator::new();
        data.iter().for_each(|&x| welford.push(x));

        let shift = data[0];
        let sum: f64 = data.iter().map(|x| x - shift).sum();
        let squares: f64 = data.iter().map(|x| (x - shift) * (x - shift)).sum();
        let sums = Accumulator::from_shifted_sums(1000, shift, sum, squares);

        assert_eq!(sums.count(), 1000);
        assert!((sums.mean() - welford.mean()).abs() < 1e-9);
        assert!((sums.variance() / welford.variance() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn overflowed_sums_never_make_a_zero_variance() {
        let acc = Accumulator::from_shifted_sums(4, 0.0, f64::INFINITY, f64::INFINITY);
        assert!(!acc.is_finite());
        assert_eq!(acc.variance(), f64::INFINITY);
    }

    #[test]
    fn merging_an_empty_side_changes_nothing() {
        let mut acc = Accumulator::new();
        acc.push(5.0);
        acc.push(7.0);
        let before = acc;
        acc.merge(&Accumulator::new());
        assert_eq!(acc, before);
        let mut empty = Accumulator::new();
        empty.merge(&before);
        assert_eq!(empty, before);
    }
}
