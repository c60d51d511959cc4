//! The soak test: thousands of integrations at once, from several threads
//! and two async hosts, with panicking integrands, cancels at random
//! moments, dropped handles, stalled progress consumers and an executor
//! dropped mid-run. Every task must end as it should, the unaffected ones
//! with the bits of a quiet run; nothing may hang or leak (integrands,
//! chunks, tasks, threads); memory must not grow from round to round.
//!
//! `QUADPIPE_SOAK=long cargo test --release --test soak -- --nocapture`
//! runs ten times as many integrations per round and prints the figures.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use common::{eventually, watchdog_for};
use futures::StreamExt;
use quadpipe::{Error, Executor, Integral, Status};

/// Heap bytes allocated and not yet freed, by anyone in this process.
static HEAP: AtomicI64 = AtomicI64::new(0);

/// The system allocator, counting live bytes: a leak shows as growth from
/// round to round, where VmRSS also moves with the allocator's arenas.
struct Counting;

// SAFETY: every method forwards the caller's arguments unchanged to the
// system allocator, so the caller's obligations are passed on intact; the
// counting only reads `layout.size()`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above; `layout` is the caller's, non-zero-sized.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            HEAP.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        HEAP.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const ROUNDS: usize = 10;
const SAMPLES: u64 = 1 << 12;
const CHUNK: u64 = 1 << 10;
const THREADS: usize = 2;
const NAME: &str = "soak";

fn long() -> bool {
    std::env::var("QUADPIPE_SOAK").is_ok_and(|v| v == "long")
}

/// Integrations per round, over all submitters.
fn per_round() -> u64 {
    if long() { 10_000 } else { 1_000 }
}

/// What happens to a job, drawn from its id.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fate {
    Quiet,
    /// The integrand panics at its n-th call.
    Panics(u64),
    /// Cancelled after this many microseconds.
    Cancelled(u64),
    /// The handle is dropped at once.
    Dropped,
    /// A progress stream is taken and never read until the task ends.
    StalledStream,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fate(job: u64) -> Fate {
    let r = mix(job);
    match r % 100 {
        0..10 => Fate::Panics(1 + (r >> 8) % SAMPLES),
        10..20 => Fate::Cancelled((r >> 8) % 2000),
        20..30 => Fate::Dropped,
        30..35 => Fate::StalledStream,
        _ => Fate::Quiet,
    }
}

/// Live copies of every integrand, counted by a guard each holds: zero at
/// the end means no chunk, job or task kept one.
static LIVE: AtomicUsize = AtomicUsize::new(0);

struct Guard;

impl Guard {
    fn new() -> Guard {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Guard
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

fn integral(job: u64) -> Integral<impl quadpipe::Integrand> {
    let guard = Guard::new();
    let calls = AtomicU64::new(0);
    let fate = fate(job);
    Integral::new(
        move |x: f64| {
            let _holds = &guard;
            if let Fate::Panics(at) = fate {
                if calls.fetch_add(1, Ordering::Relaxed) + 1 == at {
                    panic!("soak panic in job {job}");
                }
            }
            x * x + 1.0
        },
        0.0..1.0,
    )
    .samples(SAMPLES)
    .chunk_size(CHUNK)
    .seed(job)
}

/// The bits of a quiet, inline run of `job`.
fn quiet_bits(job: u64) -> (u64, u64) {
    let estimate = pollster::block_on(
        Integral::new(|x: f64| x * x + 1.0, 0.0..1.0)
            .samples(SAMPLES)
            .chunk_size(CHUNK)
            .seed(job)
            .run_inline(),
    )
    .unwrap();
    (estimate.value.to_bits(), estimate.std_error.to_bits())
}

/// What the tasks did, over the whole test.
#[derive(Debug, Default)]
struct Tally {
    quiet: u64,
    panicked: u64,
    cancelled: u64,
    finished_before_cancel: u64,
    dropped: u64,
    stalled_streams: u64,
    cut_by_executor_drop: u64,
}

fn totals() -> &'static Mutex<Tally> {
    static TALLY: OnceLock<Mutex<Tally>> = OnceLock::new();
    TALLY.get_or_init(Mutex::default)
}

/// Runs one job to its end and checks the outcome against its fate.
async fn run_job(executor: &Executor, job: u64) {
    let fate = fate(job);
    let mut task = integral(job).spawn_on(executor);
    match fate {
        Fate::Dropped => {
            drop(task);
            totals().lock().unwrap().dropped += 1;
        }
        Fate::Quiet | Fate::StalledStream => {
            let stream = (fate == Fate::StalledStream).then(|| task.progress_stream());
            let estimate = (&mut task).await.expect("a quiet job finishes");
            assert_eq!(
                (estimate.value.to_bits(), estimate.std_error.to_bits()),
                quiet_bits(job),
                "job {job}"
            );
            assert_eq!(task.status(), Status::Finished);
            let mut tally = totals().lock().unwrap();
            match stream {
                // The consumer never read: the stream holds only the latest
                // snapshot and its end, however much happened.
                Some(stream) => {
                    drop(tally);
                    let left: Vec<_> = stream.collect().await;
                    assert!(
                        left.len() <= 2 && left.last().unwrap().done == SAMPLES,
                        "{left:?}"
                    );
                    totals().lock().unwrap().stalled_streams += 1;
                }
                None => tally.quiet += 1,
            }
        }
        Fate::Panics(_) => {
            match (&mut task).await {
                Err(Error::Panicked(message)) => {
                    assert_eq!(message, format!("soak panic in job {job}"))
                }
                other => panic!("job {job} should have panicked: {other:?}"),
            }
            assert_eq!(task.status(), Status::Failed);
            totals().lock().unwrap().panicked += 1;
        }
        Fate::Cancelled(micros) => {
            smol::Timer::after(Duration::from_micros(micros)).await;
            task.cancel();
            let status = task.status();
            match (&mut task).await {
                Err(Error::Cancelled) => {
                    assert_eq!(status, Status::Cancelled);
                    totals().lock().unwrap().cancelled += 1;
                }
                Ok(estimate) => {
                    // It finished before the cancel landed: it must still be right.
                    assert_eq!(status, Status::Finished);
                    assert_eq!(
                        (estimate.value.to_bits(), estimate.std_error.to_bits()),
                        quiet_bits(job)
                    );
                    totals().lock().unwrap().finished_before_cancel += 1;
                }
                Err(other) => panic!("job {job}: {other}"),
            }
        }
    }
}

/// One round: `per_round()` jobs from two OS threads, a smol host and an
/// async-std host, all at once, on `executor`.
fn round(executor: &Arc<Executor>, first_job: u64) {
    let quarter = per_round() / 4;
    let jobs = |k: u64| (first_job + k * quarter)..(first_job + (k + 1) * quarter);
    thread::scope(|scope| {
        for k in 0..2 {
            let executor = executor.clone();
            scope.spawn(move || {
                for job in jobs(k) {
                    pollster::block_on(run_job(&executor, job));
                }
            });
        }
        let smol_executor = executor.clone();
        scope.spawn(move || {
            smol::block_on(async {
                let runs: Vec<_> = jobs(2).map(|job| run_job(&smol_executor, job)).collect();
                futures::future::join_all(runs).await;
            })
        });
        let async_std_executor = executor.clone();
        scope.spawn(move || {
            async_std::task::block_on(async {
                let runs: Vec<_> = jobs(3)
                    .map(|job| run_job(&async_std_executor, job))
                    .collect();
                futures::future::join_all(runs).await;
            })
        });
    });
}

/// An executor dropped while its tasks run: each ends cancelled, or
/// finished with the right bits if it beat the drop.
fn drop_an_executor_mid_run(first_job: u64) {
    let executor = Executor::builder()
        .threads(THREADS)
        .name("soakdrop")
        .build()
        .unwrap();
    let tasks: Vec<_> = (first_job..first_job + 100)
        .map(|job| {
            (
                job,
                Integral::new(|x: f64| x * x + 1.0, 0.0..1.0)
                    .samples(SAMPLES << 6)
                    .chunk_size(CHUNK)
                    .seed(job)
                    .spawn_on(&executor),
            )
        })
        .collect();
    thread::sleep(Duration::from_millis(5));
    drop(executor);
    for (_, task) in tasks {
        match pollster::block_on(task) {
            Err(Error::Cancelled) => totals().lock().unwrap().cut_by_executor_drop += 1,
            Ok(estimate) => assert_eq!(estimate.samples, SAMPLES << 6),
            Err(other) => panic!("{other}"),
        }
    }
}

#[cfg(target_os = "linux")]
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Keeps the thousand expected panics of the integrands off stderr (and
/// spares symbolising a backtrace for each); any other panic still prints.
fn silence_expected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload().downcast_ref::<String>();
        if !message.is_some_and(|m| m.starts_with("soak panic in job")) {
            default(info);
        }
    }));
}

#[test]
fn soak() {
    silence_expected_panics();
    let limit = if long() {
        Duration::from_secs(1800)
    } else {
        Duration::from_secs(120)
    };
    watchdog_for(limit, || {
        let executor = Arc::new(
            Executor::builder()
                .threads(THREADS)
                .name(NAME)
                .build()
                .unwrap(),
        );
        let (mut rss, mut heap) = (Vec::new(), Vec::new());
        for r in 0..ROUNDS as u64 {
            round(&executor, r * per_round());
            if r == ROUNDS as u64 / 2 {
                drop_an_executor_mid_run(1 << 40);
            }
            // Every task of the round has ended and let go of its integrand.
            assert!(eventually(|| LIVE.load(Ordering::SeqCst) == 0));
            heap.push(HEAP.load(Ordering::SeqCst));
            #[cfg(target_os = "linux")]
            rss.push(rss_kib());
        }

        // No integrand is held by anything: no chunk, job or task leaked.
        assert!(
            eventually(|| LIVE.load(Ordering::SeqCst) == 0),
            "{} integrands still live",
            LIVE.load(Ordering::SeqCst)
        );
        #[cfg(target_os = "linux")]
        {
            let workers = || {
                (0..THREADS)
                    .map(|i| common::threads_named(&format!("{NAME}-{i}")))
                    .sum::<usize>()
            };
            assert_eq!(workers(), THREADS);
            assert_eq!(
                common::threads_named("soakdrop-"),
                0,
                "the dropped executor's workers are gone"
            );
            let executor = Arc::into_inner(executor).expect("the last handle");
            let report = executor.shutdown(Duration::from_secs(1));
            assert_eq!(report.cancelled, 0);
            assert_eq!(workers(), 0, "shut down and joined");
        }

        let tally = totals().lock().unwrap();
        let total = tally.quiet
            + tally.panicked
            + tally.cancelled
            + tally.finished_before_cancel
            + tally.dropped
            + tally.stalled_streams;
        println!("soak: {total} integrations in {ROUNDS} rounds; {tally:?}");
        assert_eq!(total, ROUNDS as u64 * per_round());
        assert!(
            tally.panicked > 0
                && tally.cancelled > 0
                && tally.dropped > 0
                && tally.stalled_streams > 0
        );
        // Round 2 has warmed every pool and cache; from there on the heap
        // must stay flat. 1 MiB over 8 rounds is 13 bytes an integration in
        // long mode, 130 in short: no leak of a task, chunk or stream fits.
        let (second, last) = (heap[1], heap[ROUNDS - 1]);
        println!("soak: live heap after round 2 {second} bytes, after round {ROUNDS} {last} bytes");
        assert!(
            last - second <= 1 << 20,
            "the heap grew from {second} to {last} bytes"
        );
        #[cfg(target_os = "linux")]
        {
            // VmRSS also moves with the allocator's arenas, in steps of a few
            // MiB when a thread first allocates heavily (seen here: flat,
            // then +7 MiB at one round of thirty, +5 MiB at another), so its
            // slack is wider; the heap count above is the tight check.
            let (second, last) = (rss[1], rss[ROUNDS - 1]);
            println!("soak: VmRSS after round 2 {second} KiB, after round {ROUNDS} {last} KiB");
            assert!(
                last <= second + 16 * 1024,
                "VmRSS grew from {second} KiB to {last} KiB"
            );
        }
    });
}
