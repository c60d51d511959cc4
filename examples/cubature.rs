//! Adaptive cubature against randomised QMC and plain Monte Carlo on the
//! smooth Genz families (oscillatory, product peak, corner peak,
//! gaussian) in 2, 3 and 5 dimensions, with the parameters of
//! `Genz::new` in `tests/common/genz.rs`.
//!
//! ```text
//! cargo run --release --example cubature
//! echo "gaussian 3 1e-8" | target/release/examples/cubature --peer
//! ```
//!
//! Cubature runs to a relative tolerance of 1e-8 (d ≤ 3) or 1e-6
//! (d = 5); Monte Carlo then gets as many evaluations as cubature took,
//! and RQMC (8 scrambled Sobol replicas) the next budget of 8 × 2^m at
//! least as large. One JSON line per family, d and method, with the
//! evaluations, the actual relative error against the closed form and the
//! relative error estimate (cubature's error bound; one standard error for
//! MC and RQMC), then the same as a table.
//!
//! `--peer` is quadpipe's side of `bench/peers.py --cubature`: it reads
//! lines `family d rel` and prints one JSON object per line with
//! cubature's estimate, evaluations and the best wall time of three runs
//! on the default executor.

#[path = "../tests/common/genz.rs"]
mod genz;

use std::io::{self, BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use genz::{Family, Genz};
use quadpipe::{Estimate, Integral, Method};

const FAMILIES: [Family; 4] = [
    Family::Oscillatory,
    Family::ProductPeak,
    Family::CornerPeak,
    Family::Gaussian,
];

/// The tolerance of issue 15's targets: 1e-8 up to three dimensions, 1e-6
/// in five.
fn tolerance(d: usize) -> f64 {
    if d <= 3 { 1e-8 } else { 1e-6 }
}

fn run(genz: &Arc<Genz>, method: Method, samples: u64, rel: Option<f64>) -> Estimate {
    let (dims, genz) = (genz.dim(), genz.clone());
    let integral = Integral::over(move |x: &[f64]| genz.eval(x), vec![0.0..1.0; dims])
        .method(method)
        .samples(samples)
        .seed(1);
    let integral = match rel {
        Some(rel) => integral.tolerance(0.0, rel),
        None => integral,
    };
    pollster::block_on(integral.run()).expect("the Genz integrands are finite")
}

/// A family's name as `bench/peers.py` writes it.
fn name(family: Family) -> String {
    family.name().replace(' ', "_")
}

struct Row {
    family: Family,
    d: usize,
    method: &'static str,
    estimate: Estimate,
    exact: f64,
}

fn compare() {
    let mut rows = Vec::new();
    for d in [2, 3, 5] {
        for family in FAMILIES {
            let genz = Arc::new(Genz::new(family, d));
            let exact = genz.exact();
            let cubature = run(&genz, Method::CUBATURE, 1 << 30, Some(tolerance(d)));
            let n = cubature.samples;
            let rqmc_budget = 8 * (n.div_ceil(8)).next_power_of_two();
            let rqmc = run(&genz, Method::SOBOL, rqmc_budget, None);
            let mc = run(&genz, Method::MONTE_CARLO, n, None);
            for (method, estimate) in [("cubature", cubature), ("rqmc", rqmc), ("mc", mc)] {
                let row = Row {
                    family,
                    d,
                    method,
                    estimate: estimate.clone(),
                    exact,
                };
                println!(
                    "{{\"family\": \"{}\", \"d\": {d}, \"method\": \"{method}\", \
                     \"evaluations\": {}, \"rel_error\": {:e}, \"error_estimate\": {:e}}}",
                    name(family),
                    estimate.samples,
                    rel_error(&row),
                    estimate.std_error / estimate.value.abs()
                );
                rows.push(row);
            }
        }
    }
    println!();
    println!(
        "{:<13} {:>2} {:<9} {:>12} {:>10} {:>10}",
        "family", "d", "method", "evaluations", "rel error", "estimate"
    );
    for row in &rows {
        println!(
            "{:<13} {:>2} {:<9} {:>12} {:>10.2e} {:>10.2e}",
            row.family.name(),
            row.d,
            row.method,
            row.estimate.samples,
            rel_error(row),
            row.estimate.std_error / row.estimate.value.abs()
        );
    }
}

fn rel_error(row: &Row) -> f64 {
    (row.estimate.value - row.exact).abs() / row.exact.abs()
}

/// One `--peer` line: `family d rel`.
fn peer_line(line: &str) -> Result<String, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [family_name, d, rel] = fields[..] else {
        return Err(format!("expected `family d rel`, got {line:?}"));
    };
    let family = Family::ALL
        .into_iter()
        .find(|f| name(*f) == family_name)
        .ok_or_else(|| format!("unknown family {family_name}"))?;
    let d: usize = d.parse().map_err(|_| format!("bad d {d}"))?;
    let rel: f64 = rel.parse().map_err(|_| format!("bad rel {rel}"))?;
    let genz = Arc::new(Genz::new(family, d));
    let mut best = Duration::MAX;
    let mut estimate = None;
    for _ in 0..3 {
        let started = Instant::now();
        estimate = Some(run(&genz, Method::CUBATURE, 1 << 30, Some(rel)));
        best = best.min(started.elapsed());
    }
    let estimate = estimate.expect("three runs");
    Ok(format!(
        "{{\"family\": \"{family_name}\", \"d\": {d}, \"rel\": {rel:e}, \"value\": {:e}, \
         \"error_estimate\": {:e}, \"exact\": {:e}, \"evaluations\": {}, \"stop\": \"{}\", \
         \"seconds\": {:.6}}}",
        estimate.value,
        estimate.std_error,
        genz.exact(),
        estimate.samples,
        estimate.stop,
        best.as_secs_f64()
    ))
}

fn peer() -> Result<(), String> {
    // Start the default executor before anything is timed.
    let warm = Arc::new(Genz::new(Family::Gaussian, 2));
    run(&warm, Method::CUBATURE, 1 << 20, Some(1e-6));
    let stdout = io::stdout();
    for line in io::stdin().lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let json = peer_line(&line)?;
        let mut out = stdout.lock();
        writeln!(out, "{json}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => compare(),
        Some("--peer") => {
            if let Err(message) = peer() {
                eprintln!("{message}");
                std::process::exit(1);
            }
        }
        Some(other) => {
            eprintln!("unknown argument {other}; run with no arguments, or --peer");
            std::process::exit(2);
        }
    }
}
