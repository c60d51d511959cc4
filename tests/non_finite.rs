//! NaN and infinities: an error naming the point by default, counted as 0
//! on request, never a hang and never a silently wrong number.

mod common;

use common::watchdog;
use quadpipe::{Error, Executor, Integral, NonFinite};

#[test]
fn skipped_values_count_as_zero_on_every_path() {
    watchdog(|| {
        // sqrt is NaN on [-1, 0): the estimate is ∫₀¹ √x dx = 2/3.
        let scalar = Integral::new(f64::sqrt, -1.0..1.0)
            .samples(1 << 20)
            .seed(4)
            .non_finite(NonFinite::Skip);
        let pointwise = Integral::over(|p: &[f64]| p[0].sqrt(), [-1.0..1.0])
            .samples(1 << 20)
            .seed(4)
            .non_finite(NonFinite::Skip);
        let executor = Executor::builder().threads(2).build().unwrap();
        let estimate = executor.block_on(scalar.spawn_on(&executor)).unwrap();
        assert!(
            (estimate.value - 2.0 / 3.0).abs() < 5.0 * estimate.std_error,
            "{estimate}"
        );
        assert_eq!(estimate.samples, 1 << 20);
        // Half the points, to within 5 binomial standard deviations (512).
        assert!(
            estimate.skipped.abs_diff(1 << 19) < 5 * 512,
            "{}",
            estimate.skipped
        );
        // The same points, the same count, the same bits.
        assert_eq!(pollster::block_on(scalar.run_inline()).unwrap(), estimate);
        assert_eq!(
            pollster::block_on(pointwise.run_inline()).unwrap(),
            estimate
        );
    });
}

#[test]
fn by_default_a_non_finite_value_is_an_error_whatever_the_form() {
    watchdog(|| {
        let scalar = Integral::new(f64::sqrt, -1.0..1.0).samples(1000);
        let batched = Integral::batched(
            |points: &[f64], values: &mut [f64]| {
                values
                    .iter_mut()
                    .zip(points)
                    .for_each(|(v, &x)| *v = x.sqrt());
            },
            [-1.0..1.0],
        )
        .samples(1000);
        let a = pollster::block_on(scalar.run()).unwrap_err();
        let b = pollster::block_on(batched.run()).unwrap_err();
        // The first bad point in sample order, the same for both forms.
        assert!(matches!(a, Error::NonFiniteValue { .. }));
        assert_eq!(a.to_string(), b.to_string());
    });
}

#[test]
fn no_skipped_values_means_no_count() {
    let estimate = pollster::block_on(
        Integral::new(|x| x, 0.0..1.0)
            .samples(1000)
            .non_finite(NonFinite::Skip)
            .run_inline(),
    )
    .unwrap();
    assert_eq!(estimate.skipped, 0);
}
