//! Numbers from anywhere: a stream of values, a stream of batches, or
//! whitespace-separated text from an async reader.

mod parse;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::io::{AsyncBufRead, AsyncBufReadExt};
use futures::stream::{BoxStream, Stream, StreamExt};

use crate::driver::YieldNow;
use crate::runtime::progress::ProgressCell;
use crate::runtime::task::TaskLink;
use crate::{Accumulator, Error, Estimate, Executor, Progress, Stop, Task};
use parse::NumberParser;

/// Numbers reduced between progress reports and yields: often enough that a
/// source that is always ready (an in-memory stream) neither starves the
/// host's other tasks nor goes quiet, rarely enough to cost nothing.
const NUMBERS_PER_REPORT: u64 = 1 << 14;

/// Numbers to reduce to their count, mean and standard error: the generic
/// pipeline's source, for data that comes from IO rather than a sampler.
///
/// Values enter the [`Accumulator`] one at a time, in input order, so the
/// result has the same bits however the input was split into batches or
/// buffers. Memory stays bounded for an input of any length: nothing is
/// kept but the accumulator and one token. A value that is not finite is an
/// error, never a silent NaN.
///
/// # Examples
///
/// ```
/// use quadpipe::Source;
///
/// # pollster::block_on(async {
/// let text = futures::io::Cursor::new("1 2 3\n4\n");
/// let numbers = Source::from_reader(text).reduce().await?;
/// assert_eq!((numbers.count(), numbers.mean()), (4, 2.5));
///
/// let values = futures::stream::iter([1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(Source::from_stream(values).reduce().await?, numbers);
/// # Ok::<(), quadpipe::Error>(())
/// # }).unwrap();
/// ```
pub struct Source {
    input: Input,
}

enum Input {
    Values(BoxStream<'static, f64>),
    Batches(BoxStream<'static, Box<dyn AsRef<[f64]> + Send>>),
    Text(Pin<Box<dyn AsyncBufRead + Send>>),
}

impl Source {
    /// A source of single values.
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let values = futures::stream::iter((1..=100).map(f64::from));
    /// let numbers = quadpipe::Source::from_stream(values).reduce().await?;
    /// assert_eq!(numbers.mean(), 50.5);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn from_stream(values: impl Stream<Item = f64> + Send + 'static) -> Source {
        Source {
            input: Input::Values(values.boxed()),
        }
    }

    /// A source of batches: anything that derefs to `[f64]`, such as
    /// `Vec<f64>` or `Box<[f64]>`.
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let batches = futures::stream::iter([vec![1.0, 2.0], vec![], vec![3.0]]);
    /// let numbers = quadpipe::Source::from_batches(batches).reduce().await?;
    /// assert_eq!(numbers.count(), 3);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn from_batches<B>(batches: impl Stream<Item = B> + Send + 'static) -> Source
    where
        B: AsRef<[f64]> + Send + 'static,
    {
        let boxed = batches.map(|batch| Box::new(batch) as Box<dyn AsRef<[f64]> + Send>);
        Source {
            input: Input::Batches(boxed.boxed()),
        }
    }

    /// A source of text: numbers separated by any ASCII whitespace
    /// (spaces, tabs, newlines, `\r\n`), in any format `f64::from_str`
    /// takes: `3`, `-2.5`, `1e-3`, `+.5`.
    ///
    /// `nan`, `inf` and values too large for an f64 are refused like any
    /// other bad token: [`Error::Parse`] names the line and quotes the text
    /// (up to 64 characters). A token longer than 1024 bytes is refused the
    /// same way, so memory stays bounded even for input without a blank.
    /// Lines end at `\n`, `\r\n` or a lone `\r`.
    ///
    /// Numbers are read as Rust's `f64::from_str` reads them, rounded to
    /// the nearest f64: a value too small for an f64 becomes a subnormal or
    /// 0 (`1e-400` reads as 0, as it would in any f64 program), while one
    /// too large for it is refused with [`Error::Parse`] naming its line
    /// (`1e400` would otherwise become an infinity).
    ///
    /// A read failure is [`Error::Read`], naming the line reached, with
    /// the `io::Error` as its source.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Source};
    ///
    /// # pollster::block_on(async {
    /// let text = futures::io::Cursor::new("1.5\n2.5\nthree\n");
    /// let err = Source::from_reader(text).reduce().await.unwrap_err();
    /// assert!(matches!(err, Error::Parse { line: 3, .. }));
    /// assert_eq!(err.to_string(), "line 3: \"three\" is not a finite number");
    /// # });
    /// ```
    pub fn from_reader(reader: impl AsyncBufRead + Send + 'static) -> Source {
        Source {
            input: Input::Text(Box::pin(reader)),
        }
    }

    /// Reduces the numbers in the awaiting task. Dropping the future stops
    /// reading.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] and [`Error::Read`] from a reader;
    /// [`Error::NonFiniteInput`] for a NaN or infinite value in a stream.
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let numbers = quadpipe::Source::from_stream(futures::stream::iter([2.0, 4.0]))
    ///     .reduce()
    ///     .await?;
    /// assert_eq!(numbers.std_error(), 1.0);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn reduce(self) -> impl Future<Output = Result<Accumulator, Error>> + Send + 'static {
        let progress = Arc::new(ProgressCell::default());
        async move { self.reduce_into(&progress).await }
    }

    /// Reduces the numbers in a task on `executor`, whose progress counts
    /// the numbers so far and carries their mean ± standard error as its
    /// estimate (`total` is unknown).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Executor, Source};
    ///
    /// let executor = Executor::builder().threads(1).build()?;
    /// let values = futures::stream::iter((0..1000).map(f64::from));
    /// let mut task = Source::from_stream(values).spawn_on(&executor);
    /// let numbers = executor.block_on(&mut task)?;
    /// assert_eq!(task.progress().done, 1000);
    /// assert_eq!(task.progress().estimate.unwrap().value, numbers.mean());
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn spawn_on(self, executor: &Executor) -> Task<Accumulator> {
        let link = TaskLink::default();
        let progress = link.progress.clone();
        executor.spawn_tracked(async move { self.reduce_into(&progress).await }, link)
    }

    async fn reduce_into(self, progress: &ProgressCell) -> Result<Accumulator, Error> {
        let mut numbers = Accumulator::new();
        let mut reported = 0;
        let report = |numbers: &Accumulator, stop: Stop| {
            progress.set(Progress {
                done: numbers.count(),
                total: None,
                estimate: Some(Estimate::new(
                    numbers.mean(),
                    numbers.std_error(),
                    numbers.count(),
                    stop,
                )),
            });
        };
        // Reports and yields once another `NUMBERS_PER_REPORT` are in.
        let mut checkpoint = async |numbers: &Accumulator| {
            if numbers.count() >= reported + NUMBERS_PER_REPORT {
                reported = numbers.count();
                report(numbers, Stop::Partial);
                YieldNow::default().await;
            }
        };
        match self.input {
            Input::Values(mut values) => {
                while let Some(value) = values.next().await {
                    push_finite(&mut numbers, value)?;
                    checkpoint(&numbers).await;
                }
            }
            Input::Batches(mut batches) => {
                while let Some(batch) = batches.next().await {
                    for &value in (*batch).as_ref() {
                        push_finite(&mut numbers, value)?;
                    }
                    checkpoint(&numbers).await;
                }
            }
            Input::Text(mut reader) => {
                let mut parser = NumberParser::new();
                loop {
                    let bytes = reader.fill_buf().await.map_err(|err| Error::Read {
                        line: parser.line(),
                        error: Arc::new(err),
                    })?;
                    if bytes.is_empty() {
                        parser.finish(&mut numbers)?;
                        break;
                    }
                    let read = bytes.len();
                    parser.feed(bytes, &mut numbers)?;
                    reader.consume_unpin(read);
                    checkpoint(&numbers).await;
                }
            }
        }
        report(&numbers, Stop::EndOfInput);
        Ok(numbers)
    }
}

fn push_finite(numbers: &mut Accumulator, value: f64) -> Result<(), Error> {
    if !value.is_finite() {
        return Err(Error::NonFiniteInput {
            position: numbers.count() + 1,
            value,
        });
    }
    numbers.push(value);
    Ok(())
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = match self.input {
            Input::Values(_) => "stream of values",
            Input::Batches(_) => "stream of batches",
            Input::Text(_) => "reader of text",
        };
        f.debug_struct("Source").field("input", &input).finish()
    }
}
