//! The result of an integration: a value, its standard error, and why it stopped.

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use crate::result::stats::{chi_squared_survival, normal_quantile, student_t_quantile};

/// Why a run stopped sampling.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Stop};
///
/// # pollster::block_on(async {
/// let estimate = Integral::new(|x| x, 0.0..1.0).samples(1000).run_inline().await?;
/// assert_eq!(estimate.stop, Stop::SampleBudget);
/// assert_eq!(estimate.stop.to_string(), "sample budget reached");
/// # Ok::<(), quadpipe::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stop {
    /// Every sample of the budget was drawn and merged (no tolerance was
    /// asked for).
    SampleBudget,
    /// The standard error met the tolerance asked for, at or after the
    /// minimum sample count.
    ToleranceMet,
    /// The whole budget was spent without meeting the tolerance asked for
    /// (for cubature: what is left of it cannot pay for another bisection):
    /// the estimate is as good as the budget allows, but not as asked.
    ToleranceNotMet,
    /// Gauss–Kronrod reached its limit on subintervals before its error
    /// estimate met the tolerance; the value is its best estimate.
    SubdivisionLimit,
    /// Gauss–Kronrod found that round-off stops its error from falling, so
    /// the tolerance cannot be met (and the error estimate may be low); or
    /// cubature's worst region is too small to bisect in an f64.
    RoundOff,
    /// Gauss–Kronrod found the integral probably divergent, or converging
    /// too slowly to compute.
    Divergent,
    /// The time limit passed. Chunks running then stopped within about a
    /// millisecond of work and gave the samples they had drawn (the first
    /// chunk at least one step of them), and the run ended at the first
    /// merge after the limit. How much fits depends on the machine and its
    /// load, so such an estimate is not reproducible, and a checkpoint is
    /// never taken past the limit.
    TimeLimit,
    /// The domain has zero width, so the integral is exactly 0 and nothing
    /// was sampled.
    Exact,
    /// A [`Source`](crate::Source) ran out of numbers.
    EndOfInput,
    /// The run had not ended when this estimate was taken: a progress
    /// snapshot, or the last merged prefix of a cancelled run.
    Partial,
}

impl Stop {
    /// Whether the same spec and seed give the same estimate again: true
    /// for every stop but a time limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Stop;
    /// assert!(Stop::ToleranceMet.is_reproducible());
    /// assert!(!Stop::TimeLimit.is_reproducible());
    /// ```
    pub fn is_reproducible(self) -> bool {
        self != Stop::TimeLimit
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::SampleBudget => "sample budget reached",
            Stop::ToleranceMet => "tolerance met",
            Stop::ToleranceNotMet => "budget spent without meeting the tolerance",
            Stop::SubdivisionLimit => "subdivision limit reached before the tolerance",
            Stop::RoundOff => "round-off prevents the tolerance",
            Stop::Divergent => "the integral seems to diverge",
            Stop::TimeLimit => "time limit reached (not reproducible)",
            Stop::Exact => "exact: the domain has zero width",
            Stop::EndOfInput => "end of input",
            Stop::Partial => "partial: the run had not ended",
        })
    }
}

/// An estimate of an integral.
///
/// `Display` prints `value ± std_error (samples samples)` (for a vector
/// integrand, `[value ± std_error, …] (samples samples)`, a pair per
/// component), with six
/// decimals unless the format asks for another precision (`{:.15}`), and
/// appends `(standard error unreliable: heavy tails)` when the run's chunks
/// said the standard error cannot be trusted, or `(standard error
/// unreliable: the integrand was 0 at every node)` when a quadrature saw
/// nothing but zeros (see
/// [`std_error_is_reliable`](Estimate::std_error_is_reliable)).
///
/// # Examples
///
/// ```
/// use quadpipe::Integral;
///
/// # pollster::block_on(async {
/// let estimate = Integral::new(|x| x, 0.0..std::f64::consts::PI)
///     .samples(100_000)
///     .seed(7)
///     .run_inline()
///     .await?;
/// // Within 5 standard errors of pi²/2.
/// let exact = std::f64::consts::PI.powi(2) / 2.0;
/// assert!((estimate.value - exact).abs() < 5.0 * estimate.std_error);
/// assert_eq!(estimate.samples, 100_000);
/// println!("{estimate}"); // e.g. 4.934802 ± 0.008052 (100000 samples)
/// # Ok::<(), quadpipe::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Estimate {
    /// The estimate of the integral.
    pub value: f64,
    /// Its standard error: one standard deviation of the estimator.
    pub std_error: f64,
    /// How many integrand evaluations it rests on.
    pub samples: u64,
    /// Why sampling stopped.
    pub stop: Stop,
    /// Integrand values that were NaN or infinite and counted as 0, under
    /// [`NonFinite::Skip`](crate::NonFinite::Skip) (they are among the
    /// `samples`); always 0 otherwise, since such a value is then an error.
    pub skipped: u64,
    /// Degrees of freedom of the standard error when it comes from a few
    /// independent replicas (randomised QMC: replicas − 1), so intervals
    /// use Student's t; `None` when it comes from many samples.
    dof: Option<u32>,
    /// VEGAS's agreement of its iterations: `χ²` over the degrees of
    /// freedom, and those (iterations averaged − 1).
    chi2: Option<(f64, u32)>,
    /// Why the standard error cannot be taken at its word, if it cannot.
    doubt: Option<Doubt>,
    /// Every component of a vector integrand; `None` for a scalar one.
    components: Option<Arc<Components>>,
}

/// One component of a vector integrand's estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ComponentEstimate {
    pub(crate) value: f64,
    pub(crate) std_error: f64,
    pub(crate) skipped: u64,
    pub(crate) heavy_tails: bool,
}

/// A vector integrand's components, the covariance matrix of their
/// estimates (`m × m`, row after row) when the method knows it, and for
/// VEGAS each component's `χ²/dof` and degrees of freedom.
#[derive(Clone, Debug, PartialEq)]
struct Components {
    each: Vec<ComponentEstimate>,
    covariance: Option<Vec<f64>>,
    chi2: Option<Vec<(f64, u32)>>,
}

/// Why a standard error cannot be taken at its word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Doubt {
    /// The chunks' variances disagree as only heavy tails make them: see
    /// [`TailCheck`](crate::TailCheck).
    HeavyTails,
    /// Gauss–Kronrod saw the integrand 0 (or below 1e-293) at every node
    /// of its final subintervals and so ended with an error of 0: it cannot
    /// tell that integrand from one with a peak between the nodes.
    OnlyZeros,
}

impl Estimate {
    pub(crate) fn new(value: f64, std_error: f64, samples: u64, stop: Stop) -> Self {
        Estimate {
            value,
            std_error,
            samples,
            stop,
            skipped: 0,
            dof: None,
            chi2: None,
            doubt: None,
            components: None,
        }
    }

    /// The estimate of a vector integrand: its top-level fields are those
    /// of component 0 (but a heavy tail in any component flags the whole),
    /// and `covariance`, if known, is the `m × m` matrix row after row.
    pub(crate) fn vector(
        each: Vec<ComponentEstimate>,
        covariance: Option<Vec<f64>>,
        samples: u64,
        stop: Stop,
    ) -> Self {
        let first = each[0];
        let heavy = each.iter().any(|c| c.heavy_tails);
        let mut estimate = Estimate::new(first.value, first.std_error, samples, stop)
            .with_skipped(first.skipped)
            .with_heavy_tails(heavy);
        estimate.components = Some(Arc::new(Components {
            each,
            covariance,
            chi2: None,
        }));
        estimate
    }

    /// Each component's VEGAS `χ²/dof` and degrees of freedom, one per
    /// component of a vector estimate; the top level takes component 0's,
    /// as it takes its value.
    pub(crate) fn with_chi2_each(mut self, chi2: Vec<(f64, u32)>) -> Self {
        self.chi2 = chi2.first().copied();
        if let Some(components) = &mut self.components {
            Arc::make_mut(components).chi2 = Some(chi2);
        }
        self
    }

    /// Each component's value and standard error: the one pair of a scalar
    /// integrand, every component's of a vector one.
    pub(crate) fn each(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let one = [(self.value, self.std_error)];
        let (scalar, vector) = match &self.components {
            None => (Some(one), None),
            Some(components) => (None, Some(components.each.iter())),
        };
        scalar
            .into_iter()
            .flatten()
            .chain(vector.into_iter().flatten().map(|c| (c.value, c.std_error)))
    }

    /// Marks the standard error as untrustworthy when `heavy_tails`: the
    /// driver passes [`TailCheck::is_heavy_tailed`](crate::TailCheck::is_heavy_tailed)
    /// of the run's chunks.
    pub(crate) fn with_heavy_tails(mut self, heavy_tails: bool) -> Self {
        if heavy_tails {
            self.doubt = Some(Doubt::HeavyTails);
        }
        self
    }

    /// Marks the standard error as untrustworthy when `only_zeros`: a
    /// quadrature saw the integrand 0 at every node.
    pub(crate) fn with_only_zeros(mut self, only_zeros: bool) -> Self {
        if only_zeros {
            self.doubt = Some(Doubt::OnlyZeros);
        }
        self
    }

    pub(crate) fn with_skipped(mut self, skipped: u64) -> Self {
        self.skipped = skipped;
        self
    }

    pub(crate) fn with_dof(mut self, dof: u32) -> Self {
        self.dof = Some(dof);
        self
    }

    pub(crate) fn with_chi2(mut self, chi2_per_dof: f64, dof: u32) -> Self {
        self.chi2 = Some((chi2_per_dof, dof));
        self
    }

    /// The interval that covers the true value with probability `level`
    /// (0.95 for a 95% interval): `value ± q · std_error`, with `q` the
    /// normal quantile, or Student's t quantile with
    /// [`degrees_of_freedom`](Estimate::degrees_of_freedom) when the error
    /// comes from a few replicas. Any `level` in (0, 1) gives finite bounds,
    /// or infinite ones where the standard error or the value is (a level
    /// within 1e-16 of 1 is about ±8.3 standard errors); a `level` outside
    /// (0, 1), or NaN, gives NaN bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Method};
    ///
    /// # pollster::block_on(async {
    /// let exact = 1.0 - (-1.0f64).exp();
    /// let integral = Integral::new(|x: f64| (-x).exp(), 0.0..1.0).samples(1 << 16).seed(3);
    /// let mc = integral.run_inline().await?;
    /// assert!(mc.interval(0.95).contains(&exact));
    ///
    /// // Randomised QMC with 8 replicas: t with 7 degrees of freedom, so
    /// // the 95% interval is ±2.365 standard errors, not ±1.960.
    /// let qmc = integral.method(Method::SOBOL).run_inline().await?;
    /// let width = qmc.interval(0.95).end() - qmc.interval(0.95).start();
    /// assert!((width / (2.0 * qmc.std_error) - 2.3646).abs() < 1e-4);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn interval(&self, level: f64) -> RangeInclusive<f64> {
        if !(level > 0.0 && level < 1.0) {
            return f64::NAN..=f64::NAN;
        }
        // The quantile of the lower tail, negated: `0.5 + level / 2` would
        // round to 1 for levels within an ulp of 1, whose quantile is
        // infinite, while `1 − level` is exact for every level from ½ up
        // and the tail keeps its full relative precision.
        let tail = (1.0 - level) / 2.0;
        let q = -match self.dof {
            Some(dof) => student_t_quantile(tail, f64::from(dof)),
            None => normal_quantile(tail),
        };
        // A tiny level has q = 0; then the interval is the value even when
        // the standard error is infinite (0 · ∞ would be NaN).
        let half_width = if q == 0.0 { 0.0 } else { q * self.std_error };
        (self.value - half_width)..=(self.value + half_width)
    }

    /// Degrees of freedom of the standard error, when it rests on a few
    /// independent replicas rather than many samples; see
    /// [`interval`](Estimate::interval).
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let estimate = quadpipe::Integral::new(|x| x, 0.0..1.0).samples(1000).run_inline().await?;
    /// assert_eq!(estimate.degrees_of_freedom(), None);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn degrees_of_freedom(&self) -> Option<u32> {
        self.dof
    }

    /// Whether the standard error can be taken at its word: finite, not
    /// flagged by the run's check for heavy tails, and not a Gauss–Kronrod
    /// `0 ± 0` from an integrand that was 0 at every node it saw.
    ///
    /// An integrand with infinite variance, such as `x^-0.75` on [0, 1]
    /// (its integral, 4, is finite), gives a standard error that is mostly
    /// too small: its 95% intervals missed the truth in a third of runs,
    /// by up to 9 standard errors. Such a run is flagged from the spread of
    /// its chunks' variances ([`TailCheck`](crate::TailCheck) says how),
    /// and `Display` says so. Then trust the value less than the error bar
    /// suggests: transform the integrand to tame the singularity (here
    /// `x = u⁴` gives `4u^0` on [0, 1]), or use
    /// [`Method::vegas`](crate::Method::vegas) or Gauss–Kronrod. A run
    /// with fewer than eight chunks is never flagged, as the check cannot
    /// tell.
    ///
    /// Gauss–Kronrod evaluates the integrand at 21 nodes of each
    /// subinterval (15 on an infinite interval); if it is 0 at all of them,
    /// the run ends with `0 ± 0`, which is right for an integrand that is
    /// 0, and wrong for `exp(−x²)` over ±1e10, whose peak lies between the
    /// nodes. It cannot tell the two apart, so it flags such an estimate:
    /// split the interval where the integrand lives
    /// ([`points`](crate::method::GaussKronrod::points)), or integrate over
    /// the infinite line, where `exp(−x²)` gives `√π`.
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let estimate = quadpipe::Integral::new(|x| x * x, 0.0..1.0).samples(1 << 16).run_inline().await?;
    /// assert!(estimate.std_error_is_reliable());
    /// assert!(!estimate.to_string().contains("unreliable"));
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn std_error_is_reliable(&self) -> bool {
        self.doubt.is_none() && self.std_error.is_finite()
    }
}

impl Estimate {
    /// How many values the integrand gives at a point: 1, or the `m` of a
    /// vector integrand ([`Integral::vector`](crate::Integral::vector)).
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let scalar = quadpipe::Integral::new(|x| x, 0.0..1.0).samples(1000).run_inline().await?;
    /// assert_eq!(scalar.components(), 1);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn components(&self) -> usize {
        self.components.as_ref().map_or(1, |c| c.each.len())
    }

    /// The estimate of component `j` alone, `None` past the last: its
    /// value, standard error and skipped values, with the run's samples,
    /// stop and degrees of freedom, so that its
    /// [`interval`](Estimate::interval) is the component's, and under
    /// VEGAS its own [`chi2_per_dof`](Estimate::chi2_per_dof). For plain
    /// Monte Carlo and randomised QMC, its value and standard error are, to
    /// the bit, those of a run of that component alone with the same seed;
    /// under VEGAS adapted to it
    /// ([`adapt_to`](crate::method::Vegas::adapt_to)), the whole estimate
    /// is that run's. Component 0 of a scalar integrand is the estimate
    /// itself.
    ///
    /// The top-level fields of a vector estimate (`value`, `std_error`,
    /// `skipped`) are component 0's.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// // x and x² on [0, 1] at the same points.
    /// let moments = Integral::vector(2, |x: &[f64], out: &mut [f64]| {
    ///     out[0] = x[0];
    ///     out[1] = x[0] * x[0];
    /// }, [0.0..1.0]);
    /// let estimate = pollster::block_on(moments.samples(1 << 16).run_inline())?;
    /// let second = estimate.component(1).unwrap();
    /// assert!(second.interval(0.999).contains(&(1.0 / 3.0)));
    /// assert_eq!(estimate.value, estimate.component(0).unwrap().value);
    /// assert!(estimate.component(2).is_none());
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn component(&self, j: usize) -> Option<Estimate> {
        let Some(components) = &self.components else {
            return (j == 0).then(|| self.clone());
        };
        let c = components.each.get(j)?;
        let mut estimate = Estimate::new(c.value, c.std_error, self.samples, self.stop)
            .with_skipped(c.skipped)
            .with_heavy_tails(c.heavy_tails);
        estimate.dof = self.dof;
        estimate.chi2 = components.chi2.as_ref().map(|chi2| chi2[j]);
        Some(estimate)
    }

    /// The covariance of the estimates of components `j` and `k` (so
    /// `covariance(j, j)` is the square of component `j`'s standard
    /// error), for a vector integrand under plain Monte Carlo (from the
    /// points' values), randomised QMC (from the replicas' estimates,
    /// with their degrees of freedom) or VEGAS (from each hypercube's
    /// covariance, `Σ_h V_h² c_h / n_h` per iteration, and the iterations
    /// averaged by their samples). `None` for a scalar integrand, for
    /// other methods, and past the last component.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// // u and 1 − u: perfectly anti-correlated.
    /// let pair = Integral::vector(2, |x: &[f64], out: &mut [f64]| {
    ///     out[0] = x[0];
    ///     out[1] = 1.0 - x[0];
    /// }, [0.0..1.0]);
    /// let estimate = pollster::block_on(pair.samples(1 << 16).run_inline())?;
    /// let (var, cov) = (estimate.covariance(0, 0).unwrap(), estimate.covariance(0, 1).unwrap());
    /// assert!((cov / var + 1.0).abs() < 1e-9);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn covariance(&self, j: usize, k: usize) -> Option<f64> {
        let components = self.components.as_ref()?;
        let m = components.each.len();
        if j >= m || k >= m {
            return None;
        }
        Some(components.covariance.as_ref()?[j * m + k])
    }
}

impl Estimate {
    /// For [`Method::vegas`](crate::Method::vegas): `χ²` per degree of
    /// freedom of the iterations it averaged, `Σ (I_k − Ī)²/σ_k² / (n − 1)`,
    /// which should be near 1 when they agree within their errors; 0 with
    /// one iteration. `None` for other methods. For a vector integrand,
    /// component 0's, as are the value and standard error; each
    /// component's own is its [`component`](Estimate::component)'s, and
    /// so are [`q`](Estimate::q) and
    /// [`iterations_disagree`](Estimate::iterations_disagree).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Method};
    ///
    /// # pollster::block_on(async {
    /// let estimate = Integral::over(|x: &[f64]| x[0] * x[1], [0.0..1.0, 0.0..1.0])
    ///     .method(Method::VEGAS)
    ///     .samples(100_000)
    ///     .run_inline()
    ///     .await?;
    /// let chi2 = estimate.chi2_per_dof().unwrap();
    /// assert!(chi2 < 5.0, "the iterations disagree: χ²/dof = {chi2}");
    /// assert_eq!(Integral::new(|x| x, 0.0..1.0).run_inline().await?.chi2_per_dof(), None);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn chi2_per_dof(&self) -> Option<f64> {
        self.chi2.map(|(per_dof, _)| per_dof)
    }

    /// For [`Method::vegas`](crate::Method::vegas): vegas's `Q`, the chance
    /// that iterations that truly agree would scatter at least as much as
    /// these did (the `χ²` tail at
    /// [`chi2_per_dof`](Estimate::chi2_per_dof)). 1 with one iteration;
    /// `None` for other methods.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Method};
    ///
    /// # pollster::block_on(async {
    /// let estimate = Integral::new(|x: f64| x.sqrt(), 0.0..1.0)
    ///     .method(Method::VEGAS)
    ///     .samples(100_000)
    ///     .run_inline()
    ///     .await?;
    /// let q = estimate.q().unwrap();
    /// assert!((0.0..=1.0).contains(&q));
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn q(&self) -> Option<f64> {
        self.chi2.map(|(per_dof, dof)| {
            if dof == 0 {
                1.0
            } else {
                chi_squared_survival(per_dof * f64::from(dof), f64::from(dof))
            }
        })
    }

    /// The warning flag: VEGAS's iterations disagree by more than their
    /// errors allow: `Q < 0.05`, the conventional 5% level of a χ² test
    /// (vegas prints `Q` for the reader to make the same judgement; GSL
    /// leaves `chisq` to the caller). Then the error bar
    /// is likely too small: the early iterations were taken on a grid that
    /// had not yet adapted (discard more of them with `warmup`), or the
    /// integrand is too hard for the samples per iteration. A run whose
    /// iterations truly agree raises it one time in twenty. Always false
    /// for other methods.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Method};
    ///
    /// # pollster::block_on(async {
    /// let estimate = Integral::new(|x| x, 0.0..1.0)
    ///     .method(Method::VEGAS)
    ///     .samples(100_000)
    ///     .seed(1)
    ///     .run_inline()
    ///     .await?;
    /// if estimate.iterations_disagree() {
    ///     eprintln!("χ²/dof = {:?}: do not trust the error bar", estimate.chi2_per_dof());
    /// }
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn iterations_disagree(&self) -> bool {
        // A NaN `Q` (NaN iterations) warns too.
        self.q().is_some_and(|q| q.is_nan() || q < 0.05)
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precision = f.precision().unwrap_or(6);
        match &self.components {
            None => write!(
                f,
                "{:.precision$} ± {:.precision$} ({} samples)",
                self.value, self.std_error, self.samples
            )?,
            Some(components) => {
                f.write_str("[")?;
                for (j, c) in components.each.iter().enumerate() {
                    let comma = if j > 0 { ", " } else { "" };
                    write!(
                        f,
                        "{comma}{:.precision$} ± {:.precision$}",
                        c.value, c.std_error
                    )?;
                }
                write!(f, "] ({} samples)", self.samples)?;
            }
        }
        match self.doubt {
            Some(Doubt::HeavyTails) => f.write_str(" (standard error unreliable: heavy tails)")?,
            Some(Doubt::OnlyZeros) => {
                f.write_str(" (standard error unreliable: the integrand was 0 at every node)")?
            }
            None => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_never_nan_inside_the_unit_interval() {
        // 100,000 seeded cases: levels log-uniform towards 0 and towards 1,
        // every kind of standard error and value, normal and t with 1 to
        // 1000 degrees of freedom.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            // SplitMix64: enough randomness for a sweep, no dependency.
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let errors = [0.0, 5e-324, 1e-300, 1.0, 1e300, f64::MAX, f64::INFINITY];
        let values = [0.0, 1.0, -1e308, 1e308, f64::MAX];
        for _ in 0..100_000 {
            let u = ((next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            let tiny = 10f64.powf(-300.0 * u);
            let level = match next() % 3 {
                0 => u,
                1 => tiny,
                _ => 1.0 - tiny.max(f64::EPSILON / 2.0),
            };
            let std_error = errors[(next() % errors.len() as u64) as usize];
            let value = values[(next() % values.len() as u64) as usize];
            let mut estimate = Estimate::new(value, std_error, 100, Stop::SampleBudget);
            if next() % 2 == 0 {
                estimate = estimate.with_dof(1 + (next() % 1000) as u32);
            }
            let interval = estimate.interval(level);
            assert!(
                !interval.start().is_nan() && !interval.end().is_nan(),
                "{estimate:?} at {level}: {interval:?}"
            );
            assert!(interval.start() <= &value && &value <= interval.end());
        }
    }

    #[test]
    fn display_matches_the_documented_form() {
        let estimate = Estimate::new(4.934802, 0.00009, 10_000_000, Stop::SampleBudget);
        assert_eq!(
            estimate.to_string(),
            "4.934802 ± 0.000090 (10000000 samples)"
        );
        assert_eq!(format!("{estimate:.2}"), "4.93 ± 0.00 (10000000 samples)");
        assert_eq!(
            estimate.clone().with_heavy_tails(true).to_string(),
            "4.934802 ± 0.000090 (10000000 samples) (standard error unreliable: heavy tails)"
        );
        assert!(!estimate.with_heavy_tails(true).std_error_is_reliable());
    }
}
