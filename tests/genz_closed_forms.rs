//! The Genz integrands' closed forms agree with an independent quadrature.
//!
//! `Genz::exact` is a formula per family; a wrong sign, a swapped `c_i` and
//! `w_i` or a forgotten `1/c` would make every Monte Carlo test built on it
//! fail, or worse, pass for the wrong reason. So each formula is checked
//! here against tensor-product Gauss–Legendre quadrature of `Genz::eval`,
//! which shares no code with it. Each axis is cut at `w_i` and then into
//! equal panels, so the kinks of the continuous family and the jumps of
//! the discontinuous one fall on panel edges and every panel sees a smooth
//! function; the rule then converges exponentially for all six families.

mod common;

use common::genz::{Family, Genz, erf};

/// Gauss–Legendre nodes and weights on `[-1, 1]`: the roots of the
/// Legendre polynomial `P_n` by Newton's method from Tricomi's initial
/// guesses `cos(π(i + 3/4)/(n + 1/2))`, and weights `2 / ((1 − x²) P_n'(x)²)`
/// (Abramowitz & Stegun 25.4.29).
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let order = n as f64;
    (0..n)
        .map(|i| {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (order + 0.5)).cos();
            for _ in 0..100 {
                let (p, dp) = legendre(n, x);
                let step = p / dp;
                x -= step;
                if step.abs() < 1e-16 {
                    break;
                }
            }
            let (_, dp) = legendre(n, x);
            (x, 2.0 / ((1.0 - x * x) * dp * dp))
        })
        .collect()
}

/// `(P_n(x), P_n'(x))` by the three-term recurrence
/// `k P_k = (2k − 1) x P_{k−1} − (k − 1) P_{k−2}`.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p, mut previous) = (1.0, 0.0);
    for k in 1..=n {
        let k = k as f64;
        (p, previous) = (((2.0 * k - 1.0) * x * p - (k - 1.0) * previous) / k, p);
    }
    let dp = n as f64 * (x * p - previous) / (x * x - 1.0);
    (p, dp)
}

/// A composite rule on `[0, 1]` for axis `axis` of `genz`: cut at `w_i`,
/// each piece cut into `panels` equal panels, `nodes` Gauss–Legendre
/// points on each.
fn axis_rule(genz: &Genz, axis: usize, panels: usize, nodes: usize) -> Vec<(f64, f64)> {
    let base = gauss_legendre(nodes);
    let w = genz.w[axis];
    let mut rule = Vec::new();
    for (start, end) in [(0.0, w), (w, 1.0)] {
        let width = (end - start) / panels as f64;
        for panel in 0..panels {
            let left = start + panel as f64 * width;
            for &(x, weight) in &base {
                rule.push((left + (x + 1.0) * width / 2.0, weight * width / 2.0));
            }
        }
    }
    rule
}

/// `∫ f` over `[0, 1]^d` by the tensor product of one rule per axis. The
/// sum nests axis by axis, which keeps rounding error near that of a 1-D
/// sum.
fn tensor_quadrature(genz: &Genz, panels: usize, nodes: usize) -> f64 {
    let rules: Vec<_> = (0..genz.dim())
        .map(|axis| axis_rule(genz, axis, panels, nodes))
        .collect();
    let mut x = vec![0.0; genz.dim()];
    nested_sum(genz, &rules, &mut x, 0)
}

fn nested_sum(genz: &Genz, rules: &[Vec<(f64, f64)>], x: &mut [f64], axis: usize) -> f64 {
    if axis == rules.len() {
        return genz.eval(x);
    }
    let mut sum = 0.0;
    for &(point, weight) in &rules[axis] {
        x[axis] = point;
        sum += weight * nested_sum(genz, rules, x, axis + 1);
    }
    sum
}

/// Checks every family's closed form in dimension `d` against the
/// quadrature, within `tolerance` relative, and prints the errors (shown
/// with `--nocapture`).
fn assert_closed_forms_agree(d: usize, panels: usize, nodes: usize, tolerance: f64) {
    for family in Family::ALL {
        let genz = Genz::new(family, d);
        let exact = genz.exact();
        let quadrature = tensor_quadrature(&genz, panels, nodes);
        let error = (quadrature - exact).abs() / exact.abs();
        println!(
            "d = {d}, {:>13}: exact {exact:.16e}, relative error {error:.1e}",
            family.name()
        );
        assert!(
            error < tolerance,
            "{} in d = {d}: closed form {exact:e}, quadrature {quadrature:e}, relative error {error:e}",
            family.name()
        );
    }
}

/// The quadrature itself: `n` Gauss–Legendre points integrate every
/// polynomial of degree up to `2n − 1` exactly.
#[test]
fn gauss_legendre_is_exact_to_degree_2n_minus_1() {
    for n in [1, 2, 5, 10, 20, 40] {
        let rule = gauss_legendre(n);
        for degree in 0..2 * n as i32 {
            let sum: f64 = rule.iter().map(|(x, w)| w * x.powi(degree)).sum();
            let exact = if degree % 2 == 0 {
                2.0 / f64::from(degree + 1)
            } else {
                0.0
            };
            assert!(
                (sum - exact).abs() < 1e-14,
                "n = {n}, degree {degree}: {sum} vs {exact}"
            );
        }
    }
}

/// Reference values of erf, correctly rounded to f64 (A&S Table 7.1 gives
/// them to 15 digits; these are from a 30-digit evaluation). Four units in
/// the last place cover the rounding of `exp` and of the sums.
#[test]
fn erf_matches_reference_values() {
    let reference = [
        (0.1, 0.1124629160182849),
        (0.5, 0.5204998778130465),
        (1.0, 0.8427007929497149),
        (1.5, 0.9661051464753108),
        (2.0, 0.9953222650189527),
        (2.5, 0.999593047982555),
        (3.0, 0.9999779095030014),
        (4.0, 0.9999999845827421),
        (5.0, 0.9999999999984626),
    ];
    for (x, want) in reference {
        for (x, want) in [(x, want), (-x, -want)] {
            let got = erf(x);
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want.abs(),
                "erf({x}) = {got}, want {want}"
            );
        }
    }
    assert_eq!(erf(0.0), 0.0);
    assert_eq!(erf(f64::INFINITY), 1.0);
    assert_eq!(erf(f64::NEG_INFINITY), -1.0);
    assert!(erf(f64::NAN).is_nan());
    // Near 0, erf(x) = (2/√π) x (1 − x²/3 + …).
    let tiny = 1e-10;
    let want = std::f64::consts::FRAC_2_SQRT_PI * tiny;
    assert!((erf(tiny) - want).abs() <= f64::EPSILON * want);
}

// Measured relative errors: at most 1.3e-15 for d = 1, 2, 3 (rounding), and
// 5.7e-13 for d = 5 (the product peak, limited by the coarser rule; the
// others stay below 1.5e-15). The tolerances leave a factor of ten or more
// for other platforms' libm.

/// d = 1: 2 × 8 panels of 30 points.
#[test]
fn closed_forms_agree_with_quadrature_in_one_dimension() {
    assert_closed_forms_agree(1, 8, 30, 1e-14);
}

/// d = 2: 2 × 4 panels of 20 points per axis (25,600 evaluations).
#[test]
fn closed_forms_agree_with_quadrature_in_two_dimensions() {
    assert_closed_forms_agree(2, 4, 20, 1e-14);
}

/// d = 3: 2 × 3 panels of 16 points per axis (885,000 evaluations).
#[test]
fn closed_forms_agree_with_quadrature_in_three_dimensions() {
    assert_closed_forms_agree(3, 3, 16, 1e-14);
}

/// d = 5, where the corner peak's 32-term alternating sum cancels most:
/// 2 panels of 10 points per axis (3.2 million evaluations). Coarser, so
/// the tolerance is looser; still far below any Monte Carlo error.
#[test]
fn closed_forms_agree_with_quadrature_in_five_dimensions() {
    assert_closed_forms_agree(5, 1, 10, 1e-11);
}

/// In five dimensions every closed form is a finite nonzero number and
/// every integrand is finite at points spread over the cube, its corners
/// and its faces included.
#[test]
fn five_dimensions_are_finite() {
    // SplitMix64 (Steele, Lea & Flood, 2014): a fixed, dependency-free
    // stream of points; the top 53 bits give a uniform double in [0, 1).
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut uniform = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut points: Vec<Vec<f64>> = (0..16)
        .map(|_| (0..5).map(|_| uniform()).collect())
        .collect();
    points.push(vec![0.0; 5]);
    points.push(vec![1.0; 5]);
    for family in Family::ALL {
        let genz = Genz::new(family, 5);
        let exact = genz.exact();
        assert!(
            exact.is_finite() && exact != 0.0,
            "{}: exact {exact}",
            family.name()
        );
        // The offsets too: the peaks' centres and the discontinuity's edge.
        for x in points.iter().chain([&genz.w]) {
            let value = genz.eval(x);
            assert!(value.is_finite(), "{} at {x:?}: {value}", family.name());
        }
    }
}

/// The parameters are fixed formulas, not random draws: pin them, so a
/// change to `Genz::new` is a visible decision, and every `c` sums to its
/// family's difficulty.
#[test]
fn parameters_are_pinned() {
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-12);
    for family in Family::ALL {
        for d in 1..=8 {
            let genz = Genz::new(family, d);
            let sum: f64 = genz.c.iter().sum();
            assert!((sum - family.difficulty()).abs() < 1e-12);
            assert!(genz.w.iter().all(|&w| 0.0 < w && w < 1.0));
        }
    }
    let two = Genz::new(Family::Gaussian, 2);
    assert!(close(&two.w, &[0.6180339887498949, 0.2360679774997898]));
    let five = Genz::new(Family::Gaussian, 5);
    assert!(close(
        &five.w,
        &[
            0.6180339887498949,
            0.2360679774997898,
            0.8541019662496847,
            0.4721359549995796,
            0.0901699437494745
        ]
    ));
    let shares = |d| {
        let genz = Genz::new(Family::Continuous, d);
        genz.c
            .iter()
            .map(|c| c / Family::Continuous.difficulty())
            .collect::<Vec<_>>()
    };
    assert!(close(&shares(2), &[0.4361302095513585, 0.5638697904486414]));
    assert!(close(
        &shares(5),
        &[
            0.19605901524891073,
            0.25348337130255993,
            0.17227306816094773,
            0.22969742421459693,
            0.14848712107298465
        ]
    ));
    assert_eq!(Family::ALL.iter().filter(|f| f.is_smooth()).count(), 4);
}
