//! VEGAS of vector integrands: adapted to one component, that component
//! is a scalar run of it to the bit; the same bits on any thread count
//! and after a resume; the covariance has the known answer; every
//! component is accurate and its intervals cover.

mod common;

use std::ops::Range;

use common::genz::erf;
use common::{eventually, watchdog};
use quadpipe::{Checkpoint, Error, Estimate, Executor, Integral, Method, NonFinite, Stop};

/// A peak in three dimensions, times three factors: itself, a factor
/// that changes sign, and one that is NaN on a slab of the box (where
/// `Skip` must count it for that component alone).
fn component(j: usize, x: &[f64]) -> f64 {
    let r2: f64 = x.iter().map(|x| (x - 0.4) * (x - 0.4)).sum();
    let peak = (-30.0 * r2).exp();
    match j {
        0 => peak,
        1 => peak * (3.0 * x[0] + x[1]).sin(),
        _ if x[0] < 0.05 => f64::NAN,
        _ => peak * (1.0 + x[1] * x[2]),
    }
}

const M: usize = 3;
const BOX: [Range<f64>; 3] = [0.0..1.0, 0.0..1.0, 0.0..1.0];

type Many = fn(&[f64], &mut [f64]);

fn at_point(x: &[f64], out: &mut [f64]) {
    for (j, value) in out.iter_mut().enumerate() {
        *value = component(j, x);
    }
}

fn at_points(points: &[f64], values: &mut [f64]) {
    for (x, out) in points.chunks_exact(3).zip(values.chunks_exact_mut(M)) {
        at_point(x, out);
    }
}

/// Six iterations, two of them warm-up, in chunks of about 1024 points
/// (a dozen an iteration), so that they interleave on several threads.
fn vegas() -> quadpipe::method::Vegas {
    Method::vegas().iterations(6).warmup(2)
}

fn settle<I: quadpipe::Integrand>(integral: Integral<I>) -> Integral<I> {
    integral
        .samples(6 << 13)
        .chunk_size(1 << 10)
        .seed(21)
        .non_finite(NonFinite::Skip)
}

fn pointwise() -> Integral<quadpipe::Vector<Many>> {
    settle(Integral::vector(M, at_point as Many, BOX))
}

fn batched() -> Integral<quadpipe::VectorBatched<Many>> {
    settle(Integral::vector_batched(M, at_points as Many, BOX))
}

fn alone(j: usize) -> Integral<quadpipe::Pointwise<impl Fn(&[f64]) -> f64 + Send + Sync + Clone>> {
    settle(Integral::over(move |x: &[f64]| component(j, x), BOX))
}

fn run<I: quadpipe::Integrand>(integral: Integral<I>) -> Estimate {
    pollster::block_on(integral.run_inline()).unwrap()
}

/// Adapted to component `j`, a vector run draws the scalar run's points
/// on its grid and strata, and sums component `j` as it does: the
/// component's whole estimate (value, standard error, skipped values,
/// `χ²`) is that of a run of it alone.
#[test]
fn adapted_to_a_component_it_has_the_bits_of_a_run_of_it_alone() {
    for j in 0..M {
        let scalar = run(alone(j).method(vegas()));
        let vector = run(pointwise().method(vegas().adapt_to(j)));
        assert_eq!(vector.component(j), Some(scalar.clone()), "component {j}");
        assert!(scalar.chi2_per_dof().is_some());
        // The other components come from the same points, but not from a
        // grid made for them.
        let other = run(alone((j + 1) % M).method(vegas()));
        assert_ne!(vector.component((j + 1) % M), Some(other));
    }
    // The slab of NaNs is component 2's alone.
    let vector = run(pointwise().method(vegas()));
    assert_eq!(vector.component(0).unwrap().skipped, 0);
    assert!(vector.component(2).unwrap().skipped > 0);
}

/// A vector of one component is a scalar run; a component that is
/// identically 0 changes neither the map nor the strata, so the default
/// weight then gives the other component a scalar run's bits too.
#[test]
fn one_component_or_a_zero_beside_it_is_a_scalar_run() {
    let scalar = run(alone(0).method(vegas()));
    let one = settle(Integral::vector(
        1,
        |x: &[f64], out: &mut [f64]| out[0] = component(0, x),
        BOX,
    ));
    assert_eq!(run(one.method(vegas())), scalar);
    let with_zero = settle(Integral::vector(
        2,
        |x: &[f64], out: &mut [f64]| {
            out[0] = component(0, x);
            out[1] = 0.0;
        },
        BOX,
    ));
    let estimate = run(with_zero.method(vegas()));
    assert_eq!(estimate.component(0), Some(scalar));
    assert_eq!(estimate.component(1).unwrap().value, 0.0);
    assert_eq!(estimate.covariance(0, 1), Some(0.0));
}

/// The same bits inline, on 1 to 3 threads, point-wise or batched, for
/// either weight.
#[test]
fn same_bits_on_any_thread_count() {
    watchdog(|| {
        for method in [vegas(), vegas().adapt_to(1)] {
            let reference = run(pointwise().method(method));
            assert_eq!(reference.components(), M);
            assert!(reference.covariance(0, 1).is_some());
            assert_eq!(run(batched().method(method)), reference);
            for threads in [1, 2, 3] {
                let executor = Executor::builder().threads(threads).build().unwrap();
                let on_task = executor.block_on(pointwise().method(method).spawn_on(&executor));
                assert_eq!(on_task.unwrap(), reference, "{threads} threads");
                let in_blocks = executor.block_on(batched().method(method).run_on(&executor));
                assert_eq!(in_blocks.unwrap(), reference, "{threads} threads, batched");
            }
        }
    });
}

/// A vector run cancelled partway resumes from its checkpoint to the bits
/// of an uninterrupted run, covariance and every component's `χ²`
/// included; the checkpoint fits no run that adapts to something else.
#[test]
fn a_cancelled_run_resumes_to_the_same_bits() {
    watchdog(|| {
        let long = || pointwise().samples(6 << 15).method(vegas());
        let whole = run(long());
        let executor = Executor::builder().threads(2).build().unwrap();
        let task = long().spawn_on(&executor);
        let total = task.progress().total.unwrap();
        assert!(eventually(|| task.progress().done >= total / 2));
        let snapshot = task.progress().estimate.unwrap();
        assert_eq!(snapshot.components(), M);
        task.cancel();
        let checkpoint = task.checkpoint().expect("chunks have merged");
        let done = checkpoint.samples_done();
        assert!(done > 0 && done < total, "{done} of {total}");

        let checkpoint = Checkpoint::from_bytes(checkpoint.as_bytes().to_vec()).unwrap();
        let resumed = pollster::block_on(long().resume(&checkpoint).run_inline());
        assert_eq!(resumed.unwrap(), whole);
        let resumed = executor.block_on(long().resume(&checkpoint).spawn_on(&executor));
        assert_eq!(resumed.unwrap(), whole);
        let chi2 = |e: &Estimate, j| e.component(j).unwrap().chi2_per_dof();
        assert!(chi2(&whole, 1).is_some() && chi2(&whole, 1) != chi2(&whole, 0));

        let other = long().method(vegas().adapt_to(0));
        let err = pollster::block_on(other.resume(&checkpoint).run_inline()).unwrap_err();
        assert!(matches!(err, Error::CheckpointMismatch { .. }), "{err}");
    });
}

/// The covariance of the estimates, against the answer of plain
/// stratified sampling (`alpha = 0` keeps the map uniform, `beta = 0`
/// the strata even): `H = N/2` slices of `[0, 1]`, two points each, so an
/// iteration's `cov(I_f, I_g) = Σ_h (1/H)² cov_h(f, g) / 2`, with `cov_h`
/// the covariance of `f(u)` and `g(u)` for `u` uniform in slice `h`, and
/// `K` equal iterations average to `1/K` of it. For `u` and `u²` on a
/// slice `[a, a + w]`: `var(u) = w²/12`, `cov(u, u²) = 2a w²/12 + w³/12`,
/// `var(u²) = 4a² w²/12 + 4a w³/12 + 4w⁴/45`. And `1 − u` is `u`
/// mirrored: `cov(I_u, I_{1−u}) = −var(I_u)`, to rounding.
#[test]
fn the_covariance_has_the_known_answer() {
    let moments = Integral::vector(
        3,
        |x: &[f64], out: &mut [f64]| {
            out[0] = x[0];
            out[1] = x[0] * x[0];
            out[2] = 1.0 - x[0];
        },
        [0.0..1.0],
    );
    // One warm-up iteration of a fifth of the budget, then K = 4 of
    // N = 2^16 points each.
    let (k, n) = (4.0, 1u64 << 16);
    let plain = Method::vegas().iterations(5).warmup(1).alpha(0.0).beta(0.0);
    let estimate = run(moments.clone().samples(5 * n).seed(3).method(plain));
    assert_eq!(estimate.samples, 5 * n);
    let slices = n / 2;
    let w = 1.0 / slices as f64;
    let mut exact = [0.0; 3]; // var(u), cov(u, u²), var(u²)
    for h in 0..slices {
        let a = h as f64 * w;
        let per_slice = [
            w * w / 12.0,
            2.0 * a * w * w / 12.0 + w * w * w / 12.0,
            4.0 * a * a * w * w / 12.0 + 4.0 * a * w * w * w / 12.0 + 4.0 * w.powi(4) / 45.0,
        ];
        for (exact, c) in exact.iter_mut().zip(per_slice) {
            *exact += w * w * c / 2.0 / k;
        }
    }
    let got = [
        estimate.covariance(0, 0).unwrap(),
        estimate.covariance(0, 1).unwrap(),
        estimate.covariance(1, 1).unwrap(),
    ];
    // Each hypercube's sample covariance has one degree of freedom; the
    // sum over 4 × 32768 of them has a relative standard deviation of
    // about √(2 / 131072) ≈ 0.4%: 3% is over seven of them.
    for (got, exact) in got.iter().zip(exact) {
        assert!((got / exact - 1.0).abs() < 0.03, "{got:e} vs {exact:e}");
    }
    let (var, cov) = (estimate.covariance(0, 0), estimate.covariance(0, 2));
    assert!(
        (cov.unwrap() / var.unwrap() + 1.0).abs() < 1e-9,
        "{cov:?} {var:?}"
    );

    // Adapted, as by default: a symmetric matrix whose diagonal is the
    // squared standard errors, and whose correlations are correlations.
    let adapted = run(moments.samples(1 << 16).seed(3).method(Method::VEGAS));
    for j in 0..3 {
        let se = adapted.component(j).unwrap().std_error;
        assert_eq!(adapted.covariance(j, j), Some(se * se));
        for k in 0..3 {
            let c = adapted.covariance(j, k).unwrap();
            assert_eq!(Some(c), adapted.covariance(k, j));
            let scale =
                (adapted.covariance(j, j).unwrap() * adapted.covariance(k, k).unwrap()).sqrt();
            assert!(
                c.abs() <= scale * (1.0 + 1e-12),
                "{j} {k}: {c:e} vs {scale:e}"
            );
        }
    }
    assert!(adapted.covariance(0, 3).is_none());
}

/// `∫₀¹ exp(−c²(x − w)²) dx`.
fn gaussian(c: f64, w: f64) -> f64 {
    std::f64::consts::PI.sqrt() / (2.0 * c) * (erf(c * (1.0 - w)) + erf(c * w))
}

/// `∫₀¹ x exp(−c²(x − w)²) dx`.
fn gaussian_moment(c: f64, w: f64) -> f64 {
    let edge = ((-(c * w).powi(2)).exp() - (-(c * (1.0 - w)).powi(2)).exp()) / (2.0 * c * c);
    w * gaussian(c, w) + edge
}

/// A gaussian peak `g` of width `1/c` at `centre` in the unit cube, its
/// first moment `x₀ g`, and `cos(Σ x)`, which the peak's map samples
/// thinly where it is largest: the integrand and the exact integrals
/// (`∫ cos(Σ x) = Re ∏ ∫₀¹ e^{ix} dx`, `∫₀¹ e^{ix} dx = sin 1 + i (1 − cos 1)`).
fn peaked(
    c: f64,
    centre: Vec<f64>,
) -> (impl Fn(&[f64], &mut [f64]) + Send + Sync + Clone, [f64; 3]) {
    let total: f64 = centre.iter().map(|&w| gaussian(c, w)).product();
    let moment = total / gaussian(c, centre[0]) * gaussian_moment(c, centre[0]);
    let (a, b) = (1f64.sin(), 1.0 - 1f64.cos());
    let (mut re, mut im) = (1.0, 0.0);
    for _ in &centre {
        (re, im) = (re * a - im * b, re * b + im * a);
    }
    let f = move |x: &[f64], out: &mut [f64]| {
        let r2: f64 = x.iter().zip(&centre).map(|(x, w)| (x - w) * (x - w)).sum();
        let g = (-c * c * r2).exp();
        out.copy_from_slice(&[g, x[0] * g, x.iter().sum::<f64>().cos()]);
    };
    (f, [total, moment, re])
}

/// Each component of a peaked integrand in 2 and 5 dimensions, adapted
/// to together, against its exact value: within 4 of its standard errors
/// (a 1-in-16000 event for an honest error), and those small.
#[test]
fn every_component_is_accurate_on_a_peak() {
    let cases: [(usize, f64, u64, f64); 2] = [(2, 10.0, 1 << 16, 2e-3), (5, 5.0, 1 << 18, 1.5e-2)];
    for (d, c, samples, relative) in cases {
        let centre: Vec<f64> = (0..d).map(|i| 0.3 + 0.1 * i as f64).collect();
        let (f, exact) = peaked(c, centre);
        let integral = Integral::vector(3, f, vec![0.0..1.0; d])
            .samples(samples)
            .seed(17)
            .method(Method::VEGAS);
        let estimate = run(integral);
        for (j, exact) in exact.iter().enumerate() {
            let component = estimate.component(j).unwrap();
            let error = (component.value - exact).abs();
            println!(
                "d = {d}, {j}: {component} vs {exact}: {:.2} σ, σ/I = {:.1e}",
                error / component.std_error,
                component.std_error / exact.abs()
            );
            assert!(
                error < 4.0 * component.std_error,
                "d = {d}, {j}: {component} vs {exact}"
            );
            assert!(
                component.std_error < relative * exact.abs(),
                "d = {d}, {j}: {component}"
            );
        }
    }
}

/// Coverage of each component's 95% interval over independent seeds:
/// 200 seeds by default, 2000 with `QUADPIPE_VEGAS_VECTOR_COVERAGE=long`.
/// The 2-D integrand of `every_component_is_accurate_on_a_peak` at 2^15
/// points a run (at 2^12 the peak's intervals covered 93.0%, at the
/// band's edge: VEGAS's errors are a little small when its iterations
/// are). The reported covariance of the peak and its moment is checked
/// against the errors' own over the seeds too.
#[test]
fn each_components_interval_covers() {
    let long = std::env::var("QUADPIPE_VEGAS_VECTOR_COVERAGE").is_ok_and(|v| v == "long");
    let seeds = if long { 2000 } else { 200 };
    let (f, exact) = peaked(10.0, vec![0.35, 0.6]);
    let integral = Integral::vector(3, f, [0.0..1.0, 0.0..1.0])
        .samples(1 << 15)
        .method(Method::VEGAS);
    let mut covered = [0u32; 3];
    let (mut reported, mut seen) = (0.0, 0.0);
    for seed in 0..seeds {
        let estimate = run(integral.clone().seed(seed));
        for (j, exact) in exact.iter().enumerate() {
            let interval = estimate.component(j).unwrap().interval(0.95);
            covered[j] += u32::from(interval.contains(exact));
        }
        let error = |j: usize| estimate.component(j).unwrap().value - exact[j];
        seen += error(0) * error(1);
        reported += estimate.covariance(0, 1).unwrap();
    }
    for (j, covered) in covered.iter().enumerate() {
        let rate = f64::from(*covered) / seeds as f64;
        println!("component {j}: {:.1}% covered", 100.0 * rate);
        // 93–97%: the band. (Over 200 seeds one binomial
        // standard error is 1.5%: this seed set lands inside it.)
        assert!((0.93..=0.97).contains(&rate), "component {j}: {rate}");
    }
    // The two are correlated at about 0.98, so their errors' mean product
    // over 200 seeds has a relative standard deviation of about
    // √(2/200) = 10%: 30% is three of them.
    let ratio = seen / reported;
    println!("covariance of the errors / reported: {ratio:.3}");
    assert!((0.7..1.3).contains(&ratio), "{ratio}");
}

/// A tolerance stops the run only once every component meets it.
#[test]
fn a_tolerance_waits_for_every_component() {
    let (f, _) = peaked(10.0, vec![0.35, 0.6]);
    let integral = Integral::vector(3, f, [0.0..1.0, 0.0..1.0])
        .samples(1 << 22)
        .tolerance(0.0, 2e-3)
        .method(Method::vegas().iterations(200).warmup(4));
    let estimate = run(integral);
    assert_eq!(estimate.stop, Stop::ToleranceMet);
    for j in 0..3 {
        let c = estimate.component(j).unwrap();
        assert!(c.std_error <= 2e-3 * c.value.abs(), "{j}: {c}");
    }
}

/// Clear errors: `adapt_to` past the last component, of a vector or a
/// scalar integrand; a NaN under the default policy names its point.
#[test]
fn bad_input_gets_clear_errors() {
    for method in [vegas().adapt_to(M), vegas().adapt_to(usize::MAX)] {
        let err = pollster::block_on(pointwise().method(method).run_inline()).unwrap_err();
        assert!(matches!(err, Error::InvalidVegas { .. }), "{err}");
        assert!(err.to_string().contains("adapt_to"), "{err}");
    }
    let scalar = alone(0);
    let err = pollster::block_on(scalar.clone().method(vegas().adapt_to(1)).run_inline());
    assert!(matches!(err, Err(Error::InvalidVegas { .. })));
    // Component 0 of a scalar integrand is the integrand: the same run.
    assert_eq!(
        run(scalar.clone().method(vegas().adapt_to(0))),
        run(scalar.method(vegas()))
    );

    let strict = pointwise().non_finite(NonFinite::Error).method(vegas());
    let err = pollster::block_on(strict.run_inline()).unwrap_err();
    let Error::NonFiniteValue { point, value } = err else {
        panic!("{err:?}");
    };
    assert!(point[0] < 0.05 && value.is_nan());
}

/// A time limit ends the run inside an iteration (whose hypercubes so
/// far then give every component's estimate and covariance from the
/// spread of their means) or between two, with honest estimates.
#[test]
fn a_time_limit_ends_the_run_with_an_estimate() {
    watchdog(|| {
        let exact = [0.25, 1.0];
        for (iterations, warmup) in [(4, 1), (1 << 20, 1)] {
            let integral = Integral::vector(
                2,
                |x: &[f64], out: &mut [f64]| {
                    out[0] = x[0] * x[1];
                    out[1] = x[0] + x[1];
                },
                [0.0..1.0, 0.0..1.0],
            )
            .method(Method::vegas().iterations(iterations).warmup(warmup))
            .samples(1 << 40)
            .time_limit(std::time::Duration::from_millis(300));
            let estimate = pollster::block_on(integral.run()).unwrap();
            assert_eq!(estimate.stop, Stop::TimeLimit);
            assert!(estimate.samples > 0);
            for (j, exact) in exact.iter().enumerate() {
                let c = estimate.component(j).unwrap();
                let distance = (c.value - exact).abs() / c.std_error;
                assert!(distance < 5.0, "{iterations} iterations, {j}: {c}");
            }
            let (var, cov) = (estimate.covariance(0, 0), estimate.covariance(0, 1));
            assert!(var.unwrap() > 0.0 && cov.unwrap().is_finite(), "{cov:?}");
        }
    });
}
