//! Many dimensions and the three integrand forms: correct values, the same
//! bits from every form that sees the same points, and clear errors.

mod common;

use common::watchdog;
use quadpipe::{Error, Estimate, Executor, Integral};

fn bits(estimate: &Estimate) -> (u64, u64, u64) {
    (
        estimate.value.to_bits(),
        estimate.std_error.to_bits(),
        estimate.samples,
    )
}

/// Five standard errors: a miss means a bug, not bad luck (p ≈ 6e-7), and
/// the seeds are fixed anyway.
fn assert_within(estimate: Estimate, exact: f64) {
    let distance = (estimate.value - exact).abs() / estimate.std_error;
    assert!(
        distance < 5.0,
        "{estimate} is {distance:.1} standard errors from {exact}"
    );
}

#[test]
fn box_integrals_are_accurate() {
    watchdog(|| {
        // ∫ x·y·z over [0,1]×[1,3]×[-1,2] = (1/2)·4·(3/2) = 3.
        let product = Integral::over(
            |p: &[f64]| p[0] * p[1] * p[2],
            [0.0..1.0, 1.0..3.0, -1.0..2.0],
        )
        .samples(1 << 22)
        .seed(5);
        assert_within(pollster::block_on(product.run()).unwrap(), 3.0);

        // A 10-dimensional Gaussian bump: Π ∫₀¹ exp(-x²) dx = (√π/2 · erf 1)^10.
        let erf1 = 0.842_700_792_949_714_9;
        let exact = (std::f64::consts::PI.sqrt() / 2.0 * erf1).powi(10);
        let gauss = Integral::over(
            |p: &[f64]| (-p.iter().map(|x| x * x).sum::<f64>()).exp(),
            vec![0.0..1.0; 10],
        )
        .samples(1 << 21)
        .seed(6);
        assert_within(pollster::block_on(gauss.run()).unwrap(), exact);
    });
}

#[test]
fn scalar_pointwise_and_batched_forms_agree_to_the_bit_in_one_dimension() {
    watchdog(|| {
        let (samples, chunk) = (100_003, 10_007);
        let scalar = Integral::new(|x: f64| x.cos() * x, -1.0..2.0);
        let pointwise = Integral::over(|p: &[f64]| p[0].cos() * p[0], [-1.0..2.0]);
        let batched = Integral::batched(
            |points: &[f64], values: &mut [f64]| {
                for (value, &x) in values.iter_mut().zip(points) {
                    *value = x.cos() * x;
                }
            },
            [-1.0..2.0],
        );
        let run = |e: Result<Estimate, Error>| bits(&e.unwrap());
        let reference = run(pollster::block_on(
            scalar
                .samples(samples)
                .chunk_size(chunk)
                .seed(3)
                .run_inline(),
        ));
        assert_eq!(
            run(pollster::block_on(
                pointwise
                    .samples(samples)
                    .chunk_size(chunk)
                    .seed(3)
                    .run_inline()
            )),
            reference
        );
        assert_eq!(
            run(pollster::block_on(
                batched
                    .samples(samples)
                    .chunk_size(chunk)
                    .seed(3)
                    .run_inline()
            )),
            reference
        );
    });
}

#[test]
fn pointwise_and_batched_agree_in_many_dimensions_on_any_thread_count() {
    watchdog(|| {
        let f = |p: &[f64]| {
            p.iter()
                .enumerate()
                .map(|(k, x)| (k as f64 + 1.0) * x * x)
                .sum::<f64>()
        };
        let bounds = [0.0..1.0, -1.0..1.0, 2.0..2.5, 0.0..4.0, -3.0..-1.0];
        let pointwise = Integral::over(f, bounds.clone())
            .samples(300_001)
            .chunk_size(65_536)
            .seed(9);
        let batched = Integral::batched(
            move |points: &[f64], values: &mut [f64]| {
                for (value, point) in values.iter_mut().zip(points.chunks_exact(5)) {
                    *value = f(point);
                }
            },
            bounds,
        )
        .samples(300_001)
        .chunk_size(65_536)
        .seed(9);
        let reference = bits(&pollster::block_on(pointwise.run_inline()).unwrap());
        for threads in [1, 2, 3] {
            let executor = Executor::builder().threads(threads).build().unwrap();
            assert_eq!(
                bits(&executor.block_on(pointwise.spawn_on(&executor)).unwrap()),
                reference
            );
            assert_eq!(
                bits(&executor.block_on(batched.spawn_on(&executor)).unwrap()),
                reference
            );
        }
    });
}

#[test]
fn a_non_finite_value_names_every_coordinate() {
    watchdog(|| {
        let integral = Integral::over(
            |p: &[f64]| if p[0] + p[1] > 1.9 { f64::NAN } else { 1.0 },
            [0.0..1.0, 0.0..1.0, 5.0..6.0],
        )
        .samples(1 << 16);
        match pollster::block_on(integral.run()).unwrap_err() {
            Error::NonFiniteValue { point, value } => {
                assert_eq!(point.len(), 3);
                assert!(point[0] + point[1] > 1.9 && (5.0..6.0).contains(&point[2]));
                assert!(value.is_nan());
            }
            other => panic!("expected NonFiniteValue, got {other:?}"),
        }
    });
}

#[test]
fn bad_boxes_are_errors() {
    watchdog(|| {
        let run = |bounds: Vec<std::ops::Range<f64>>| {
            pollster::block_on(Integral::over(|_: &[f64]| 1.0, bounds).run_inline()).unwrap_err()
        };
        assert!(matches!(run(vec![]), Error::NoAxes));
        assert!(matches!(
            run(vec![0.0..1.0, 2.0..1.0]),
            Error::EmptyAxis { axis: 1, lower, upper } if lower == 2.0 && upper == 1.0
        ));
        assert!(matches!(
            run(vec![0.0..1.0, 1.0..1.0]),
            Error::EmptyAxis { axis: 1, .. }
        ));
        assert!(matches!(
            run(vec![0.0..f64::NAN]),
            Error::NonFiniteBound { axis: 0, .. }
        ));
        assert!(matches!(
            run(vec![-1e300..1e300, -1e300..1e300]),
            Error::VolumeOutOfRange { .. }
        ));
        assert_eq!(
            run(vec![0.0..1.0, 2.0..1.0]).to_string(),
            "axis 1 is empty or reversed: lower bound 2 is not below upper bound 1"
        );
    });
}
