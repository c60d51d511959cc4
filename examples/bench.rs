//! How fast quadpipe integrates, against loops written by hand, rayon, and
//! a bare async executor: ns per sample, scaling, the latency of a tiny job,
//! how promptly a cancel stops the work, and whether memory stays flat.
//!
//! ```text
//! cargo run --release --example bench              # full: 2^28 samples, 7 rounds
//! cargo run --release --example bench -- --quick   # 2^25 samples, 3 rounds, < 30 s on 2 cores
//! ```
//!
//! Every case integrates f(x) = x over [0, pi] (exact: pi²/2) with the same
//! sample count N, except the `sin` pair (N/8 samples of `f64::sin`) and
//! the tiny jobs (1000 samples each):
//!
//! - `hand_smallrng_1t`: one `SmallRng` (xoshiro256++) in a plain loop;
//! - `hand_lanes_all`, `hand_sin_all`: 16 xoshiro256++ streams stepped as
//!   whole arrays, keeping the sums of f and f² as the library must for its
//!   standard error, dispatched at run time with `multiversion`, on one OS
//!   thread per core: the speed the library's kernel should come close to;
//! - `rayon_smallrng_all`: the `SmallRng` loop on rayon, one generator per
//!   chunk;
//! - `quadpipe_1t`, `quadpipe_all`, `quadpipe_sin_all`: `Integral::run_on`
//!   an `Executor` of one thread or of one per core; `quadpipe_inline`:
//!   `run_inline`;
//! - `tiny_job_quadpipe`, `tiny_job_bare`: 1000-sample integrals one after
//!   another, through quadpipe or as plain tasks of an `async_executor`;
//! - `{mc,rqmc,vegas}_{16,20}_{1,2}t`: 2^16 or 2^20 evaluations of a 5-D
//!   Genz gaussian on executors of 1 and 2 threads (the `efficiency` lines),
//!   and `rayon_{16,20}_{1,2}t` the same plain Monte Carlo runs on rayon
//!   pools, chunked as quadpipe chunks them (the `efficiency/rayon` lines,
//!   which have no target: what a work-stealing pool reaches on the
//!   machine);
//! - `vector16_1t`, `scalar1_1t`: plain Monte Carlo on one thread of a 5-D
//!   integrand whose 16 components share an `exp`/`sin` factor
//!   (`examples/shared/components.rs`), and of its first component alone
//!   through `Integral::over`: their ratio is the `vector16/scalar1` line.
//!
//! The timed cases run interleaved, one after the other in rounds after an
//! untimed warm-up round, so a machine that speeds up or slows down mid-run
//! moves all of them alike; each reports its median over the rounds. Every
//! result is checked to lie within 5 standard errors of the exact value,
//! which also keeps the compiler from optimising the work away. Other
//! processes busy on the machine skew everything, so the table ends with a
//! warning when they took more than 5% of the CPU time during the rounds.
//!
//! The human table goes to stderr. Stdout gets one JSON object per line:
//!
//! - `{"case": "...", "ns_per_sample": ..., "threads": ...}` for each timed
//!   case; the tiny jobs add `"ns_per_job"`, and their `ns_per_sample` is
//!   that divided by the job's 1000 samples;
//! - `{"ratio": "<a>/<b>", "value": ...}`, the ratio of two cases' medians;
//! - `{"case": "cancel_latency", "chunks_after_cancel": ...}`;
//! - `{"ratio": "lone_beside_sweep/lone_alone", "value": ...}`: fairness,
//!   the time of a lone integral spawned beside a running 10,000-child
//!   `TaskGroup` sweep over its time alone, medians over the rounds;
//! - `{"case": "peak_rss", ...}` with the peak RSS in KiB of a run of N and
//!   of 100·N samples, each in a child process (Linux only).
//!
//! Targets, printed with pass or fail:
//!
//! | what | target |
//! | --- | --- |
//! | `rayon_smallrng_all/quadpipe_all` | ≥ 3.0 |
//! | `quadpipe_all/hand_lanes_all` | ≤ 1.3 |
//! | `quadpipe_1t/quadpipe_all` | ≥ 1.9 |
//! | `quadpipe_sin_all/hand_sin_all` | ≤ 1.05 |
//! | `tiny_job_quadpipe/tiny_job_bare` | ≤ 1.2 |
//! | `efficiency/{mc,rqmc,vegas}/{16,20}`: 1-thread time / 2-thread time / 2, 5-D Genz gaussian, 2^16 and 2^20 evaluations | ≥ 0.9 |
//! | `vegas_cost/mc_cost`: VEGAS's time per evaluation over MC's, one thread, 2^20 | ≤ 2 |
//! | integrand calls after `cancel()` returned | ≤ 2 chunks |
//! | `lone_beside_sweep/lone_alone` | ≤ threads + 2 |
//! | peak RSS of 100·N samples minus that of N | ≤ 1 MiB |
//!
//! Results differ between AVX-512 and AVX2 machines, so the table names the
//! best instruction set this CPU has.
//!
//! The bench measures peak memory by running itself again, as
//! `bench --peak-rss-child <samples>`, which prints the child's VmHWM in KiB.

#[path = "shared/components.rs"]
mod components;

use std::env;
use std::f64::consts::PI;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use multiversion::multiversion;
use quadpipe::{Estimate, Executor, Integral, Method, TaskGroup};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// One seed for every case: the bench compares speed, not luck.
const SEED: u64 = 42;

/// Samples per chunk of the hand-written and rayon cases: a few
/// milliseconds of work, so splitting costs nothing and both cores stay busy.
/// quadpipe runs with its own default chunk size, as a user would.
const CHUNK: u64 = 1 << 20;

/// Samples in one tiny job: small enough that the job's overhead, not its
/// arithmetic, is what is measured.
const TINY_SAMPLES: u64 = 1000;

/// Chunk size of the endless integral that `cancel_latency` cancels.
const CANCEL_CHUNK: u64 = 1 << 16;

/// Children of the sweep that a lone integral runs beside.
const SWEEP_CHILDREN: u64 = 10_000;

/// Samples per child of that sweep, and of the lone integral: the lone one
/// is about ten milliseconds of work, well within the sweep's run.
const SWEEP_SAMPLES: u64 = 1 << 16;
const LONE_SAMPLES: u64 = 1 << 25;

/// Fairness rounds per timed round of the other cases: a round takes tens
/// of milliseconds, whose timings scatter more than the long cases'.
const FAIRNESS_ROUNDS_PER_ROUND: usize = 5;

/// Lanes of the hand-written multi-stream loop: the library's count, so the
/// two do the same work per step.
const LANES: usize = 16;

/// Steps per block when the lanes run in two groups of eight (see
/// `lane_sums`): one group runs a block, then the other, as a kernel that
/// looks at a cancel flag between blocks would. 256 steps make the switch
/// (reloading eight lanes' state and sums) cost nothing.
const BLOCK_STEPS: u64 = 256;

/// The exponent bits of 1.0: OR-ed onto 52 random mantissa bits, they give a
/// double uniform in [1, 2).
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;

/// SplitMix64's increment (Steele, Lea and Flood, OOPSLA 2014).
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => run_bench(Config::full()),
        ["--quick"] => run_bench(Config::quick()),
        ["--peak-rss-child", samples] => match samples.parse() {
            Ok(samples) => peak_rss_child(samples),
            Err(_) => usage(),
        },
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: bench [--quick]");
    ExitCode::from(2)
}

/// How much work each case does.
struct Config {
    name: &'static str,
    /// Samples per timing of the cheap cases (N).
    samples: u64,
    /// Samples per timing of the `sin` cases: `sin` costs about 14 ns, so
    /// an eighth as many keep their timings near those of the cheap cases.
    sin_samples: u64,
    /// Tiny jobs per timing, each awaited before the next.
    tiny_jobs: u64,
    /// Timed rounds; each case's median is over these.
    rounds: usize,
}

impl Config {
    fn full() -> Config {
        Config {
            name: "full",
            samples: 1 << 28,
            sin_samples: 1 << 25,
            tiny_jobs: 2000,
            rounds: 7,
        }
    }

    fn quick() -> Config {
        Config {
            name: "quick",
            samples: 1 << 25,
            sin_samples: 1 << 22,
            tiny_jobs: 1000,
            rounds: 3,
        }
    }
}

fn run_bench(config: Config) -> ExitCode {
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    eprintln!(
        "quadpipe bench ({}): N = 2^{} samples (sin: 2^{}), {} rounds, {threads} threads, best ISA: {}",
        config.name,
        config.samples.ilog2(),
        config.sin_samples.ilog2(),
        config.rounds,
        best_isa(),
    );
    let before = CpuTicks::now();
    let (cases, cancel) = measure(&config, threads);
    let fairness = fairness(FAIRNESS_ROUNDS_PER_ROUND * config.rounds, threads);
    let elsewhere = before.and_then(|before| Some(CpuTicks::now()?.share_elsewhere(&before)));

    let mut targets = report_cases(&cases);
    targets.push(report_cancel(&cancel));
    targets.push(report_fairness(&fairness, threads));
    if cfg!(target_os = "linux") {
        targets.push(report_peak_rss(config.samples));
    } else {
        eprintln!("peak_rss: skipped, VmHWM needs Linux's /proc");
    }
    report_targets(&targets, elsewhere);
    // Missed targets are findings, not errors: the bench itself succeeded.
    ExitCode::SUCCESS
}

/// Times every case in rounds, then measures cancel latency `rounds` times.
fn measure(config: &Config, threads: usize) -> (Vec<Measured>, Vec<f64>) {
    // Executors start once, outside every timing.
    let one = Executor::builder()
        .threads(1)
        .build()
        .expect("1-thread executor");
    let all = Executor::builder()
        .threads(threads)
        .build()
        .expect("executor");
    let pair = Executor::builder()
        .threads(2)
        .build()
        .expect("2-thread executor");
    let bare = BarePool::new(2);
    let rayon_pools = [1, 2].map(|threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("rayon pool")
    });

    let n = config.samples;
    let sin_n = config.sin_samples;
    let jobs = config.tiny_jobs;
    let vector_n = config.sin_samples / 8;
    let mut cases = vec![
        Case::new("hand_smallrng_1t", 1, n, || hand_smallrng(n)),
        Case::new("hand_lanes_all", threads, n, || {
            hand_lanes("hand_lanes_all", &|x| x, EXACT_X, n)
        }),
        Case::new("rayon_smallrng_all", threads, n, || rayon_smallrng(n)),
        Case::new("quadpipe_1t", 1, n, || {
            quadpipe_on("quadpipe_1t", &one, |x| x, EXACT_X, n)
        }),
        Case::new("quadpipe_all", threads, n, || {
            quadpipe_on("quadpipe_all", &all, |x| x, EXACT_X, n)
        }),
        Case::new("quadpipe_inline", 1, n, || quadpipe_inline(n)),
        Case::new("quadpipe_sin_all", threads, sin_n, || {
            quadpipe_on("quadpipe_sin_all", &all, f64::sin, EXACT_SIN, sin_n)
        }),
        Case::new("hand_sin_all", threads, sin_n, || {
            hand_lanes("hand_sin_all", &f64::sin, EXACT_SIN, sin_n)
        }),
        Case::new("tiny_job_quadpipe", 2, jobs, || {
            tiny_jobs_quadpipe(&pair, jobs)
        }),
        Case::new("tiny_job_bare", 2, jobs, || tiny_jobs_bare(&bare, jobs)),
        Case::new("vector16_1t", 1, vector_n, || {
            components_run("vector16_1t", &one, Some(16), vector_n)
        }),
        Case::new("scalar1_1t", 1, vector_n, || {
            components_run("scalar1_1t", &one, None, vector_n)
        }),
    ];
    // Each method at 2^16 and 2^20 evaluations on 1 and 2 threads, repeated
    // to 2^22 evaluations a round so that the small runs time above noise.
    for (method, name) in [
        (Method::MONTE_CARLO, "mc"),
        (Method::SOBOL, "rqmc"),
        (Method::VEGAS, "vegas"),
    ] {
        for log in [16, 20] {
            for (executor, threads) in [(&one, 1), (&pair, 2)] {
                let case: &'static str = format!("{name}_{log}_{threads}t").leak();
                let method = method.clone();
                let reps = (1u64 << 22) >> log;
                cases.push(Case::new(case, threads, reps << log, move || {
                    genz_runs(case, executor, &method, 1 << log, reps)
                }));
            }
        }
    }
    // The same runs on rayon pools of one and two threads, chunked as
    // quadpipe chunks them: what a work-stealing pool reaches here.
    for log in [16, 20] {
        for (pool, threads) in rayon_pools.iter().zip([1, 2]) {
            let case: &'static str = format!("rayon_{log}_{threads}t").leak();
            let reps = (1u64 << 22) >> log;
            cases.push(Case::new(case, threads, reps << log, move || {
                rayon_genz_runs(case, pool, 1 << log, reps)
            }));
        }
    }
    run_rounds(&mut cases, config.rounds);
    let measured = cases.iter().map(Case::measured).collect();

    let cancel = (0..config.rounds).map(|_| cancel_latency(&all)).collect();
    (measured, cancel)
}

/// The best vector instruction set this CPU has, and whether the bench's
/// AVX-512 version runs on it.
///
/// multiversion 0.9 compiles an `avx512*` target with the whole Ice Lake
/// set (VBMI2, BITALG, IFMA, VNNI, GFNI, VAES, ...) unless built with
/// `--cfg multiversion_allow_slow_avx512`, so a CPU with AVX-512F but not
/// all of that (Skylake-X, Cascade Lake) runs the AVX2 version.
fn best_isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        let ice_lake_set = is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512cd")
            && is_x86_feature_detected!("avx512vbmi")
            && is_x86_feature_detected!("avx512vbmi2")
            && is_x86_feature_detected!("avx512bitalg")
            && is_x86_feature_detected!("avx512ifma")
            && is_x86_feature_detected!("avx512vnni")
            && is_x86_feature_detected!("avx512vpopcntdq")
            && is_x86_feature_detected!("gfni")
            && is_x86_feature_detected!("vaes")
            && is_x86_feature_detected!("vpclmulqdq");
        if ice_lake_set {
            return "AVX-512 (the AVX-512 version runs)";
        }
        if is_x86_feature_detected!("avx512f") {
            return "AVX-512F, but not multiversion's full AVX-512 set (the AVX2 version runs)";
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return "AVX2+FMA, no AVX-512";
        }
        if is_x86_feature_detected!("sse4.1") {
            return "SSE4.1, no AVX2";
        }
        "x86_64 baseline (SSE2)"
    }
    #[cfg(not(target_arch = "x86_64"))]
    "not x86_64: no runtime dispatch"
}

// ---------------------------------------------------------------------------
// The harness: cases timed in interleaved rounds, medians.

/// A timed case: `run` does `units` samples (or jobs) of work, checks the
/// result and returns the elapsed time.
struct Case<'a> {
    name: &'static str,
    threads: usize,
    units: u64,
    run: Box<dyn FnMut() -> Duration + 'a>,
    /// Nanoseconds per unit, one per round.
    ns: Vec<f64>,
}

impl<'a> Case<'a> {
    fn new(
        name: &'static str,
        threads: usize,
        units: u64,
        run: impl FnMut() -> Duration + 'a,
    ) -> Case<'a> {
        Case {
            name,
            threads,
            units,
            run: Box::new(run),
            ns: Vec::new(),
        }
    }

    fn measured(&self) -> Measured {
        let fastest = self.ns.iter().copied().fold(f64::INFINITY, f64::min);
        let slowest = self.ns.iter().copied().fold(0.0, f64::max);
        Measured {
            name: self.name,
            threads: self.threads,
            ns: median(&self.ns),
            spread: (fastest, slowest),
        }
    }
}

/// A case's result.
struct Measured {
    name: &'static str,
    threads: usize,
    /// Median nanoseconds per unit: per sample, or per job for tiny jobs.
    ns: f64,
    /// The fastest and the slowest round, to show how noisy the machine was.
    spread: (f64, f64),
}

/// Runs every case once untimed (page faults, rayon's pool, a CPU that
/// ramps its clock), then `rounds` times round-robin.
fn run_rounds(cases: &mut [Case<'_>], rounds: usize) {
    for case in cases.iter_mut() {
        (case.run)();
    }
    for round in 1..=rounds {
        eprint!("round {round}/{rounds}:");
        for case in cases.iter_mut() {
            let time = (case.run)();
            eprint!(" {}", case.name);
            case.ns.push(time.as_secs_f64() * 1e9 / case.units as f64);
        }
        eprintln!();
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// Panics unless `value` is within 5 standard errors of `exact`: a wrong
/// result would make its timing meaningless.
fn check(case: &str, value: f64, std_error: f64, exact: f64) {
    let off = (value - exact).abs() / std_error;
    assert!(
        off < 5.0,
        "{case}: {value} is {off:.1} standard errors from {exact}"
    );
}

/// The exact integral of `x` over [0, pi].
const EXACT_X: f64 = PI * PI / 2.0;

/// The exact integral of `sin` over [0, pi].
const EXACT_SIN: f64 = 2.0;

/// The standard error of a plain Monte Carlo estimate of the integral of `x`
/// over [0, pi] from `samples` points: pi · sd(x) / sqrt(n), where
/// sd(x) = pi / sqrt(12) for x uniform on [0, pi]. For the loops that keep
/// no sum of squares.
fn std_error_x(samples: u64) -> f64 {
    PI * PI / (12.0 * samples as f64).sqrt()
}

/// Times `work` and checks that it integrated `x` over [0, pi].
fn timed_x(case: &str, samples: u64, work: impl FnOnce() -> f64) -> Duration {
    let start = Instant::now();
    let value = black_box(work());
    let time = start.elapsed();
    check(case, value, std_error_x(samples), EXACT_X);
    time
}

// ---------------------------------------------------------------------------
// One scalar stream: the loop anyone would write first.

/// `samples` points from one `SmallRng` (xoshiro256++), on this thread.
fn hand_smallrng(samples: u64) -> Duration {
    timed_x("hand_smallrng_1t", samples, || {
        let mut rng = SmallRng::seed_from_u64(SEED);
        PI * smallrng_sum(&mut rng, samples) / samples as f64
    })
}

/// The sum of `x` at `samples` uniform points of [0, pi].
fn smallrng_sum(rng: &mut SmallRng, samples: u64) -> f64 {
    let (a, w) = (0.0, PI);
    let mut sum = 0.0;
    for _ in 0..samples {
        let u = f64::from_bits((rng.next_u64() >> 12) | ONE_BITS) - 1.0;
        let x = a + w * u;
        sum += x;
    }
    sum
}

/// The same loop on rayon's pool: one `SmallRng` per chunk, seeded from the
/// chunk's index, as in rand's `rayon-monte-carlo` example.
fn rayon_smallrng(samples: u64) -> Duration {
    timed_x("rayon_smallrng_all", samples, || {
        let sum: f64 = (0..samples.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let mut rng = SmallRng::seed_from_u64(chunk ^ SEED);
                smallrng_sum(&mut rng, CHUNK.min(samples - chunk * CHUNK))
            })
            .sum();
        PI * sum / samples as f64
    })
}

// ---------------------------------------------------------------------------
// Sixteen streams as whole-array operations: what the library's kernel
// should come close to, written out by hand and dispatched like it.

/// Sums of `f` and of its square over some samples.
#[derive(Clone, Copy, Default)]
struct Sums {
    count: u64,
    sum: f64,
    squares: f64,
}

impl Sums {
    fn merge(self, other: Sums) -> Sums {
        Sums {
            count: self.count + other.count,
            sum: self.sum + other.sum,
            squares: self.squares + other.squares,
        }
    }

    /// The estimate of the integral over an interval of length `width`, and
    /// its standard error.
    fn estimate(&self, width: f64) -> (f64, f64) {
        let n = self.count as f64;
        let mean = self.sum / n;
        let variance = (self.squares / n - mean * mean).max(0.0);
        (width * mean, width * (variance / n).sqrt())
    }
}

/// `f` over `samples` points of [0, pi] from the lanes loop, in chunks of
/// `CHUNK` spread over one OS thread per core.
fn hand_lanes<F>(case: &str, f: &F, exact: f64, samples: u64) -> Duration
where
    F: Fn(f64) -> f64 + Sync,
{
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get) as u64;
    let chunks = samples.div_ceil(CHUNK);

    let start = Instant::now();
    let sums = thread::scope(|scope| {
        // Thread t takes chunks t, t + threads, ...: equal shares, no queue.
        let workers: Vec<_> = (0..threads)
            .map(|first| {
                scope.spawn(move || {
                    (first..chunks)
                        .step_by(threads as usize)
                        .map(|chunk| {
                            let len = CHUNK.min(samples - chunk * CHUNK);
                            lane_sums(f, chunk_key(chunk), len, 0.0, PI)
                        })
                        .fold(Sums::default(), Sums::merge)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a worker panicked"))
            .fold(Sums::default(), Sums::merge)
    });
    let (value, std_error) = black_box(sums).estimate(PI);
    let time = start.elapsed();

    check(case, value, std_error, exact);
    time
}

/// The seed of chunk `chunk`'s lanes: mixed, so that neighbouring chunks
/// start far apart in SplitMix64's sequence.
fn chunk_key(chunk: u64) -> u64 {
    mix64(SEED ^ mix64(chunk.wrapping_add(GOLDEN_GAMMA)))
}

/// SplitMix64's output function.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The states of `LANES` xoshiro256++ generators, word by word: `s[w][l]`
/// is word `w` of lane `l`, so one step of every lane is whole-array work.
type LaneState<const G: usize> = [[u64; G]; 4];

/// Seeds lane `l` with consecutive SplitMix64 outputs from `key`, as rand's
/// `seed_from_u64` does for one generator.
fn seed_lanes(key: u64) -> LaneState<LANES> {
    let mut state = key;
    let mut s = [[0; LANES]; 4];
    for lane in 0..LANES {
        for word in &mut s {
            state = state.wrapping_add(GOLDEN_GAMMA);
            word[lane] = mix64(state);
        }
    }
    s
}

/// Sums `f` over `samples` points of [lo, lo + width) from the 16 lanes
/// seeded by `key`; sample `j` is output `j / 16` of lane `j % 16`.
///
/// Compiled for each target and picked at run time, like the library's
/// kernel. With AVX-512 all 16 lanes step together. Without it, 16 lanes of
/// 4 state words would need 16 AVX2 registers for the state alone and
/// spill, so the lanes run as two groups of 8, each over the same block of
/// steps; every lane still sums its own values in its own order, so the
/// sums are the same.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn lane_sums<F: Fn(f64) -> f64>(f: &F, key: u64, samples: u64, lo: f64, width: f64) -> Sums {
    let mut s = seed_lanes(key);
    let mut sum = [0.0; LANES];
    let mut squares = [0.0; LANES];
    let steps = samples / LANES as u64;
    let mut step = 0;
    while step < steps {
        let block = BLOCK_STEPS.min(steps - step);
        // A compile-time constant in each version of this function.
        if multiversion::target::target_cfg_f!(target_feature = "avx512f") {
            lane_group::<16, F>(f, &mut s, 0, &mut sum, &mut squares, block, lo, width);
        } else {
            lane_group::<8, F>(f, &mut s, 0, &mut sum, &mut squares, block, lo, width);
            lane_group::<8, F>(f, &mut s, 8, &mut sum, &mut squares, block, lo, width);
        }
        step += block;
    }

    // The last samples, fewer than one per lane, take the next step's first
    // lanes.
    let tail = (samples % LANES as u64) as usize;
    if tail > 0 {
        let bits = next_bits(&mut s);
        for (lane, &bits) in bits.iter().enumerate().take(tail) {
            let value = f(lo + width * unit(bits));
            sum[lane] += value;
            squares[lane] += value * value;
        }
    }
    Sums {
        count: samples,
        sum: sum.iter().sum(),
        squares: squares.iter().sum(),
    }
}

/// Runs lanes `first..first + G` for `steps` steps, adding to their sums.
///
/// Each step is separate whole-array passes: the outputs, then the values,
/// then each sum. With the two sums updated in one loop body, LLVM's SLP
/// vectoriser packs (sum, square) of one lane together and leaves the lanes
/// scalar.
#[allow(clippy::too_many_arguments)] // a hot loop's state, not a config
#[inline(always)]
fn lane_group<const G: usize, F: Fn(f64) -> f64>(
    f: &F,
    state: &mut LaneState<LANES>,
    first: usize,
    sum: &mut [f64; LANES],
    squares: &mut [f64; LANES],
    steps: u64,
    lo: f64,
    width: f64,
) {
    // Local copies, so the group's state and sums can live in registers.
    let mut s: LaneState<G> =
        std::array::from_fn(|word| std::array::from_fn(|lane| state[word][first + lane]));
    let mut group_sum: [f64; G] = std::array::from_fn(|lane| sum[first + lane]);
    let mut group_squares: [f64; G] = std::array::from_fn(|lane| squares[first + lane]);

    for _ in 0..steps {
        let bits = next_bits(&mut s);
        let mut values = [0.0; G];
        for (value, &bits) in values.iter_mut().zip(&bits) {
            *value = f(lo + width * unit(bits));
        }
        for (sum, &value) in group_sum.iter_mut().zip(&values) {
            *sum += value;
        }
        for (square, &value) in group_squares.iter_mut().zip(&values) {
            *square += value * value;
        }
    }

    for word in 0..4 {
        state[word][first..first + G].copy_from_slice(&s[word]);
    }
    sum[first..first + G].copy_from_slice(&group_sum);
    squares[first..first + G].copy_from_slice(&group_squares);
}

/// One xoshiro256++ step of every lane (Blackman and Vigna, 2021).
#[inline(always)]
fn next_bits<const G: usize>(s: &mut LaneState<G>) -> [u64; G] {
    let [s0, s1, s2, s3] = s;
    let mut out = [0; G];
    for l in 0..G {
        out[l] = s0[l]
            .wrapping_add(s3[l])
            .rotate_left(23)
            .wrapping_add(s0[l]);
        let t = s1[l] << 17;
        s2[l] ^= s0[l];
        s3[l] ^= s1[l];
        s1[l] ^= s2[l];
        s0[l] ^= s3[l];
        s2[l] ^= t;
        s3[l] = s3[l].rotate_left(45);
    }
    out
}

/// A uniform number in [0, 1) from the top 52 bits.
#[inline(always)]
fn unit(bits: u64) -> f64 {
    f64::from_bits((bits >> 12) | ONE_BITS) - 1.0
}

// ---------------------------------------------------------------------------
// The library, as a user calls it.

/// `Integral::run_on` on `executor`, blocked on from this thread.
///
/// Generic in `F`, like the hand-written loops, so the integrand inlines
/// into the library's kernel; a `fn` pointer would cost a call per sample.
fn quadpipe_on<F>(case: &str, executor: &Executor, f: F, exact: f64, samples: u64) -> Duration
where
    F: Fn(f64) -> f64 + Send + Sync + 'static,
{
    let integral = Integral::new(f, 0.0..PI).samples(samples).seed(SEED);
    let start = Instant::now();
    let estimate = pollster::block_on(integral.run_on(executor));
    let time = start.elapsed();
    check_estimate(case, black_box(estimate), exact);
    time
}

/// A 5-dimensional Genz gaussian, `exp(-Σ c²(x - w)²)` with `c = 3` and
/// `w = 0.4`, as the performance issue's efficiency lines ask.
fn genz_gaussian(x: &[f64]) -> f64 {
    (-x.iter().map(|&x| 9.0 * (x - 0.4) * (x - 0.4)).sum::<f64>()).exp()
}

/// Its integral over the unit cube: `(√π/6 · (erf(1.8) + erf(1.2)))^5`.
const EXACT_GAUSSIAN_5D: f64 = 0.055_616_764_435_246_28;

/// `reps` runs of `samples` evaluations of the 5-D gaussian with `method`
/// and default settings on `executor`, blocked on from this thread.
fn genz_runs(
    case: &str,
    executor: &Executor,
    method: &Method,
    samples: u64,
    reps: u64,
) -> Duration {
    let start = Instant::now();
    for seed in 0..reps {
        let integral = Integral::over(genz_gaussian, vec![0.0..1.0; 5])
            .method(method.clone())
            .samples(samples)
            .seed(seed);
        let estimate = pollster::block_on(integral.run_on(executor));
        let estimate = black_box(estimate).unwrap_or_else(|err| panic!("{case}: {err}"));
        // A loose check: only that the run computed the integral.
        let off = (estimate.value / EXACT_GAUSSIAN_5D - 1.0).abs();
        assert!(off < 0.05, "{case}: {estimate} is {off:e} off");
    }
    start.elapsed()
}

/// `reps` plain Monte Carlo runs of the 5-D gaussian on a rayon `pool`,
/// one `SmallRng` per chunk of quadpipe's default size (a 64th of the run,
/// at least 4096 points), as in rand's `rayon-monte-carlo` example.
fn rayon_genz_runs(case: &str, pool: &rayon::ThreadPool, samples: u64, reps: u64) -> Duration {
    let chunk = (samples / 64).max(4096);
    let start = Instant::now();
    for seed in 0..reps {
        let sum: f64 = pool.install(|| {
            (0..samples / chunk)
                .into_par_iter()
                .map(|index| {
                    let mut rng = SmallRng::seed_from_u64((seed << 32) ^ index);
                    let mut x = [0.0; 5];
                    let mut sum = 0.0;
                    for _ in 0..chunk {
                        x.fill_with(|| unit(rng.next_u64()));
                        sum += genz_gaussian(&x);
                    }
                    sum
                })
                .sum()
        });
        let off = (black_box(sum) / samples as f64 / EXACT_GAUSSIAN_5D - 1.0).abs();
        assert!(off < 0.05, "{case}: {off:e} off");
    }
    start.elapsed()
}

/// One plain Monte Carlo run of the shared-factor workload: `m`
/// components at once, or (`None`) component 0 alone as a scalar
/// integrand; checked only for a tight error bar (its exact value has no
/// closed form worth the name).
fn components_run(case: &str, executor: &Executor, m: Option<usize>, samples: u64) -> Duration {
    let start = Instant::now();
    let estimate = match m {
        Some(m) => pollster::block_on(
            components::vector(m)
                .samples(samples)
                .seed(SEED)
                .run_on(executor),
        ),
        None => pollster::block_on(
            components::scalar()
                .samples(samples)
                .seed(SEED)
                .run_on(executor),
        ),
    };
    let time = start.elapsed();
    let estimate = black_box(estimate).unwrap_or_else(|err| panic!("{case}: {err}"));
    let relative = estimate.std_error / estimate.value;
    assert!(relative > 0.0 && relative < 0.01, "{case}: {estimate}");
    time
}

/// `Integral::run_inline`: every chunk on this thread, no executor.
fn quadpipe_inline(samples: u64) -> Duration {
    let integral = Integral::new(|x| x, 0.0..PI).samples(samples).seed(SEED);
    let start = Instant::now();
    let estimate = pollster::block_on(integral.run_inline());
    let time = start.elapsed();
    check_estimate("quadpipe_inline", black_box(estimate), EXACT_X);
    time
}

fn check_estimate(case: &str, estimate: Result<Estimate, quadpipe::Error>, exact: f64) {
    let estimate = estimate.unwrap_or_else(|err| panic!("{case}: {err}"));
    check(case, estimate.value, estimate.std_error, exact);
}

// ---------------------------------------------------------------------------
// Tiny jobs: what a 1000-sample integral costs beyond its arithmetic.

/// `jobs` 1000-sample integrals through `Integral::run_on`, each awaited
/// before the next starts: the latency of a small request, not throughput.
/// The spec is built per job, as a service would per request.
fn tiny_jobs_quadpipe(executor: &Executor, jobs: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..jobs {
        let integral = Integral::new(|x| x, 0.0..PI)
            .samples(TINY_SAMPLES)
            .seed(SEED);
        let estimate = pollster::block_on(integral.run_on(executor));
        check_estimate("tiny_job_quadpipe", black_box(estimate), EXACT_X);
    }
    start.elapsed()
}

/// The same jobs as plain tasks on an `async_executor` of our own: spawn a
/// closure that runs the lanes loop over 1000 samples, await it.
fn tiny_jobs_bare(pool: &BarePool, jobs: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..jobs {
        let job = pool
            .executor
            .spawn(async { lane_sums(&|x| x, chunk_key(0), TINY_SAMPLES, 0.0, PI) });
        let (value, std_error) = black_box(pollster::block_on(job)).estimate(PI);
        check("tiny_job_bare", value, std_error, EXACT_X);
    }
    start.elapsed()
}

/// An `async_executor::Executor` run by worker threads of its own, the
/// smallest pool one could build on the same executor quadpipe bundles.
struct BarePool {
    executor: Arc<async_executor::Executor<'static>>,
    stop: Vec<oneshot::Sender<()>>,
    workers: Vec<thread::JoinHandle<()>>,
}

impl BarePool {
    fn new(threads: usize) -> BarePool {
        let executor = Arc::new(async_executor::Executor::new());
        let (stop, workers) = (0..threads)
            .map(|_| {
                let (stop, stopped) = oneshot::channel::<()>();
                let executor = executor.clone();
                let worker = thread::spawn(move || {
                    // Ends when `stop` is dropped.
                    let _ = pollster::block_on(executor.run(stopped));
                });
                (stop, worker)
            })
            .unzip();
        BarePool {
            executor,
            stop,
            workers,
        }
    }
}

impl Drop for BarePool {
    fn drop(&mut self) {
        self.stop.clear();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

// ---------------------------------------------------------------------------
// Cancel latency.

/// Integrand calls that still happen after `Task::cancel` returns, in
/// chunks: an endless integral runs for 50 ms, is cancelled, and an atomic
/// counter in the integrand shows how much more work the chunks did.
fn cancel_latency(executor: &Executor) -> f64 {
    let calls = Arc::new(AtomicU64::new(0));
    let counter = calls.clone();
    let endless = Integral::new(
        move |x| {
            counter.fetch_add(1, Ordering::Relaxed);
            x
        },
        0.0..PI,
    )
    .samples(1 << 50)
    .chunk_size(CANCEL_CHUNK);

    let task = endless.spawn_on(executor);
    thread::sleep(Duration::from_millis(50));
    task.cancel();
    let at_cancel = calls.load(Ordering::Relaxed);
    let settled = wait_until_still(&calls);
    drop(task);
    (settled - at_cancel) as f64 / CANCEL_CHUNK as f64
}

/// Waits until `counter` has not moved for 20 ms (at most 5 s), and
/// returns its value.
fn wait_until_still(counter: &AtomicU64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = counter.load(Ordering::Relaxed);
    loop {
        thread::sleep(Duration::from_millis(20));
        let now = counter.load(Ordering::Relaxed);
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

// ---------------------------------------------------------------------------
// Fairness: a sweep does not starve a task spawned beside it.

/// The lone integral's time alone and beside a running sweep, in that
/// order, once per round.
///
/// The sweep is a `TaskGroup` of 10,000 small integrals with its default
/// limit (one child per core); the lone integral is spawned once the
/// sweep's first children have ended, on the same executor, and timed to
/// its end. Its chunks then queue with those of the few children running,
/// so it gets about a share of the workers; a sweep that started all its
/// children at once would put its chunks ahead of the lone one's.
fn fairness(rounds: usize, threads: usize) -> Vec<(Duration, Duration)> {
    let executor = Arc::new(
        Executor::builder()
            .threads(threads)
            .build()
            .expect("executor"),
    );
    // An untimed warm-up round, as for the other cases.
    (0..=rounds)
        .map(|round| {
            let (alone, beside) = (lone(&executor), lone_beside_sweep(&executor));
            eprintln!(
                "fairness round {round}/{rounds}: alone {:.2} ms, beside the sweep {:.2} ms",
                1e3 * alone.as_secs_f64(),
                1e3 * beside.as_secs_f64(),
            );
            (alone, beside)
        })
        .skip(1)
        .collect()
}

/// Times the lone integral to its end.
fn lone(executor: &Executor) -> Duration {
    let integral = Integral::new(|x| x, 0.0..PI)
        .samples(LONE_SAMPLES)
        .seed(SEED);
    let start = Instant::now();
    let estimate = pollster::block_on(integral.spawn_on(executor));
    let time = start.elapsed();
    check_estimate("lone", black_box(estimate), EXACT_X);
    time
}

fn lone_beside_sweep(executor: &Arc<Executor>) -> Duration {
    let sweep = TaskGroup::new();
    for k in 0..SWEEP_CHILDREN {
        let executor = executor.clone();
        let integral = Integral::new(|x| x, 0.0..PI).samples(SWEEP_SAMPLES).seed(k);
        sweep.spawn(move || integral.spawn_on(&executor));
    }
    // Into its stride first: the first children have ended.
    while sweep.progress().ended() < 2 * executor.threads() {
        thread::sleep(Duration::from_micros(100));
    }
    let time = lone(executor);
    let ended = sweep.progress().ended() as u64;
    assert!(
        ended < SWEEP_CHILDREN,
        "the sweep ended before the lone integral: make it longer"
    );
    sweep.cancel();
    let _ = pollster::block_on(sweep);
    time
}

// ---------------------------------------------------------------------------
// Peak memory.

fn peak_rss_of_child(samples: u64) -> u64 {
    let exe = env::current_exe().expect("the bench's own path");
    let output = Command::new(exe)
        .args(["--peak-rss-child", &samples.to_string()])
        .output()
        .expect("start the peak RSS child");
    assert!(output.status.success(), "peak RSS child failed: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("the child prints its peak RSS in KiB")
}

/// The child's side: one integral of `samples` samples on every core,
/// then its VmHWM (peak resident set) in KiB on stdout.
fn peak_rss_child(samples: u64) -> ExitCode {
    let executor = Executor::builder().build().expect("executor");
    let integral = Integral::new(|x| x, 0.0..PI).samples(samples).seed(SEED);
    check_estimate(
        "peak_rss",
        pollster::block_on(integral.run_on(&executor)),
        EXACT_X,
    );
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("a VmHWM line");
    println!("{kib}");
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------------------
// Reporting.

/// A target: `value` must be at least (or at most) `bound`.
struct Target {
    what: String,
    value: f64,
    bound: f64,
    at_least: bool,
}

impl Target {
    fn passes(&self) -> bool {
        if self.at_least {
            self.value >= self.bound
        } else {
            self.value <= self.bound
        }
    }
}

/// The ratios between cases that have targets: (a, b, bound, a/b must be
/// at least the bound).
const RATIOS: [(&str, &str, f64, bool); 5] = [
    ("rayon_smallrng_all", "quadpipe_all", 3.0, true),
    ("quadpipe_all", "hand_lanes_all", 1.3, false),
    ("quadpipe_1t", "quadpipe_all", 1.9, true),
    ("quadpipe_sin_all", "hand_sin_all", 1.05, false),
    ("tiny_job_quadpipe", "tiny_job_bare", 1.2, false),
];

/// Prints each case's median and the ratios, and returns the ratios'
/// targets.
fn report_cases(cases: &[Measured]) -> Vec<Target> {
    eprintln!(
        "\n{:<20} {:>7} {:>10} {:>10}   rounds: min..max",
        "case", "threads", "ns/sample", "ns/job"
    );
    for case in cases {
        let (per, (fastest, slowest)) = (case.ns, case.spread);
        let (name, threads) = (case.name, case.threads);
        if name.starts_with("tiny_job") {
            let per_sample = per / TINY_SAMPLES as f64;
            eprintln!(
                "{name:<20} {threads:>7} {per_sample:>10.4} {per:>10.0}   {fastest:.0}..{slowest:.0} ns/job"
            );
            println!(
                r#"{{"case": "{name}", "ns_per_sample": {per_sample:.4}, "ns_per_job": {per:.1}, "threads": {threads}}}"#
            );
        } else {
            eprintln!(
                "{name:<20} {threads:>7} {per:>10.4} {:>10}   {fastest:.4}..{slowest:.4}",
                ""
            );
            println!(r#"{{"case": "{name}", "ns_per_sample": {per:.4}, "threads": {threads}}}"#);
        }
    }

    let ns = |name: &str| {
        let case = cases.iter().find(|case| case.name == name);
        case.expect("every ratio names two cases").ns
    };
    // No target, but the ceiling of the first one: how far the hand loop,
    // the limit the library approaches, is from rayon on this machine.
    let ceiling = ns("rayon_smallrng_all") / ns("hand_lanes_all");
    println!(r#"{{"ratio": "rayon_smallrng_all/hand_lanes_all", "value": {ceiling:.4}}}"#);
    eprintln!(
        "\nrayon_smallrng_all/hand_lanes_all = {ceiling:.3}: the most rayon/quadpipe can be here"
    );
    let mut targets: Vec<Target> = RATIOS
        .iter()
        .map(|&(a, b, bound, at_least)| {
            ratio_line(&format!("{a}/{b}"), ns(a) / ns(b), bound, at_least)
        })
        .collect();
    // Parallel efficiency: the time on one thread over that on two, halved.
    for method in ["mc", "rqmc", "vegas"] {
        for log in [16, 20] {
            let one = ns(&format!("{method}_{log}_1t"));
            let two = ns(&format!("{method}_{log}_2t"));
            let value = one / two / 2.0;
            targets.push(ratio_line(
                &format!("efficiency/{method}/{log}"),
                value,
                0.9,
                true,
            ));
        }
    }
    // No target: how efficient rayon is with the same work and chunks.
    for log in [16, 20] {
        let value = ns(&format!("rayon_{log}_1t")) / ns(&format!("rayon_{log}_2t")) / 2.0;
        println!(r#"{{"ratio": "efficiency/rayon/{log}", "value": {value:.4}}}"#);
        eprintln!("efficiency/rayon/{log} = {value:.3}: rayon, the same runs and chunks");
    }
    let value = ns("vector16_1t") / ns("scalar1_1t");
    targets.push(ratio_line("vector16/scalar1", value, 1.5, false));
    let value = ns("vegas_20_1t") / ns("mc_20_1t");
    targets.push(ratio_line("vegas_cost/mc_cost", value, 2.0, false));
    targets
}

/// Prints the JSON line of a ratio and returns it as a target.
fn ratio_line(what: &str, value: f64, bound: f64, at_least: bool) -> Target {
    println!(r#"{{"ratio": "{what}", "value": {value:.4}}}"#);
    Target {
        what: what.to_owned(),
        value,
        bound,
        at_least,
    }
}

fn report_cancel(runs: &[f64]) -> Target {
    let chunks = median(runs);
    println!(r#"{{"case": "cancel_latency", "chunks_after_cancel": {chunks:.4}}}"#);
    let runs: Vec<String> = runs.iter().map(|run| format!("{run:.3}")).collect();
    eprintln!(
        "\ncancel_latency: chunks run after cancel() returned: {}",
        runs.join(", ")
    );
    Target {
        what: "cancel latency (chunks)".to_owned(),
        value: chunks,
        bound: 2.0,
        at_least: false,
    }
}

/// The median of the lone integral's time beside the sweep over its time
/// alone. A fair share of the workers, beside the sweep's one running
/// child per core, would make it about threads + 1.
fn report_fairness(rounds: &[(Duration, Duration)], threads: usize) -> Target {
    let alone: Vec<f64> = rounds
        .iter()
        .map(|(alone, _)| alone.as_secs_f64())
        .collect();
    let beside: Vec<f64> = rounds
        .iter()
        .map(|(_, beside)| beside.as_secs_f64())
        .collect();
    let value = median(&beside) / median(&alone);
    println!(r#"{{"ratio": "lone_beside_sweep/lone_alone", "value": {value:.4}}}"#);
    eprintln!(
        "
fairness: 2^{} samples alone {:.2} ms, beside a {SWEEP_CHILDREN}-child sweep {:.2} ms (medians)",
        LONE_SAMPLES.ilog2(),
        1e3 * median(&alone),
        1e3 * median(&beside),
    );
    Target {
        what: "lone_beside_sweep/lone_alone".to_owned(),
        value,
        bound: threads as f64 + 2.0,
        at_least: false,
    }
}

/// Measures the peak RSS of a run of `samples` and of `100 * samples`
/// samples, each in a child process, since a process's peak never goes down.
fn report_peak_rss(samples: u64) -> Target {
    let (small, large) = (peak_rss_of_child(samples), peak_rss_of_child(100 * samples));
    let diff = large as i64 - small as i64;
    println!(
        r#"{{"case": "peak_rss", "samples": {samples}, "peak_kib": {small}, "peak_kib_100x": {large}, "diff_kib": {diff}}}"#
    );
    eprintln!(
        "peak_rss: {small} KiB for 2^{} samples, {large} KiB for 100 times as many",
        samples.ilog2()
    );
    Target {
        what: "peak RSS difference (KiB)".to_owned(),
        value: diff as f64,
        bound: 1024.0,
        at_least: false,
    }
}

fn report_targets(targets: &[Target], elsewhere: Option<f64>) {
    eprintln!("\n{:<40} {:>10} {:>10}  result", "target", "value", "bound");
    for target in targets {
        let sign = if target.at_least { ">=" } else { "<=" };
        let verdict = if target.passes() { "pass" } else { "FAIL" };
        eprintln!(
            "{:<40} {:>10.3} {sign} {:>7}  {verdict}",
            target.what, target.value, target.bound
        );
    }
    match elsewhere {
        // A compile or a test run beside the bench takes whole cores from it.
        Some(share) if share > 0.05 => eprintln!(
            "\nWARNING: other processes used {:.0}% of the CPUs during the timed rounds; \
             these numbers are not reliable. Run again on a quiet machine.",
            100.0 * share
        ),
        Some(share) => eprintln!(
            "\nother processes used {:.1}% of the CPUs during the timed rounds",
            100.0 * share
        ),
        None => {}
    }
}

/// CPU time so far, from Linux's /proc: the whole machine's busy and total
/// ticks, and this process's own (with its waited-for children).
struct CpuTicks {
    busy: u64,
    total: u64,
    own: u64,
}

impl CpuTicks {
    fn now() -> Option<CpuTicks> {
        // "cpu  user nice system idle iowait irq softirq steal ...": idle and
        // iowait are free time; steal is time the hypervisor gave elsewhere.
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|field| field.parse().ok())
            .collect::<Option<_>>()?;
        let total: u64 = ticks.iter().sum();
        let busy = total - ticks.get(3)? - ticks.get(4)?;
        // utime, stime, cutime, cstime: fields 14 to 17, 12 to 15 after the
        // parenthesised command name.
        let own_stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let fields: Vec<&str> = own_stat.rsplit(')').next()?.split_whitespace().collect();
        let own = fields
            .get(11..15)?
            .iter()
            .map(|field| field.parse::<u64>().ok())
            .sum::<Option<u64>>()?;
        Some(CpuTicks { busy, total, own })
    }

    /// The share of the machine's CPU time since `before` that went to
    /// other processes (or to other guests, as steal).
    fn share_elsewhere(&self, before: &CpuTicks) -> f64 {
        let others = (self.busy - before.busy).saturating_sub(self.own - before.own);
        others as f64 / (self.total - before.total).max(1) as f64
    }
}
