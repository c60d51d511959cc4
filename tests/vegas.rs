//! VEGAS: on peaked Genz integrands in 5 and 8 dimensions it reaches a
//! relative error of 1e-3 within 5 reported standard errors of the exact
//! value, with at least 5 times fewer evaluations than plain Monte Carlo
//! needs for the same reported error; `χ²/dof` is near 1 when the
//! iterations agree and the warning flag rises when they do not; the run
//! is bit-identical across threads and runtimes, resumes from a checkpoint
//! to the same bits, reports progress across iterations, and cancels at
//! once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::genz::{Family, Genz};
use common::{eventually, watchdog};
use futures::StreamExt;
use quadpipe::{
    Checkpoint, Error, Estimate, Executor, Inline, Integral, Integrand, Method, Spawner, Stop,
};

/// VEGAS as the accuracy tests run it: up to 100 iterations of
/// `PER_ITERATION` points, of which the first 2 only train the grid.
const PER_ITERATION: u64 = 4096;

fn vegas(iterations: u32, warmup: u32) -> Method {
    Method::vegas()
        .iterations(iterations)
        .warmup(warmup)
        .alpha(0.5)
        .into()
}

fn over_cube(genz: &Arc<Genz>) -> Integral<impl Integrand + use<>> {
    let (dims, genz) = (genz.dim(), genz.clone());
    Integral::over(move |x: &[f64]| genz.eval(x), vec![0.0..1.0; dims])
}

/// A Genz integrand three times as sharp as `tests/common/genz.rs` makes
/// it (`Σ c_i = 21`): a peak in earnest, where one uniform sample's
/// relative standard deviation is 2 to 6, not under 1. At the default
/// sharpness VEGAS still wins, but by less (see the closing table in
/// `examples/evaluations.rs`).
fn peaked(family: Family, d: usize) -> Arc<Genz> {
    let mut genz = Genz::new(family, d);
    for c in &mut genz.c {
        *c *= 3.0;
    }
    Arc::new(genz)
}

#[test]
fn peaked_genz_integrands_reach_1e_3_with_five_times_fewer_evaluations_than_mc() {
    watchdog(|| {
        for family in [Family::ProductPeak, Family::Gaussian] {
            for d in [5, 8] {
                let genz = peaked(family, d);
                let exact = genz.exact();
                let estimate = pollster::block_on(
                    over_cube(&genz)
                        .method(vegas(100, 2))
                        .samples(100 * PER_ITERATION)
                        .tolerance(0.0, 1e-3)
                        .min_samples(1)
                        .seed(1)
                        .run(),
                )
                .unwrap();
                let name = format!("{} d={d}", family.name());
                let distance = (estimate.value - exact).abs() / estimate.std_error;
                assert_eq!(estimate.stop, Stop::ToleranceMet, "{name}: {estimate}");
                assert!(estimate.std_error <= 1e-3 * exact.abs(), "{name}");
                assert!(distance < 5.0, "{name}: {distance:.1} σ off");
                // Iterations stop only at their ends.
                assert_eq!(estimate.samples % PER_ITERATION, 0, "{name}");

                // Plain MC's standard error falls as N^(−½): from a pilot of
                // 2^18 points, the points it needs for VEGAS's error.
                const PILOT: u64 = 1 << 18;
                let pilot =
                    pollster::block_on(over_cube(&genz).samples(PILOT).seed(1).run()).unwrap();
                let mc_needs = PILOT as f64 * (pilot.std_error / estimate.std_error).powi(2);
                let ratio = mc_needs / estimate.samples as f64;
                println!(
                    "{name}: VEGAS {} evaluations ({distance:.2} σ, χ²/dof {:.2}), \
                     MC needs {mc_needs:.0}: {ratio:.0}×",
                    estimate.samples,
                    estimate.chi2_per_dof().unwrap(),
                );
                assert!(ratio >= 5.0, "{name}: only {ratio:.1}× fewer");
            }
        }
    });
}

/// On a smooth integrand after warm-up, the iterations' scatter matches
/// their errors: `χ²/dof` has mean 1 and, with 14 degrees of freedom, a
/// standard deviation of `√(2/14) = 0.38`, so the mean of 24 runs is
/// within 1 ± 0.3 (3.9 standard deviations of that mean) unless the
/// errors are misjudged. The flag rises one time in 20 on honest runs;
/// here at most 4 of 24 (5 or more: a chance of 0.7% for honest runs).
/// (With 8 runs and at most 2 flagged, a false alarm came one time in
/// 20, and came: 3 of seeds 1–8 after the grid's smoothing changed the
/// bits, where 48 seeds gave a mean of 1.05 and 3 flagged.)
#[test]
fn chi2_per_dof_is_near_one_when_the_iterations_agree() {
    watchdog(|| {
        let genz = Arc::new(Genz::new(Family::Gaussian, 5));
        let runs: Vec<Estimate> = (1..=24)
            .map(|seed| {
                pollster::block_on(
                    over_cube(&genz)
                        .method(vegas(20, 5))
                        .samples(20 << 14)
                        .seed(seed)
                        .run(),
                )
                .unwrap()
            })
            .collect();
        let mean = runs.iter().map(|r| r.chi2_per_dof().unwrap()).sum::<f64>() / 24.0;
        let flagged = runs.iter().filter(|r| r.iterations_disagree()).count();
        println!("mean χ²/dof {mean:.3}, flagged {flagged} of 24");
        assert!((mean - 1.0).abs() < 0.3, "mean χ²/dof {mean}");
        assert!(flagged <= 4, "{flagged} of 24 flagged");
    });
}

/// Too few points per iteration on a sharp peak, and no warm-up: the
/// first iterations miss the peak and report small errors, so the
/// iterations disagree. The flag must catch it, and above all it must
/// catch every run whose estimate is far off. It rose on 34 and 40 of 64
/// seeds (two chunkings of the iterations), against one in 20 for honest
/// runs: at least 8 of 24 fails one time in 60 at a rate of 0.53, and
/// passes one time in 70000 at one in 20. (It was at least 4 of 8,
/// which fails one time in 4 at a rate of 0.55, and did when the
/// chunks changed: 3 of 8.)
#[test]
fn the_flag_rises_when_the_iterations_disagree() {
    watchdog(|| {
        let mut genz = Genz::new(Family::Gaussian, 5);
        for c in &mut genz.c {
            *c *= 10.0;
        }
        let genz = Arc::new(genz);
        let exact = genz.exact();
        let mut flagged = 0;
        for seed in 1..=24 {
            let estimate = pollster::block_on(
                over_cube(&genz)
                    .method(vegas(10, 0))
                    .samples(10 * 2000)
                    .seed(seed)
                    .run(),
            )
            .unwrap();
            let distance = (estimate.value - exact).abs() / estimate.std_error;
            println!(
                "seed {seed}: {distance:.1} σ off, Q = {:.2e}",
                estimate.q().unwrap()
            );
            if distance > 5.0 {
                assert!(estimate.iterations_disagree(), "seed {seed}: not flagged");
            }
            flagged += usize::from(estimate.iterations_disagree());
        }
        assert!(flagged >= 8, "only {flagged} of 24 flagged");
    });
}

/// A 4-D integrand with a peak VEGAS must adapt to, over enough chunks
/// (16 per iteration) that they interleave on two threads.
fn reproducible() -> Integral<impl Integrand> {
    Integral::over(
        |x: &[f64]| {
            let r2: f64 = x.iter().map(|x| (x - 0.3) * (x - 0.3)).sum();
            (-r2 / 0.002).exp()
        },
        vec![0.0..1.0; 4],
    )
    .method(vegas(6, 1))
    .samples(6 << 14)
    .chunk_size(1 << 10)
    .seed(77)
}

#[test]
fn bit_identical_across_threads_and_runtimes() {
    watchdog(|| {
        let integral = reproducible();
        let reference = pollster::block_on(integral.run_inline()).unwrap();
        assert!(reference.chi2_per_dof().is_some());
        for threads in [1, 2, 3] {
            let executor = Executor::builder().threads(threads).build().unwrap();
            let on_task = executor.block_on(integral.spawn_on(&executor)).unwrap();
            assert_eq!(on_task, reference, "{threads} threads");
        }
        let smol = Arc::new(smol::Executor::new());
        let on_smol = smol::block_on(smol.run(integral.run_on(Spawner::from(&smol))));
        assert_eq!(on_smol.unwrap(), reference, "smol::Executor");
        let from_fn = Spawner::from_fn(|job| {
            async_std::task::spawn(job);
        });
        let on_async_std = async_std::task::block_on(integral.run_on(from_fn));
        assert_eq!(on_async_std.unwrap(), reference, "async-std");
        let inline = smol::block_on(integral.run_on(Inline));
        assert_eq!(inline.unwrap(), reference, "Inline");
    });
}

#[test]
fn a_resumed_run_ends_with_the_bits_of_an_uninterrupted_one() {
    watchdog(|| {
        let whole = pollster::block_on(reproducible().run_inline()).unwrap();
        let executor = Executor::builder().threads(2).build().unwrap();
        let task = reproducible().spawn_on(&executor);
        let total = task.progress().total.unwrap();
        assert!(eventually(|| task.progress().done >= total / 2));
        task.cancel();
        let checkpoint = task.checkpoint().expect("chunks have merged");
        // At a chunk's merge, inside an iteration or at its end: chunks
        // are ranges of hypercubes, so any count of samples.
        let done = checkpoint.samples_done();
        assert!(done > 0 && done < total, "{done} of {total}");

        let checkpoint = Checkpoint::from_bytes(checkpoint.as_bytes().to_vec()).unwrap();
        let resumed = pollster::block_on(reproducible().resume(&checkpoint).run_inline());
        assert_eq!(resumed.unwrap(), whole);
        let resumed = executor.block_on(reproducible().resume(&checkpoint).spawn_on(&executor));
        assert_eq!(resumed.unwrap(), whole);

        // Another alpha is another run: its checkpoint does not fit.
        let other = reproducible().method(Method::vegas().iterations(6).warmup(1).alpha(1.5));
        let err = pollster::block_on(other.resume(&checkpoint).run_inline()).unwrap_err();
        assert!(matches!(err, Error::CheckpointMismatch { .. }), "{err}");
    });
}

#[test]
fn a_finished_task_keeps_the_checkpoint_of_its_last_merge() {
    watchdog(|| {
        // A VEGAS state holds every hypercube's sums, so a spawned run
        // publishes its checkpoint only now and then as chunks merge; the
        // last merge's is published when the pass ends.
        let whole = pollster::block_on(reproducible().run_inline()).unwrap();
        let executor = Executor::builder().threads(2).build().unwrap();
        let mut task = reproducible().spawn_on(&executor);
        assert_eq!(executor.block_on(&mut task).unwrap(), whole);
        let checkpoint = task.checkpoint().expect("chunks have merged");
        assert_eq!(checkpoint.samples_done(), task.progress().total.unwrap());
        let resumed = pollster::block_on(reproducible().resume(&checkpoint).run_inline());
        assert_eq!(resumed.unwrap(), whole);
    });
}

#[test]
fn progress_counts_across_iterations() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let task = reproducible().spawn_on(&executor);
        let total = task.progress().total;
        assert_eq!(total, Some(6 << 14));
        let snapshots: Vec<_> = executor.block_on(task.progress_stream().collect());
        let result = executor.block_on(task).unwrap();
        let done: Vec<u64> = snapshots.iter().map(|p| p.done).collect();
        assert!(done.windows(2).all(|w| w[0] <= w[1]), "{done:?}");
        let last = snapshots.last().unwrap();
        assert_eq!((last.done, last.total), (6 << 14, total));
        assert_eq!(last.estimate, Some(result));
        // Snapshots inside iterations, not only at their ends.
        assert!(
            done.iter().any(|d| d % (1 << 14) != 0),
            "only iteration ends: {done:?}"
        );
    });
}

#[test]
fn cancel_stops_the_iteration_at_once() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let calls = Arc::new(AtomicU64::new(0));
        let counter = calls.clone();
        let integral = Integral::over(
            move |x: &[f64]| {
                counter.fetch_add(1, Ordering::Relaxed);
                x[0] * x[1]
            },
            [0.0..1.0, 0.0..1.0],
        )
        .method(vegas(4, 1))
        .samples(1 << 40)
        .chunk_size(1 << 16);
        let mut task = integral.spawn_on(&executor);
        assert!(eventually(|| calls.load(Ordering::SeqCst) > 1 << 17));
        task.cancel();
        let at_cancel = calls.load(Ordering::SeqCst);
        assert!(matches!(
            executor.block_on(&mut task),
            Err(Error::Cancelled)
        ));
        let mut last = at_cancel;
        assert!(eventually(|| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let now = calls.load(Ordering::SeqCst);
            std::mem::replace(&mut last, now) == now
        }));
        // A running chunk looks at the flag before every block of 2048
        // points (4096 coordinates in 2-D).
        assert!(last - at_cancel <= 2 * 2048, "{} after", last - at_cancel);
    });
}

#[test]
fn a_reversed_interval_flips_the_sign_and_zero_width_is_exact() {
    let forward = Integral::new(|x: f64| (-x * x).exp(), 0.0..2.0)
        .method(Method::VEGAS)
        .samples(1 << 16)
        .seed(5);
    let backward = Integral::new(|x: f64| (-x * x).exp(), 2.0..0.0)
        .method(Method::VEGAS)
        .samples(1 << 16)
        .seed(5);
    let (forward, backward) = pollster::block_on(async {
        (
            forward.run_inline().await.unwrap(),
            backward.run_inline().await.unwrap(),
        )
    });
    assert_eq!(backward.value, -forward.value);
    assert_eq!(backward.std_error, forward.std_error);
    let exact = 0.882_081_390_762_421_4; // √π/2 · erf(2)
    assert!((forward.value - exact).abs() < 5.0 * forward.std_error);

    let empty = Integral::new(|x: f64| x, 1.0..1.0).method(Method::VEGAS);
    let empty = pollster::block_on(empty.run_inline()).unwrap();
    assert_eq!(
        (empty.value, empty.samples, empty.stop),
        (0.0, 0, Stop::Exact)
    );
}

#[test]
fn non_finite_values_are_an_error_or_skipped() {
    let pole = |x: &[f64]| if x[0] < 0.01 { f64::INFINITY } else { x[1] };
    let integral = Integral::over(pole, [0.0..1.0, 0.0..1.0])
        .method(Method::VEGAS)
        .samples(1 << 16);
    let err = pollster::block_on(integral.run_inline()).unwrap_err();
    assert!(
        matches!(&err, Error::NonFiniteValue { point, .. } if point[0] < 0.01),
        "{err}"
    );
    let skipped =
        pollster::block_on(integral.non_finite(quadpipe::NonFinite::Skip).run_inline()).unwrap();
    assert!(skipped.skipped > 0 && skipped.value.is_finite());
}

/// A time limit ends the run inside an iteration or between two, and the
/// estimate is still an honest one: in warm-up, that iteration's own.
#[test]
fn a_time_limit_ends_the_run_with_an_estimate() {
    watchdog(|| {
        let exact = 0.25;
        for (iterations, warmup) in [(4, 1), (1 << 20, 1)] {
            let integral = Integral::over(|x: &[f64]| x[0] * x[1], [0.0..1.0, 0.0..1.0])
                .method(vegas(iterations, warmup))
                .samples(1 << 40)
                .time_limit(std::time::Duration::from_millis(300));
            let estimate = pollster::block_on(integral.run()).unwrap();
            assert_eq!(estimate.stop, Stop::TimeLimit);
            assert!(estimate.samples > 0);
            let distance = (estimate.value - exact).abs() / estimate.std_error;
            assert!(distance < 5.0, "{iterations} iterations: {estimate}");
        }
    });
}

/// A constant offset leaves VEGAS's error bar to the sampling: it was set
/// by a floor of √(10 ε) of the value (vegas's), 2.4e-2 for `1e6 + x`
/// whose actual error is about 1e-9, and 2.4e4 with χ²/dof 1e-12 for
/// `1e12 + x`. Now the bar is within a factor of a few of the error bar
/// without the offset, and the iterations agree as honest bars do.
#[test]
fn a_large_offset_does_not_inflate_the_error_bar() {
    watchdog(|| {
        let run = |offset: f64| {
            let integral = Integral::new(move |x| offset + x, 0.0..1.0)
                .samples(1 << 20)
                .method(Method::VEGAS)
                .seed(5);
            pollster::block_on(integral.run_inline()).unwrap()
        };
        let plain = run(0.0);
        for offset in [1e6, 1e12] {
            let estimate = run(offset);
            let error = (estimate.value - (offset + 0.5)).abs();
            // The sampling error without the offset, plus the rounding of
            // a value this large (8 ε per iteration, four of them).
            let bound = plain.std_error + 8.0 * f64::EPSILON * offset;
            assert!(estimate.std_error < 10.0 * bound, "{offset:e}: {estimate}");
            assert!(
                error < 5.0 * estimate.std_error,
                "{offset:e}: {estimate}, error {error:e}"
            );
            assert!(!estimate.iterations_disagree(), "{offset:e}: {estimate}");
        }
    });
}

/// How often `Method::VEGAS`'s 95% interval holds the exact value over
/// seeds `1..=seeds` at `samples` points, and the largest `|error| / σ`.
fn vegas_coverage(family: Family, d: usize, samples: u64, seeds: u64) -> (f64, f64) {
    let genz = Arc::new(Genz::new(family, d));
    let exact = genz.exact();
    let (mut covered, mut worst) = (0, 0.0f64);
    for seed in 1..=seeds {
        let integral = over_cube(&genz)
            .samples(samples)
            .method(Method::VEGAS)
            .seed(seed);
        let estimate = pollster::block_on(integral.run_inline()).unwrap();
        let z = (estimate.value - exact).abs() / estimate.std_error;
        covered += u64::from(z <= 1.96);
        worst = worst.max(z);
    }
    (covered as f64 / seeds as f64, worst)
}

/// VEGAS's error bars are honest on every Genz family, the discontinuous
/// one included (whose 95% intervals covered 38.5% of seeds in d = 2
/// before VEGAS+'s graded grid): 100 fixed seeds at 2^12 points in d = 2
/// and 5, each family and dimension covered 87–98% when this was written.
/// The bound, 85%, is 4.5 binomial standard deviations (2.2% at 100
/// seeds) below 95%: honest intervals never miss it, and a bias or an
/// error bar too small by a third does.
///
/// `QUADPIPE_VEGAS_COVERAGE=long` runs the measurement of issue 13 instead
/// (200 seeds at 2^14 and 2^18 points, d = 2, 5 and 8; minutes in
/// release) and prints the table; `bench/README.md` has the figures.
/// `QUADPIPE_VEGAS_COVERAGE_SEEDS=1000` sets its seed count: at 200 seeds
/// one binomial standard deviation is 1.5%, so a cell of honest intervals
/// falls outside 93–97% about one time in seven; at 1000 seeds (0.7%),
/// one time in 300.
#[test]
fn intervals_cover_on_every_genz_family() {
    let long = std::env::var("QUADPIPE_VEGAS_COVERAGE").is_ok_and(|v| v == "long");
    let (sizes, dims, seeds): (&[u64], &[usize], u64) = if long {
        let seeds = std::env::var("QUADPIPE_VEGAS_COVERAGE_SEEDS").map_or(200, |v| {
            v.parse().expect("QUADPIPE_VEGAS_COVERAGE_SEEDS is a count")
        });
        (&[1 << 14, 1 << 18], &[2, 5, 8], seeds)
    } else {
        (&[1 << 12], &[2, 5], 100)
    };
    let limit = std::time::Duration::from_secs(if long { 3600 } else { 120 });
    common::watchdog_for(limit, move || {
        for &samples in sizes {
            for family in Family::ALL {
                for &d in dims {
                    let (covered, worst) = vegas_coverage(family, d, samples, seeds);
                    let what = format!("{} d={d} n={samples}", family.name());
                    println!(
                        "{what}: {:.1}% covered, largest z {worst:.2}",
                        100.0 * covered
                    );
                    assert!(covered >= 0.85, "{what}: {:.1}% covered", 100.0 * covered);
                }
            }
        }
    });
}
