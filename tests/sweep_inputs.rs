//! A seeded sweep of arbitrary settings through every entry point (issue
//! 12's "done when"): every u64 and f64 extreme, NaN, ±inf and subnormals
//! in every setting, thread counts up to `usize::MAX`, every method with
//! its builder's knobs, and every way of running (`run`, `run_on` an
//! executor, `spawn_on`, `spawn`, `run_inline`, a resume from a task's
//! checkpoint and from a checkpoint file), plus sources and thread counts
//! from `QUADPIPE_THREADS`.
//!
//! What must hold, case by case: no abort, no panic, no hang (the whole
//! sweep runs under a watchdog, and a case that could run for hours gets a
//! time limit), an error only of the documented kinds (a panic reported
//! as [`Error::Panicked`] only from the integrand that panics), and every
//! `Ok` estimate finite, with a standard error that is finite, or infinite
//! and so flagged unreliable, never NaN.
//!
//! `SWEEP_CASES` cases by default, a few seconds; `QUADPIPE_SWEEP=long`
//! runs `LONG_CASES` (minutes). The seed is fixed, so a failure names a
//! case number that reproduces.

mod common;

use std::collections::BTreeMap;
use std::env;
use std::ops::Range;
use std::time::Duration;

use common::{CHILD, in_child, watchdog_for};
use futures::io::Cursor;
use quadpipe::method::GaussKronrod;
use quadpipe::{Error, Estimate, Executor, Integral, Integrand, Method, NonFinite, Source};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

const SWEEP_CASES: u64 = 300;
const LONG_CASES: u64 = 10_000;

fn cases() -> u64 {
    if env::var("QUADPIPE_SWEEP").as_deref() == Ok("long") {
        LONG_CASES
    } else {
        SWEEP_CASES
    }
}

/// The u64s a careless or hostile caller reaches for.
const U64S: [u64; 16] = [
    0,
    1,
    2,
    3,
    15,
    16,
    17,
    1000,
    1 << 12,
    1 << 16,
    (1 << 16) + 1,
    1 << 20,
    u32::MAX as u64,
    1 << 32,
    1 << 63,
    u64::MAX,
];

/// The f64s: extremes, subnormals, zeros of both signs, NaN, infinities.
const F64S: [f64; 20] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    1e-300,
    5e-324,
    f64::MIN_POSITIVE,
    f64::EPSILON,
    1e10,
    -1e10,
    1e154,
    1e300,
    -1e300,
    f64::MAX,
    f64::MIN,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

const U32S: [u32; 10] = [0, 1, 2, 3, 4, 8, 12, 4096, 65_537, u32::MAX];

/// Picks from `values` most of the time, an arbitrary value otherwise.
struct Pick(Xoshiro256PlusPlus);

impl Pick {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    fn u64(&mut self) -> u64 {
        if self.chance(6) {
            self.0.next_u64() >> self.below(64)
        } else {
            U64S[self.below(U64S.len() as u64) as usize]
        }
    }

    fn f64(&mut self) -> f64 {
        if self.chance(4) {
            f64::from_bits(self.0.next_u64())
        } else {
            F64S[self.below(F64S.len() as u64) as usize]
        }
    }

    /// A bound: mostly ordinary, often extreme.
    fn bound(&mut self) -> f64 {
        if self.chance(2) {
            [0.0, 1.0, -1.0, 3.0][self.below(4) as usize]
        } else {
            self.f64()
        }
    }

    fn u32(&mut self) -> u32 {
        U32S[self.below(U32S.len() as u64) as usize]
    }

    fn method(&mut self) -> Method {
        match self.below(5) {
            0 | 1 => Method::MONTE_CARLO,
            2 if self.chance(3) => Method::sobol().replicas(self.u32()).into(),
            2 => Method::SOBOL,
            3 => {
                let mut vegas = Method::vegas();
                if self.chance(4) {
                    vegas = vegas.iterations(self.u32()).warmup(self.u32());
                }
                if self.chance(4) {
                    vegas = vegas.alpha(self.f64()).beta(self.f64());
                }
                if self.chance(4) {
                    vegas = vegas.increments(self.u32());
                }
                vegas.into()
            }
            _ => {
                let mut gk = GaussKronrod::new();
                if self.chance(4) {
                    gk = gk.limit(self.u32());
                }
                if self.chance(3) {
                    let points: Vec<f64> = (0..self.below(4)).map(|_| self.bound()).collect();
                    gk = gk.points(&points);
                }
                gk.into()
            }
        }
    }
}

/// The integrands: ordinary, huge, tiny, non-finite somewhere, heavy
/// tailed, and one that panics.
const INTEGRANDS: usize = 11;
const PANICS: usize = 8;

fn integrand(which: usize, x: f64) -> f64 {
    match which {
        0 => x,
        1 => 1.0,
        2 => x.sin(),
        3 => (-x * x).exp(),
        4 => 1e308,
        5 => x * 1e300,
        6 => 1.0 / x,
        7 if x > 0.5 => f64::NAN,
        7 => x,
        PANICS if x > 0.9 => panic!("integrand panics at {x}"),
        PANICS => x,
        9 => 5e-324,
        _ => -x * 1e-300,
    }
}

/// How a case is run.
#[derive(Clone, Copy, Debug)]
enum Way {
    Inline,
    Run,
    RunOn,
    SpawnOn,
    Spawn,
    ResumeTask,
    ResumeFile,
}

const WAYS: [Way; 7] = [
    Way::Inline,
    Way::Run,
    Way::RunOn,
    Way::SpawnOn,
    Way::Spawn,
    Way::ResumeTask,
    Way::ResumeFile,
];

/// Checks one outcome against the promises, and tallies it by kind.
fn check(
    case: u64,
    label: &str,
    which: usize,
    outcome: &Result<Estimate, Error>,
    tally: &mut BTreeMap<String, u64>,
) {
    let kind = match outcome {
        Ok(estimate) => format!("Ok {:?}", estimate.stop),
        Err(err) => format!("{err:?}")
            .split([' ', '(', '{'])
            .next()
            .unwrap()
            .to_owned(),
    };
    *tally.entry(kind).or_default() += 1;
    match outcome {
        Ok(estimate) => {
            assert!(
                estimate.value.is_finite(),
                "case {case} ({label}): {estimate:?}"
            );
            let error = estimate.std_error;
            assert!(
                error >= 0.0 && (error.is_finite() || !estimate.std_error_is_reliable()),
                "case {case} ({label}): standard error {error}"
            );
            assert!(!estimate.to_string().is_empty());
        }
        Err(Error::Panicked(message)) => assert!(
            which == PANICS && message.contains("integrand panics"),
            "case {case} ({label}): the library panicked: {message}"
        ),
        Err(err) => assert!(!err.to_string().is_empty()),
    }
}

/// Runs `integral` the way `way` says, on `executor` where it takes one.
fn run<I: Integrand>(
    integral: &Integral<I>,
    way: Way,
    executor: &Executor,
    file: &std::path::Path,
) -> Vec<Result<Estimate, Error>> {
    match way {
        Way::Inline => vec![pollster::block_on(integral.run_inline())],
        Way::Run => vec![pollster::block_on(integral.run())],
        Way::RunOn => vec![pollster::block_on(integral.run_on(executor))],
        Way::SpawnOn => vec![executor.block_on(integral.spawn_on(executor))],
        Way::Spawn => vec![pollster::block_on(integral.spawn())],
        Way::ResumeTask => {
            let mut task = integral.spawn_on(executor);
            let first = executor.block_on(&mut task);
            let resumed = task
                .checkpoint()
                .map(|checkpoint| pollster::block_on(integral.resume(&checkpoint).run_inline()));
            std::iter::once(first).chain(resumed).collect()
        }
        Way::ResumeFile => {
            let _ = std::fs::remove_file(file);
            let saving = integral.clone().checkpoint_every(1, file);
            let first = pollster::block_on(saving.run_inline());
            let resumed = quadpipe::Checkpoint::read(file)
                .ok()
                .map(|checkpoint| pollster::block_on(integral.resume(&checkpoint).run_inline()));
            std::iter::once(first).chain(resumed).collect()
        }
    }
}

/// One case: a spec from `pick`, in one of the three integrand forms, run
/// one way.
fn sweep_case(
    case: u64,
    pick: &mut Pick,
    executors: &[Executor],
    file: &std::path::Path,
    tally: &mut BTreeMap<String, u64>,
) {
    // Each setting is extreme one time in a few, so that most cases get
    // past the checks to a run, and every check still sees its extremes.
    let which = pick.below(INTEGRANDS as u64) as usize;
    let dims = 1 + (pick.below(6) / 4) as usize + usize::from(pick.chance(8));
    let axis = |pick: &mut Pick| {
        if pick.chance(4) {
            pick.f64()..pick.f64()
        } else {
            let lo = [-1.0, 0.0, 2.0][pick.below(3) as usize];
            lo..lo + [0.5, 1.0, 3.0][pick.below(3) as usize]
        }
    };
    let bounds: Vec<Range<f64>> = (0..dims).map(|_| axis(pick)).collect();
    let way = WAYS[pick.below(WAYS.len() as u64) as usize];
    let executor = &executors[pick.below(executors.len() as u64) as usize];
    let samples = if pick.chance(4) {
        pick.u64()
    } else {
        [16, 1000, 1 << 12, 1 << 13][pick.below(4) as usize]
    };
    let method = pick.method();
    let chunk_size = pick.chance(3).then(|| pick.u64());
    let seed = pick.u64();
    let tolerance = pick.chance(5).then(|| (pick.f64().abs(), pick.f64()));
    let min_samples = pick.chance(8).then(|| pick.u64());
    let skip = pick.chance(5);
    let time_limit = match pick.below(16) {
        0 => Some(Duration::ZERO),
        1 => Some(Duration::from_nanos(1)),
        2 => Some(Duration::MAX),
        3 => Some(Duration::from_millis(5)),
        _ => None,
    };
    // A run that could take hours ends by a short time limit: the sweep
    // is about what comes back, not about waiting.
    let long = samples > 1 << 12 || format!("{method:?}").contains("GaussKronrod");
    let time_limit = match time_limit {
        Some(limit) if limit <= Duration::from_millis(10) => Some(limit),
        _ if long => Some(Duration::from_millis(10)),
        other => other,
    };
    let label = format!(
        "f{which} over {bounds:?}, {way:?}, samples {samples}, chunk {chunk_size:?}, \
         {method:?}, tolerance {tolerance:?}, min {min_samples:?}, skip {skip}, \
         limit {time_limit:?}"
    );
    macro_rules! configure {
        ($integral:expr) => {{
            let mut integral = $integral.samples(samples).seed(seed).method(method.clone());
            if let Some(chunk) = chunk_size {
                integral = integral.chunk_size(chunk);
            }
            if let Some((abs, rel)) = tolerance {
                integral = integral.tolerance(abs, rel);
            }
            if let Some(min) = min_samples {
                integral = integral.min_samples(min);
            }
            if let Some(limit) = time_limit {
                integral = integral.time_limit(limit);
            }
            if skip {
                integral = integral.non_finite(NonFinite::Skip);
            }
            for outcome in run(&integral, way, executor, file) {
                check(case, &label, which, &outcome, tally);
            }
        }};
    }
    match pick.below(3) {
        0 => configure!(Integral::new(
            move |x| integrand(which, x),
            bounds[0].clone()
        )),
        1 => configure!(Integral::over(
            move |x: &[f64]| integrand(which, x[0]),
            bounds
        )),
        _ => configure!(Integral::batched(
            move |points: &[f64], values: &mut [f64]| {
                let dims = points.len() / values.len().max(1);
                for (value, point) in values.iter_mut().zip(points.chunks_exact(dims.max(1))) {
                    *value = integrand(which, point[0]);
                }
            },
            bounds
        )),
    }
}

#[test]
fn arbitrary_settings_through_every_entry_point() {
    let cases = cases();
    let limit = Duration::from_secs(if cases > SWEEP_CASES { 3600 } else { 120 });
    watchdog_for(limit, move || {
        // Panics the sweep provokes on purpose are expected: keep their
        // messages out of the output.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.to_string().contains("integrand panics") {
                hook(info);
            }
        }));
        let executors: Vec<Executor> = (1..=3)
            .map(|threads| Executor::builder().threads(threads).build().unwrap())
            .collect();
        let directory = env::temp_dir().join(format!("quadpipe-sweep-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let file = directory.join("sweep.qpck");
        let mut pick = Pick(Xoshiro256PlusPlus::seed_from_u64(12));
        let mut tally = BTreeMap::new();
        for case in 0..cases {
            sweep_case(case, &mut pick, &executors, &file, &mut tally);
        }
        // Run with --nocapture to see what the cases came to.
        println!("{cases} cases: {tally:#?}");
        // Not a sweep of refusals only: many cases run to an estimate.
        let runs: u64 = tally
            .iter()
            .filter(|(kind, _)| kind.starts_with("Ok"))
            .map(|(_, n)| n)
            .sum();
        assert!(runs * 4 >= cases, "{runs} estimates in {cases} cases");
        std::fs::remove_dir_all(&directory).unwrap();
        let _ = std::panic::take_hook();
    });
}

#[test]
fn arbitrary_thread_counts_build_or_say_why() {
    for threads in [0, 1, 3, 4097, 1 << 20, 1 << 40, usize::MAX - 1, usize::MAX] {
        match Executor::builder().threads(threads).build() {
            Ok(executor) => assert_eq!(executor.threads(), threads),
            Err(Error::ZeroThreads) => assert_eq!(threads, 0),
            Err(Error::TooManyThreads {
                threads: asked,
                max,
            }) => {
                assert_eq!(asked, threads as u64);
                assert!(asked > max as u64);
            }
            Err(other) => panic!("{threads} threads: {other}"),
        }
    }
}

#[test]
fn arbitrary_threads_vars_run_or_say_why() {
    if env::var_os(CHILD).is_none() {
        for value in [
            "0",
            "1",
            "3",
            "4096",
            "4097",
            "18446744073709551615",
            "18446744073709551616",
            "-1",
            "abc",
            "",
            " 2",
            "2 ",
            "1e3",
            "０",
        ] {
            in_child("arbitrary_threads_vars_run_or_say_why", value);
        }
        return;
    }
    common::watchdog(|| {
        let integral = Integral::new(|x| x, 0.0..1.0).samples(1 << 12);
        for outcome in [
            pollster::block_on(integral.run()),
            pollster::block_on(integral.spawn()),
        ] {
            match outcome {
                Ok(estimate) => assert!(estimate.value.is_finite()),
                Err(
                    Error::ZeroThreads
                    | Error::TooManyThreads { .. }
                    | Error::InvalidThreadsVar { .. }
                    | Error::SpawnThread(_),
                ) => {}
                Err(other) => panic!("{other}"),
            }
        }
    });
}

#[test]
fn arbitrary_text_through_a_source_reduces_or_names_the_line() {
    const TOKENS: [&str; 16] = [
        "1",
        "-0",
        "1e308",
        "-1e308",
        "1.7976931348623157e308",
        "5e-324",
        "1e-400",
        "1e400",
        "nan",
        "inf",
        "-inf",
        "abc",
        "0x10",
        "+.5",
        "1_000",
        "１",
    ];
    const SEPARATORS: [&str; 6] = [" ", "\n", "\r", "\r\n", "\t", "  \n\n"];
    let mut pick = Pick(Xoshiro256PlusPlus::seed_from_u64(34));
    for case in 0..cases() {
        let mut text = String::new();
        for _ in 0..pick.below(12) {
            text.push_str(TOKENS[pick.below(TOKENS.len() as u64) as usize]);
            text.push_str(SEPARATORS[pick.below(SEPARATORS.len() as u64) as usize]);
        }
        let lines = 1 + text.matches(['\n', '\r']).count() as u64;
        match pollster::block_on(Source::from_reader(Cursor::new(text.clone())).reduce()) {
            Ok(numbers) => {
                if numbers.count() > 0 {
                    assert!(numbers.mean().is_finite(), "case {case}: {text:?}");
                    assert!(!numbers.variance().is_nan(), "case {case}: {text:?}");
                }
            }
            Err(Error::Parse { line, .. }) => {
                assert!(
                    (1..=lines).contains(&line),
                    "case {case}: line {line} of {text:?}"
                )
            }
            Err(other) => panic!("case {case}: {other} for {text:?}"),
        }
        // The same numbers as a stream of values, whatever they are.
        let values: Vec<f64> = (0..pick.below(8)).map(|_| pick.f64()).collect();
        let streamed =
            pollster::block_on(Source::from_stream(futures::stream::iter(values.clone())).reduce());
        match streamed {
            Ok(numbers) if values.iter().all(|v| v.is_finite()) && !values.is_empty() => {
                assert!(numbers.mean().is_finite(), "case {case}: {values:?}");
                assert!(!numbers.variance().is_nan(), "case {case}: {values:?}");
            }
            Ok(_) => {}
            Err(err) => assert!(!err.to_string().is_empty()),
        }
    }
}
