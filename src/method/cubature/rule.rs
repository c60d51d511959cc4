//! The Genz–Malik rule: degree 7 on a box in `d ≥ 2` dimensions, with an
//! embedded rule of degree 5 on a subset of its nodes for the error
//! estimate, and the fourth differences that say which axis to bisect.
//!
//! A. C. Genz and A. A. Malik, "An adaptive algorithm for numerical
//! integration over an n-dimensional rectangular region", J. Comput. Appl.
//! Math. 6 (1980) 295–302, doi:10.1016/0771-050X(80)90039-X. On the box
//! `c + h·[−1, 1]^d` the rule takes `1 + 4d + 2d(d − 1) + 2^d` nodes, in
//! five groups that are each symmetric under the box's reflections:
//!
//! | group | nodes (as multiples of `h`)            | count       | weight |
//! |-------|----------------------------------------|-------------|--------|
//! | 1     | the centre                             | 1           | `w₁`   |
//! | 2     | `±λ₂` on one axis                      | `2d`        | `w₂`   |
//! | 3     | `±λ₃` on one axis                      | `2d`        | `w₃`   |
//! | 4     | `±λ₄` on two axes                      | `2d(d − 1)` | `w₄`   |
//! | 5     | `±λ₅` on every axis (the vertices)     | `2^d`       | `w₅`   |
//!
//! with `λ₂ = √(9/70)`, `λ₃ = λ₄ = √(9/10)`, `λ₅ = √(9/19)`. The degree-5
//! rule uses groups 1 to 4 with weights of its own, and the difference of
//! the two is the region's error estimate, as in HCubature.jl and SciPy's
//! `cubature` (a raw difference, conservative for smooth integrands: it is
//! mostly the degree-5 rule's error).
//!
//! Every node is strictly inside the box (`λ < 1`), so a region's faces,
//! where a map of an infinite axis is singular, are never evaluated.

/// `λ₂²`, `λ₃² = λ₄²` and `λ₅²`: the rule's node distances, squared, as
/// Genz and Malik give them.
const LAMBDA2_SQUARED: f64 = 9.0 / 70.0;
const LAMBDA3_SQUARED: f64 = 9.0 / 10.0;
const LAMBDA5_SQUARED: f64 = 9.0 / 19.0;

/// `(λ₃ / λ₂)²`: the factor that makes `f₃ − 2f₁ − 7(f₂ − 2f₁)` a fourth
/// difference along one axis (second differences at the two distances
/// whose second-order terms cancel), after van Dooren and de Ridder.
const FOURTH_DIFFERENCE_RATIO: f64 = 7.0;

/// The Genz–Malik rule in one dimension count.
#[derive(Clone, Debug)]
pub(crate) struct GenzMalik {
    dims: usize,
    /// `λ₂`, `λ₃ = λ₄`, `λ₅`.
    lambda: [f64; 3],
    /// The degree-7 weights of the five groups, for the box `[−1, 1]^d`
    /// scaled by `2^−d`, so that a region's volume `Π 2h` multiplies them.
    seven: [f64; 5],
    /// The degree-5 weights of the first four groups, scaled alike.
    five: [f64; 4],
}

/// What the rule gives on one region.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Applied {
    /// The degree-7 estimate of the integral.
    pub(crate) value: f64,
    /// `|degree 7 − degree 5|`.
    pub(crate) error: f64,
    /// The axis to bisect the region along, should it be split.
    pub(crate) axis: usize,
}

impl GenzMalik {
    /// The rule in `dims ≥ 2` dimensions (Genz and Malik's weights; with
    /// `d = 1` groups 4 and 5 degenerate and the rule is not of degree 7).
    pub(crate) fn new(dims: usize) -> GenzMalik {
        debug_assert!(dims >= 2);
        let n = dims as f64;
        // The weights sum to 1 (each rule integrates 1 exactly); Genz and
        // Malik print them multiplied by 2^d, the volume of [−1, 1]^d, and
        // w₅ as 6859/19683 without that factor: divided by 2^d here.
        let two_to_d = (1u64 << dims) as f64;
        let seven = [
            (12824.0 - 9120.0 * n + 400.0 * n * n) / 19683.0,
            980.0 / 6561.0,
            (1820.0 - 400.0 * n) / 19683.0,
            200.0 / 19683.0,
            6859.0 / 19683.0 / two_to_d,
        ];
        let five = [
            (729.0 - 950.0 * n + 50.0 * n * n) / 729.0,
            245.0 / 486.0,
            (265.0 - 100.0 * n) / 1458.0,
            25.0 / 729.0,
        ];
        GenzMalik {
            dims,
            lambda: [
                LAMBDA2_SQUARED.sqrt(),
                LAMBDA3_SQUARED.sqrt(),
                LAMBDA5_SQUARED.sqrt(),
            ],
            seven,
            five,
        }
    }

    /// Nodes of the rule on one region: `1 + 4d + 2d(d − 1) + 2^d`.
    pub(crate) fn evaluations(&self) -> usize {
        let d = self.dims;
        1 + 4 * d + 2 * d * (d - 1) + (1 << d)
    }

    /// Writes the nodes of the box with this centre and these half-widths
    /// to `out`, `d` coordinates each, in the order [`apply`](Self::apply)
    /// reads their values: the centre; per axis `+λ₂, −λ₂, +λ₃, −λ₃`; per
    /// pair of axes `i < j` the signs `++, +−, −+, −−`; the vertices, bit
    /// `k` of their index the sign of axis `k`.
    pub(crate) fn nodes(&self, centre: &[f64], half: &[f64], out: &mut [f64]) {
        let d = self.dims;
        let [l2, l3, l5] = self.lambda;
        let mut points = out.chunks_exact_mut(d);
        let mut next = || {
            let point = points.next().expect("room for every node");
            point.copy_from_slice(centre);
            point
        };
        next();
        for (i, h) in half.iter().enumerate() {
            for offset in [l2, -l2, l3, -l3] {
                next()[i] += offset * h;
            }
        }
        for i in 0..d {
            for j in i + 1..d {
                for (si, sj) in [(l3, l3), (l3, -l3), (-l3, l3), (-l3, -l3)] {
                    let point = next();
                    point[i] += si * half[i];
                    point[j] += sj * half[j];
                }
            }
        }
        for vertex in 0..1usize << d {
            let point = next();
            for (k, x) in point.iter_mut().enumerate() {
                let sign = if vertex >> k & 1 == 1 { -l5 } else { l5 };
                *x += sign * half[k];
            }
        }
    }

    /// The rule's estimates on a box with half-widths `half` from the
    /// values at its [`nodes`](Self::nodes), in their order.
    ///
    /// The axis to bisect is the one with the largest fourth difference,
    /// where the integrand bends most; differences that agree to within
    /// the noise the error estimate allows (`E / (10^d V)`, HCubature.jl's
    /// threshold) go to the wider axis, so a region that is as flat along
    /// every axis is cut across its longest side.
    pub(crate) fn apply(&self, values: &[f64], half: &[f64]) -> Applied {
        let d = self.dims;
        let centre = values[0];
        let (mut f2, mut f3) = (0.0, 0.0);
        let mut differences = [0.0; super::MAX_CUBATURE_DIMS];
        for (i, axis) in values[1..1 + 4 * d].chunks_exact(4).enumerate() {
            let (inner, outer) = (axis[0] + axis[1], axis[2] + axis[3]);
            f2 += inner;
            f3 += outer;
            differences[i] = (outer + 12.0 * centre - FOURTH_DIFFERENCE_RATIO * inner).abs();
        }
        let pairs = 1 + 4 * d + 2 * d * (d - 1);
        let f4: f64 = values[1 + 4 * d..pairs].iter().sum();
        let f5: f64 = values[pairs..].iter().sum();
        let volume: f64 = half.iter().map(|h| 2.0 * h).product();
        let [w1, w2, w3, w4, w5] = self.seven;
        let [v1, v2, v3, v4] = self.five;
        let value = volume * (w1 * centre + w2 * f2 + w3 * f3 + w4 * f4 + w5 * f5);
        let lower = volume * (v1 * centre + v2 * f2 + v3 * f3 + v4 * f4);
        let error = (value - lower).abs();
        // E / (10^d V) with V = Π h = volume / 2^d: E · 5^-d / volume.
        let noise = error / (5f64.powi(d as i32) * volume);
        let mut axis = 0;
        let mut largest = 0.0;
        for i in 0..d {
            let excess = differences[i] - largest;
            if excess > noise {
                axis = i;
                largest = differences[i];
            } else if excess.abs() <= noise && half[i] > half[axis] {
                axis = i;
            }
        }
        Applied { value, error, axis }
    }
}
