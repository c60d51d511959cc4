//! One integral of the 5-D Genz product peak, by randomised QMC or plain
//! Monte Carlo, run inline on this thread: the workload for counting the
//! instructions of an RQMC point against an MC one under callgrind, which a
//! shared machine's timings cannot disturb.
//!
//! ```text
//! cargo build --release --example rqmc_cost
//! valgrind --tool=callgrind target/release/examples/rqmc_cost rqmc 1048576
//! valgrind --tool=callgrind target/release/examples/rqmc_cost rqmc 1024
//! valgrind --tool=callgrind target/release/examples/rqmc_cost mc 1048576
//! ```
//!
//! The difference of the totals of two sizes, over the difference of the
//! sizes, is the cost per point without the fixed cost of starting a run.
//! (Under valgrind the CPU has no AVX-512, so these are AVX2's counts.) A
//! third argument sets the dimension (5), a fourth the chunk size.

#[path = "../tests/common/genz.rs"]
mod genz;

use genz::{Family, Genz};
use quadpipe::{Integral, Method};

fn main() {
    let mut args = std::env::args().skip(1);
    let method = match args.next().as_deref() {
        Some("rqmc") | None => Method::SOBOL,
        Some("mc") => Method::MONTE_CARLO,
        Some(other) => panic!("unknown method {other}: expected rqmc or mc"),
    };
    let samples: u64 = args
        .next()
        .map_or(1 << 20, |s| s.parse().expect("a sample count"));
    let dims: usize = args.next().map_or(5, |s| s.parse().expect("a dimension"));
    let genz = Genz::new(Family::ProductPeak, dims);
    let mut integral = Integral::over(move |x: &[f64]| genz.eval(x), vec![0.0..1.0; dims])
        .method(method)
        .samples(samples)
        .seed(1);
    if let Some(chunk) = args.next() {
        integral = integral.chunk_size(chunk.parse().expect("a chunk size"));
    }
    let estimate = pollster::block_on(integral.run_inline()).expect("the integral runs");
    println!("{estimate}");
}
