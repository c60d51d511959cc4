//! The asyncio walk-through's program, done right: the integral of x over
//! [0, pi], whose exact value is pi²/2 = 4.934802200544679.
//!
//! The original generated a list of random numbers, summed it, and scaled
//! the sum by pi, one step after the other on one thread. Here the same
//! three sub-tasks stream chunk by chunk on every core, never hold the
//! numbers in memory, report a standard error, and give the same digits for
//! the same seed whatever the thread count:
//!
//! ```text
//! cargo run --release --example compute_integral
//! cargo run --release --example compute_integral -- --samples 1000000 --seed 7 --threads 3
//! cargo run --release --example compute_integral -- --inline
//! ```
//!
//! Flags: `--samples N` (default 100,000,000), `--seed S` (default 42),
//! `--threads T` (default: one per core), `--inline` (no threads: every
//! chunk runs in the main task).

use std::env;
use std::f64::consts::PI;
use std::process::ExitCode;
use std::time::Instant;

use quadpipe::{Error, Estimate, Executor, Integral};

/// The original program's `compute_integral`, done right.
async fn compute_integral(
    options: &Options,
    executor: Option<&Executor>,
) -> Result<Estimate, Error> {
    // Sub-task 1: generate the random points in [0, pi]. Chunk i of them
    // comes from its own stream, seeded from (seed, i), so the points do not
    // depend on which thread draws them. They are drawn inside sub-task 2,
    // chunk by chunk, and never stored: memory stays flat at any count.
    let points = Integral::new(|x| x, 0.0..PI)
        .samples(options.samples)
        .seed(options.seed);

    // Sub-task 2: sum f(x) = x over the points, chunks in parallel on the
    // executor's workers (or one by one in this task), merging the chunk
    // sums strictly in chunk order so the total has the same bits either way.
    //
    // Sub-task 3: scale the mean by the length of the interval, pi. The
    // estimate does this, and carries the standard error along.
    match executor {
        Some(executor) => points.spawn_on(executor).await,
        None => points.run_inline().await,
    }
}

fn main() -> ExitCode {
    let options = match Options::parse(env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("compute_integral: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let executor = match options.threads {
        _ if options.inline => None,
        Some(threads) => Some(Executor::builder().threads(threads).build()),
        None => Some(Executor::builder().build()),
    };
    let executor = match executor.transpose() {
        Ok(executor) => executor,
        Err(err) => {
            eprintln!("compute_integral: {err}");
            return ExitCode::FAILURE;
        }
    };

    let start = Instant::now();
    let result = pollster::block_on(compute_integral(&options, executor.as_ref()));
    let seconds = start.elapsed().as_secs_f64();

    match result {
        Ok(estimate) => {
            println!(
                "Integral of x from 0 to pi is: {:.15} ± {:.9}",
                estimate.value, estimate.std_error
            );
            println!("Time taken: {seconds:.6} seconds");
            let runner = match &executor {
                Some(executor) if executor.threads() == 1 => "1 thread".to_owned(),
                Some(executor) => format!("{} threads", executor.threads()),
                None => "inline".to_owned(),
            };
            println!(
                "{} samples, {runner}: {:.3} ns per sample; exact value {:.15} is {:.2} standard errors away",
                estimate.samples,
                seconds * 1e9 / estimate.samples as f64,
                PI * PI / 2.0,
                (estimate.value - PI * PI / 2.0).abs() / estimate.std_error,
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("compute_integral: {err}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: compute_integral [--samples N] [--seed S] [--threads T] [--inline]";

struct Options {
    samples: u64,
    seed: u64,
    threads: Option<usize>,
    inline: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            samples: 100_000_000,
            seed: 42,
            threads: None,
            inline: false,
        };
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--samples" => options.samples = number(&flag, &value()?)?,
                "--seed" => options.seed = number(&flag, &value()?)?,
                "--threads" => options.threads = Some(number(&flag, &value()?)?),
                "--inline" => options.inline = true,
                "--help" | "-h" => return Err("help".to_owned()),
                other => return Err(format!("unknown flag {other:?}")),
            }
        }
        Ok(options)
    }
}

/// Parses a count, accepting `_` separators and exponent forms like `1e8`.
fn number<T: TryFrom<u64>>(flag: &str, text: &str) -> Result<T, String> {
    let cleaned = text.replace('_', "");
    let parsed = cleaned.parse::<u64>().ok().or_else(|| {
        let float = cleaned.parse::<f64>().ok()?;
        (float.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&float)).then_some(float as u64)
    });
    parsed
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("{flag} takes a whole number, not {text:?}"))
}
