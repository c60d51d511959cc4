//! One plain Monte Carlo run of the 5-D workload of `examples/bench.rs`'s
//! `vector16/scalar1` line, inline on this thread: for counting
//! instructions under callgrind, which a shared machine's timings cannot
//! disturb.
//!
//! ```text
//! cargo build --release --example vector_cost
//! valgrind --tool=callgrind target/release/examples/vector_cost 16 1048576
//! valgrind --tool=callgrind target/release/examples/vector_cost scalar 1048576
//! ```
//!
//! The first argument is the number of components, or `scalar` for
//! component 0 through `Integral::over`; the second the samples; a third,
//! `bits`, prints the whole estimate with every value to its last bit
//! (covariances included), to check that a change kept them.

#[path = "shared/components.rs"]
mod components;

fn main() {
    let mut args = std::env::args().skip(1);
    let form = args.next().unwrap_or_else(|| "16".to_owned());
    let samples: u64 = args
        .next()
        .map_or(1 << 20, |s| s.parse().expect("a sample count"));
    let estimate = if form == "scalar" {
        pollster::block_on(components::scalar().samples(samples).seed(1).run_inline())
    } else {
        let m = form.parse().expect("a component count, or scalar");
        pollster::block_on(components::vector(m).samples(samples).seed(1).run_inline())
    };
    let estimate = estimate.expect("the integral runs");
    if args.next().as_deref() == Some("bits") {
        println!("{estimate:?}");
    } else {
        println!("{estimate}");
    }
}
