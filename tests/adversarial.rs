//! Hostile and careless use, through the public API only (issue 12): no
//! abort, no panic, no hang, no silent wrong number. Grouped by class:
//!
//! - A: settings that used to abort or panic the process;
//! - B: silent wrong numbers;
//! - C: reproducibility (concurrent checkpoint writers);
//! - D: hangs and deadlocks;
//! - E: starvation of progress hooks;
//! - F: errors that hid their cause.

mod common;

use std::env;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{CHILD, FailsAfter, eventually, in_child, watchdog};
use futures::io::{BufReader, Cursor};
use quadpipe::{
    Accumulator, Checkpoint, Error, Estimate, Executor, Integral, Method, Source, Status, Stop,
    TailCheck,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------------------
// A. Settings that aborted or panicked the process
// ---------------------------------------------------------------------------

#[test]
fn absurd_thread_counts_are_an_error_not_an_abort() {
    // Before: `usize::MAX` panicked with "capacity overflow" and `1 << 40`
    // aborted allocating 26 TB.
    for threads in [usize::MAX, 1 << 40, 100_000, Executor::MAX_THREADS + 1] {
        match Executor::builder().threads(threads).build() {
            Err(Error::TooManyThreads {
                threads: asked,
                max,
            }) => {
                assert_eq!(asked, threads as u64);
                assert_eq!(max, Executor::MAX_THREADS);
            }
            other => panic!("{threads} threads: expected TooManyThreads, got {other:?}"),
        }
    }
}

#[test]
fn a_nul_in_the_thread_name_is_an_error_not_a_panic() {
    // Before: std's thread builder panicked inside `build`.
    let err = Executor::builder()
        .threads(1)
        .name("bad\0name")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidThreadName { ref name } if name == "bad\0name"));
    assert_eq!(
        err.to_string(),
        "thread name contains a NUL byte: \"bad\\0name\""
    );
}

#[test]
fn absurd_threads_var_is_an_error_at_first_use() {
    if env::var_os(CHILD).is_none() {
        // Before: u64::MAX panicked with "capacity overflow", 100000
        // aborted after ~16k threads.
        for value in ["18446744073709551615", "100000", "4097"] {
            in_child("absurd_threads_var_is_an_error_at_first_use", value);
        }
        return;
    }
    watchdog(|| {
        let expected: u64 = env::var("QUADPIPE_THREADS").unwrap().parse().unwrap();
        let err = pollster::block_on(Integral::new(|x| x, 0.0..1.0).run()).unwrap_err();
        assert!(
            matches!(err, Error::TooManyThreads { threads, max: 4096 } if threads == expected),
            "{err:?}"
        );
        let spawned = pollster::block_on(quadpipe::spawn(async { 1 })).unwrap_err();
        assert!(matches!(spawned, Error::TooManyThreads { .. }));
    });
}

#[test]
fn a_threads_var_beyond_u64_is_unreadable() {
    if env::var_os(CHILD).is_none() {
        return in_child(
            "a_threads_var_beyond_u64_is_unreadable",
            "18446744073709551616",
        );
    }
    watchdog(|| {
        let err = pollster::block_on(quadpipe::spawn(async { 1 })).unwrap_err();
        assert!(matches!(err, Error::InvalidThreadsVar { .. }), "{err:?}");
    });
}

#[test]
fn sobol_error_messages_do_not_overflow_or_suggest_zero() {
    // Before: `next_power_of_two` overflowed, panicking in debug builds and
    // suggesting "(try 0)" in release ones.
    let chunk = Error::SobolChunkSize {
        chunk_size: u64::MAX,
    };
    assert!(chunk.to_string().ends_with("(try 9223372036854775808)"));
    let samples = Error::SobolSamples {
        samples: u64::MAX,
        replicas: 1,
    };
    assert!(samples.to_string().ends_with("(try 4294967296)"));
    let many = Error::SobolSamples {
        samples: u64::MAX,
        replicas: u32::MAX,
    };
    assert!(!many.to_string().is_empty());
}

// ---------------------------------------------------------------------------
// B. Silent wrong numbers
// ---------------------------------------------------------------------------

#[test]
fn an_accumulator_gives_the_mean_of_values_that_span_all_of_f64() {
    // Before: NaN, from Welford's `x − mean` overflowing.
    let mut alternating = Accumulator::new();
    [1e308, -1e308, 1e308, -1e308]
        .iter()
        .for_each(|&x| alternating.push(x));
    assert_eq!(alternating.mean(), 0.0);
    assert_eq!(alternating.std_error(), f64::INFINITY);
    assert!(!alternating.is_finite());

    let mut skewed = Accumulator::new();
    [1e308, 1e308, 1e308, -1e308]
        .iter()
        .for_each(|&x| skewed.push(x));
    assert_eq!(skewed.mean(), 5e307);

    // Merging the extremes: the means fit, their difference does not.
    let (mut top, mut bottom) = (Accumulator::new(), Accumulator::new());
    [f64::MAX, f64::MAX].iter().for_each(|&x| top.push(x));
    [-f64::MAX, -f64::MAX].iter().for_each(|&x| bottom.push(x));
    top.merge(&bottom);
    assert_eq!(top.count(), 4);
    assert_eq!(top.mean(), 0.0);
    assert!(!top.variance().is_nan());
}

#[test]
fn ordinary_values_keep_their_bits() {
    // The halved path is only for overflow: these pins predate it.
    let mut acc = Accumulator::new();
    (1..=1000).for_each(|i| acc.push(1e9 + f64::from(i).sin()));
    let mut halves = (Accumulator::new(), Accumulator::new());
    (1..=500).for_each(|i| halves.0.push(1e9 + f64::from(i).sin()));
    (501..=1000).for_each(|i| halves.1.push(1e9 + f64::from(i).sin()));
    halves.0.merge(&halves.1);
    assert!(acc.is_finite() && halves.0.is_finite());
    assert!((acc.mean() - halves.0.mean()).abs() < 1e-6);
    assert_eq!(acc.count(), halves.0.count());
}

/// A value from the corners of f64: the extremes, subnormals, zeros, and
/// random magnitudes from 1e-300 to 1e308, either sign.
fn extreme(rng: &mut Xoshiro256PlusPlus) -> f64 {
    const CORNERS: [f64; 10] = [
        f64::MAX,
        1e308,
        1e300,
        1e154,
        1.0,
        f64::MIN_POSITIVE,
        5e-324,
        0.0,
        -0.0,
        f64::EPSILON,
    ];
    let sign = if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
    let pick = rng.next_u64() % 14;
    sign * match pick {
        0..10 => CORNERS[pick as usize],
        _ => 10f64.powf(unit(rng) * 608.0 - 300.0).min(f64::MAX),
    }
}

#[test]
fn accumulators_of_extreme_values_sweep() {
    // 20,000 seeded cases (QUADPIPE_SWEEP=long: 2,000,000): sequences of up
    // to 40 values from the corners of f64, pushed whole and pushed in two
    // parts that are then merged. The mean must be finite, within the
    // values' range, and the two ways must agree to a few ulps of the
    // largest magnitude (both compute the same mean, rounded differently),
    // or a few subnormal steps (5e-324 each) among the tiniest values; the
    // variance may be +inf, never NaN.
    let cases = if env::var("QUADPIPE_SWEEP").as_deref() == Ok("long") {
        2_000_000
    } else {
        20_000
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
    for case in 0..cases {
        let len = 1 + (rng.next_u64() % 40) as usize;
        let values: Vec<f64> = (0..len).map(|_| extreme(&mut rng)).collect();
        let split = (rng.next_u64() % (len as u64 + 1)) as usize;
        let mut whole = Accumulator::new();
        values.iter().for_each(|&x| whole.push(x));
        let (mut left, mut right) = (Accumulator::new(), Accumulator::new());
        values[..split].iter().for_each(|&x| left.push(x));
        values[split..].iter().for_each(|&x| right.push(x));
        left.merge(&right);
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let scale = lo.abs().max(hi.abs());
        for (way, acc) in [("pushed", whole), ("merged", left)] {
            let mean = acc.mean();
            assert!(
                mean.is_finite()
                    && mean >= lo - scale * 1e-15 - 1e-322
                    && mean <= hi + scale * 1e-15 + 1e-322,
                "case {case}, {way}: mean {mean} of {values:?}"
            );
            assert!(!acc.variance().is_nan(), "case {case}, {way}: {values:?}");
            assert_eq!(acc.count(), len as u64);
        }
        let gap = (whole.mean() - left.mean()).abs();
        assert!(
            gap <= scale * 1e-13 + 1e-322,
            "case {case}: {} vs {} for {values:?}",
            whole.mean(),
            left.mean()
        );
    }
}

#[test]
fn a_source_of_huge_numbers_gives_their_mean() {
    // Before: mean −inf and standard error NaN.
    let text = Cursor::new("1e308 1e308 1e308 -1e308");
    let numbers = pollster::block_on(Source::from_reader(text).reduce()).unwrap();
    assert_eq!(numbers.mean(), 5e307);
    assert!(!numbers.std_error().is_nan());
}

#[test]
fn a_source_rounds_underflow_to_zero_and_refuses_overflow() {
    // The documented rule: f64's own rounding below, an error above.
    let tiny =
        pollster::block_on(Source::from_reader(Cursor::new("1e-400 5e-324")).reduce()).unwrap();
    assert_eq!(tiny.count(), 2);
    assert_eq!(tiny.mean(), 5e-324 / 2.0);
    let huge = Cursor::new("1\n2\n1e400\n");
    let err = pollster::block_on(Source::from_reader(huge).reduce()).unwrap_err();
    assert!(matches!(err, Error::Parse { line: 3, .. }), "{err:?}");
}

#[test]
fn an_interval_wider_than_f64_is_refused() {
    // Before: Ok(inf ± NaN), and `|x| x` named the point x = inf. (Every
    // sampling method; Gauss–Kronrod takes any bounds, infinite too, and
    // maps them itself.)
    for method in [Method::MONTE_CARLO, Method::SOBOL, Method::VEGAS] {
        let integral = Integral::new(|_| 1.0, -1e308..1e308).method(method);
        let err = pollster::block_on(integral.run_inline()).unwrap_err();
        assert!(
            matches!(err, Error::VolumeOutOfRange { volume } if volume == f64::INFINITY),
            "{err:?}"
        );
    }
    // A wide but finite interval is not refused for its width. (Beyond
    // about 1e154 the kernel's squared values, scaled by the width,
    // overflow: `Error::Overflow`, an error too, not a wrong number.)
    let wide = Integral::new(|_| 1.0, -1e150..1e150).samples(1 << 10);
    assert_eq!(pollster::block_on(wide.run_inline()).unwrap().value, 2e150);
}

#[test]
fn gauss_kronrod_flags_a_zero_it_saw_only_at_its_nodes() {
    // Before: `exp(-x²)` over ±1e300 (or ±1e10) was `Ok(0 ± 0)` with a
    // reliable-looking error: every node missed the peak at 0. It still
    // cannot see the peak, but says so.
    let gk = |f: fn(f64) -> f64, a: f64, b: f64| {
        let integral = Integral::new(f, a..b).method(Method::GAUSS_KRONROD);
        pollster::block_on(integral.run_inline()).unwrap()
    };
    let bell = |x: f64| (-x * x).exp();
    for (a, b) in [
        (-1e300, 1e300),
        (-1e10, 1e10),
        (0.0, 1e300),
        (-1e308, f64::INFINITY),
    ] {
        let blind = gk(bell, a, b);
        assert_eq!((blind.value, blind.std_error), (0.0, 0.0), "{a}..{b}");
        assert!(!blind.std_error_is_reliable(), "{a}..{b}");
        assert!(
            blind
                .to_string()
                .ends_with("(standard error unreliable: the integrand was 0 at every node)"),
            "{blind}"
        );
    }
    // Over the whole line it finds √π, and trusts it.
    let line = gk(bell, f64::NEG_INFINITY, f64::INFINITY);
    assert!((line.value - std::f64::consts::PI.sqrt()).abs() < 1e-12);
    assert!(line.std_error_is_reliable());
    // An odd integrand's exact 0 is not in doubt: it was not 0 at the nodes.
    let odd = gk(|x| x, -1.0, 1.0);
    assert_eq!(odd.value, 0.0);
    assert!(odd.std_error_is_reliable(), "{odd}");
}

#[test]
fn a_zero_width_domain_is_zero_for_every_method_even_cut_short() {
    // Found by tests/sweep_inputs.rs: randomised QMC over 0..0 stopped by
    // a time limit after one replica's chunk gave a standard error of
    // 0 · ∞ = NaN.
    for method in [Method::MONTE_CARLO, Method::SOBOL, Method::VEGAS] {
        for limit in [Duration::from_nanos(1), Duration::from_secs(60)] {
            let integral = Integral::new(|x| x, 0.0..0.0)
                .samples(8192)
                .method(method.clone())
                .time_limit(limit);
            let estimate = pollster::block_on(integral.run_inline()).unwrap();
            assert_eq!(
                (estimate.value, estimate.std_error),
                (0.0, 0.0),
                "{method:?}"
            );
        }
    }
}

#[test]
fn intervals_at_extreme_levels_are_not_nan() {
    // Before: 0.9999999999999999 gave NaN..NaN (0.5 + level/2 rounded to 1).
    let estimate =
        pollster::block_on(Integral::new(|x| x, 0.0..1.0).samples(1 << 12).run_inline()).unwrap();
    let mut last_width = 0.0;
    for level in [
        f64::MIN_POSITIVE,
        1e-300,
        1e-10,
        0.5,
        0.95,
        1.0 - 1e-10,
        0.9999999999999999,
        1.0 - f64::EPSILON / 2.0,
    ] {
        let interval = estimate.interval(level);
        let width = interval.end() - interval.start();
        assert!(width.is_finite(), "level {level}: {interval:?}");
        assert!(width >= last_width, "level {level}: narrower than before");
        assert!(interval.contains(&estimate.value));
        last_width = width;
    }
    // ±8.3 standard errors at 1 − 2^-53.
    let extreme = estimate.interval(0.9999999999999999);
    let sigmas = (extreme.end() - estimate.value) / estimate.std_error;
    assert!((8.0..8.5).contains(&sigmas), "{sigmas}");
    for outside in [0.0, 1.0, -0.5, 2.0, f64::NAN] {
        assert!(estimate.interval(outside).start().is_nan());
    }
    // Student's t (randomised QMC, 7 degrees of freedom) as well.
    let qmc = pollster::block_on(
        Integral::new(|x| x, 0.0..1.0)
            .method(Method::SOBOL)
            .samples(1 << 16)
            .run_inline(),
    )
    .unwrap();
    for level in [1e-300, 0.5, 0.9999999999999999] {
        let interval = qmc.interval(level);
        assert!((interval.end() - interval.start()).is_finite(), "{level}");
    }
}

/// A point in (0, 1) from 53 random bits, never 0: `x^-0.75` must stay
/// finite.
fn unit(rng: &mut Xoshiro256PlusPlus) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// How many of `runs` seeded runs of `f` over [0, 1], in 32 chunks of 4096
/// samples each, the tail check flags.
fn flagged_runs(f: impl Fn(f64) -> f64, runs: u64) -> u64 {
    (0..runs)
        .filter(|&seed| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut check = TailCheck::new();
            for _ in 0..32 {
                let mut chunk = Accumulator::new();
                (0..4096).for_each(|_| chunk.push(f(unit(&mut rng))));
                check.push(&chunk);
            }
            check.is_heavy_tailed()
        })
        .count() as u64
}

/// The check runs on every plain Monte Carlo run: an integrand of
/// infinite variance is flagged in its estimate and its `Display`, a
/// smooth one is not. 20 seeds each, 32 chunks of 2^15; the tail check's
/// own test puts the rates at over 99% and under 1%, so 18 of 20 and 0 of
/// 20 leave room for chance.
#[test]
fn a_run_of_an_integrand_with_infinite_variance_says_its_error_is_unreliable() {
    watchdog(|| {
        fn flagged(integral: Integral<impl quadpipe::Integrand>) -> usize {
            (0..20)
                .filter(|&seed| {
                    let estimate = pollster::block_on(integral.clone().seed(seed).run()).unwrap();
                    let unreliable = !estimate.std_error_is_reliable();
                    assert_eq!(
                        unreliable,
                        estimate.to_string().contains("unreliable"),
                        "{estimate}"
                    );
                    unreliable
                })
                .count()
        }
        let heavy = Integral::new(|x: f64| x.powf(-0.75), 0.0..1.0)
            .samples(1 << 20)
            .chunk_size(1 << 15);
        assert!(flagged(heavy) >= 18);
        let smooth = Integral::new(|x: f64| x * x, 0.0..1.0)
            .samples(1 << 20)
            .chunk_size(1 << 15);
        assert_eq!(flagged(smooth), 0);
    });
}

#[test]
fn the_tail_check_flags_infinite_variance_and_passes_smooth_integrands() {
    // x^-0.75 on [0, 1]: integral 4, infinite variance; the issue saw its
    // 95% intervals cover the truth in 135 of 200 seeds. Its chunk
    // variances have a power-law tail of index 2/3, so the largest of 32
    // stands far above the typical one: 5% of runs have a ratio below 8.8,
    // and 199 of these 200 exceed 5. At least 90% is asked, leaving room
    // for other seeds and chunkings. Smooth integrands have chunk variances
    // within a few percent of each other (ratios below 1.1), so fewer than
    // 5% is asked and none expected.
    let runs = 200;
    let heavy = flagged_runs(|x| x.powf(-0.75), runs);
    assert!(
        heavy * 10 >= runs * 9,
        "flagged {heavy} of {runs} heavy-tailed runs"
    );
    for (name, f) in [
        ("x²", (|x: f64| x * x) as fn(f64) -> f64),
        ("exp", f64::exp),
        ("sin πx", |x: f64| (std::f64::consts::PI * x).sin()),
        ("sqrt", f64::sqrt),
        ("1e6 + x", |x: f64| 1e6 + x),
    ] {
        let ordinary = flagged_runs(f, runs);
        assert!(
            ordinary * 20 < runs,
            "flagged {ordinary} of {runs} runs of {name}"
        );
    }
}

// ---------------------------------------------------------------------------
// C. Reproducibility: checkpoint files
// ---------------------------------------------------------------------------

#[test]
fn a_checkpoint_of_another_integrand_is_refused() {
    // Before: a checkpoint of `|x| x` resumed `|x| 100x²` with the same
    // spec and returned a mix of both (8.71). The checkpoint keeps both
    // integrands' values at two fixed points of the domain.
    watchdog(|| {
        fn spec<I: quadpipe::Integrand>(integral: Integral<I>) -> Integral<I> {
            integral.samples(1 << 16).chunk_size(1 << 12).seed(5)
        }
        let executor = Executor::builder().threads(1).build().unwrap();
        let mut task = spec(Integral::new(|x| x, 0.0..1.0)).spawn_on(&executor);
        executor.block_on(&mut task).unwrap();
        let checkpoint = task.checkpoint().unwrap();
        let other = spec(Integral::new(|x| 100.0 * x * x, 0.0..1.0)).resume(&checkpoint);
        let err = pollster::block_on(other.run_inline()).unwrap_err();
        let Error::CheckpointIntegrand {
            ref point,
            saved,
            found,
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!((saved, found), (point[0], 100.0 * point[0] * point[0]));
        assert!(
            err.to_string()
                .starts_with("checkpoint is from another integrand: it gave 0.618"),
            "{err}"
        );
        // The same integrand, and one that differs only away from the
        // probes, resume (what is not caught, as the README says).
        let same = spec(Integral::new(|x| x, 0.0..1.0)).resume(&checkpoint);
        assert!(pollster::block_on(same.run_inline()).is_ok());
        let sneaky = |x: f64| if (0.1..0.2).contains(&x) { 0.0 } else { x };
        let sneaky = spec(Integral::new(sneaky, 0.0..1.0)).resume(&checkpoint);
        assert!(pollster::block_on(sneaky.run_inline()).is_ok());
        // In several dimensions, and on a Gauss–Kronrod interval with an
        // infinite end.
        let plane = |scale: f64| {
            spec(Integral::over(
                move |x: &[f64]| scale * (x[0] + x[1]),
                [0.0..1.0, -2.0..2.0],
            ))
        };
        let mut task = plane(1.0).spawn_on(&executor);
        executor.block_on(&mut task).unwrap();
        let err = pollster::block_on(plane(2.0).resume(&task.checkpoint().unwrap()).run_inline())
            .unwrap_err();
        assert!(matches!(err, Error::CheckpointIntegrand { ref point, .. } if point.len() == 2));
        let tail = |scale: f64| {
            Integral::new(move |x: f64| scale * (-x).exp(), 0.0..f64::INFINITY)
                .method(Method::GAUSS_KRONROD)
        };
        let mut task = tail(1.0).spawn_on(&executor);
        executor.block_on(&mut task).unwrap();
        let err = pollster::block_on(tail(3.0).resume(&task.checkpoint().unwrap()).run_inline())
            .unwrap_err();
        assert!(matches!(err, Error::CheckpointIntegrand { .. }), "{err}");
    });
}

#[test]
fn concurrent_checkpoint_writers_to_one_path_both_succeed() {
    // Before: both wrote "<path>.tmp"; the second rename failed NotFound.
    watchdog(|| {
        let directory =
            env::temp_dir().join(format!("quadpipe-adversarial-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("shared.qpck");
        let executor = Executor::builder().threads(2).build().unwrap();
        let checkpoints: Vec<Checkpoint> = [1, 2]
            .iter()
            .map(|&seed| {
                let integral = Integral::new(f64::sin, 0.0..1.0)
                    .samples(1 << 16)
                    .chunk_size(1 << 14)
                    .seed(seed);
                let mut task = integral.spawn_on(&executor);
                executor.block_on(&mut task).unwrap();
                task.checkpoint().unwrap()
            })
            .collect();
        for _ in 0..50 {
            let barrier = Arc::new(Barrier::new(2));
            let writers: Vec<_> = checkpoints
                .iter()
                .map(|checkpoint| {
                    let (checkpoint, path, barrier) =
                        (checkpoint.clone(), path.clone(), barrier.clone());
                    thread::spawn(move || {
                        barrier.wait();
                        checkpoint.write(&path)
                    })
                })
                .collect();
            for writer in writers {
                writer.join().unwrap().unwrap();
            }
            let read = Checkpoint::read(&path).unwrap();
            assert!(checkpoints.contains(&read));
        }
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(&directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(left, ["shared.qpck"]);
        std::fs::remove_dir_all(&directory).unwrap();
    });
}

// ---------------------------------------------------------------------------
// D. Hangs and deadlocks
// ---------------------------------------------------------------------------

/// Holds integrand calls until it opens: calls that "never return" for
/// as long as the test wants.
#[derive(Default)]
struct Gate {
    open: AtomicBool,
    entered: AtomicUsize,
    /// Calls let through before the gate holds one: a spawned task's two
    /// checkpoint probes come first, before any chunk.
    free: usize,
}

/// An integrand whose every call waits at `gate`.
fn blocked_at(gate: &Arc<Gate>) -> impl Fn(f64) -> f64 + Send + Sync + Clone + 'static {
    let gate = gate.clone();
    move |x| {
        if gate.entered.fetch_add(1, Ordering::AcqRel) < gate.free {
            return x;
        }
        while !gate.open.load(Ordering::Acquire) {
            thread::sleep(Duration::from_millis(1));
        }
        x
    }
}

#[test]
fn shutdown_returns_within_its_grace_when_a_call_never_returns() {
    // Before: shutdown(200 ms) hung for as long as the call did.
    watchdog(|| {
        let gate = Arc::new(Gate {
            free: 2,
            ..Gate::default()
        });
        let executor = Executor::builder().threads(2).build().unwrap();
        let task = Integral::new(blocked_at(&gate), 0.0..1.0)
            .samples(1 << 20)
            .spawn_on(&executor);
        // Wait until a worker is inside the call.
        assert!(eventually(|| gate.entered.load(Ordering::Acquire) > 2));
        let started = Instant::now();
        let report = executor.shutdown(Duration::from_millis(200));
        // A generous bound for "did not hang": grace + 0.5 s to join.
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(report.cancelled, 1);
        assert!(report.abandoned >= 1, "{report:?}");
        assert_eq!(task.status(), Status::Cancelled);
        // The abandoned workers exit once their call returns.
        gate.open.store(true, Ordering::Release);
        assert!(matches!(pollster::block_on(task), Err(Error::Cancelled)));
    });
}

#[test]
fn shutdown_with_an_endless_grace_waits_instead_of_panicking() {
    // Before: `Instant::now() + Duration::MAX` panicked with an overflow.
    watchdog(|| {
        let gate = Arc::new(Gate {
            free: 2,
            ..Gate::default()
        });
        let executor = Executor::builder().threads(1).build().unwrap();
        let task = Integral::new(blocked_at(&gate), 0.0..1.0)
            .samples(1 << 12)
            .spawn_on(&executor);
        // Still in flight when the shutdown starts; done soon after.
        let opener = gate.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            opener.open.store(true, Ordering::Release);
        });
        let report = executor.shutdown(Duration::MAX);
        assert_eq!((report.finished, report.cancelled), (1, 0));
        assert!(pollster::block_on(task).is_ok());
    });
}

#[test]
fn dropping_an_executor_under_a_foreign_driver_is_prompt() {
    // Before: the drop waited for the driver's chunks, 1 to 6.6 s of them.
    watchdog(|| {
        let gate = Arc::new(Gate::default());
        let executor = Executor::builder().threads(1).build().unwrap();
        let integral = Integral::new(blocked_at(&gate), 0.0..1.0)
            .samples(1 << 24)
            .chunk_size(1 << 12);
        let run = integral.run_on(&executor);
        let driver = thread::spawn(move || pollster::block_on(run));
        assert!(eventually(|| gate.entered.load(Ordering::Acquire) > 0));
        let started = Instant::now();
        drop(executor);
        assert!(started.elapsed() < Duration::from_secs(5));
        gate.open.store(true, Ordering::Release);
        // Queued chunks were dropped: the foreign driver sees a cancel.
        assert!(matches!(driver.join().unwrap(), Err(Error::Cancelled)));
    });
}

#[test]
fn on_done_inside_on_done_of_a_finished_task_does_not_deadlock() {
    // Before: the callback ran with the outcome's lock held.
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let task = Arc::new(executor.spawn(async { 7 }));
        assert!(eventually(|| task.is_finished()));
        let (sender, received) = mpsc::channel();
        let inner = task.clone();
        task.on_done(move |outer| {
            inner.on_done(move |nested| sender.send((outer, nested)).unwrap());
        });
        let (outer, nested) = received.recv().unwrap();
        assert_eq!((outer.unwrap(), nested.unwrap()), (7, 7));
    });
}

#[test]
fn blocking_on_an_integral_inside_a_task_of_its_own_pool_does_not_hang() {
    // `pollster::block_on(integral.run_on(&executor))` on the only worker:
    // the chunks wait for that worker, so the blocked driver runs them
    // itself (it once hung here).
    watchdog(|| {
        let executor = Arc::new(Executor::builder().threads(1).build().unwrap());
        let pool = executor.clone();
        let task = executor.spawn(async move {
            let integral = Integral::new(|x| x * x, 0.0..1.0).samples(1 << 16);
            pollster::block_on(integral.run_on(&*pool)).map(|estimate| estimate.value)
        });
        let value = pollster::block_on(task).unwrap().unwrap();
        assert!((value - 1.0 / 3.0).abs() < 0.01);
    });
}

/// An integrand of `per_call` a call, counting its calls.
fn slow(
    per_call: Duration,
    calls: &Arc<AtomicUsize>,
) -> impl Fn(f64) -> f64 + Send + Sync + Clone + 'static {
    let calls = calls.clone();
    move |x| {
        calls.fetch_add(1, Ordering::Relaxed);
        thread::sleep(per_call);
        x
    }
}

/// A run stopped by its time limit: an estimate of what it did.
fn ended_by_the_limit(result: Result<Estimate, Error>) -> Estimate {
    let estimate = result.unwrap();
    assert_eq!(estimate.stop, Stop::TimeLimit, "{estimate}");
    assert!(estimate.samples > 0, "{estimate}");
    assert!(estimate.value.is_finite() && !estimate.std_error.is_nan());
    estimate
}

#[test]
fn a_time_limit_ends_one_endless_chunk_of_every_method() {
    // Before: the time limit was looked at between chunks only, so a run
    // of one chunk of u64::MAX samples ran on for ever. Each run here
    // would take hours; each ends, under the watchdog, at its limit.
    watchdog(|| {
        let limit = Duration::from_millis(100);
        let scalar = Integral::new(f64::sin, 0.0..1.0)
            .samples(u64::MAX)
            .chunk_size(u64::MAX)
            .time_limit(limit);
        ended_by_the_limit(pollster::block_on(scalar.run()));
        ended_by_the_limit(pollster::block_on(scalar.run_inline()));
        let pointwise = Integral::over(|x: &[f64]| x[0] * x[1], [0.0..1.0, 0.0..1.0])
            .samples(u64::MAX)
            .chunk_size(u64::MAX)
            .time_limit(limit);
        ended_by_the_limit(pollster::block_on(pointwise.run()));
        ended_by_the_limit(pollster::block_on(pointwise.run_inline()));
        // 2^33 calls of 1 ms in two chunks, one a replica: 100 days.
        let calls = Arc::new(AtomicUsize::new(0));
        let sobol = Integral::new(slow(Duration::from_millis(1), &calls), 0.0..1.0)
            .samples(1 << 33)
            .chunk_size(1 << 32)
            .method(Method::sobol().replicas(2))
            .time_limit(limit);
        ended_by_the_limit(pollster::block_on(sobol.run()));
        let vegas = Integral::new(slow(Duration::from_millis(1), &calls), 0.0..1.0)
            .samples(1 << 40)
            .method(Method::VEGAS)
            .time_limit(limit);
        ended_by_the_limit(pollster::block_on(vegas.run()));
    });
}

#[test]
fn a_cut_chunk_is_never_checkpointed() {
    // A time limit that cuts the first chunk leaves no checkpoint behind:
    // one would claim the whole chunk was done.
    watchdog(|| {
        let directory = std::env::temp_dir().join(format!("quadpipe-cut-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("cut.qpck");
        let integral = Integral::new(f64::sin, 0.0..1.0)
            .samples(u64::MAX)
            .chunk_size(1 << 40)
            .time_limit(Duration::from_millis(50))
            .checkpoint_every(1, &path);
        let estimate = ended_by_the_limit(pollster::block_on(integral.run_inline()));
        assert!(estimate.samples < 1 << 40);
        assert!(!path.exists());
        std::fs::remove_dir_all(&directory).unwrap();
    });
}

#[test]
fn a_cancel_reaches_a_chunk_of_slow_calls_within_one_step() {
    // Before: a chunk looked at its cancel flag every 16 Ki samples, 33 s
    // of 2 ms calls, so a shutdown abandoned the worker (and the issue saw
    // a 100 µs integrand hold a shutdown for 4.7 s). Now the chunk looks
    // after each step of 16 calls once calls are slow.
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let executor = Executor::builder().threads(1).build().unwrap();
        let task = Integral::new(slow(Duration::from_millis(2), &calls), 0.0..1.0)
            .samples(1 << 20)
            .chunk_size(1 << 20)
            .spawn_on(&executor);
        assert!(eventually(|| calls.load(Ordering::Relaxed) > 40));
        task.cancel();
        let at_cancel = calls.load(Ordering::Relaxed);
        let report = executor.shutdown(Duration::ZERO);
        assert_eq!(report.abandoned, 0, "{report:?}");
        // The step running at the cancel, and the call in flight.
        let after = calls.load(Ordering::Relaxed) - at_cancel;
        assert!(after <= 17, "{after} calls after the cancel");
        assert!(matches!(pollster::block_on(task), Err(Error::Cancelled)));
    });
}

#[test]
fn a_time_limit_reaches_a_chunk_of_slow_calls() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let integral = Integral::new(slow(Duration::from_millis(2), &calls), 0.0..1.0)
            .samples(1 << 20)
            .chunk_size(1 << 20)
            .time_limit(Duration::from_millis(100));
        let estimate = ended_by_the_limit(pollster::block_on(integral.run()));
        // Whole steps of 16 samples, and a standard error from them.
        assert_eq!(estimate.samples % 16, 0);
        assert!(estimate.std_error > 0.0 && estimate.std_error.is_finite());
    });
}

// ---------------------------------------------------------------------------
// E. Starvation of progress hooks
// ---------------------------------------------------------------------------

#[test]
fn hooks_beyond_512_live_tasks_and_512_blocked_hooks_are_called() {
    // Before: a hook held one of 512 threads for its task's whole life, so
    // with 600 live tasks hooks #512+ were never called, and 512 blocked
    // hooks starved every later one in the process.
    watchdog(|| {
        const TASKS: usize = 600;
        const BLOCKED: usize = 520;
        let executor = Executor::builder().threads(2).build().unwrap();
        // Blocked hooks wait on this lock without spinning.
        let release = Arc::new(std::sync::RwLock::new(()));
        let held = release.write().unwrap();
        let (blocked, called) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut ends = Vec::new();
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                // Each task lives until its sender is dropped.
                let (end, ended) = futures::channel::oneshot::channel::<()>();
                ends.push(end);
                let task = executor.spawn(async move {
                    let _ = ended.await;
                });
                if i < BLOCKED {
                    let (release, blocked) = (release.clone(), blocked.clone());
                    task.on_progress(move |_| {
                        blocked.fetch_add(1, Ordering::Relaxed);
                        drop(release.read());
                    });
                } else {
                    let called = called.clone();
                    task.on_progress(move |_| {
                        called.fetch_add(1, Ordering::Relaxed);
                    });
                }
                task
            })
            .collect();
        // Every task is still running, 520 hooks are stuck in their call,
        // and the other 80 have still been called.
        let all_called = eventually(|| called.load(Ordering::Relaxed) == TASKS - BLOCKED);
        let all_blocked = eventually(|| blocked.load(Ordering::Relaxed) == BLOCKED);
        assert!(tasks.iter().all(|task| !task.is_finished()));
        drop(held);
        drop(ends);
        for task in tasks {
            pollster::block_on(task).unwrap();
        }
        assert!(
            all_called,
            "{} of {} hooks called",
            called.load(Ordering::Relaxed),
            TASKS - BLOCKED
        );
        assert!(
            all_blocked,
            "{} blocked hooks called",
            blocked.load(Ordering::Relaxed)
        );
    });
}

#[test]
fn six_hundred_hooks_all_see_the_end_even_beside_blocked_ones() {
    // Slow hooks delay only themselves: every other hook of 600 short
    // integrals sees its final snapshot while 40 hooks are stuck.
    watchdog(|| {
        const TASKS: usize = 600;
        const BLOCKED: usize = 40;
        let executor = Executor::builder().threads(2).build().unwrap();
        let release = Arc::new(AtomicBool::new(false));
        let blocked_calls = Arc::new(AtomicUsize::new(0));
        let finals = Arc::new(AtomicUsize::new(0));
        let samples = 1 << 12;
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let task = Integral::new(f64::sin, 0.0..1.0)
                    .samples(samples)
                    .chunk_size(1 << 10)
                    .spawn_on(&executor);
                if i < BLOCKED {
                    // These block in their first call until the test ends.
                    let (release, calls) = (release.clone(), blocked_calls.clone());
                    task.on_progress(move |_| {
                        calls.fetch_add(1, Ordering::Relaxed);
                        while !release.load(Ordering::Acquire) {
                            thread::sleep(Duration::from_millis(1));
                        }
                    });
                } else {
                    let finals = finals.clone();
                    task.on_progress(move |progress| {
                        if progress.done == samples {
                            finals.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
                task
            })
            .collect();
        for task in tasks {
            pollster::block_on(task).unwrap();
        }
        let every_final = eventually(|| finals.load(Ordering::Relaxed) == TASKS - BLOCKED);
        release.store(true, Ordering::Release);
        assert!(
            every_final,
            "{} final snapshots seen",
            finals.load(Ordering::Relaxed)
        );
        assert!(eventually(
            || blocked_calls.load(Ordering::Relaxed) >= BLOCKED
        ));
    });
}

#[test]
fn a_panicking_hook_is_not_called_again_and_the_task_finishes() {
    // README, rustdoc and behaviour agree: a hook watches the task, so its
    // panic ends the hook, not the task.
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let mut task = Integral::new(f64::cos, 0.0..1.0)
            .samples(1 << 16)
            .chunk_size(1 << 10)
            .spawn_on(&executor);
        let counted = calls.clone();
        task.on_progress(move |_| {
            counted.fetch_add(1, Ordering::Relaxed);
            panic!("hook failed");
        });
        task.on_done(|_| panic!("callback failed"));
        assert!(executor.block_on(&mut task).is_ok());
        assert_eq!(task.status(), Status::Finished);
        thread::sleep(Duration::from_millis(50));
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    });
}

// ---------------------------------------------------------------------------
// F. Errors that hid their cause
// ---------------------------------------------------------------------------

#[test]
fn an_io_error_shows_the_os_error() {
    let err = Checkpoint::read("/no/such/dir/checkpoint.qpck").unwrap_err();
    let os = io::Error::from(io::ErrorKind::NotFound).to_string();
    let text = err.to_string();
    assert!(text.starts_with("input or output failed: "), "{text}");
    assert!(
        text.contains("No such file") || text.contains(&os),
        "{text}"
    );
}

#[test]
fn a_reader_failing_mid_stream_names_the_line() {
    let reader = BufReader::new(FailsAfter::new(b"1\n2\n3\n4", "connection reset"));
    let err = pollster::block_on(Source::from_reader(reader).reduce()).unwrap_err();
    assert!(matches!(err, Error::Read { line: 4, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "reading the input failed on line 4: connection reset"
    );
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "connection reset");
}

#[test]
fn cr_only_line_endings_are_counted() {
    // Before: the error on line 4 was reported on line 1.
    for text in [
        "1\r2\r3\rfour\r",
        "1\r\n2\r\n3\r\nfour\r\n",
        "1\n2\n3\nfour\n",
    ] {
        let err = pollster::block_on(Source::from_reader(Cursor::new(text)).reduce()).unwrap_err();
        assert!(
            matches!(err, Error::Parse { line: 4, .. }),
            "{text:?}: {err}"
        );
    }
}

// ---------------------------------------------------------------------------
// Gauss–Kronrod: refusals that say what is wrong
// ---------------------------------------------------------------------------

/// It once ignored `NonFinite::Skip` without a word, gave "not both zero"
/// for a relative tolerance below its floor, printed 1e-300 with 300
/// digits, and returned `Ok(0 ± 0)` for `exp(-x²)` over `-1e308..1e308`,
/// whose width is beyond an f64.
#[test]
fn gauss_kronrod_refuses_what_it_cannot_do_and_says_why() {
    watchdog(|| {
        fn gk(integral: Integral<impl quadpipe::Integrand>) -> Error {
            pollster::block_on(integral.method(Method::GAUSS_KRONROD).run_inline()).unwrap_err()
        }
        let skip = gk(Integral::new(f64::ln, -1.0..1.0).non_finite(quadpipe::NonFinite::Skip));
        assert!(matches!(skip, Error::QuadratureCannotSkip), "{skip}");
        let tight = gk(Integral::new(f64::exp, 0.0..1.0).tolerance(0.0, 1e-14));
        assert!(
            matches!(tight, Error::QuadratureTolerance { .. }),
            "{tight}"
        );
        assert!(tight.to_string().contains("1e-14"), "{tight}");
        let tiny = gk(Integral::new(f64::exp, 0.0..1.0).tolerance(-1e-300, 0.0));
        assert!(tiny.to_string().len() < 120, "{tiny}");
        let wide = gk(Integral::new(|x: f64| (-x * x).exp(), -1e308..1e308));
        assert!(matches!(wide, Error::VolumeOutOfRange { .. }), "{wide}");
    });
}
