//! Numbers from streams and readers: the same bits however the input is
//! cut, clear errors that name the line, bounded memory, and cancellation.

mod common;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{FailsAfter, eventually, watchdog};
use futures::io::{AsyncRead, BufReader, Cursor};
use futures::stream;
use quadpipe::{Accumulator, Error, Executor, Source, Status, Stop};

fn text(numbers: impl Iterator<Item = f64>) -> String {
    numbers.map(|x| format!("{x}\n")).collect()
}

#[test]
fn the_same_bits_however_the_input_is_cut() {
    watchdog(|| {
        let values: Vec<f64> = (1..=100_000)
            .map(|i| f64::from(i) * 0.37 - 1000.0)
            .collect();
        let input = text(values.iter().copied());
        let reference =
            pollster::block_on(Source::from_stream(stream::iter(values.clone())).reduce()).unwrap();
        assert_eq!(reference.count(), 100_000);

        for buffer in [1, 7, 64, 8192] {
            let reader = BufReader::with_capacity(buffer, Cursor::new(input.clone()));
            let parsed = pollster::block_on(Source::from_reader(reader).reduce()).unwrap();
            assert_eq!(parsed, reference, "buffer of {buffer}");
        }
        for batch in [1, 3, 1000, 100_000] {
            let batches: Vec<Vec<f64>> = values.chunks(batch).map(<[f64]>::to_vec).collect();
            let reduced =
                pollster::block_on(Source::from_batches(stream::iter(batches)).reduce()).unwrap();
            assert_eq!(reduced, reference, "batches of {batch}");
        }
        let mut pushed = Accumulator::new();
        values.iter().for_each(|&x| pushed.push(x));
        assert_eq!(pushed, reference, "the same as pushing one by one");
    });
}

#[test]
fn seq_style_input_gives_exact_statistics() {
    let input = text((1..=1000).map(f64::from));
    let numbers = pollster::block_on(Source::from_reader(Cursor::new(input)).reduce()).unwrap();
    assert_eq!(numbers.count(), 1000);
    assert_eq!(numbers.mean(), 500.5);
    // The variance of 1..=n is n(n+1)/12.
    assert!((numbers.variance() / (1000.0 * 1001.0 / 12.0) - 1.0).abs() < 1e-12);
}

#[test]
fn a_malformed_token_names_its_line_and_text() {
    let input = "1 2\n3\n\n4 5,5 6\n";
    let err = pollster::block_on(Source::from_reader(Cursor::new(input)).reduce()).unwrap_err();
    assert!(
        matches!(err, Error::Parse { line: 4, ref token } if token == "5,5"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "line 4: \"5,5\" is not a finite number");
}

#[test]
fn an_io_error_is_returned_with_its_source() {
    let reader = BufReader::new(FailsAfter::new(b"1 2 3\n", "disk on fire"));
    let err = pollster::block_on(Source::from_reader(reader).reduce()).unwrap_err();
    assert!(matches!(err, Error::Read { line: 2, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "reading the input failed on line 2: disk on fire"
    );
    let source = std::error::Error::source(&err).expect("the io::Error");
    assert_eq!(source.to_string(), "disk on fire");
}

#[test]
fn a_non_finite_value_in_a_stream_is_an_error() {
    let values = stream::iter([1.0, 2.0, f64::NAN, 4.0]);
    let err = pollster::block_on(Source::from_stream(values).reduce()).unwrap_err();
    assert!(matches!(err, Error::NonFiniteInput { position: 3, value } if value.is_nan()));
    assert_eq!(err.to_string(), "value 3 of the input is NaN");
}

/// Ten million numbers of text, made as they are read, never held whole.
struct Generated {
    left: u64,
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let pairs = (buf.len() / 2).min(self.left as usize);
        for pair in buf[..2 * pairs].chunks_mut(2) {
            pair.copy_from_slice(b"1 ");
        }
        self.left -= pairs as u64;
        Poll::Ready(Ok(2 * pairs))
    }
}

#[cfg(target_os = "linux")]
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn memory_stays_bounded_for_long_input() {
    watchdog(|| {
        const NUMBERS: u64 = 10_000_000;
        let before = peak_rss_kib();
        let source = Source::from_reader(BufReader::new(Generated { left: NUMBERS }));
        let numbers = pollster::block_on(source.reduce()).unwrap();
        assert_eq!((numbers.count(), numbers.mean()), (NUMBERS, 1.0));
        // 20 MB of input; holding it would show. The slack is for the
        // other tests of this binary, running at the same time.
        let grown = peak_rss_kib() - before;
        assert!(grown < 8 * 1024, "peak RSS grew by {grown} KiB");
    });
}

#[test]
fn a_spawned_source_reports_progress_and_cancels() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let endless = stream::repeat(2.0);
        let mut task = Source::from_stream(endless).spawn_on(&executor);
        assert!(eventually(|| task.progress().done > 100_000));
        let progress = task.progress();
        assert_eq!(progress.total, None);
        let estimate = progress.estimate.unwrap();
        assert_eq!((estimate.value, estimate.stop), (2.0, Stop::Partial));

        task.cancel();
        assert!(matches!(
            executor.block_on(&mut task),
            Err(Error::Cancelled)
        ));
        assert_eq!(task.status(), Status::Cancelled);
        // The one worker is free again: the source yields as it reads.
        assert_eq!(executor.block_on(executor.spawn(async { 1 })).unwrap(), 1);
    });
}

#[test]
fn the_final_progress_marks_the_end_of_input() {
    watchdog(|| {
        let executor = Executor::builder().threads(1).build().unwrap();
        let mut task = Source::from_reader(Cursor::new("4 8 15 16 23 42")).spawn_on(&executor);
        let numbers = executor.block_on(&mut task).unwrap();
        let estimate = task.progress().estimate.unwrap();
        assert_eq!(estimate.stop, Stop::EndOfInput);
        assert_eq!((estimate.value, estimate.samples), (numbers.mean(), 6));
    });
}
