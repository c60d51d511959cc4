//! Checkpoint and resume: the resumed run ends with the bits of a run that
//! was never stopped; a checkpoint from another spec, a truncated one or a
//! corrupted one is refused with a clear error; writes are atomic.

mod common;

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::{eventually, watchdog};
use quadpipe::{Checkpoint, Error, Estimate, Executor, Integral, Integrand, Method};

fn plain() -> Integral<impl Integrand> {
    Integral::new(|x: f64| x.sin() * x, 0.0..3.0)
        .samples(1 << 22)
        .chunk_size(1 << 15)
        .seed(31)
        .id("x sin x")
}

/// Long enough (tens of milliseconds) that `interrupted` cancels it
/// partway: at 2^20 points, once RQMC's points cost what MC's do, the
/// whole run could end between two of its looks at the progress.
fn sobol() -> Integral<impl Integrand> {
    Integral::over(|p: &[f64]| (p[0] * p[1]).exp(), [0.0..1.0, 0.0..2.0])
        .samples(8 << 20)
        .chunk_size(1 << 16)
        .method(Method::SOBOL)
        .seed(32)
        .id("exp xy")
}

/// Runs `integral` on a task, cancels it partway, and returns the
/// checkpoint the task kept.
fn interrupted<I: Integrand>(integral: &Integral<I>, executor: &Executor) -> Checkpoint {
    let task = integral.spawn_on(executor);
    let total = task.progress().total.unwrap();
    assert!(eventually(|| task.progress().done >= total / 4));
    task.cancel();
    let checkpoint = task.checkpoint().expect("a merged prefix");
    let done = checkpoint.samples_done();
    assert!(
        done > 0 && done < total,
        "interrupted partway, at {done} of {total}"
    );
    checkpoint
}

fn bits(estimate: &Estimate) -> (u64, u64, u64) {
    (
        estimate.value.to_bits(),
        estimate.std_error.to_bits(),
        estimate.samples,
    )
}

#[test]
fn a_resumed_run_ends_with_the_bits_of_an_uninterrupted_one() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        for (name, whole, checkpoint) in [
            (
                "MC",
                pollster::block_on(plain().run_inline()),
                interrupted(&plain(), &executor),
            ),
            (
                "RQMC",
                pollster::block_on(sobol().run_inline()),
                interrupted(&sobol(), &executor),
            ),
        ] {
            let whole = bits(&whole.unwrap());
            // Through bytes, as another process would see it.
            let checkpoint = Checkpoint::from_bytes(checkpoint.as_bytes().to_vec()).unwrap();
            let resumed_inline = match name {
                "MC" => pollster::block_on(plain().resume(&checkpoint).run_inline()),
                _ => pollster::block_on(sobol().resume(&checkpoint).run_inline()),
            };
            let resumed_pool = match name {
                "MC" => executor.block_on(plain().resume(&checkpoint).spawn_on(&executor)),
                _ => executor.block_on(sobol().resume(&checkpoint).spawn_on(&executor)),
            };
            assert_eq!(bits(&resumed_inline.unwrap()), whole, "{name}, inline");
            assert_eq!(bits(&resumed_pool.unwrap()), whole, "{name}, pool");
        }
    });
}

#[test]
fn a_run_resumes_from_its_periodic_checkpoint_file() {
    watchdog(|| {
        let directory = std::env::temp_dir().join(format!("quadpipe-ckpt-{}", std::process::id()));
        fs::create_dir_all(&directory).unwrap();
        let path = directory.join("run.qpck");
        let executor = Executor::builder().threads(2).build().unwrap();
        let integral = plain().checkpoint_every(8, &path);
        let whole = bits(&pollster::block_on(plain().run_inline()).unwrap());

        let task = integral.spawn_on(&executor);
        assert!(eventually(
            || Checkpoint::read(&path).is_ok_and(|c| c.samples_done() >= 1 << 20)
        ));
        task.cancel();
        let saved = Checkpoint::read(&path).unwrap();
        // Written every 8 chunks of 2^15 samples.
        assert_eq!(saved.samples_done() % (8 << 15), 0);
        let resumed = pollster::block_on(integral.resume(&saved).run_on(&executor)).unwrap();
        assert_eq!(bits(&resumed), whole);
        fs::remove_dir_all(&directory).unwrap();
    });
}

#[test]
fn a_failed_write_leaves_the_previous_checkpoint_whole() {
    watchdog(|| {
        let directory =
            std::env::temp_dir().join(format!("quadpipe-atomic-{}", std::process::id()));
        fs::create_dir_all(&directory).unwrap();
        // A name that fits the file system's limit of 255 bytes, but not
        // with a temporary file's suffix: every write fails before it could
        // touch the checkpoint, which is put there by hand.
        let path = directory.join("r".repeat(250));
        let executor = Executor::builder().threads(1).build().unwrap();
        let checkpoint = interrupted(&plain(), &executor);
        fs::write(&path, checkpoint.as_bytes()).unwrap();
        let later = interrupted(&plain().seed(99), &executor);
        assert!(matches!(later.write(&path), Err(Error::Io(_))));
        assert_eq!(Checkpoint::read(&path).unwrap(), checkpoint);
        // And a run that cannot save says so instead of going on unsaved.
        let unsaveable = plain().checkpoint_every(1, &path);
        assert!(matches!(
            pollster::block_on(unsaveable.run_inline()),
            Err(Error::Io(_))
        ));
        fs::remove_dir_all(&directory).unwrap();
    });
}

/// What a resume from `checkpoint` says differs.
fn refused<I: Integrand>(integral: Integral<I>, checkpoint: &Checkpoint) -> &'static str {
    match pollster::block_on(integral.resume(checkpoint).run_inline()) {
        Err(Error::CheckpointMismatch { field }) => field,
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn a_checkpoint_from_another_spec_is_refused_naming_what_differs() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let checkpoint = interrupted(&plain(), &executor);
        assert_eq!(refused(plain().seed(1), &checkpoint), "seed");
        assert_eq!(
            refused(plain().samples(1 << 21), &checkpoint),
            "sample budget"
        );
        assert_eq!(
            refused(plain().chunk_size(1 << 14), &checkpoint),
            "chunk size"
        );
        assert_eq!(
            refused(plain().id("another"), &checkpoint),
            "integrand id, components, domain, method, non-finite policy or stop rules"
        );
        assert_eq!(
            refused(plain().tolerance(0.0, 1e-3), &checkpoint),
            "integrand id, components, domain, method, non-finite policy or stop rules"
        );
        let other_domain = Integral::new(|x: f64| x.sin() * x, 0.0..2.0)
            .samples(1 << 22)
            .chunk_size(1 << 15)
            .seed(31)
            .id("x sin x");
        assert_eq!(
            refused(other_domain, &checkpoint),
            "integrand id, components, domain, method, non-finite policy or stop rules"
        );
        let other_method = plain().samples(1 << 22).method(Method::SOBOL);
        assert_eq!(refused(other_method, &checkpoint), "method");
        let err = pollster::block_on(plain().seed(1).resume(&checkpoint).run_inline()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "checkpoint is from another integral: its seed differs"
        );
    });
}

#[test]
fn truncated_and_corrupted_checkpoints_are_refused() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let checkpoint = interrupted(&sobol(), &executor);
        let bytes = checkpoint.as_bytes();
        let corrupt = |bytes: Vec<u8>| {
            matches!(
                Checkpoint::from_bytes(bytes),
                Err(Error::CheckpointCorrupt { .. })
            )
        };
        // Every truncation.
        for length in 0..bytes.len() {
            assert!(
                corrupt(bytes[..length].to_vec()),
                "truncated to {length} bytes"
            );
        }
        // Every single bit flipped, in every byte.
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.to_vec();
                flipped[at] ^= 1 << bit;
                assert!(corrupt(flipped), "bit {bit} of byte {at} flipped");
            }
        }
        // Random bursts of changed bytes, from a fixed seed.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as usize
        };
        for _ in 0..2000 {
            let mut changed = bytes.to_vec();
            for _ in 0..1 + next() % 8 {
                let at = next() % changed.len();
                changed[at] = changed[at].wrapping_add(1 + (next() % 255) as u8);
            }
            assert!(corrupt(changed));
        }
        // Extra bytes, and no bytes at all.
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(corrupt(longer));
        let err = Checkpoint::from_bytes(Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "checkpoint is corrupt: it is shorter than any checkpoint"
        );
    });
}

#[test]
fn a_zero_checkpoint_interval_is_an_error() {
    let integral = plain().checkpoint_every(0, std::env::temp_dir().join("never.qpck"));
    assert!(matches!(
        pollster::block_on(integral.run_inline()),
        Err(Error::ZeroCheckpointInterval)
    ));
}

/// A checkpoint taken where a tolerance stopped the run resumes to that
/// same stop: the resumed run applies the rules at its resume point before
/// it merges anything new (it once ran one more chunk: 8,224,768 samples
/// against 8,208,384, and other bits).
#[test]
fn a_checkpoint_at_a_tolerance_stop_resumes_to_the_same_stop() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        let path = std::env::temp_dir().join(format!(
            "quadpipe-tolerance-stop-{}.qpck",
            std::process::id()
        ));
        let integral = Integral::new(f64::exp, 0.0..1.0)
            .samples(1 << 26)
            .chunk_size(1 << 14)
            .tolerance(0.0, 1e-4)
            .seed(3);
        let mut task = integral
            .clone()
            .checkpoint_every(1, &path)
            .spawn_on(&executor);
        let whole = executor.block_on(&mut task).unwrap();
        assert_eq!(whole.stop, quadpipe::Stop::ToleranceMet);
        assert!(whole.samples < 1 << 26);

        // The file written at the last merge, and the task's own.
        let from_file = Checkpoint::read(&path).unwrap();
        let from_task = task.checkpoint().unwrap();
        fs::remove_file(&path).unwrap();
        for checkpoint in [from_file, from_task] {
            assert_eq!(checkpoint.samples_done(), whole.samples);
            let resumed = executor
                .block_on(integral.resume(&checkpoint).spawn_on(&executor))
                .unwrap();
            assert_eq!(resumed, whole);
        }
    });
}

/// A name, the integrand, the bounds and the settings.
type Quadrature = (&'static str, fn(f64) -> f64, f64, f64, Method);

/// Gauss–Kronrod problems that take many steps: an oscillation, QAGI on a
/// Gaussian over the whole line, a divergent integrand that ends on a
/// subinterval too small to bisect, and break points around two cusps.
/// Their steps are chunks of 21 evaluations (30 for QAGI on the whole
/// line).
fn quadratures() -> Vec<Quadrature> {
    let inf = f64::INFINITY;
    vec![
        (
            "cos 200x",
            |x| (200.0 * x).cos(),
            0.0,
            1.0,
            Method::GAUSS_KRONROD,
        ),
        (
            "e^-x^2",
            |x| (-x * x).exp(),
            -inf,
            inf,
            Method::GAUSS_KRONROD,
        ),
        (
            "1/|x - 1/3|",
            |x| 1.0 / (x - 1.0 / 3.0).abs(),
            0.0,
            1.0,
            Method::GAUSS_KRONROD,
        ),
        (
            "cusp at 1/3 and 0.7",
            |x| (x - 1.0 / 3.0).abs().sqrt() + (x - 0.7).abs().cbrt(),
            0.0,
            1.0,
            Method::gauss_kronrod().points(&[0.7, 1.0 / 3.0]).into(),
        ),
    ]
}

fn gk_integral(
    f: impl Fn(f64) -> f64 + Send + Sync + 'static,
    a: f64,
    b: f64,
    method: &Method,
) -> Integral<impl Integrand> {
    Integral::new(f, a..b)
        .method(method.clone())
        .tolerance(0.0, 1e-12)
        .id("quadrature")
}

fn all_bits(estimate: &Estimate) -> (u64, u64, u64, quadpipe::Stop) {
    (
        estimate.value.to_bits(),
        estimate.std_error.to_bits(),
        estimate.samples,
        estimate.stop,
    )
}

/// A run that saves every `k` chunks and fails at chunk `k + 1` leaves, in
/// its checkpoint file, the state after `k` chunks: mid-step or between
/// steps, whatever `k`. From
/// every one of them, the resumed run ends with the uninterrupted run's
/// bits, status and evaluations.
#[test]
fn gauss_kronrod_resumes_from_every_chunk_with_the_same_bits() {
    watchdog(|| {
        let directory = std::env::temp_dir().join(format!("quadpipe-gk-{}", std::process::id()));
        fs::create_dir_all(&directory).unwrap();
        let path = directory.join("run.qpck");
        for (name, f, a, b, method) in quadratures() {
            let whole = pollster::block_on(gk_integral(f, a, b, &method).run_inline()).unwrap();
            let per_chunk = if a.is_infinite() && b.is_infinite() {
                30
            } else {
                21
            };
            let chunks = whole.samples / per_chunk;
            assert!(chunks > 12, "{name}: {chunks} chunks");
            for k in 1..chunks {
                // Evaluates the checkpoint's two probes (taken before any
                // chunk) and the first `k` chunks, then fails.
                let calls = Arc::new(AtomicU64::new(0));
                let counter = calls.clone();
                let failing = move |x: f64| {
                    if counter.fetch_add(1, Ordering::Relaxed) < k * per_chunk + 2 {
                        f(x)
                    } else {
                        f64::NAN
                    }
                };
                let saving = gk_integral(failing, a, b, &method).checkpoint_every(k, &path);
                assert!(matches!(
                    pollster::block_on(saving.run_inline()),
                    Err(Error::NonFiniteValue { .. })
                ));
                let saved = Checkpoint::read(&path).unwrap();
                assert_eq!(saved.samples_done(), k * per_chunk, "{name}, {k}");
                let resumed = gk_integral(f, a, b, &method).resume(&saved);
                let resumed = pollster::block_on(resumed.run_inline()).unwrap();
                assert_eq!(
                    all_bits(&resumed),
                    all_bits(&whole),
                    "{name}, after {k} chunks"
                );
            }
        }
        fs::remove_dir_all(&directory).unwrap();
    });
}

/// A run cancelled while its integrand is held mid-run keeps a checkpoint
/// a task can hand out; resumed on a pool or inline, it ends with the
/// bits of the run that was never stopped.
#[test]
fn a_cancelled_gauss_kronrod_task_resumes_to_the_same_bits() {
    watchdog(|| {
        let executor = Executor::builder().threads(2).build().unwrap();
        for (name, f, a, b, method) in quadratures() {
            let whole = pollster::block_on(gk_integral(f, a, b, &method).run_inline()).unwrap();
            // Every evaluation past half the run's waits for the gate.
            let half = whole.samples / 2;
            let (calls, open) = (
                Arc::new(AtomicU64::new(0)),
                Arc::new(AtomicBool::new(false)),
            );
            let (counter, gate) = (calls.clone(), open.clone());
            let held = move |x: f64| {
                if counter.fetch_add(1, Ordering::SeqCst) >= half {
                    while !gate.load(Ordering::SeqCst) {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                }
                f(x)
            };
            let task = gk_integral(held, a, b, &method).spawn_on(&executor);
            assert!(eventually(|| calls.load(Ordering::SeqCst) > half));
            assert!(eventually(|| task.checkpoint().is_some()));
            task.cancel();
            open.store(true, Ordering::SeqCst);
            let checkpoint = task.checkpoint().unwrap();
            assert!(matches!(executor.block_on(task), Err(Error::Cancelled)));
            assert!(checkpoint.samples_done() > 0 && checkpoint.samples_done() <= half);
            let checkpoint = Checkpoint::from_bytes(checkpoint.as_bytes().to_vec()).unwrap();
            let inline = gk_integral(f, a, b, &method).resume(&checkpoint);
            let pool = gk_integral(f, a, b, &method).resume(&checkpoint);
            let inline = pollster::block_on(inline.run_inline()).unwrap();
            let pool = executor.block_on(pool.spawn_on(&executor)).unwrap();
            assert_eq!(all_bits(&inline), all_bits(&whole), "{name}, inline");
            assert_eq!(all_bits(&pool), all_bits(&whole), "{name}, pool");
        }
    });
}

/// A Gauss–Kronrod checkpoint is refused by a run with other break
/// points, or none.
#[test]
fn a_gauss_kronrod_checkpoint_needs_the_same_settings() {
    watchdog(|| {
        let directory =
            std::env::temp_dir().join(format!("quadpipe-gk-other-{}", std::process::id()));
        fs::create_dir_all(&directory).unwrap();
        let path = directory.join("run.qpck");
        let f = |x: f64| (200.0 * x).cos();
        let method = Method::gauss_kronrod().points(&[0.5]).into();
        let saving = gk_integral(f, 0.0, 1.0, &method).checkpoint_every(3, &path);
        pollster::block_on(saving.run_inline()).unwrap();
        let saved = Checkpoint::read(&path).unwrap();
        let settings = "integrand id, components, domain, method, non-finite policy or stop rules";
        let other = Method::gauss_kronrod().points(&[0.25]).into();
        assert_eq!(refused(gk_integral(f, 0.0, 1.0, &other), &saved), settings);
        let none = Method::GAUSS_KRONROD;
        assert_eq!(refused(gk_integral(f, 0.0, 1.0, &none), &saved), settings);
        fs::remove_dir_all(&directory).unwrap();
    });
}
