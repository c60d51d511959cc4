//! VEGAS (default settings) on the 5-D Genz gaussian of
//! `examples/bench.rs`, through `run_on` executors of 1 and 2 threads:
//! the parallel efficiency of bench's `efficiency/vegas/*` lines, from the
//! medians of interleaved runs; or one run, to count each thread's
//! instructions.
//!
//! ```text
//! cargo build --release --example vegas_par
//! B=target/release/examples/vegas_par
//! $B time 65536 100 [mc]     # interleaved medians and the efficiency
//! $B inline 65536 100 [mc]   # run_inline against a 1-thread executor
//! valgrind --tool=callgrind --separate-threads=yes $B once 1048576 2
//! ```
//!
//! With `QUADPIPE_PROBE_SPAWN` set, runs go through `spawn_on`, which puts
//! the driver on the executor beside its chunks.

use std::time::Instant;

use quadpipe::{Executor, Integral, Method};

/// `exp(-Σ 9 (x - 0.4)²)`, the integrand of `examples/bench.rs`'s
/// efficiency lines.
fn genz_gaussian(x: &[f64]) -> f64 {
    (-x.iter().map(|&x| 9.0 * (x - 0.4) * (x - 0.4)).sum::<f64>()).exp()
}

/// One run's wall time in seconds.
fn run(executor: &Executor, method: &Method, samples: u64, seed: u64) -> f64 {
    let integral = Integral::over(genz_gaussian, vec![0.0..1.0; 5])
        .method(method.clone())
        .samples(samples)
        .seed(seed);
    let start = Instant::now();
    // QUADPIPE_PROBE_SPAWN: the driver on the pool too (`spawn_on`).
    let estimate = if std::env::var_os("QUADPIPE_PROBE_SPAWN").is_some() {
        pollster::block_on(integral.spawn_on(executor)).unwrap()
    } else {
        pollster::block_on(integral.run_on(executor)).unwrap()
    };
    let t = start.elapsed().as_secs_f64();
    std::hint::black_box(estimate);
    t
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let samples: u64 = args[1].parse().unwrap();
    let method = match args.get(3).map(String::as_str) {
        Some("mc") => Method::MONTE_CARLO,
        _ => Method::VEGAS,
    };
    match args[0].as_str() {
        "once" => {
            let threads: usize = args[2].parse().unwrap();
            let executor = Executor::builder().threads(threads).build().unwrap();
            let t = run(&executor, &method, samples, 1);
            println!("{t:.6}");
        }
        "time" => {
            let reps: usize = args[2].parse().unwrap();
            let one = Executor::builder().threads(1).build().unwrap();
            let two = Executor::builder().threads(2).build().unwrap();
            let (mut t1, mut t2) = (Vec::new(), Vec::new());
            for r in 0..reps {
                t1.push(run(&one, &method, samples, r as u64));
                t2.push(run(&two, &method, samples, r as u64));
            }
            let (m1, m2) = (median(t1), median(t2));
            println!(
                "1t {:.3} ms  2t {:.3} ms  efficiency {:.3}",
                m1 * 1e3,
                m2 * 1e3,
                m1 / m2 / 2.0
            );
        }
        "inline" => {
            // The same runs on this thread alone: no wake-ups at all.
            let reps: usize = args[2].parse().unwrap();
            let one = Executor::builder().threads(1).build().unwrap();
            let (mut t0, mut t1) = (Vec::new(), Vec::new());
            for r in 0..reps {
                let integral = Integral::over(genz_gaussian, vec![0.0..1.0; 5])
                    .method(method.clone())
                    .samples(samples)
                    .seed(r as u64);
                let start = Instant::now();
                std::hint::black_box(pollster::block_on(integral.run_inline()).unwrap());
                t0.push(start.elapsed().as_secs_f64());
                t1.push(run(&one, &method, samples, r as u64));
            }
            let (m0, m1) = (median(t0), median(t1));
            println!("inline {:.3} ms  1t {:.3} ms", m0 * 1e3, m1 * 1e3);
        }
        _ => panic!("once | time | inline"),
    }
}
