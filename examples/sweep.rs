//! A parameter sweep as one task group: ∫₀¹ √(a − b·x) dx over a grid of
//! (a, b), with a progress bar per running integral and one for the whole
//! sweep. One grid point, b > a, takes the square root of a negative
//! number, so its integral fails.
//!
//! ```text
//! cargo run --release --example sweep
//! ```
//!
//! The sweep runs twice. First fail-fast, the default: the failing child
//! cancels its siblings, running or not yet started, and the group fails
//! with its error (asyncio's `TaskGroup`). Then with `keep_going`: every
//! other child runs to the end and the group gives each child's outcome
//! (asyncio's `gather(..., return_exceptions=True)`), printed as a table
//! against the closed form.
//!
//! The bars go to stderr, and only when it is a terminal; stdout gets one
//! line per fail-fast and keep-going outcome, the table, and last a line
//! `sweep: N children: F finished, E failed, C cancelled` for the
//! keep-going sweep.

use std::collections::HashMap;
use std::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use indicatif::style::TemplateError;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use quadpipe::{Estimate, GroupHandle, GroupProgress, Integral, TaskGroup};

/// The grid: a in 1..=6, b in {0, 0.5, 1, 1.5}. Only (a, b) = (1, 1.5)
/// has b > a, where √(a − b·x) is not real for x > 2/3.
const A: [f64; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
const B: [f64; 4] = [0.0, 0.5, 1.0, 1.5];

/// Samples per integral: enough for each bar to be seen moving.
const SAMPLES: u64 = 1 << 24;

/// Integrals running at once.
const LIMIT: usize = 2;

/// ∫₀¹ √(a − b·x) dx = 2 (a^{3/2} − (a − b)^{3/2}) / (3b), or √a for b = 0.
fn exact(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        a.sqrt()
    } else {
        2.0 * (a.powf(1.5) - (a - b).powf(1.5)) / (3.0 * b)
    }
}

/// The grid in the order its children are spawned.
fn grid() -> Vec<(f64, f64)> {
    A.iter()
        .flat_map(|&a| B.iter().map(move |&b| (a, b)))
        .collect()
}

/// Spawns the sweep into `group`: each child is a closure that starts its
/// integral on the default executor when the group has a free slot.
fn spawn_sweep(group: &TaskGroup<Estimate>) {
    for (index, (a, b)) in grid().into_iter().enumerate() {
        let integral = Integral::new(move |x: f64| (a - b * x).sqrt(), 0.0..1.0)
            .samples(SAMPLES)
            .seed(index as u64);
        group.spawn(move || integral.spawn());
    }
}

/// Draws the group's progress until `stop` is set: one bar per running
/// child, added when it starts and cleared when it ends, and one for the
/// sweep, counting the children that ended.
fn draw(handle: &GroupHandle, stop: &AtomicBool) -> Result<(), TemplateError> {
    let multi = MultiProgress::new();
    let child_style =
        ProgressStyle::with_template("  a={prefix:<9} [{bar:30}] {percent:>3}% {msg}")?
            .progress_chars("=> ");
    let total_style = ProgressStyle::with_template("sweep [{bar:30}] {pos}/{len} children {msg}")?
        .progress_chars("=> ");
    let total = multi.add(ProgressBar::new(grid().len() as u64).with_style(total_style));
    let mut bars: HashMap<usize, ProgressBar> = HashMap::new();
    let grid = grid();
    loop {
        // Read the flag first, so the last drawing shows the final state.
        let last = stop.load(Ordering::Acquire);
        let progress = handle.progress();
        for child in &progress.active {
            let bar = bars.entry(child.index).or_insert_with(|| {
                let (a, b) = grid[child.index];
                let bar = ProgressBar::new(child.progress.total.unwrap_or(SAMPLES))
                    .with_style(child_style.clone())
                    .with_prefix(format!("{a}, b={b}"));
                multi.insert_before(&total, bar)
            });
            bar.set_position(child.progress.done);
            if let Some(estimate) = &child.progress.estimate {
                bar.set_message(format!("{:.6} ± {:.6}", estimate.value, estimate.std_error));
            }
        }
        bars.retain(|index, bar| {
            let running = progress.active.iter().any(|child| child.index == *index);
            if !running {
                bar.finish_and_clear();
                multi.remove(bar);
            }
            running
        });
        total.set_position(progress.ended() as u64);
        total.set_message(counts(&progress));
        if last {
            total.finish();
            return Ok(());
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The children in each end state.
fn counts(progress: &GroupProgress) -> String {
    format!(
        "{} finished, {} failed, {} cancelled",
        progress.finished, progress.failed, progress.cancelled
    )
}

/// Each child's result, in spawn order.
type Outcomes = Vec<Result<Estimate, quadpipe::Error>>;

/// Runs `group` to its end behind the bars, and returns its outcomes with
/// the final progress.
fn run(group: TaskGroup<Estimate>) -> Result<(Outcomes, GroupProgress), Box<dyn Error>> {
    let handle = group.handle();
    let stop = AtomicBool::new(false);
    let outcomes = thread::scope(|scope| {
        let drawer = scope.spawn(|| draw(&handle, &stop));
        let outcomes = pollster::block_on(group.outcomes());
        stop.store(true, Ordering::Release);
        drawer.join().expect("the drawing thread panicked")?;
        Ok::<_, Box<dyn Error>>(outcomes)
    })?;
    Ok((outcomes, handle.progress()))
}

fn main() -> Result<(), Box<dyn Error>> {
    let grid = grid();

    // Fail-fast: the first failure cancels the rest.
    let group = TaskGroup::new().limit(LIMIT);
    spawn_sweep(&group);
    let (outcomes, progress) = run(group)?;
    let failure = outcomes
        .iter()
        .enumerate()
        .find_map(|(index, outcome)| match outcome {
            Err(quadpipe::Error::Cancelled) | Ok(_) => None,
            Err(err) => Some((index, err)),
        });
    if let Some((index, err)) = failure {
        let (a, b) = grid[index];
        println!("fail-fast: child {index} (a = {a}, b = {b}) failed: {err}");
    }
    println!(
        "fail-fast: {} children: {}",
        progress.children(),
        counts(&progress)
    );

    // Keep going: every child runs, and each outcome comes back.
    let group = TaskGroup::new().limit(LIMIT).keep_going();
    spawn_sweep(&group);
    let (outcomes, progress) = run(group)?;
    println!("    a    b       estimate ± std error       exact  |error|/σ");
    for ((a, b), outcome) in grid.iter().zip(&outcomes) {
        match outcome {
            Ok(estimate) => {
                let exact = exact(*a, *b);
                // b = 0 integrates a constant: no error at all.
                let off = match estimate.std_error {
                    0.0 => "-".to_owned(),
                    sigma => format!("{:.2}", (estimate.value - exact).abs() / sigma),
                };
                println!(
                    "{a:>5} {b:>4} {:>14.8} ± {:<11.8} {exact:>10.8} {off:>8}",
                    estimate.value, estimate.std_error,
                );
            }
            Err(err) => println!("{a:>5} {b:>4} {err}"),
        }
    }
    println!(
        "sweep: {} children: {}",
        progress.children(),
        counts(&progress)
    );
    Ok(())
}
