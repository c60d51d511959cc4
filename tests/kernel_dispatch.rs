//! The kernel gives the same bits on whatever instruction set it runs.
//!
//! A child process (this test binary again) runs the same integrals with
//! `QUADPIPE_KERNEL=baseline`, which forces the loop compiled for the
//! default x86-64 target, and compares with the bits this process got from
//! the path dispatched for this CPU.

mod common;

use std::env;
use std::process::Command;

use common::watchdog;
use quadpipe::{Inline, Integral, Scalar};

/// Set in the child to the bits the parent computed.
const EXPECTED: &str = "QUADPIPE_TEST_EXPECTED_BITS";

type Spec = Integral<Scalar<fn(f64) -> f64>>;

/// Integrals that vectorise (polynomials) and that call libm, with partial
/// chunks and partial lane steps.
fn bits_of_every_integral() -> String {
    let integrals: Vec<Spec> = vec![
        Integral::new((|x| x) as fn(f64) -> f64, 0.0..3.0),
        Integral::new((|x| x * x * x - x) as fn(f64) -> f64, -2.0..5.0),
        Integral::new(f64::sin as fn(f64) -> f64, 1.0..-4.0),
        Integral::new((|x: f64| (-x * x).exp()) as fn(f64) -> f64, -3.0..3.0),
    ];
    integrals
        .into_iter()
        .map(|integral| {
            let integral = integral.samples(1_000_003).chunk_size(65_537).seed(17);
            let estimate = pollster::block_on(integral.run_on(&Inline)).unwrap();
            format!(
                "{:016x}:{:016x}",
                estimate.value.to_bits(),
                estimate.std_error.to_bits()
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn baseline_and_dispatched_kernels_give_the_same_bits() {
    watchdog(|| match env::var(EXPECTED) {
        // In the child, on the forced baseline path.
        Ok(expected) => assert_eq!(bits_of_every_integral(), expected),
        // In the parent, on the dispatched path.
        Err(_) => {
            let status = Command::new(env::current_exe().unwrap())
                .args([
                    "--exact",
                    "baseline_and_dispatched_kernels_give_the_same_bits",
                ])
                .env("QUADPIPE_KERNEL", "baseline")
                .env(EXPECTED, bits_of_every_integral())
                .status()
                .unwrap();
            assert!(status.success(), "the baseline kernel gave other bits");
        }
    });
}
