//! The workload of the vector-cost measurements (`examples/bench.rs`'s
//! `vector16/scalar1` line and `examples/vector_cost.rs`): a 5-D integrand
//! whose components share an expensive factor (`exp` and `sin`) and differ
//! by cheap polynomials, as the moments of one model do.

use quadpipe::{Integral, Pointwise, Vector};

/// The shared, expensive part: a Genz gaussian times an oscillation.
fn shared(x: &[f64]) -> f64 {
    let gaussian = (-x.iter().map(|&x| 9.0 * (x - 0.4) * (x - 0.4)).sum::<f64>()).exp();
    gaussian * (1.0 + 0.5 * (3.0 * x[0] + 2.0 * x[1] - x[4]).sin())
}

/// Component `j`: the shared part times `1 + j · x[j mod 5]`, each
/// component a multiply-add or two.
///
/// Five components at a time, one to an axis, each with its own factor `j`
/// (whole numbers, exact in an f64, so the values are those of one counter
/// `j += 1.0`): built for the baseline x86-64 (SSE2), one counter made a
/// chain of 16 dependent adds, and `j as f64` of a `usize` takes several
/// instructions there.
fn components(shared: f64, x: &[f64], out: &mut [f64]) {
    let x: &[f64; 5] = x.try_into().expect("a 5-D point");
    let mut j = [0.0, 1.0, 2.0, 3.0, 4.0];
    let mut fives = out.chunks_exact_mut(5);
    for out in &mut fives {
        for k in 0..5 {
            out[k] = shared * (1.0 + j[k] * x[k]);
            j[k] += 5.0;
        }
    }
    for (k, value) in fives.into_remainder().iter_mut().enumerate() {
        *value = shared * (1.0 + j[k] * x[k]);
    }
}

/// The `m` components at `x`, the shared part evaluated once.
fn all(x: &[f64], out: &mut [f64]) {
    components(shared(x), x, out);
}

/// Component 0 alone, as its own formula.
fn first(x: &[f64]) -> f64 {
    shared(x) * (1.0 + 0.0 * x[0])
}

/// A function of a point with several values.
type Many = fn(&[f64], &mut [f64]);

/// A function of a point with one value.
type One = fn(&[f64]) -> f64;

/// `m` components at once, the shared part evaluated once a point.
pub fn vector(m: usize) -> Integral<Vector<Many>> {
    Integral::vector(m, all as Many, vec![0.0..1.0; 5])
}

/// Component 0 alone, as a scalar integrand.
pub fn scalar() -> Integral<Pointwise<One>> {
    Integral::over(first as One, vec![0.0..1.0; 5])
}
