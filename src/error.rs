//! The one error type of the crate.

use std::fmt;
use std::io;
use std::sync::Arc;

/// Everything that can go wrong in quadpipe.
///
/// Bad input is reported when a run starts, never by a panic later on.
/// Every case has a lowercase `Display` text that names what was wrong.
///
/// # Examples
///
/// ```
/// use quadpipe::{Error, Integral};
///
/// # pollster::block_on(async {
/// let err = Integral::new(|x| x, 0.0..1.0).samples(0).run_inline().await.unwrap_err();
/// assert!(matches!(err, Error::ZeroSamples));
/// assert_eq!(err.to_string(), "sample count is zero");
/// # });
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// A bound of the domain is NaN or infinite.
    NonFiniteBound {
        /// The axis whose bound is wrong (0 in one dimension).
        axis: usize,
        /// The offending bound.
        value: f64,
    },
    /// The sample budget is zero.
    ZeroSamples,
    /// The chunk size is zero.
    ZeroChunkSize,
    /// An executor was asked for zero worker threads.
    ZeroThreads,
    /// The `QUADPIPE_THREADS` environment variable is set but is not a
    /// positive integer.
    InvalidThreadsVar {
        /// The variable's value, as found.
        value: String,
    },
    /// The integrand returned NaN or an infinity.
    NonFiniteValue {
        /// Every coordinate of the point where it happened.
        point: Box<[f64]>,
        /// The value it returned there.
        value: f64,
    },
    /// Every integrand value was finite but their sum of squares overflowed.
    Overflow,
    /// The task (or the integrand it called) panicked; the payload's message.
    Panicked(String),
    /// The task was cancelled, its handle dropped, or its executor shut down
    /// before it finished.
    Cancelled,
    /// The operating system refused to start a thread.
    SpawnThread(Arc<io::Error>),
    /// A token of a text source is not a finite number.
    Parse {
        /// The line it is on, counting from 1.
        line: u64,
        /// Its text, up to 64 characters.
        token: String,
    },
    /// A value of a stream source is NaN or infinite.
    NonFiniteInput {
        /// Its position in the stream, counting from 1.
        position: u64,
        /// The value.
        value: f64,
    },
    /// Reading a source failed; the `io::Error` is the source.
    Io(Arc<io::Error>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NonFiniteBound { axis, value } => {
                write!(f, "bound of axis {axis} is not finite: {value}")
            }
            Error::ZeroSamples => f.write_str("sample count is zero"),
            Error::ZeroChunkSize => f.write_str("chunk size is zero"),
            Error::ZeroThreads => f.write_str("thread count is zero"),
            Error::InvalidThreadsVar { value } => {
                write!(f, "QUADPIPE_THREADS is not a positive integer: {value:?}")
            }
            Error::NonFiniteValue { point, value } => {
                write!(f, "integrand returned {value} at ")?;
                match &point[..] {
                    [x] => write!(f, "x = {x}"),
                    coordinates => write!(f, "{coordinates:?}"),
                }
            }
            Error::Overflow => {
                f.write_str("integrand values are finite but too large: their sum overflowed")
            }
            Error::Panicked(message) => write!(f, "task panicked: {message}"),
            Error::Cancelled => f.write_str("task was cancelled"),
            Error::SpawnThread(_) => f.write_str("could not spawn a thread"),
            Error::Parse { line, token } => {
                write!(f, "line {line}: {token:?} is not a finite number")
            }
            Error::NonFiniteInput { position, value } => {
                write!(f, "value {position} of the input is {value}")
            }
            Error::Io(_) => f.write_str("could not read the input"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::SpawnThread(err) | Error::Io(err) => Some(&**err),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_value_names_the_point() {
        let one = Error::NonFiniteValue {
            point: Box::new([0.5]),
            value: f64::NAN,
        };
        assert_eq!(one.to_string(), "integrand returned NaN at x = 0.5");
        let two = Error::NonFiniteValue {
            point: Box::new([0.5, 2.0]),
            value: f64::INFINITY,
        };
        assert_eq!(two.to_string(), "integrand returned inf at [0.5, 2.0]");
    }

    #[test]
    fn spawn_thread_has_a_source() {
        let err = Error::SpawnThread(Arc::new(io::Error::other("no more threads")));
        let source = std::error::Error::source(&err).expect("wraps the io error");
        assert_eq!(source.to_string(), "no more threads");
    }
}
