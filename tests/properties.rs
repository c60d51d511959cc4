//! Properties over generated inputs: the promises the other test files
//! check at chosen points, checked at points proptest chooses.
//!
//! - **Accumulator merges.** Merging the parts of any data, cut anywhere,
//!   gives the count of pushing every value and its mean and variance to
//!   within a bound derived from the data; merges associate to within the
//!   same bound; the same merges in the same order give the same bits.
//! - **The chunking contract.** A run's bits are a function of its spec:
//!   integrand, domain, method, sample budget, chunk size and seed. The
//!   chunk size and the seed are part of the spec because they choose the
//!   streams: chunk `i` covers samples `i·chunk_size ..` and draws them from
//!   streams keyed by `(seed, i)`. Everything else may split a run without
//!   changing the bits, because chunks merge in chunk order whichever
//!   finished first: the thread count, the spawner (the bundled
//!   [`Executor`], a `futures` `ThreadPool`, [`Inline`]), and the window of
//!   chunks in flight (four per worker on the bundled pool, four per core
//!   through a spawn function, one at a time inline).
//! - **Sources split anywhere.** A stream, the same values in batches cut
//!   anywhere, and their text read through a buffer of any size reduce to
//!   the same bits, those of pushing the values one by one.
//! - **The number parser never panics.** Any bytes reduce to `Ok`, with one
//!   value per token, or to [`Error::Parse`] naming the 1-based line of the
//!   first bad token and quoting it; `nan` and `inf` are bad tokens.
//!
//! Case counts (`CASES_*` below) keep the whole file to a few seconds in
//! the test profile; `PROPTEST_CASES` does not override them. A failing
//! input's seed lands in `properties.proptest-regressions` beside this
//! file and is tried first on every later run: commit it.

mod common;

use std::ops::Range;
use std::sync::OnceLock;

use common::watchdog;
use futures::executor::ThreadPool;
use futures::io::{BufReader, Cursor};
use futures::stream;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;
use quadpipe::{Accumulator, Error, Estimate, Executor, Inline, Integral, Spawner};
use quadpipe::{Integrand, Source, Stop};

/// Accumulator cases: a few hundred values each, microseconds a case.
const CASES_ACCUMULATOR: u32 = 512;
/// Integral cases: three runs each (inline, bundled pool, `ThreadPool`),
/// up to [`MAX_CHUNKS`] chunks, tens of milliseconds at worst.
const CASES_INTEGRAL: u32 = 24;
/// Source cases: up to 300 values, each read three ways.
const CASES_SOURCE: u32 = 256;
/// Parser cases: up to a few KiB of bytes, read twice.
const CASES_PARSER: u32 = 512;

// ---------------------------------------------------------------------------
// Accumulator merges
// ---------------------------------------------------------------------------

/// Data that strains the two update formulas: a large offset plus a small
/// spread (where a naive sum of squares cancels), magnitudes mixed over 200
/// decades, values anywhere up to ±1e150, and constant data (variance
/// exactly 0, which the bound below requires to the bit). Magnitudes stay
/// within 1e±100 or so, so that no square overflows or underflows.
fn data() -> impl Strategy<Value = Vec<f64>> {
    let offset = select(&[0.0, 1.0e3, 1.0e6, 1.0e9, -1.0e9, 1.0e12][..]);
    let spread = select(&[1.0e-3, 1.0, 1.0e3][..]);
    let shifted = (offset, spread, vec(-1.0..1.0f64, 2..300))
        .prop_map(|(offset, spread, xs)| xs.into_iter().map(|x| offset + spread * x).collect());
    let mixed = vec(
        (-1.0..1.0f64, -100..=100i32).prop_map(|(x, exponent)| x * 10f64.powi(exponent)),
        2..300,
    );
    let wide = vec(-1.0e150..1.0e150f64, 2..300);
    let constant = (-1.0e150..1.0e150f64, 2..300usize).prop_map(|(x, n)| vec![x; n]);
    prop_oneof![3 => shifted, 3 => mixed, 3 => wide, 1 => constant]
}

/// Cuts `0..len` at `cuts` (in any order, repeats allowed): the parts,
/// empty ones included, in order.
fn parts(len: usize, cuts: &[Index]) -> Vec<Range<usize>> {
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(len + 1)).collect();
    points.sort_unstable();
    points.insert(0, 0);
    points.push(len);
    points.windows(2).map(|pair| pair[0]..pair[1]).collect()
}

fn pushed(values: &[f64]) -> Accumulator {
    let mut acc = Accumulator::new();
    values.iter().for_each(|&x| acc.push(x));
    acc
}

fn merged(parts: &[Accumulator]) -> Accumulator {
    let mut acc = Accumulator::new();
    parts.iter().for_each(|part| acc.merge(part));
    acc
}

/// Everything an accumulator holds, bit for bit: `Debug` prints its `M2`
/// in the shortest text that round-trips, so distinct bits print apart.
fn acc_bits(acc: &Accumulator) -> (u64, u64, u64, String) {
    (
        acc.count(),
        acc.mean().to_bits(),
        acc.variance().to_bits(),
        format!("{acc:?}"),
    )
}

/// How far two accumulators of the same `data` may be apart when they
/// were rounded differently (pushed vs merged, or merged in another
/// bracketing). Returns `(mean, variance)` tolerances.
///
/// Let `M = max |x|`, `R = max x - min x` and `ε` the unit roundoff
/// (taken as `f64::EPSILON`, twice that, for a margin of 2). Each
/// update, a push (Welford) or a merge (Chan et al.), forms the new mean as
/// a convex combination of the old one and the new data, so earlier errors
/// are never amplified, and rounds it with an error of a few `ε·M` (the
/// delta, the division, the product, the sum: at most `3ε·M`). After at
/// most `n` updates each side is within `3n·ε·M` of the exact mean, the two
/// within `6n·ε·M`: we allow `8n·ε·M`.
///
/// Each update adds to `M2` a product of two deviations of size at most
/// `R`, each off by the mean's error: at most `2R·3n·ε·M + ε·R²`, so `M2`
/// is off by at most `n·(6n·ε·M·R + ε·R²) ≤ 8n²·ε·M·R` (as `R ≤ 2M`) on
/// each side, and the variance, `M2 / (n - 1)`, by at most
/// `16n·ε·M·R·n/(n - 1) ≤ 32n·ε·M·R` between the two sides.
///
/// When the variance is not tiny relative to the mean squared, this is a
/// relative bound: no value lies more than `√(n - 1)` standard deviations
/// from the mean, so `M·R` is at most about `2n` variances, and the bound
/// at most `64n²·ε`, 1e-9 at n = 300 (and ~1e-11 for typical data, where
/// `M·R` is a few variances). When the data sit on a large offset, it is
/// the absolute loss that the offset forces on any f64 algorithm that
/// stores the mean. Observed errors stay under 2% of it.
fn tolerance(data: &[f64]) -> (f64, f64) {
    let n = data.len() as f64;
    let largest = data.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let lowest = data.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = highest - lowest;
    (
        8.0 * n * f64::EPSILON * largest,
        32.0 * n * f64::EPSILON * largest * range,
    )
}

/// Asserts that `got` has the same count as `want` and its mean and
/// variance within `tolerance(data)`.
fn close(data: &[f64], got: &Accumulator, want: &Accumulator) -> Result<(), TestCaseError> {
    let (mean_tol, var_tol) = tolerance(data);
    prop_assert_eq!(got.count(), want.count());
    let (mean_err, var_err) = (
        (got.mean() - want.mean()).abs(),
        (got.variance() - want.variance()).abs(),
    );
    prop_assert!(
        mean_err <= mean_tol,
        "mean {} vs {}: off by {mean_err:e}, allowed {mean_tol:e}",
        got.mean(),
        want.mean()
    );
    prop_assert!(
        var_err <= var_tol,
        "variance {} vs {}: off by {var_err:e}, allowed {var_tol:e}",
        got.variance(),
        want.variance()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_ACCUMULATOR))]

    #[test]
    fn merged_parts_match_pushing_every_value(
        data in data(),
        cuts in vec(any::<Index>(), 1..=4),
    ) {
        let parts: Vec<Accumulator> = parts(data.len(), &cuts)
            .into_iter()
            .map(|part| pushed(&data[part]))
            .collect();
        let whole = merged(&parts);
        prop_assert_eq!(whole.count(), data.len() as u64);
        close(&data, &whole, &pushed(&data))?;
    }

    #[test]
    fn merges_associate_up_to_rounding(data in data(), cuts in [any::<Index>(), any::<Index>()]) {
        let parts: Vec<Accumulator> = parts(data.len(), &cuts)
            .into_iter()
            .map(|part| pushed(&data[part]))
            .collect();
        let [a, b, c] = [parts[0], parts[1], parts[2]];
        // (a·b)·c
        let mut left = a;
        left.merge(&b);
        left.merge(&c);
        // a·(b·c)
        let mut bc = b;
        bc.merge(&c);
        let mut right = a;
        right.merge(&bc);
        close(&data, &left, &right)?;
    }

    #[test]
    fn the_same_merges_give_the_same_bits(
        data in data(),
        cuts in vec(any::<Index>(), 1..=4),
    ) {
        let run = || {
            let parts: Vec<Accumulator> = parts(data.len(), &cuts)
                .into_iter()
                .map(|part| pushed(&data[part]))
                .collect();
            merged(&parts)
        };
        let (first, second) = (run(), run());
        prop_assert_eq!(acc_bits(&first), acc_bits(&second));
        prop_assert_eq!(first.std_error().to_bits(), second.std_error().to_bits());
        prop_assert_eq!(first.sum().to_bits(), second.sum().to_bits());
    }
}

// ---------------------------------------------------------------------------
// The chunking contract
// ---------------------------------------------------------------------------

/// The most chunks a generated run may have. Each chunk costs a few
/// microseconds of spawning and merging on top of its samples, so 200,000
/// chunks of one sample would take seconds a case; 4096 chunks still fill
/// the widest window (16 chunks: four per worker, four workers) 256 times.
const MAX_CHUNKS: u64 = 4096;

/// One generated run: the spec's budget, chunk size and seed, and the
/// thread count of the pools it runs on.
#[derive(Clone, Debug)]
struct Run {
    samples: u64,
    chunk_size: u64,
    seed: u64,
    threads: usize,
}

/// Samples in `1..200_000` (a quarter under 64: a few steps of the
/// kernel's 16 lanes, or part of one), a chunk size in `1..50_000`
/// (log-uniform, so that runs of one chunk, a few, and thousands are all
/// common; no smaller than keeps chunks within [`MAX_CHUNKS`]), any seed,
/// 1 to 4 threads.
fn runs() -> impl Strategy<Value = Run> {
    let samples = prop_oneof![3 => 1..200_000u64, 1 => 1..64u64];
    (samples, 0.0..=1.0f64, any::<u64>(), 1..=4usize).prop_map(
        |(samples, position, seed, threads)| {
            let fewest = samples.div_ceil(MAX_CHUNKS) as f64;
            let chunk_size = (fewest * (50_000.0 / fewest).powf(position)) as u64;
            Run {
                samples,
                chunk_size: chunk_size.clamp(fewest as u64, 49_999),
                seed,
                threads,
            }
        },
    )
}

/// The bundled pool with `threads` workers, one per thread count for the
/// whole file.
fn bundled(threads: usize) -> &'static Executor {
    static POOLS: [OnceLock<Executor>; 4] = [const { OnceLock::new() }; 4];
    POOLS[threads - 1].get_or_init(|| {
        Executor::builder()
            .threads(threads)
            .name("props")
            .build()
            .expect("start the bundled pool")
    })
}

/// A `futures` thread pool with `threads` threads, one per thread count.
fn thread_pool(threads: usize) -> &'static ThreadPool {
    static POOLS: [OnceLock<ThreadPool>; 4] = [const { OnceLock::new() }; 4];
    POOLS[threads - 1].get_or_init(|| {
        ThreadPool::builder()
            .pool_size(threads)
            .name_prefix("props-pool-")
            .create()
            .expect("start the futures pool")
    })
}

fn estimate_bits(estimate: &Estimate) -> (u64, u64, u64, u64) {
    (
        estimate.value.to_bits(),
        estimate.std_error.to_bits(),
        estimate.samples,
        estimate.skipped,
    )
}

/// Runs `integral` inline, on the bundled pool and on a `ThreadPool`, with
/// `run`'s settings, asserts the three estimates are the same bits, and
/// returns the inline one.
fn same_bits_everywhere<I: Integrand>(
    integral: Integral<I>,
    run: &Run,
) -> Result<Estimate, TestCaseError> {
    let integral = integral
        .samples(run.samples)
        .chunk_size(run.chunk_size)
        .seed(run.seed);
    let outcome = |name: &str, result: Result<Estimate, Error>| {
        result.map_err(|err| TestCaseError::fail(format!("{name}: {err}")))
    };
    let inline = outcome("inline", pollster::block_on(integral.run_on(Inline)))?;
    let pooled = outcome(
        "bundled",
        pollster::block_on(integral.run_on(bundled(run.threads))),
    )?;
    let spawner = Spawner::from(thread_pool(run.threads));
    let futures_pool = outcome("ThreadPool", pollster::block_on(integral.run_on(&spawner)))?;
    for (name, other) in [("bundled", pooled), ("ThreadPool", futures_pool)] {
        prop_assert_eq!(&other, &inline, "{} vs inline", name);
        prop_assert_eq!(
            estimate_bits(&other),
            estimate_bits(&inline),
            "{} vs inline",
            name
        );
    }
    Ok(inline)
}

type Line = fn(f64) -> f64;
type Point = fn(&[f64]) -> f64;

/// Integrands of one variable: odd and even, bounded and growing.
const LINES: [Line; 4] = [
    |x| x,
    f64::sin,
    |x| x * x - 3.0 * x,
    |x| 1.0 / (1.0 + x * x),
];

/// Integrands of a point: additive, separable, and neither.
const POINTS: [Point; 3] = [
    |p| p.iter().sum(),
    |p| p.iter().map(|x| x.cos()).product(),
    |p| (-p.iter().map(|x| x * x).sum::<f64>()).exp() * (1.0 + p[0]),
];

/// An interval in [-50, 50], either way round, and now and then of zero
/// width (whose integral is exactly 0).
fn intervals() -> impl Strategy<Value = (f64, f64)> {
    prop_oneof![
        9 => (-50.0..50.0f64, -50.0..50.0f64),
        1 => (-50.0..50.0f64).prop_map(|a| (a, a)),
    ]
}

/// A box of 1 to 4 axes, each somewhere in [-5, 15] and at least 1e-3 wide.
fn boxes() -> impl Strategy<Value = Vec<Range<f64>>> {
    vec(
        (-5.0..5.0f64, 1.0e-3..10.0f64).prop_map(|(lower, width)| lower..lower + width),
        1..=4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_INTEGRAL))]

    #[test]
    fn one_variable_same_bits_on_every_spawner(
        run in runs(),
        integrand in 0..LINES.len(),
        (a, b) in intervals(),
    ) {
        let samples = run.samples;
        let estimate =
            watchdog(move || same_bits_everywhere(Integral::new(LINES[integrand], a..b), &run))?;
        if a == b {
            // Zero width: exactly 0, from no samples at all (`Stop::Exact`).
            prop_assert_eq!((estimate.value, estimate.samples), (0.0, 0));
            prop_assert_eq!(estimate.stop, Stop::Exact);
        } else {
            prop_assert_eq!(estimate.samples, samples);
            prop_assert_eq!(estimate.stop, Stop::SampleBudget);
        }
    }

    #[test]
    fn box_same_bits_on_every_spawner(
        run in runs(),
        integrand in 0..POINTS.len(),
        axes in boxes(),
    ) {
        let samples = run.samples;
        let estimate =
            watchdog(move || same_bits_everywhere(Integral::over(POINTS[integrand], axes), &run))?;
        prop_assert_eq!(estimate.samples, samples);
        prop_assert_eq!(estimate.stop, Stop::SampleBudget);
    }
}

// ---------------------------------------------------------------------------
// Sources split anywhere
// ---------------------------------------------------------------------------

/// Any finite f64, from subnormals to `f64::MAX` (whose statistics may
/// overflow: bits are bits), mixed with everyday values.
fn finite() -> impl Strategy<Value = f64> {
    use proptest::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    prop_oneof![
        POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO,
        -1.0e6..1.0e6f64,
    ]
}

/// The blanks a text source must take between numbers. (`\x0b`, vertical
/// tab, is not one: `u8::is_ascii_whitespace` leaves it out.)
const BLANKS: [&str; 6] = [" ", "\n", "\t", "\r\n", "  \n\t", "\x0c"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_SOURCE))]

    #[test]
    fn stream_batches_and_text_give_the_same_bits(
        values in vec((finite(), 0..BLANKS.len()), 0..300),
        leading in 0..BLANKS.len(),
        cuts in vec(any::<Index>(), 0..8),
        buffer in 1..=64usize,
    ) {
        let numbers: Vec<f64> = values.iter().map(|&(x, _)| x).collect();
        let mut text = String::from(BLANKS[leading]);
        for &(x, blank) in &values {
            text.push_str(&format!("{x}{}", BLANKS[blank]));
        }
        let batches: Vec<Vec<f64>> = parts(numbers.len(), &cuts)
            .into_iter()
            .map(|part| numbers[part].to_vec())
            .collect();
        let want = acc_bits(&pushed(&numbers));
        watchdog(move || {
            let streamed = pollster::block_on(Source::from_stream(stream::iter(numbers)).reduce());
            let batched = pollster::block_on(Source::from_batches(stream::iter(batches)).reduce());
            let reader = BufReader::with_capacity(buffer, Cursor::new(text.into_bytes()));
            let read = pollster::block_on(Source::from_reader(reader).reduce());
            for (name, got) in [("stream", streamed), ("batches", batched), ("text", read)] {
                let got = got.map_err(|err| TestCaseError::fail(format!("{name}: {err}")))?;
                prop_assert_eq!(&acc_bits(&got), &want, "{}", name);
            }
            Ok(())
        })?;
    }
}

// ---------------------------------------------------------------------------
// The number parser never panics
// ---------------------------------------------------------------------------

/// The longest token `Source::from_reader` accepts, in bytes (its docs).
const MAX_TOKEN: usize = 1024;
/// How many characters of a bad token an error quotes (its docs).
const QUOTED: usize = 64;

/// What the docs of `Source::from_reader` say `input` gives: every token
/// (a run of bytes other than ASCII whitespace) parsed as a finite f64, or
/// the 1-based line and bytes of the first one that is not (too long, not
/// UTF-8, not a number, or not finite).
fn expected(input: &[u8]) -> Result<Vec<f64>, (u64, &[u8])> {
    let mut values = Vec::new();
    let mut start = None;
    // A blank after the end closes the last token.
    let bytes = input.iter().copied().chain([b' ']).enumerate();
    for (i, byte) in bytes {
        match (byte.is_ascii_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(first)) => {
                start = None;
                let token = &input[first..i];
                let value = (token.len() <= MAX_TOKEN)
                    .then(|| std::str::from_utf8(token).ok()?.parse::<f64>().ok())
                    .flatten()
                    .filter(|value| value.is_finite());
                match value {
                    Some(value) => values.push(value),
                    None => {
                        return Err((line_breaks(&input[..first]) + 1, token));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(values)
}

/// The line breaks in `text`: `\n`, `\r\n` and a lone `\r` each end one.
fn line_breaks(text: &[u8]) -> u64 {
    let lone_crs = text
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\r' && text.get(i + 1) != Some(&b'\n'))
        .count();
    (text.iter().filter(|&&b| b == b'\n').count() + lone_crs) as u64
}

/// How an error quotes `token`: its lossy text, cut to [`QUOTED`]
/// characters with an ellipsis if longer.
fn quoted(token: &[u8]) -> String {
    let text = String::from_utf8_lossy(token);
    if text.chars().count() > QUOTED {
        text.chars().take(QUOTED).chain(['…']).collect()
    } else {
        text.into_owned()
    }
}

/// Checks `outcome`, the reduction of `input`, against [`expected`].
fn parsed_as_documented(
    input: &[u8],
    outcome: Result<Accumulator, Error>,
) -> Result<(), TestCaseError> {
    match (expected(input), outcome) {
        (Ok(values), Ok(numbers)) => {
            let tokens = input
                .split(u8::is_ascii_whitespace)
                .filter(|token| !token.is_empty())
                .count();
            prop_assert_eq!(numbers.count(), tokens as u64);
            prop_assert_eq!(values.len(), tokens);
            prop_assert_eq!(acc_bits(&numbers), acc_bits(&pushed(&values)));
        }
        (Err((want_line, bad)), Err(Error::Parse { line, token })) => {
            prop_assert_eq!(line, want_line, "the line of {:?}", token);
            // The brief form of the promise: a prefix of the token's lossy
            // text, at most 64 characters plus an ellipsis...
            let text = String::from_utf8_lossy(bad);
            let head = token.strip_suffix('…').filter(|_| token != text);
            let head = head.unwrap_or(token.as_str());
            prop_assert!(text.starts_with(head), "{:?} quotes {:?}", token, text);
            prop_assert!(head.chars().count() <= QUOTED, "{:?} is too long", token);
            // ...and the exact one.
            prop_assert_eq!(token, quoted(bad));
        }
        (want, got) => {
            let want = want.map(|values| values.len());
            let want = want.map_err(|(line, bad)| (line, String::from_utf8_lossy(bad)));
            return Err(TestCaseError::fail(format!(
                "expected {want:?}, got {got:?}"
            )));
        }
    }
    Ok(())
}

/// Reduces `input` from a `Cursor` and through a `BufReader` of `buffer`
/// bytes, and checks both outcomes against the docs.
fn check_parse(input: Vec<u8>, buffer: usize) -> Result<(), TestCaseError> {
    watchdog(move || {
        let whole = pollster::block_on(Source::from_reader(Cursor::new(input.clone())).reduce());
        parsed_as_documented(&input, whole)?;
        let reader = BufReader::with_capacity(buffer, Cursor::new(input.clone()));
        let pieces = pollster::block_on(Source::from_reader(reader).reduce());
        parsed_as_documented(&input, pieces)
    })
}

/// Tokens and near-tokens a parser trips on: signs and exponents alone,
/// other radixes and separators, non-finite words, overflow and underflow,
/// invalid and truncated UTF-8, multi-byte characters, a vertical tab (not
/// a blank) and a NUL.
const WORDS: &[&[u8]] = &[
    b"0",
    b"7",
    b"-2.5",
    b"+.5",
    b"1e-3",
    b"1E5",
    b"-0",
    b"00012",
    b".",
    b"-",
    b"e5",
    b"1e",
    b"0x10",
    b"1_000",
    b"5,5",
    b"nan",
    b"NaN",
    b"inf",
    b"-infinity",
    b"Infinity",
    b"1e999",
    b"-1e400",
    b"1e-400",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    "é".as_bytes(),
    "…".as_bytes(),
    b"\x0b",
    b"\0",
];

/// Blanks, `\r` alone and blank lines included.
const BLANK_BYTES: &[&[u8]] = &[b" ", b"\n", b"\t", b"\r\n", b"\r", b"\x0c", b"\n\n"];

/// What long runs of non-blanks are made of.
const RUNS: &[&[u8]] = &[b"7", b"0", b"a", b".", "é".as_bytes(), b"\xff"];

/// A decimal of `len` bytes that parses (to 0, by underflow).
fn long_decimal(len: usize) -> Vec<u8> {
    format!("0.{}1", "0".repeat(len - 3)).into_bytes()
}

/// A token that parses and is accepted: any finite f64 in either
/// notation, any integer, or a decimal up to the 1024-byte limit.
fn good_token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => finite().prop_map(|x| format!("{x}").into_bytes()),
        2 => finite().prop_map(|x| format!("{x:+e}").into_bytes()),
        2 => any::<i64>().prop_map(|i| format!("{i}").into_bytes()),
        1 => (MAX_TOKEN - 8..=MAX_TOKEN).prop_map(long_decimal),
    ]
}

/// A token that may not be: one of [`WORDS`], a decimal just past the
/// limit (refused, although it parses), or a run of non-blanks around or
/// far past it.
fn bad_token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(WORDS).prop_map(<[u8]>::to_vec),
        1 => (MAX_TOKEN + 1..=MAX_TOKEN + 8).prop_map(long_decimal),
        1 => (select(RUNS), 1..1500usize).prop_map(|(run, times)| run.repeat(times)),
    ]
}

/// Text as a file of numbers looks: tokens and blanks in turn, with at
/// most one bad token somewhere (half the inputs are all good), or pieces
/// of every kind run together at random.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let blank = || select(BLANK_BYTES).prop_map(<[u8]>::to_vec);
    let well_formed = (
        vec((good_token(), blank()), 0..200),
        proptest::option::of((any::<Index>(), bad_token())),
    )
        .prop_map(|(mut pairs, bad)| {
            if let Some((at, token)) = bad {
                let at = at.index(pairs.len() + 1);
                pairs.insert(at, (token, b" ".to_vec()));
            }
            pairs
                .into_iter()
                .flat_map(|(token, blank)| [token, blank])
                .collect::<Vec<_>>()
                .concat()
        });
    let piece = prop_oneof![
        4 => blank(),
        5 => good_token(),
        3 => bad_token(),
    ];
    let chaos = vec(piece, 0..64).prop_map(|pieces| pieces.concat());
    prop_oneof![well_formed, chaos]
}

/// Words `f64::from_str` reads as NaN or an infinity, which the docs say
/// are refused; the last, 400 nines, also has to be quoted in part.
fn non_finite_words() -> Vec<String> {
    let words = [
        "nan",
        "NaN",
        "+nan",
        "inf",
        "-inf",
        "+Infinity",
        "-infinity",
        "INF",
        "1e999",
        "-1e400",
        "1.8e308",
    ];
    let mut words: Vec<String> = words.map(String::from).into();
    words.push("9".repeat(400));
    words
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_PARSER))]

    #[test]
    fn any_bytes_parse_or_name_the_line(
        input in vec(any::<u8>(), 0..4096),
        buffer in 1..=64usize,
    ) {
        check_parse(input, buffer)?;
    }

    #[test]
    fn number_soup_parses_or_names_the_line(input in soup(), buffer in 1..=64usize) {
        check_parse(input, buffer)?;
    }

    #[test]
    fn non_finite_tokens_are_refused(
        before in vec((finite(), 0..BLANKS.len()), 0..50),
        word in select(non_finite_words()),
        after in vec((finite(), 0..BLANKS.len()), 0..50),
    ) {
        let mut text = String::new();
        for &(x, blank) in &before {
            text.push_str(&format!("{x}{}", BLANKS[blank]));
        }
        let line = text.matches('\n').count() as u64 + 1;
        text.push_str(&word);
        for &(x, blank) in &after {
            text.push_str(&format!("{}{x}", BLANKS[blank]));
        }
        watchdog(move || {
            let outcome = pollster::block_on(Source::from_reader(Cursor::new(text)).reduce());
            match outcome {
                Err(Error::Parse { line: got, token }) => {
                    prop_assert_eq!(got, line);
                    prop_assert_eq!(token, quoted(word.as_bytes()));
                }
                other => {
                    return Err(TestCaseError::fail(format!("{word:?} was not refused: {other:?}")));
                }
            }
            Ok(())
        })?;
    }
}
