//! quadpipe's side of `bench/peers.py`, which compares quadpipe's methods
//! with Lepage's Python `vegas`, SciPy's `qmc_quad` and plain NumPy Monte
//! Carlo on the Genz families of `tests/common/genz.rs`.
//!
//! ```text
//! cargo build --release --example peers
//! echo "product_peak 2 1048576 1 vegas" | target/release/examples/peers
//! target/release/examples/peers --coverage            # 95% coverage, 200 seeds at 2^14
//! target/release/examples/peers --cost                # ns per evaluation, one thread
//! ```
//!
//! Batch mode (the default) reads one run per line from stdin,
//! `family d samples seed method`, and prints one JSON object per run:
//! the estimate, its standard error, the exact value and the wall time.
//! `family` is one of `oscillatory`, `product_peak`, `corner_peak`,
//! `gaussian`, `continuous`, `discontinuous`, with the fixed parameters of
//! `Genz::new` (the `c` and `w` vectors are printed by `--params`).
//! `method` is `mc`, `rqmc` (8 scrambled Sobol replicas), `rqmc:R` (R
//! replicas), `vegas` (`Method::VEGAS`), `vegas:` with settings to
//! override, for tuning: `vegas:iterations=20,warmup=5,alpha=1.0,increments=0`,
//! or `cubature:REL`: `Method::CUBATURE` to the relative tolerance REL,
//! `samples` its most evaluations (the JSON's `stop` says whether it got
//! there). Every run is on the default executor (one thread per core),
//! through `Integral::run_blocking`, as synchronous code would call it;
//! `bench/peers.py --time-to-accuracy` drives it.
//!
//! `--coverage [seeds] [samples]` runs every family in d = 2, 5, 8 with
//! `Method::VEGAS` over `seeds` seeds (200) at `samples` (2^14) and prints
//! how often the 95% interval `value ± 1.96 σ` holds the exact value; a
//! fair interval does so 95% of the time, and 200 seeds tell 93–97% from
//! that within about one binomial standard deviation (1.5%).
//!
//! `--cost` times `Method::MONTE_CARLO` and `Method::VEGAS` on the 5-D Genz
//! integrands on an executor of one thread and prints the ns per
//! evaluation of each and their ratio.

#[path = "../tests/common/genz.rs"]
mod genz;

use std::io::{self, BufRead, Write};
use std::sync::Arc;
use std::time::Instant;

use genz::{Family, Genz};
use quadpipe::{Estimate, Executor, Integral, Method};

/// The family named as `bench/peers.py` names it.
fn family(name: &str) -> Option<Family> {
    Family::ALL
        .into_iter()
        .find(|f| f.name().replace(' ', "_") == name)
}

/// `mc`, `rqmc`, `rqmc:replicas`, `vegas`, `vegas:key=value,...` or
/// `cubature` (its relative tolerance is the batch line's business).
fn method(spec: &str) -> Result<Method, String> {
    match spec {
        "mc" => return Ok(Method::MONTE_CARLO),
        "rqmc" => return Ok(Method::SOBOL),
        "vegas" => return Ok(Method::VEGAS),
        "cubature" => return Ok(Method::CUBATURE),
        _ => {}
    }
    if let Some(replicas) = spec.strip_prefix("rqmc:") {
        let replicas = replicas
            .parse()
            .map_err(|_| format!("bad replicas in {spec}"))?;
        return Ok(Method::sobol().replicas(replicas).into());
    }
    let settings = spec
        .strip_prefix("vegas:")
        .ok_or_else(|| format!("unknown method {spec}"))?;
    let mut vegas = Method::vegas();
    for pair in settings.split(',').filter(|s| !s.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got {pair}"))?;
        let bad = |_| format!("bad value in {pair}");
        vegas = match key {
            "iterations" => vegas.iterations(value.parse().map_err(bad)?),
            "warmup" => vegas.warmup(value.parse().map_err(bad)?),
            "alpha" => vegas.alpha(value.parse().map_err(|_| format!("bad value in {pair}"))?),
            "beta" => vegas.beta(value.parse().map_err(|_| format!("bad value in {pair}"))?),
            "increments" => vegas.increments(value.parse().map_err(bad)?),
            _ => return Err(format!("unknown VEGAS setting {key}")),
        };
    }
    Ok(vegas.into())
}

fn integral(
    genz: &Arc<Genz>,
    method: &Method,
    samples: u64,
    seed: u64,
) -> Integral<impl quadpipe::Integrand + use<>> {
    let (dims, genz) = (genz.dim(), genz.clone());
    Integral::over(move |x: &[f64]| genz.eval(x), vec![0.0..1.0; dims])
        .method(method.clone())
        .samples(samples)
        .seed(seed)
}

fn run(genz: &Arc<Genz>, method: &Method, samples: u64, seed: u64) -> Result<Estimate, String> {
    pollster::block_on(integral(genz, method, samples, seed).run()).map_err(|e| e.to_string())
}

/// A batch line's method: `cubature:REL` is cubature to the relative
/// tolerance REL, with the line's samples as its most evaluations.
fn batch_method(spec: &str) -> Result<(Method, Option<f64>), String> {
    match spec.strip_prefix("cubature:") {
        Some(rel) => {
            let rel = rel
                .parse()
                .map_err(|_| format!("bad tolerance in {spec}"))?;
            Ok((Method::CUBATURE, Some(rel)))
        }
        None => Ok((method(spec)?, None)),
    }
}

/// One batch line: `family d samples seed method`.
fn batch_line(line: &str) -> Result<String, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [name, d, samples, seed, spec] = fields[..] else {
        return Err(format!(
            "expected `family d samples seed method`, got {line:?}"
        ));
    };
    let f = family(name).ok_or_else(|| format!("unknown family {name}"))?;
    let d: usize = d.parse().map_err(|_| format!("bad d {d}"))?;
    let samples: u64 = samples
        .parse()
        .map_err(|_| format!("bad samples {samples}"))?;
    let seed: u64 = seed.parse().map_err(|_| format!("bad seed {seed}"))?;
    let genz = Arc::new(Genz::new(f, d));
    let (method, rel) = batch_method(spec)?;
    let integral = integral(&genz, &method, samples, seed);
    let integral = match rel {
        Some(rel) => integral.tolerance(0.0, rel),
        None => integral,
    };
    let started = Instant::now();
    // The synchronous caller's way: the calling thread computes chunks too.
    let estimate = integral.run_blocking().map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(format!(
        "{{\"family\": \"{name}\", \"d\": {d}, \"n\": {samples}, \"seed\": {seed}, \
         \"method\": \"{spec}\", \"value\": {:e}, \"std_error\": {:e}, \"exact\": {:e}, \
         \"samples\": {}, \"stop\": \"{:?}\", \"seconds\": {seconds:.7}}}",
        estimate.value,
        estimate.std_error,
        genz.exact(),
        estimate.samples,
        estimate.stop,
    ))
}

fn batch() -> Result<(), String> {
    let stdout = io::stdout();
    for line in io::stdin().lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let json = batch_line(&line)?;
        let mut out = stdout.lock();
        writeln!(out, "{json}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn params() {
    for f in Family::ALL {
        for d in [2, 5, 8] {
            let genz = Genz::new(f, d);
            println!(
                "{{\"family\": \"{}\", \"d\": {d}, \"c\": {:?}, \"w\": {:?}, \"exact\": {:e}}}",
                f.name().replace(' ', "_"),
                genz.c,
                genz.w,
                genz.exact()
            );
        }
    }
}

/// The share of `seeds` runs whose 95% interval holds the exact value.
fn coverage(seeds: u64, samples: u64, spec: &str) -> Result<(), String> {
    let method = method(spec)?;
    println!(
        "{:<14} {:>2} {:>9} {:>7}",
        "family", "d", "covered", "max z"
    );
    for f in Family::ALL {
        for d in [2, 5, 8] {
            let genz = Arc::new(Genz::new(f, d));
            let exact = genz.exact();
            let (mut covered, mut worst) = (0, 0.0f64);
            for seed in 1..=seeds {
                let e = run(&genz, &method, samples, seed)?;
                let z = (e.value - exact).abs() / e.std_error;
                covered += u64::from(z <= 1.96);
                worst = worst.max(z);
            }
            let share = covered as f64 / seeds as f64;
            println!(
                "{:<14} {d:>2} {:>8.1}% {worst:>7.2}",
                f.name(),
                100.0 * share
            );
            println!(
                "{{\"coverage\": \"{}\", \"d\": {d}, \"n\": {samples}, \"seeds\": {seeds}, \
                 \"method\": \"{spec}\", \"covered\": {share}, \"max_z\": {worst}}}",
                f.name().replace(' ', "_")
            );
        }
    }
    Ok(())
}

/// ns per evaluation of MC and VEGAS on one thread, on each 5-D family.
fn cost(samples: u64, spec: &str) -> Result<(), String> {
    let vegas = method(spec)?;
    let executor = Executor::builder()
        .threads(1)
        .build()
        .map_err(|e| e.to_string())?;
    let time = |genz: &Arc<Genz>, method: &Method| -> Result<f64, String> {
        // The best of three, so that a busy neighbour counts less.
        let mut best = f64::INFINITY;
        for seed in 1..=3 {
            let integral = integral(genz, method, samples, seed);
            let started = Instant::now();
            let e = executor
                .block_on(integral.spawn_on(&executor))
                .map_err(|e| e.to_string())?;
            best = best.min(started.elapsed().as_secs_f64() * 1e9 / e.samples as f64);
        }
        Ok(best)
    };
    println!(
        "{:<14} {:>8} {:>8} {:>6}",
        "family (d=5)", "MC ns", "VEGAS ns", "ratio"
    );
    for f in Family::ALL {
        let genz = Arc::new(Genz::new(f, 5));
        let mc = time(&genz, &Method::MONTE_CARLO)?;
        let vegas = time(&genz, &vegas)?;
        println!(
            "{:<14} {mc:>8.1} {vegas:>8.1} {:>6.2}",
            f.name(),
            vegas / mc
        );
        println!(
            "{{\"cost\": \"{}\", \"d\": 5, \"n\": {samples}, \"mc_ns\": {mc}, \
             \"vegas_ns\": {vegas}, \"method\": \"{spec}\"}}",
            f.name().replace(' ', "_")
        );
    }
    Ok(())
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: u64| -> Result<u64, String> {
        args.get(i).map_or(Ok(default), |s| {
            s.parse().map_err(|_| format!("bad number {s}"))
        })
    };
    let spec = |i: usize| args.get(i).map_or("vegas", String::as_str);
    match args.first().map(String::as_str) {
        None => batch(),
        Some("--params") => {
            params();
            Ok(())
        }
        Some("--coverage") => coverage(arg(1, 200)?, arg(2, 1 << 14)?, spec(3)),
        Some("--cost") => cost(arg(1, 1 << 22)?, spec(2)),
        Some(other) => Err(format!(
            "unknown argument {other}: expected none, --params, --coverage or --cost"
        )),
    }
}
