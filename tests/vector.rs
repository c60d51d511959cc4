//! Vector integrands under plain MC, RQMC and cubature (VEGAS:
//! tests/vegas_vector.rs): each component is the bits of a run of it alone,
//! the covariance is right, the intervals cover, a tolerance waits for
//! every component, and cancel, progress and resume work as for a scalar.

mod common;

use common::{eventually, watchdog};
use quadpipe::{Error, Estimate, Executor, Integral, Method, NonFinite, Stop};

/// Three components in three dimensions, sharing `exp(−|x|²)`; component
/// 2 is NaN on a slab of the box, where `Skip` must count it alone.
fn component(j: usize, x: &[f64]) -> f64 {
    let shared = (-(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])).exp();
    match j {
        0 => shared,
        1 => shared * (x[0] + 2.0 * x[1]).sin() * x[2],
        _ if x[0] < 0.05 => f64::NAN,
        _ => shared * (1.0 + x[1] * x[2]),
    }
}

const M: usize = 3;
const BOX: [std::ops::Range<f64>; 3] = [0.0..1.0, -1.0..2.0, 0.5..1.5];

/// A function of a point, or of a block of points, with several values.
type Many = fn(&[f64], &mut [f64]);

/// The components at one point.
fn at_point(x: &[f64], out: &mut [f64]) {
    for (j, value) in out.iter_mut().enumerate() {
        *value = component(j, x);
    }
}

/// The components at a block of points.
fn at_points(points: &[f64], values: &mut [f64]) {
    for (x, out) in points.chunks_exact(3).zip(values.chunks_exact_mut(M)) {
        at_point(x, out);
    }
}

fn pointwise() -> Integral<quadpipe::Vector<Many>> {
    Integral::vector(M, at_point as Many, BOX)
}

fn batched() -> Integral<quadpipe::VectorBatched<Many>> {
    Integral::vector_batched(M, at_points as Many, BOX)
}

fn alone(j: usize) -> Integral<quadpipe::Pointwise<impl Fn(&[f64]) -> f64 + Send + Sync + Clone>> {
    Integral::over(move |x: &[f64]| component(j, x), BOX)
}

fn bits(estimate: &Estimate) -> (u64, u64, u64, u64) {
    (
        estimate.value.to_bits(),
        estimate.std_error.to_bits(),
        estimate.samples,
        estimate.skipped,
    )
}

/// Each component of a vector run, point-wise or batched, MC or RQMC, on
/// 1 to 3 threads or inline, has the bits of a scalar run of it alone.
#[test]
fn each_component_has_the_bits_of_a_run_of_it_alone() {
    watchdog(|| {
        let settings: [(Method, u64); 2] = [
            (Method::MONTE_CARLO, 300_007),
            (Method::sobol().replicas(8).into(), 8 << 15),
        ];
        for (method, samples) in settings {
            let set = |seed| (method.clone(), samples, seed);
            let (method, samples, seed) = set(11);
            let scalar: Vec<Estimate> = (0..M)
                .map(|j| {
                    let integral = alone(j)
                        .samples(samples)
                        .seed(seed)
                        .method(method.clone())
                        .non_finite(NonFinite::Skip);
                    pollster::block_on(integral.run_inline()).unwrap()
                })
                .collect();
            let check = |estimate: Estimate, how: &str| {
                assert_eq!(estimate.components(), M);
                for (j, scalar) in scalar.iter().enumerate() {
                    let component = estimate.component(j).unwrap();
                    assert_eq!(bits(&component), bits(scalar), "{method:?}, {how}, {j}");
                    assert_eq!(component.interval(0.95), scalar.interval(0.95));
                }
            };
            let vector = pointwise()
                .samples(samples)
                .seed(seed)
                .method(method.clone())
                .non_finite(NonFinite::Skip);
            let in_blocks = batched()
                .samples(samples)
                .seed(seed)
                .method(method.clone())
                .non_finite(NonFinite::Skip);
            check(pollster::block_on(vector.run_inline()).unwrap(), "inline");
            check(
                pollster::block_on(in_blocks.run_inline()).unwrap(),
                "batched",
            );
            for threads in [1, 2, 3] {
                let executor = Executor::builder().threads(threads).build().unwrap();
                let how = format!("{threads} threads");
                check(executor.block_on(vector.spawn_on(&executor)).unwrap(), &how);
                check(
                    executor.block_on(in_blocks.run_on(&executor)).unwrap(),
                    &how,
                );
            }
        }
    });
}

/// Sixteen components (the sums' other path, a point's values a whole
/// number of vectors) and one (the point-wise path itself): each
/// component has the bits of a run of it alone, and the matrix is a
/// covariance matrix (symmetric, correlations within ±1).
#[test]
fn sixteen_components_and_one_have_the_bits_of_runs_alone() {
    let f = |j: usize, x: &[f64]| (x[0] - 0.3).exp() * (1.0 + j as f64 * x[j % 2]);
    for m in [16, 1] {
        let vector = Integral::vector(
            m,
            move |x: &[f64], out: &mut [f64]| {
                for (j, value) in out.iter_mut().enumerate() {
                    *value = f(j, x);
                }
            },
            [0.0..1.0, 0.0..2.0],
        );
        let estimate = pollster::block_on(vector.samples(40_009).seed(3).run_inline()).unwrap();
        for j in 0..m {
            let alone = Integral::over(move |x: &[f64]| f(j, x), [0.0..1.0, 0.0..2.0]);
            let alone = pollster::block_on(alone.samples(40_009).seed(3).run_inline()).unwrap();
            assert_eq!(
                bits(&estimate.component(j).unwrap()),
                bits(&alone),
                "{m}, {j}"
            );
        }
        for j in 0..m.min(2) {
            for k in 0..m {
                let c = |j, k| estimate.covariance(j, k);
                assert_eq!(c(j, k), c(k, j));
                if m > 1 {
                    let r = c(j, k).unwrap() / (c(j, j).unwrap() * c(k, k).unwrap()).sqrt();
                    assert!(r.abs() <= 1.0 + 1e-12, "{j}, {k}: {r}");
                }
            }
        }
    }
}

/// u and u² on [0, 1]: the covariance of single values is E[u³] − E[u]E[u²]
/// = 1/12, of the means 1/12n; u and 1 − u have covariance −Var(u).
#[test]
fn the_covariance_matrix_has_the_known_answer() {
    let moments = Integral::vector(
        3,
        |x: &[f64], out: &mut [f64]| {
            out[0] = x[0];
            out[1] = x[0] * x[0];
            out[2] = 1.0 - x[0];
        },
        [0.0..1.0],
    );
    let n = 1u64 << 20;
    let mc = pollster::block_on(moments.clone().samples(n).seed(5).run_inline()).unwrap();
    let per_sample = |j, k| mc.covariance(j, k).unwrap() * n as f64;
    // The sample covariances have relative errors of about 1/√n · O(1).
    assert!((per_sample(0, 1) / (1.0 / 12.0) - 1.0).abs() < 0.01);
    assert!((per_sample(0, 0) / (1.0 / 12.0) - 1.0).abs() < 0.01);
    assert!((per_sample(1, 1) / (4.0 / 45.0) - 1.0).abs() < 0.01);
    assert!((mc.covariance(0, 2).unwrap() / mc.covariance(0, 0).unwrap() + 1.0).abs() < 1e-9);
    for j in 0..3 {
        let se = mc.component(j).unwrap().std_error;
        assert_eq!(mc.covariance(j, j), Some(se * se));
        for k in 0..3 {
            assert_eq!(mc.covariance(j, k), mc.covariance(k, j));
        }
    }
    assert_eq!(mc.covariance(0, 3), None);

    // Randomised QMC: from the replicas' means, so u and 1 − u are
    // anti-correlated to rounding too.
    let qmc = pollster::block_on(
        moments
            .samples(16 << 10)
            .method(Method::sobol().replicas(16))
            .run_inline(),
    )
    .unwrap();
    assert_eq!(qmc.degrees_of_freedom(), Some(15));
    let (var, cov) = (qmc.covariance(0, 0).unwrap(), qmc.covariance(0, 2).unwrap());
    assert!(
        var > 0.0 && (cov / var + 1.0).abs() < 1e-6,
        "{cov} vs {var}"
    );
    let correlation = qmc.covariance(0, 1).unwrap()
        / (qmc.covariance(0, 0).unwrap() * qmc.covariance(1, 1).unwrap()).sqrt();
    assert!(correlation > 0.0 && correlation <= 1.0 + 1e-12);

    // A scalar run has no matrix; its one component is itself.
    let scalar = pollster::block_on(Integral::new(|x| x, 0.0..1.0).samples(1000).run_inline());
    let scalar = scalar.unwrap();
    assert_eq!(scalar.covariance(0, 0), None);
    assert_eq!(scalar.component(0), Some(scalar.clone()));
}

/// Coverage of each component's 95% interval over independent seeds:
/// 200 seeds by default (a few seconds), 2000 with
/// `QUADPIPE_VECTOR_COVERAGE=long`. Components: x·y, e^(x+y), cos(x)·y².
#[test]
fn each_components_interval_covers() {
    let long = std::env::var("QUADPIPE_VECTOR_COVERAGE").is_ok_and(|v| v == "long");
    let seeds = if long { 2000 } else { 200 };
    let e1 = std::f64::consts::E - 1.0;
    let exact = [0.25, e1 * e1, 1f64.sin() / 3.0];
    let integral = Integral::vector(
        3,
        |p: &[f64], out: &mut [f64]| {
            out[0] = p[0] * p[1];
            out[1] = (p[0] + p[1]).exp();
            out[2] = p[0].cos() * p[1] * p[1];
        },
        [0.0..1.0, 0.0..1.0],
    );
    let settings: [(&str, Method, u64); 2] = [
        ("MC", Method::MONTE_CARLO, 1 << 12),
        ("RQMC", Method::sobol().replicas(8).into(), 8 << 6),
    ];
    for (name, method, samples) in settings {
        let mut covered = [0u32; 3];
        for seed in 0..seeds {
            let run = integral
                .clone()
                .samples(samples)
                .seed(seed)
                .method(method.clone());
            let estimate = pollster::block_on(run.run_inline()).unwrap();
            for (j, exact) in exact.iter().enumerate() {
                let interval = estimate.component(j).unwrap().interval(0.95);
                covered[j] += u32::from(interval.contains(exact));
            }
        }
        for (j, covered) in covered.iter().enumerate() {
            let rate = f64::from(*covered) / seeds as f64;
            // 93–97%: the band. (Over 200 seeds one binomial
            // standard error is 1.5%: this seed set lands inside it.)
            assert!(
                (0.93..=0.97).contains(&rate),
                "{name}, component {j}: {rate}"
            );
        }
    }
}

/// A tolerance stops the run only when every component meets it: a
/// component with a small spread alone would stop far earlier.
#[test]
fn a_tolerance_waits_for_every_component() {
    watchdog(|| {
        let calm = |x: f64| 1.0 + 0.01 * x;
        let wild = |x: f64| 10.0 * (20.0 * x).sin() + 1.0;
        let both = Integral::vector(
            2,
            move |x: &[f64], out: &mut [f64]| {
                out[0] = calm(x[0]);
                out[1] = wild(x[0]);
            },
            [0.0..1.0],
        )
        .samples(1 << 24)
        .chunk_size(1 << 14)
        .tolerance(0.0, 1e-2);
        let estimate = pollster::block_on(both.run()).unwrap();
        assert_eq!(estimate.stop, Stop::ToleranceMet);
        for j in 0..2 {
            let c = estimate.component(j).unwrap();
            assert!(c.std_error <= 1e-2 * c.value.abs(), "{j}: {c}");
        }
        let calm_alone = Integral::over(move |x: &[f64]| calm(x[0]), [0.0..1.0])
            .samples(1 << 24)
            .chunk_size(1 << 14)
            .tolerance(0.0, 1e-2);
        let calm_alone = pollster::block_on(calm_alone.run()).unwrap();
        assert_eq!(calm_alone.stop, Stop::ToleranceMet);
        assert!(calm_alone.samples < estimate.samples / 4);

        // Out of reach for one component: the whole budget, and it says so.
        let short = both.samples(1 << 16).min_samples(1 << 14);
        let estimate = pollster::block_on(short.run()).unwrap();
        assert_eq!(estimate.stop, Stop::ToleranceNotMet);
    });
}

#[test]
fn bad_vector_input_gets_clear_errors() {
    let none = Integral::vector(0, |_: &[f64], _: &mut [f64]| {}, [0.0..1.0]);
    let err = pollster::block_on(none.run_inline()).unwrap_err();
    assert!(matches!(err, Error::NoComponents), "{err}");

    let two = Integral::vector(
        2,
        |x: &[f64], out: &mut [f64]| {
            out[0] = x[0];
            out[1] = x[1];
        },
        [0.0..1.0, 0.0..1.0],
    );
    // VEGAS takes them (tests/vegas_vector.rs); Gauss–Kronrod not yet.
    let err = pollster::block_on(two.clone().method(Method::GAUSS_KRONROD).run_inline());
    let err = err.unwrap_err();
    assert!(
        matches!(err, Error::VectorUnsupported { method } if method == "Gauss–Kronrod"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("does not integrate vector integrands")
    );

    // A NaN in any component fails the run by default, naming the point.
    let nan = Integral::vector(
        2,
        |x: &[f64], out: &mut [f64]| {
            out[0] = x[0];
            out[1] = if x[0] > 0.5 { f64::NAN } else { 1.0 };
        },
        [0.0..1.0],
    );
    for method in [Method::MONTE_CARLO, Method::SOBOL] {
        let err = pollster::block_on(nan.clone().samples(1 << 12).method(method).run_inline());
        let Err(Error::NonFiniteValue { point, value }) = err else {
            panic!("{err:?}");
        };
        assert!(point[0] > 0.5 && value.is_nan());
    }
}

/// A vector run cancelled partway keeps a checkpoint with every component,
/// and its progress shows them; resumed, it ends with the bits of an
/// uninterrupted run, covariance included. A scalar spec refuses it.
#[test]
fn a_cancelled_vector_run_resumes_to_the_same_bits() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let settings: [(Method, u64); 2] = [
            (Method::MONTE_CARLO, 1 << 22),
            (Method::sobol().replicas(8).into(), 8 << 19),
        ];
        for (method, samples) in settings {
            let integral = pointwise()
                .samples(samples)
                .chunk_size(1 << 13)
                .seed(9)
                .method(method.clone())
                .non_finite(NonFinite::Skip);
            let whole = executor.block_on(integral.spawn_on(&executor)).unwrap();

            let task = integral.spawn_on(&executor);
            let total = task.progress().total.unwrap();
            assert!(eventually(|| task.progress().done >= total / 4));
            let snapshot = task.progress().estimate.unwrap();
            assert_eq!(snapshot.components(), M);
            task.cancel();
            let checkpoint = task.checkpoint().expect("a merged prefix");
            assert!(checkpoint.samples_done() < total, "{method:?}");
            let resumed = executor
                .block_on(integral.resume(&checkpoint).spawn_on(&executor))
                .unwrap();
            assert_eq!(resumed, whole, "{method:?}");
            assert!(whole.covariance(0, 1).is_some());

            let scalar = alone(0)
                .samples(samples)
                .chunk_size(1 << 13)
                .seed(9)
                .method(method)
                .non_finite(NonFinite::Skip);
            let err = pollster::block_on(scalar.resume(&checkpoint).run_inline()).unwrap_err();
            assert!(matches!(err, Error::CheckpointMismatch { .. }), "{err}");
        }
    });
}

/// The form of the docs: a complex integrand as its real and imaginary
/// parts, here ∫₀^π e^{ix} dx = 2i, with the components' correlation.
#[test]
fn a_complex_integrand_is_two_components() {
    let integral = Integral::vector(
        2,
        |x: &[f64], z: &mut [f64]| {
            let (im, re) = x[0].sin_cos();
            z.copy_from_slice(&[re, im]);
        },
        [0.0..std::f64::consts::PI],
    )
    .samples(8 << 14)
    .method(Method::SOBOL);
    let estimate = pollster::block_on(integral.run()).unwrap();
    let (re, im) = (
        estimate.component(0).unwrap(),
        estimate.component(1).unwrap(),
    );
    assert!(re.interval(0.999).contains(&0.0), "{re}");
    assert!(im.interval(0.999).contains(&2.0), "{im}");
    assert!(estimate.to_string().starts_with('['));
}

/// Cubature integrates every component of a smooth vector integrand to
/// its tolerance, stops only when each meets it, and its first component
/// alone (a scalar run) agrees to the tolerance.
#[test]
fn cubature_integrates_every_component() {
    let e1 = std::f64::consts::E - 1.0;
    let exact = [
        (2f64.cos() + 1f64.cos() - 3f64.cos() - 1.0) / 2.0,
        e1 * e1,
        0.25,
    ];
    let f = |x: &[f64], out: &mut [f64]| {
        out[0] = (x[0] + 2.0 * x[1]).cos();
        out[1] = (x[0] + x[1]).exp();
        out[2] = x[0] * x[1];
    };
    let integral = Integral::vector(3, f, [0.0..1.0, 0.0..1.0])
        .tolerance(0.0, 1e-10)
        .samples(1 << 22)
        .method(Method::CUBATURE);
    let estimate = pollster::block_on(integral.run()).unwrap();
    assert_eq!(estimate.stop, Stop::ToleranceMet);
    assert_eq!(estimate.covariance(0, 1), None);
    for (j, exact) in exact.iter().enumerate() {
        let c = estimate.component(j).unwrap();
        assert!((c.value - exact).abs() <= 1e-10 * exact.abs(), "{j}: {c}");
        assert!(c.std_error <= 1e-10 * c.value.abs(), "{j}: {c}");
    }
    // The oscillating component needs the most regions: alone, it ends
    // with no more evaluations than the three together.
    let alone = Integral::over(|x: &[f64]| (x[0] + 2.0 * x[1]).cos(), [0.0..1.0, 0.0..1.0])
        .tolerance(0.0, 1e-10)
        .samples(1 << 22)
        .method(Method::CUBATURE);
    let alone = pollster::block_on(alone.run()).unwrap();
    assert!(alone.samples <= estimate.samples);
    assert!((alone.value - exact[0]).abs() <= 1e-10 * exact[0].abs());

    // A cubature run of a vector integrand resumes to the same bits.
    let executor = Executor::builder().threads(2).build().unwrap();
    let slow = integral
        .clone()
        .tolerance(0.0, 1e-13)
        .samples(1 << 20)
        .chunk_size(1 << 9);
    let whole = executor.block_on(slow.spawn_on(&executor)).unwrap();
    let path = std::env::temp_dir().join(format!("quadpipe-vector-{}.qpck", std::process::id()));
    let saving = slow.clone().checkpoint_every(3, &path);
    executor.block_on(saving.spawn_on(&executor)).unwrap();
    let saved = quadpipe::Checkpoint::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let resumed = executor
        .block_on(slow.resume(&saved).spawn_on(&executor))
        .unwrap();
    assert_eq!(resumed, whole);
}
