//! The Ctrl-C examples stop on SIGINT with their partial estimate and a
//! valid checkpoint: each runs as a child process, gets SIGINT once it
//! reports progress, and is checked by what it prints and leaves behind.

#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{example, watchdog_for};
use quadpipe::Checkpoint;

/// Runs example `name`, sends it SIGINT after its first progress line
/// that shows work done, and returns what it printed after that, and the
/// checkpoint it saved.
fn interrupted(name: &str) -> (Vec<String>, Checkpoint) {
    let path = std::env::temp_dir().join(format!("quadpipe-{name}-{}.qpck", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut child = Command::new(example(name))
        .arg(&path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done: u64 = line
            .strip_prefix("progress: ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|done| done.parse().ok())
            .unwrap_or_else(|| panic!("{name}: not a progress line: {line}"));
        if done > 0 {
            break;
        }
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let rest: Vec<String> = lines
        .map(Result::unwrap)
        .filter(|line| !line.starts_with("progress: "))
        .collect();
    assert!(child.wait().unwrap().success(), "{name}: {rest:?}");
    let checkpoint = Checkpoint::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    (rest, checkpoint)
}

/// The sample count of a `partial: <value> ± <error> (<n> samples)` line.
fn partial_samples(lines: &[String]) -> u64 {
    let line = lines
        .iter()
        .find(|line| line.starts_with("partial: "))
        .unwrap_or_else(|| panic!("no partial estimate in {lines:?}"));
    let samples = line.rsplit_once('(').unwrap().1;
    samples.strip_suffix(" samples)").unwrap().parse().unwrap()
}

fn check(name: &str) {
    let (lines, checkpoint) = interrupted(name);
    let partial = partial_samples(&lines);
    assert!(partial > 0, "{name}: {lines:?}");
    // The checkpoint was taken at the last merge, at or after the partial
    // estimate's snapshot.
    assert!(checkpoint.samples_done() >= partial, "{name}: {lines:?}");
    assert!(lines.iter().any(|line| line.starts_with("checkpoint: ")));
}

#[test]
fn ctrlc_cli_stops_with_a_partial_estimate_and_a_checkpoint() {
    // The first run may build the example.
    watchdog_for(std::time::Duration::from_secs(600), || check("ctrlc_cli"));
}

#[test]
fn smol_signal_stops_with_a_partial_estimate_and_a_checkpoint() {
    watchdog_for(std::time::Duration::from_secs(600), || check("smol_signal"));
}
