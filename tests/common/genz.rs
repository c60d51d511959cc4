//! The six Genz test families on the unit cube `[0, 1]^d`, each with its
//! integral in closed form, so an estimate can be checked against the truth.
//!
//! A. Genz, "Testing multidimensional integration routines", in *Tools,
//! Methods and Languages for Scientific and Engineering Computation*
//! (B. Ford, J. C. Rault, F. Thomasset, eds.), North-Holland, 1984,
//! pp. 81–94; also A. Genz, "A package for testing multiple integration
//! subroutines", in *Numerical Integration* (P. Keast, G. Fairweather,
//! eds.), Reidel, 1987, pp. 337–340. The definitions below follow those
//! given, with the same parameter names `c` and `w`, by
//!
//! - S. Surjanovic and D. Bingham, *Virtual Library of Simulation
//!   Experiments*, "Integration Functions" (the "Corner Peak" and "Gaussian
//!   Peak" pages: <https://www.sfu.ca/~ssurjano/copeak.html>,
//!   <https://www.sfu.ca/~ssurjano/gaussian.html>, where `a` is our `c` and
//!   `u` our `w`);
//! - A. Klimke's `spinterp` toolbox, `examples/testfunctions.m`, which
//!   states all six after Genz (1987), the discontinuous one with the
//!   condition on `x_1` and `x_2` only, as here;
//! - the R2Cuba package's `demo/GenzSuite.R` (after Cuba's test suite),
//!   which also gives the closed forms used in [`Genz::exact`].
//!
//! Everything here is deterministic: the parameters come from fixed
//! formulas (see [`Genz::new`]), never from a random draw at run time.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::f64::consts::{FRAC_2_SQRT_PI, PI};

/// One of the six Genz families. Each is named for the feature that makes
/// it hard to integrate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// `f(x) = cos(2π w_1 + Σ c_i x_i)`: a plane wave across the cube.
    Oscillatory,
    /// `f(x) = Π 1 / (c_i^{-2} + (x_i − w_i)^2)`: a peak of height `Π c_i²`
    /// at `w`.
    ProductPeak,
    /// `f(x) = (1 + Σ c_i x_i)^{-(d+1)}`: a peak at the corner `x = 0`.
    CornerPeak,
    /// `f(x) = exp(−Σ c_i² (x_i − w_i)²)`: a Gaussian bump at `w`.
    Gaussian,
    /// `f(x) = exp(−Σ c_i |x_i − w_i|)`: continuous, with a kink on every
    /// hyperplane `x_i = w_i`.
    Continuous,
    /// `f(x) = 0` if `x_1 > w_1` or `x_2 > w_2`, else `exp(Σ c_i x_i)`: a
    /// jump across `x_1 = w_1` and `x_2 = w_2` (only the first when `d = 1`).
    Discontinuous,
}

impl Family {
    /// All six, in Genz's order.
    pub const ALL: [Family; 6] = [
        Family::Oscillatory,
        Family::ProductPeak,
        Family::CornerPeak,
        Family::Gaussian,
        Family::Continuous,
        Family::Discontinuous,
    ];

    /// A short lowercase name, for test messages.
    pub fn name(self) -> &'static str {
        match self {
            Family::Oscillatory => "oscillatory",
            Family::ProductPeak => "product peak",
            Family::CornerPeak => "corner peak",
            Family::Gaussian => "gaussian",
            Family::Continuous => "continuous",
            Family::Discontinuous => "discontinuous",
        }
    }

    /// True for the four infinitely differentiable families; the
    /// continuous one has kinks and the discontinuous one jumps.
    pub fn is_smooth(self) -> bool {
        !matches!(self, Family::Continuous | Family::Discontinuous)
    }

    /// `Σ c_i`, the family's difficulty as Genz defines it: the larger, the
    /// sharper the feature. [`Genz::new`] scales `c` to this sum in every
    /// dimension.
    ///
    /// Chosen so that one uniform sample has a relative standard deviation
    /// `σ/|I|` between 0.25 and 2.8 for every family and `d = 1..=5`
    /// (computed from the closed forms of `∫ f` and `∫ f²`):
    ///
    /// | family        | Σ c_i | σ/\|I\|, d = 1 | d = 2 | d = 3 | d = 5 |
    /// |---------------|------:|------:|------:|------:|------:|
    /// | oscillatory   |   4.5 |  1.55 |  0.62 |  0.41 |  0.25 |
    /// | product peak  |   7.0 |  0.81 |  0.77 |  0.71 |  0.47 |
    /// | corner peak   |   3.0 |  0.87 |  1.06 |  1.24 |  1.61 |
    /// | gaussian      |   7.0 |  1.34 |  1.22 |  1.13 |  0.64 |
    /// | continuous    |  10.0 |  1.25 |  1.26 |  1.27 |  1.02 |
    /// | discontinuous |   4.5 |  1.24 |  2.63 |  2.71 |  2.71 |
    ///
    /// So plain Monte Carlo has a relative standard error of at most about
    /// 3% at 10⁴ points and 0.3% at 10⁶: a few digits, as a test wants.
    pub fn difficulty(self) -> f64 {
        match self {
            Family::Oscillatory => 4.5,
            Family::ProductPeak => 7.0,
            Family::CornerPeak => 3.0,
            Family::Gaussian => 7.0,
            Family::Continuous => 10.0,
            Family::Discontinuous => 4.5,
        }
    }
}

/// One Genz integrand on `[0, 1]^d`: a family and its parameters, the
/// scales `c` (all positive) and the offsets `w` (each in `[0, 1]`), both of
/// length `d`.
///
/// The fields are public so a test may set its own parameters; [`eval`]
/// and [`exact`] hold for any `c_i > 0` and `w_i` in `[0, 1]`.
///
/// [`eval`]: Genz::eval
/// [`exact`]: Genz::exact
#[derive(Clone, Debug, PartialEq)]
pub struct Genz {
    /// Which of the six integrands.
    pub family: Family,
    /// Scales, `c_i > 0`: how sharp the feature is along axis `i`.
    pub c: Vec<f64>,
    /// Offsets, `w_i` in `[0, 1]`: where the feature sits along axis `i`.
    /// The oscillatory family reads only `w_1` (its phase is `2π w_1`); the
    /// corner peak reads none; the discontinuous one only `w_1` and `w_2`.
    pub w: Vec<f64>,
}

impl Genz {
    /// The integrand of `family` on `[0, 1]^d`, with fixed parameters:
    ///
    /// - `w_i = frac(i·φ)`, `φ = (√5 − 1)/2`, `i = 1..=d`: the golden-ratio
    ///   Kronecker sequence, so the offsets look irrational and spread over
    ///   `(0, 1)` in any dimension: 0.6180, 0.2361, 0.8541, 0.4721, 0.0902,
    ///   …
    /// - `c_i = h · a_i / Σ a_j` with `a_i = 1 + frac(i·√2)` and `h` the
    ///   family's [`difficulty`](Family::difficulty): unequal scales (the
    ///   largest at most twice the smallest), so a bug that swaps axes
    ///   shows, summing to `h` in every dimension. For `d = 2` the shares
    ///   `a_i / Σ a_j` are 0.4361 and 0.5639; for `d = 5` they are 0.1961,
    ///   0.2535, 0.1723, 0.2297 and 0.1485.
    ///
    /// Only correctly rounded IEEE operations (`sqrt`, `*`, `/`, `+`) and
    /// `floor` make them, in a fixed order, so they are the same bits on
    /// every platform.
    ///
    /// # Panics
    ///
    /// If `d` is 0. (Every family is defined for every `d ≥ 1`; with
    /// `d = 1` the discontinuous one has only the jump at `x_1 = w_1`.)
    pub fn new(family: Family, d: usize) -> Genz {
        assert!(d >= 1, "a Genz integrand needs at least one dimension");
        let golden = (5f64.sqrt() - 1.0) / 2.0;
        let sqrt2 = 2f64.sqrt();
        let frac = |x: f64| x - x.floor();
        let w = (1..=d).map(|i| frac(i as f64 * golden)).collect();
        let a: Vec<f64> = (1..=d).map(|i| 1.0 + frac(i as f64 * sqrt2)).collect();
        let scale = family.difficulty() / a.iter().sum::<f64>();
        let c = a.iter().map(|a| a * scale).collect();
        Genz { family, c, w }
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.c.len()
    }

    /// `f(x)` for `x` in `[0, 1]^d`, as defined on [`Family`]. On the jump
    /// of the discontinuous family (`x_1 = w_1` or `x_2 = w_2`) it takes
    /// the inner value, as Genz's `x_i ≤ w_i` does.
    ///
    /// # Panics
    ///
    /// If `x.len()` is not the dimension.
    pub fn eval(&self, x: &[f64]) -> f64 {
        assert_eq!(x.len(), self.dim(), "point and integrand dimensions differ");
        let axes = self.c.iter().zip(&self.w).zip(x);
        match self.family {
            Family::Oscillatory => (2.0 * PI * self.w[0] + dot(&self.c, x)).cos(),
            Family::ProductPeak => axes
                .map(|((c, w), x)| 1.0 / (c.powi(-2) + (x - w).powi(2)))
                .product(),
            Family::CornerPeak => {
                let power = i32::try_from(self.dim() + 1).expect("dimension fits in i32");
                (1.0 + dot(&self.c, x)).powi(-power)
            }
            Family::Gaussian => (-axes.map(|((c, w), x)| (c * (x - w)).powi(2)).sum::<f64>()).exp(),
            Family::Continuous => (-axes.map(|((c, w), x)| c * (x - w).abs()).sum::<f64>()).exp(),
            Family::Discontinuous => {
                let outside = x.iter().zip(&self.w).take(2).any(|(x, w)| x > w);
                if outside { 0.0 } else { dot(&self.c, x).exp() }
            }
        }
    }

    /// `∫_{[0,1]^d} f(x) dx`, in closed form.
    ///
    /// Four families are products of one-dimensional integrals; per axis,
    /// with `c = c_i`, `w = w_i`:
    ///
    /// - product peak: `∫_0^1 dx / (c^{-2} + (x − w)²)
    ///   = c · (arctan(c(1 − w)) + arctan(c w))`;
    /// - gaussian: `∫_0^1 exp(−c²(x − w)²) dx
    ///   = (√π / 2c) · (erf(c(1 − w)) + erf(c w))`, with [`erf`] below;
    /// - continuous: `∫_0^1 exp(−c|x − w|) dx
    ///   = (2 − exp(−c w) − exp(−c(1 − w))) / c`;
    /// - discontinuous: `∫_0^w exp(c x) dx = (exp(c w) − 1) / c` on axes 1
    ///   and 2, `(exp(c) − 1) / c` on the others (`exp_m1` keeps the digits
    ///   for small `c`).
    ///
    /// The other two are not products:
    ///
    /// - oscillatory: `cos(2π w_1 + c·x)` is the real part of
    ///   `e^{2πi w_1} Π e^{i c_k x_k}`, which factorises, so the integral is
    ///   `Re[e^{2πi w_1} Π (e^{i c_k} − 1) / (i c_k)]`. Each factor is
    ///   `sin(c_k)/c_k + i · 2 sin²(c_k/2)/c_k`, written so that nothing
    ///   cancels for small `c_k`. (Equivalently
    ///   `2^d cos(2π w_1 + Σ c_k/2) Π sin(c_k/2)/c_k`: V. Kaarnioja,
    ///   "Explicit solutions of Genz test integrals", Appl. Math. Lett.,
    ///   2025, doi:10.1016/j.aml.2024.109444.)
    /// - corner peak: integrating `(1 + c·x)^{-(d+1)}` over one axis at a
    ///   time lowers the power by one and takes a difference between the
    ///   faces `x_k = 0` and `x_k = 1`; after all `d` axes, inclusion–
    ///   exclusion over the `2^d` vertices `v` of the cube:
    ///   `(1 / (d! Π c_k)) Σ_{v ∈ {0,1}^d} (−1)^{|v|} / (1 + c·v)`.
    ///   The sum cancels: its terms are of order 1 and it is of order
    ///   `d! Π c_k · I`, so it loses about `log10(1 / (d! Π c_k I))` digits:
    ///   one at `d = 5` with the default parameters (`d! Π c_k I ≈ 0.065`),
    ///   more as `d` grows. Use it for `d` up to 10 or so.
    ///
    /// # Panics
    ///
    /// If some `c_i` is not positive or some `w_i` is outside `[0, 1]`, or
    /// for the corner peak if `d > 30` (2^d terms).
    pub fn exact(&self) -> f64 {
        assert!(
            self.c.iter().all(|&c| c > 0.0),
            "Genz scales must be positive"
        );
        assert!(
            self.w.iter().all(|w| (0.0..=1.0).contains(w)),
            "Genz offsets must lie in [0, 1]"
        );
        let axes = self.c.iter().zip(&self.w);
        match self.family {
            Family::Oscillatory => {
                let (mut re, mut im) = ((2.0 * PI * self.w[0]).cos(), (2.0 * PI * self.w[0]).sin());
                for &c in &self.c {
                    let (f_re, f_im) = (c.sin() / c, 2.0 * (c / 2.0).sin().powi(2) / c);
                    (re, im) = (re * f_re - im * f_im, re * f_im + im * f_re);
                }
                re
            }
            Family::ProductPeak => axes
                .map(|(c, w)| c * ((c * (1.0 - w)).atan() + (c * w).atan()))
                .product(),
            Family::CornerPeak => {
                let d = self.dim();
                assert!(d <= 30, "the corner peak's closed form has 2^d terms");
                let vertices: f64 = (0u32..1 << d)
                    .map(|v| {
                        let cv: f64 = (0..d).filter(|k| v >> k & 1 == 1).map(|k| self.c[k]).sum();
                        let sign = if v.count_ones() % 2 == 0 { 1.0 } else { -1.0 };
                        sign / (1.0 + cv)
                    })
                    .sum();
                let factorial: f64 = (1..=d).map(|k| k as f64).product();
                vertices / (factorial * self.c.iter().product::<f64>())
            }
            Family::Gaussian => axes
                .map(|(c, w)| (erf(c * (1.0 - w)) + erf(c * w)) / (FRAC_2_SQRT_PI * c))
                .product(),
            Family::Continuous => axes
                .map(|(c, w)| (2.0 - (-c * w).exp() - (-c * (1.0 - w)).exp()) / c)
                .product(),
            Family::Discontinuous => axes
                .enumerate()
                .map(|(i, (c, w))| {
                    if i < 2 {
                        (c * w).exp_m1() / c
                    } else {
                        c.exp_m1() / c
                    }
                })
                .product(),
        }
    }
}

/// `Σ a_i b_i`.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// The error function, `erf(x) = (2/√π) ∫_0^x exp(−t²) dt`, to within a few
/// units in the last place (checked against reference values in
/// `tests/genz_closed_forms.rs`); Rust's `std` has none.
///
/// - For `|x| < 2.5`, the series `erf(x) = (2/√π) e^{−x²} Σ_{n≥0} 2^n
///   x^{2n+1} / (1·3·5···(2n+1))` (Abramowitz & Stegun 7.1.6): every term
///   is positive, so nothing cancels, and at most 40 terms reach 1e-17.
/// - For `|x| ≥ 2.5`, `erf(x) = 1 − erfc(x)` with Laplace's continued
///   fraction `erfc(x) = (e^{−x²}/√π) / (x + (1/2)/(x + 1/(x + (3/2)/(x +
///   …))))` (A&S 7.1.14), partial numerators `n/2`, evaluated from the
///   bottom up; 60 levels give full precision from `x = 2.5` on, and
///   `erfc(x) < 4.1e-4` there, so the subtraction loses nothing.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < 0.0 {
        return -erf(-x);
    }
    if x < 2.5 {
        let x2 = x * x;
        let (mut term, mut sum) = (x, x);
        for n in 1..100 {
            term *= 2.0 * x2 / f64::from(2 * n + 1);
            sum += term;
            if term <= sum * 1e-17 {
                break;
            }
        }
        FRAC_2_SQRT_PI * (-x2).exp() * sum
    } else {
        let mut tail = x;
        for n in (1..=60).rev() {
            tail = x + f64::from(n) / 2.0 / tail;
        }
        1.0 - FRAC_2_SQRT_PI / 2.0 * (-x * x).exp() / tail
    }
}
