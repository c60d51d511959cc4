//! The smol and async-std examples cancel a run spawned on their own
//! executor by a timeout, and print its partial estimate: each runs as a
//! child process and is checked by what it prints.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{example, watchdog_for};

/// The value and sample count of the example's `partial: ` line.
fn partial(name: &str) -> (f64, u64) {
    let output = Command::new(example(name)).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{name}: {stdout}");
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("partial: "))
        .collect();
    assert_eq!(lines.len(), 1, "{name}: {stdout}");
    // partial: <value> ± <error> (<n> samples) (exact: 1/3), cancelled after 200 ms
    let line = lines[0];
    assert!(line.ends_with("cancelled after 200 ms"), "{name}: {line}");
    let value = line["partial: ".len()..].split(' ').next().unwrap();
    let samples = line.split_once('(').unwrap().1.split(' ').next().unwrap();
    (value.parse().unwrap(), samples.parse().unwrap())
}

fn check(name: &str) {
    let (value, samples) = partial(name);
    assert!(samples > 0, "{name}");
    // x² over [0, 1]: at least 2^20 samples (one default chunk) put the
    // estimate within 0.01 of 1/3 (the standard error is 3e-4).
    assert!((value - 1.0 / 3.0).abs() < 0.01, "{name}: {value}");
}

#[test]
fn smol_app_prints_the_partial_estimate_of_its_timed_out_run() {
    // The first run may build the example.
    watchdog_for(Duration::from_secs(600), || check("smol_app"));
}

#[test]
fn async_std_app_prints_the_partial_estimate_of_its_timed_out_run() {
    watchdog_for(Duration::from_secs(600), || check("async_std_app"));
}
