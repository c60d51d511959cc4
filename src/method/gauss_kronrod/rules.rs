//! The Gauss–Kronrod rules QUADPACK uses (G10–K21 for QAGS, G7–K15 for
//! QAGI), their error estimate, and the maps of an infinite interval onto
//! (0, 1]: everything that turns one subinterval into a [`Piece`].

use crate::driver::checkpoint::StateReader;
use crate::method::gauss_kronrod::status::{EPMACH, GkStatus, UFLOW};

/// A Gauss–Kronrod pair on [−1, 1], by symmetry only its nodes in [0, 1].
pub(crate) struct Rule {
    /// The Kronrod nodes, outermost first, the centre 0 last; the Gauss
    /// nodes are every other one, starting from the second.
    nodes: &'static [f64],
    /// The Kronrod weights at `nodes`.
    kronrod: &'static [f64],
    /// The Gauss weights at `nodes`: 0 at the nodes only Kronrod uses.
    /// `dqk15i` lays its Gauss weights out this way; it lets one loop
    /// serve both rules whether or not the centre is a Gauss node.
    gauss: &'static [f64],
    /// The order in which QUADPACK adds up the pairs of nodes `±x`:
    /// `dqk21` takes the Gauss nodes first, `dqk15i` all in turn. Adding
    /// in its order makes every sum QUADPACK's to the bit.
    order: &'static [usize],
}

// The nodes and weights as QUADPACK prints them (`dqk21.f` and `dqk15.f`,
// "as evaluated with 80 decimal digit arithmetic by L. W. Fullerton, Bell
// Labs, Nov. 1981"), digit for digit; Rust rounds each to the nearest f64.
// GSL's `integration/qk21.c` and `qk15.c` print the same 33 digits of
// every one. Independently, with mpmath at 60 digits: the Gauss nodes are
// roots of the Legendre polynomial to 4e-33, the Gauss weights equal
// 2 / ((1 − x²) P'(x)²) to 7e-34, and each Kronrod rule integrates every
// monomial up to degree 3n + 1 exactly to 1e-33 (K21: x^31, K15: x^22),
// which, the extension being unique, pins its nodes and weights too.

/// G10–K21: QUADPACK's `dqk21`, the rule of QAGS.
#[allow(clippy::excessive_precision, reason = "QUADPACK's digits as printed")]
const QK21: Rule = Rule {
    nodes: &[
        0.995657163025808080735527280689003,
        0.973906528517171720077964012084452,
        0.930157491355708226001207180059508,
        0.865063366688984510732096688423493,
        0.780817726586416897063717578345042,
        0.679409568299024406234327365114874,
        0.562757134668604683339000099272694,
        0.433395394129247190799265943165784,
        0.294392862701460198131126603103866,
        0.148874338981631210884826001129720,
        0.0,
    ],
    kronrod: &[
        0.011694638867371874278064396062192,
        0.032558162307964727478818972459390,
        0.054755896574351996031381300244580,
        0.075039674810919952767043140916190,
        0.093125454583697605535065465083366,
        0.109387158802297641899210590325805,
        0.123491976262065851077958109831074,
        0.134709217311473325928054001771707,
        0.142775938577060080797094273138717,
        0.147739104901338491374841515972068,
        0.149445554002916905664936468389821,
    ],
    gauss: &[
        0.0,
        0.066671344308688137593568809893332,
        0.0,
        0.149451349150580593145776339657697,
        0.0,
        0.219086362515982043995534934228163,
        0.0,
        0.269266719309996355091226921569469,
        0.0,
        0.295524224714752870173892994651338,
        0.0,
    ],
    order: &[1, 3, 5, 7, 9, 0, 2, 4, 6, 8],
};

/// G7–K15: QUADPACK's `dqk15`, which `dqk15i` applies on (0, 1] for QAGI.
#[allow(clippy::excessive_precision, reason = "QUADPACK's digits as printed")]
const QK15: Rule = Rule {
    nodes: &[
        0.991455371120812639206854697526329,
        0.949107912342758524526189684047851,
        0.864864423359769072789712788640926,
        0.741531185599394439863864773280788,
        0.586087235467691130294144838258730,
        0.405845151377397166906606412076961,
        0.207784955007898467600689403773245,
        0.0,
    ],
    kronrod: &[
        0.022935322010529224963732008058970,
        0.063092092629978553290700663189204,
        0.104790010322250183839876322541518,
        0.140653259715525918745189590510238,
        0.169004726639267902826583426598550,
        0.190350578064785409913256402421014,
        0.204432940075298892414161999234649,
        0.209482141084727828012999174891714,
    ],
    gauss: &[
        0.0,
        0.129484966168869693270611432679082,
        0.0,
        0.279705391489276667901467771423780,
        0.0,
        0.381830050505118944950369775488975,
        0.0,
        0.417959183673469387755102040816327,
    ],
    order: &[0, 1, 2, 3, 4, 5, 6],
};

/// The most nodes of a rule, K21's.
const MAX_NODES: usize = 21;

impl Rule {
    /// Nodes on an interval: `2n + 1` for `n + 1` nodes in [0, 1].
    fn len(&self) -> usize {
        2 * self.nodes.len() - 1
    }

    /// Node `i` of the interval with this centre and half-length, in
    /// ascending order: `centre − half · x` for the outer nodes first.
    fn node(&self, centre: f64, half: f64, i: usize) -> f64 {
        let n = self.nodes.len() - 1;
        if i < n {
            centre - half * self.nodes[i]
        } else if i == n {
            centre
        } else {
            centre + half * self.nodes[2 * n - i]
        }
    }

    /// The rule's estimates over an interval of half-length `half` from
    /// the values `g` at its nodes in ascending order: QUADPACK's `dqk21`
    /// and `dqk15i` after their function calls.
    fn apply(&self, g: &[f64], half: f64) -> Piece {
        let n = self.nodes.len() - 1;
        let pair = |j: usize| (j, g[j], g[2 * n - j]);
        let centre = g[n];
        let mut gauss = self.gauss[n] * centre;
        let mut kronrod = self.kronrod[n] * centre;
        let mut abs = kronrod.abs();
        for (j, left, right) in self.order.iter().map(|&j| pair(j)) {
            gauss += self.gauss[j] * (left + right);
            kronrod += self.kronrod[j] * (left + right);
            abs += self.kronrod[j] * (left.abs() + right.abs());
        }
        // The mean value of g, and the integral of |g − mean|: how much g
        // varies, the scale the error estimate is judged against.
        let mean = kronrod * 0.5;
        let mut asc = self.kronrod[n] * (centre - mean).abs();
        for (j, left, right) in (0..n).map(pair) {
            asc += self.kronrod[j] * ((left - mean).abs() + (right - mean).abs());
        }
        let (abs, asc) = (abs * half.abs(), asc * half.abs());
        Piece {
            value: kronrod * half,
            error: error_estimate(((kronrod - gauss) * half).abs(), abs, asc),
            abs,
            asc,
        }
    }
}

/// QUADPACK's error estimate from `diff = |Kronrod − Gauss|`, `abs`
/// (`resabs`, the integral of `|f|`) and `asc` (`resasc`, of
/// `|f − mean|`).
///
/// The raw difference is mostly the Gauss rule's error, far larger than
/// the Kronrod rule's; `asc · (200 · diff / asc)^1.5` scales it down as
/// it gets small against the integrand's variation, which Piessens et al.
/// found realistic in tests (QUADPACK §3.4), and caps it at `asc`. The
/// floor of `50 · epmach · abs` is what rounding can leave in a sum of
/// values of that size; it is skipped where `abs` is so small that the
/// floor would underflow.
fn error_estimate(diff: f64, abs: f64, asc: f64) -> f64 {
    let mut error = diff;
    if asc != 0.0 && error != 0.0 {
        // `r · sqrt(r)` is `r^1.5` with correctly rounded operations only.
        let r = (200.0 * error / asc).min(1.0);
        error = asc * (r * r.sqrt());
    }
    if abs > UFLOW / (50.0 * EPMACH) {
        error = error.max(50.0 * EPMACH * abs);
    }
    error
}

/// One interval's estimates, as a Gauss–Kronrod pair gives them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Piece {
    /// The Kronrod estimate of the integral (`result`).
    pub(crate) value: f64,
    /// Its error estimate (`abserr`).
    pub(crate) error: f64,
    /// The integral of `|f|` (`resabs`).
    pub(crate) abs: f64,
    /// The integral of `|f − value / width|` (`resasc`).
    pub(crate) asc: f64,
}

impl Piece {
    /// Whether the estimate was capped at `asc`, so that it says only
    /// that the integrand is not resolved: QUADPACK then neither trusts it
    /// for convergence nor counts it towards round-off.
    pub(crate) fn is_capped(&self) -> bool {
        self.error == self.asc
    }

    /// Whether every sum is finite: one that is not overflowed.
    pub(crate) fn is_finite(&self) -> bool {
        [self.value, self.error, self.abs, self.asc]
            .iter()
            .all(|v| v.is_finite())
    }

    /// Appends the piece to a checkpoint's bytes, bit for bit.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        for value in [self.value, self.error, self.abs, self.asc] {
            out.extend_from_slice(&value.to_bits().to_le_bytes());
        }
    }

    /// The piece back from `encode`'s bytes.
    pub(crate) fn decode(reader: &mut StateReader<'_>) -> Option<Piece> {
        Some(Piece {
            value: reader.f64()?,
            error: reader.f64()?,
            abs: reader.f64()?,
            asc: reader.f64()?,
        })
    }
}

/// How the working interval maps onto the caller's: QUADPACK's `inf`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Map {
    /// The interval is the caller's, finite.
    Finite,
    /// `[a, ∞)` from `t` in (0, 1] by `x = a + (1 − t)/t`, `dx = −dt/t²`.
    Upper(f64),
    /// `(−∞, b]` from `t` in (0, 1] by `x = b − (1 − t)/t`, `dx = dt/t²`.
    Lower(f64),
    /// `(−∞, ∞)` as `(−∞, 0] + [0, ∞)`: `f(x) + f(−x)` at `x = (1 − t)/t`.
    Whole,
}

impl Map {
    /// QAGS's rule for a finite interval, QAGI's for an infinite one.
    pub(crate) fn rule(self) -> &'static Rule {
        match self {
            Map::Finite => &QK21,
            _ => &QK15,
        }
    }

    /// Integrand values per node.
    fn values_per_node(self) -> usize {
        match self {
            Map::Whole => 2,
            _ => 1,
        }
    }

    /// Appends the points where the integrand is needed for node `t`.
    fn push_points(self, t: f64, points: &mut Vec<f64>) {
        let x = || (1.0 - t) / t;
        match self {
            Map::Finite => points.push(t),
            Map::Upper(a) => points.push(a + x()),
            Map::Lower(b) => points.push(b - x()),
            Map::Whole => points.extend([x(), -x()]),
        }
    }

    /// The integrand of the working interval at node `t`, from the
    /// caller's integrand at the points [`push_points`](Self::push_points)
    /// gave: `f(x(t)) / t²`, with the sign of `dx` absorbed by the
    /// orientation (as in `dqk15i`).
    fn transform(self, t: f64, values: &[f64]) -> f64 {
        match self {
            Map::Finite => values[0],
            Map::Upper(_) | Map::Lower(_) => values[0] / t / t,
            Map::Whole => (values[0] + values[1]) / t / t,
        }
    }
}

impl Map {
    /// Integrand evaluations for the rule over one interval.
    pub(crate) fn evaluations(self) -> u64 {
        (self.rule().len() * self.values_per_node()) as u64
    }

    /// The rule's estimates over `(lo, hi)`, a subinterval of the working
    /// interval, from one call of `eval` on all its nodes (in the caller's
    /// variable, in ascending order of the working one).
    ///
    /// # Errors
    ///
    /// [`GkStatus::NonFinite`] for the first value that is NaN or infinite.
    /// A piece whose sums overflow is returned as it is: the caller turns
    /// it into [`GkStatus::Overflow`] once it knows no interval before it
    /// had a non-finite value.
    pub(crate) fn estimate(
        self,
        (lo, hi): (f64, f64),
        eval: impl FnOnce(&[f64], &mut [f64]),
    ) -> Result<Piece, GkStatus> {
        let rule = self.rule();
        let (centre, half) = centre_and_half(lo, hi);
        let mut points = Vec::with_capacity(2 * MAX_NODES);
        for i in 0..rule.len() {
            self.push_points(rule.node(centre, half, i), &mut points);
        }
        let mut values = vec![0.0; points.len()];
        eval(&points, &mut values);
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            let (x, value) = (points[i], values[i]);
            return Err(GkStatus::NonFinite { x, value });
        }
        Ok(apply_mapped(self, rule, (lo, hi), &values))
    }
}

/// The rule over `(lo, hi)` from the caller's integrand values at its
/// nodes, transformed to the working variable first.
fn apply_mapped(map: Map, rule: &Rule, (lo, hi): (f64, f64), values: &[f64]) -> Piece {
    let (centre, half) = centre_and_half(lo, hi);
    let per_node = map.values_per_node();
    let mut g = [0.0; MAX_NODES];
    for (i, g) in g[..rule.len()].iter_mut().enumerate() {
        let t = rule.node(centre, half, i);
        *g = map.transform(t, &values[i * per_node..(i + 1) * per_node]);
    }
    rule.apply(&g[..rule.len()], half)
}

/// The midpoint and half-length of `[lo, hi]`, halved before they are
/// added so that neither overflows on an interval as wide as `f64` allows.
pub(crate) fn centre_and_half(lo: f64, hi: f64) -> (f64, f64) {
    (lo.midpoint(hi), 0.5 * hi - 0.5 * lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule's two sums over [−1, 1]: (Gauss, Kronrod).
    fn sums(rule: &Rule, f: impl Fn(f64) -> f64) -> (f64, f64) {
        let n = rule.nodes.len() - 1;
        let g: Vec<f64> = (0..rule.len()).map(|i| f(rule.node(0.0, 1.0, i))).collect();
        let weighted = |w: &[f64]| {
            let pairs: f64 = (0..n).map(|j| w[j] * (g[j] + g[2 * n - j])).sum();
            pairs + w[n] * g[n]
        };
        (weighted(rule.gauss), weighted(rule.kronrod))
    }

    /// A Gauss rule of `n` nodes is exact up to degree `2n − 1` and its
    /// Kronrod extension up to `3n + 1`, and neither beyond. A wrong digit
    /// among the first 15 of a node or weight breaks one of these.
    #[test]
    fn rules_are_exact_for_the_degrees_they_should_be() {
        for (rule, n) in [(&QK21, 10), (&QK15, 7)] {
            let error = |degree: i32| {
                let exact = if degree % 2 == 0 {
                    2.0 / f64::from(degree + 1)
                } else {
                    0.0
                };
                let (gauss, kronrod) = sums(rule, |x| x.powi(degree));
                ((gauss - exact).abs(), (kronrod - exact).abs())
            };
            for degree in 0..=3 * n + 1 {
                let (gauss, kronrod) = error(degree);
                assert!(kronrod < 1e-15, "K{}: x^{degree}, {kronrod:e}", 2 * n + 1);
                if degree < 2 * n {
                    assert!(gauss < 1e-15, "G{n}: x^{degree}, {gauss:e}");
                }
            }
            assert!(error(2 * n).0 > 1e-7, "G{n} exact beyond its degree");
            let next_even = 3 * n + 2 + (3 * n) % 2;
            assert!(error(next_even).1 > 1e-12, "K{} exact beyond", 2 * n + 1);
        }
    }
}
