//! The rule against exact integrals of monomials, and the run against
//! closed forms.

use crate::method::cubature::rule::GenzMalik;

/// `∫ Π x_k^{p_k}` over the box `[lo, hi]`, in closed form.
fn monomial_integral(powers: &[u32], lo: &[f64], hi: &[f64]) -> f64 {
    powers
        .iter()
        .zip(lo.iter().zip(hi))
        .map(|(&p, (&a, &b))| {
            let q = p as i32 + 1;
            (b.powi(q) - a.powi(q)) / f64::from(q)
        })
        .product()
}

/// The rule on the box `[lo, hi]` for the monomial with these powers.
fn apply(rule: &GenzMalik, powers: &[u32], lo: &[f64], hi: &[f64]) -> (f64, f64) {
    let d = lo.len();
    let half: Vec<f64> = lo.iter().zip(hi).map(|(a, b)| 0.5 * (b - a)).collect();
    let centre: Vec<f64> = lo.iter().zip(&half).map(|(a, h)| a + h).collect();
    let mut nodes = vec![0.0; rule.evaluations() * d];
    rule.nodes(&centre, &half, &mut nodes);
    let values: Vec<f64> = nodes
        .chunks_exact(d)
        .map(|x| {
            x.iter()
                .zip(powers)
                .map(|(x, &p)| x.powi(p as i32))
                .product()
        })
        .collect();
    let applied = rule.apply(&values, &half);
    (applied.value, applied.error)
}

/// Every monomial `x^p` with `|p| ≤ 7`, in every dimension from 2 to 5 on
/// a box that is not a cube, integrates exactly up to rounding (degree
/// 7); the error estimate is that of the degree-5 rule, rounding for
/// `|p| ≤ 5`, and larger for some monomial of degree 6 and 7.
#[test]
fn the_rule_has_degree_seven_and_its_error_rule_degree_five() {
    for d in 2..=5 {
        let rule = GenzMalik::new(d);
        assert_eq!(rule.evaluations(), 1 + 4 * d + 2 * d * (d - 1) + (1 << d));
        let lo: Vec<f64> = (0..d).map(|k| -0.3 + 0.1 * k as f64).collect();
        let hi: Vec<f64> = (0..d).map(|k| 0.9 + 0.25 * k as f64).collect();
        let mut seen_error = [false; 8];
        // Every power vector with entries 0..=7, of total degree ≤ 7.
        for code in 0..8usize.pow(d as u32) {
            let powers: Vec<u32> = (0..d)
                .map(|k| (code / 8usize.pow(k as u32) % 8) as u32)
                .collect();
            let degree: u32 = powers.iter().sum();
            if degree > 7 {
                continue;
            }
            let exact = monomial_integral(&powers, &lo, &hi);
            let (value, error) = apply(&rule, &powers, &lo, &hi);
            let scale = monomial_integral(&vec![0; d], &lo, &hi) * 10f64.powi(2);
            assert!(
                (value - exact).abs() < 1e-13 * scale,
                "d = {d}, powers {powers:?}: {value} vs {exact}"
            );
            if degree <= 5 {
                assert!(error < 1e-13 * scale, "d = {d}, {powers:?}: error {error}");
            } else if error > 1e-6 * scale {
                seen_error[degree as usize] = true;
            }
        }
        assert!(seen_error[6] && seen_error[7], "d = {d}");
    }
}

/// The axis chosen is the one along which the integrand bends: `x_k^4`
/// has a fourth difference along axis `k` alone.
#[test]
fn the_axis_bisected_is_where_the_integrand_bends() {
    for d in 2..=6 {
        let rule = GenzMalik::new(d);
        for k in 0..d {
            let mut powers = vec![0; d];
            powers[k] = 6;
            let half = vec![0.5; d];
            let centre = vec![0.5; d];
            let mut nodes = vec![0.0; rule.evaluations() * d];
            rule.nodes(&centre, &half, &mut nodes);
            let values: Vec<f64> = nodes.chunks_exact(d).map(|x| x[k].powi(6)).collect();
            assert_eq!(rule.apply(&values, &half).axis, k, "d = {d}");
        }
        // A flat integrand is cut across its widest side.
        let mut half = vec![0.5; d];
        half[d - 1] = 0.7;
        let values = vec![1.0; rule.evaluations()];
        assert_eq!(rule.apply(&values, &half).axis, d - 1);
    }
}
