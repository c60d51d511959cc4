//! One integral of the 5-D Genz gaussian of `examples/bench.rs`, run
//! inline on this thread: the workload for counting instructions per
//! evaluation of plain Monte Carlo and VEGAS under callgrind, which a
//! shared machine's timings cannot disturb.
//!
//! ```text
//! cargo build --release --example vegas_cost
//! valgrind --tool=callgrind target/release/examples/vegas_cost vegas 1048576
//! valgrind --tool=callgrind target/release/examples/vegas_cost mc 1048576
//! ```
//!
//! A third argument sets the chunk size. The difference of the totals of two sizes (say 2^20 and 2^19), over
//! the difference of the sizes, is the cost per evaluation without the
//! fixed cost of starting a run.

use quadpipe::{Integral, Method};

/// `exp(-Σ 9 (x - 0.4)²)`, the integrand of `examples/bench.rs`'s
/// efficiency and cost lines.
fn genz_gaussian(x: &[f64]) -> f64 {
    (-x.iter().map(|&x| 9.0 * (x - 0.4) * (x - 0.4)).sum::<f64>()).exp()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let method = match args.next().as_deref() {
        Some("mc") => Method::MONTE_CARLO,
        Some("vegas") | None => Method::VEGAS,
        Some(other) => panic!("unknown method {other}: expected mc or vegas"),
    };
    let samples: u64 = args
        .next()
        .map_or(1 << 20, |s| s.parse().expect("a sample count"));
    let mut integral = Integral::over(genz_gaussian, vec![0.0..1.0; 5])
        .method(method)
        .samples(samples)
        .seed(1);
    if let Some(chunk) = args.next() {
        integral = integral.chunk_size(chunk.parse().expect("a chunk size"));
    }
    let estimate = pollster::block_on(integral.run_inline()).expect("the integral runs");
    println!("{estimate}");
}
