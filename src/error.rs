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
    /// A box was given no axes at all.
    NoAxes,
    /// An axis of a box is empty or reversed: its lower bound is not below
    /// its upper bound. (Only a one-dimensional interval has an
    /// orientation; a box is a set.)
    EmptyAxis {
        /// The axis.
        axis: usize,
        /// Its lower bound, as given.
        lower: f64,
        /// Its upper bound, as given.
        upper: f64,
    },
    /// The domain's size overflows or underflows an f64: a box's volume,
    /// the product of its widths, or an interval's width (`-1e308..1e308`
    /// is 2e308 wide, beyond `f64::MAX`).
    VolumeOutOfRange {
        /// The product of the widths.
        volume: f64,
    },
    /// The sample budget is zero.
    ZeroSamples,
    /// The chunk size is zero.
    ZeroChunkSize,
    /// A tolerance is negative, NaN or infinite, or both parts are zero.
    InvalidTolerance {
        /// The absolute tolerance asked for.
        abs: f64,
        /// The relative tolerance asked for.
        rel: f64,
    },
    /// The minimum sample count of a tolerance stop exceeds the budget.
    MinSamplesAboveBudget {
        /// The minimum asked for.
        min_samples: u64,
        /// The budget.
        samples: u64,
    },
    /// The time limit is zero.
    ZeroTimeLimit,
    /// Randomised QMC needs at least two replicas to estimate its error.
    TooFewReplicas {
        /// The replica count asked for.
        replicas: u32,
    },
    /// More randomised-QMC replicas than
    /// [`MAX_REPLICAS`](crate::method::MAX_REPLICAS).
    TooManyReplicas {
        /// The replicas asked for.
        replicas: u32,
        /// The most there may be.
        max: u32,
    },
    /// More dimensions than the Sobol direction numbers cover.
    TooManyDimensions {
        /// The dimensions asked for.
        dims: usize,
        /// The most there are direction numbers for.
        max: usize,
    },
    /// Randomised QMC needs a budget of `replicas × 2^m` samples, with at
    /// most 2^32 per replica: a Sobol sequence is balanced only on blocks
    /// of 2^m points.
    SobolSamples {
        /// The budget asked for.
        samples: u64,
        /// The replicas asked for.
        replicas: u32,
    },
    /// Randomised QMC needs a power-of-two chunk size, so that every chunk
    /// is a balanced block of the sequence.
    SobolChunkSize {
        /// The chunk size asked for.
        chunk_size: u64,
    },
    /// An executor was asked for zero worker threads.
    ZeroThreads,
    /// An executor was asked for more worker threads than
    /// [`Executor::MAX_THREADS`](crate::Executor::MAX_THREADS), by
    /// [`Builder::threads`](crate::Builder::threads) or by
    /// `QUADPIPE_THREADS`.
    TooManyThreads {
        /// The thread count asked for.
        threads: u64,
        /// The most an executor may have.
        max: usize,
    },
    /// An executor's thread name contains a NUL byte, which no operating
    /// system takes in a thread name.
    InvalidThreadName {
        /// The name, as given.
        name: String,
    },
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
    /// Reading or writing a checkpoint failed; the `io::Error` is the
    /// source, and its text ends the message.
    Io(Arc<io::Error>),
    /// Reading a text [`Source`](crate::Source) failed part way; the
    /// `io::Error` is the source, and its text ends the message.
    Read {
        /// The line the reader had reached, counting from 1: the numbers
        /// before it were read.
        line: u64,
        /// What the reader reported.
        error: Arc<io::Error>,
    },
    /// A checkpoint is not one quadpipe wrote, or no longer whole.
    CheckpointCorrupt {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A checkpoint comes from another integral than the one resuming it.
    CheckpointMismatch {
        /// What differs.
        field: &'static str,
    },
    /// A checkpoint's integrand gave another value than this one at a
    /// point it was probed at: the resume would mix two integrands. (Two
    /// fixed points of the domain are probed; an integrand that agrees
    /// with the old one at both is not caught.)
    CheckpointIntegrand {
        /// Every coordinate of the point.
        point: Box<[f64]>,
        /// The value the checkpoint's integrand gave there.
        saved: f64,
        /// The value this integrand gives there.
        found: f64,
    },
    /// A checkpoint interval of zero chunks.
    ZeroCheckpointInterval,
    /// Gauss–Kronrod integrates in one dimension only.
    QuadratureDimensions {
        /// The dimensions asked for.
        dims: usize,
    },
    /// Gauss–Kronrod was allowed no subintervals at all.
    ZeroSubdivisionLimit,
    /// Gauss–Kronrod's relative tolerance is below what its error
    /// estimate can resolve (50 ε, QUADPACK's floor) and no absolute
    /// tolerance is set.
    QuadratureTolerance {
        /// The relative tolerance asked for.
        rel: f64,
        /// The smallest it may be.
        min: f64,
    },
    /// Gauss–Kronrod and cubature cannot skip non-finite values: a
    /// quadrature rule has no samples to leave out, and treating them as 0
    /// would silently change the integral. Integrate the finite part, or
    /// use break points.
    QuadratureCannotSkip,
    /// A break point of [`GaussKronrod::points`](crate::method::GaussKronrod::points)
    /// that cannot be used.
    InvalidBreakPoint {
        /// The point.
        value: f64,
        /// Why not: not finite, outside the interval, or an infinite bound.
        reason: &'static str,
    },
    /// More break points than
    /// [`MAX_BREAK_POINTS`](crate::method::MAX_BREAK_POINTS), or than the
    /// subdivision limit leaves room for.
    TooManyBreakPoints {
        /// The break points given.
        count: usize,
        /// The most allowed: `min(MAX_BREAK_POINTS, limit − 1)`.
        max: usize,
    },
    /// Cubature ([`Method::cubature`](crate::Method::cubature)) integrates
    /// in 2 to [`MAX_CUBATURE_DIMS`](crate::method::MAX_CUBATURE_DIMS)
    /// dimensions; in one, use Gauss–Kronrod.
    CubatureDimensions {
        /// The dimensions asked for.
        dims: usize,
        /// The most there may be.
        max: usize,
    },
    /// The evaluation budget ([`samples`](crate::Integral::samples)) is
    /// below one application of cubature's rule.
    CubatureBudget {
        /// The budget asked for.
        samples: u64,
        /// Evaluations of the rule on one region in this dimension.
        min: u64,
    },
    /// A setting of [`Method::vegas`](crate::Method::vegas) that cannot
    /// work.
    InvalidVegas {
        /// Which, and why.
        reason: &'static str,
    },
    /// Under MPI (the `mpi` feature): another rank failed, was cancelled,
    /// or was given a different integral, so this one stopped too.
    RankFailed {
        /// The rank, in the communicator.
        rank: usize,
        /// Its error, as text.
        reason: String,
    },
    /// Under MPI (the `mpi` feature):
    /// [`checkpoint_every`](crate::Integral::checkpoint_every) is not
    /// supported, since a write failing on one rank would leave the others
    /// waiting for it. Save `MpiControl::checkpoint` from one rank
    /// instead; resuming from a checkpoint works.
    MpiCheckpointFiles,
    /// A vector integrand ([`Integral::vector`](crate::Integral::vector),
    /// [`Integral::vector_batched`](crate::Integral::vector_batched)) was
    /// given no components.
    NoComponents,
    /// The method cannot integrate a vector integrand yet: plain Monte
    /// Carlo, randomised QMC, VEGAS and cubature can (Gauss–Kronrod
    /// will).
    VectorUnsupported {
        /// The method, by name.
        method: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NonFiniteBound { axis, value } => {
                write!(f, "bound of axis {axis} is not finite: {value}")
            }
            Error::NoAxes => f.write_str("the box has no axes"),
            Error::EmptyAxis { axis, lower, upper } => write!(
                f,
                "axis {axis} is empty or reversed: lower bound {lower} is not below upper bound {upper}"
            ),
            Error::VolumeOutOfRange { volume } => write!(
                f,
                "the domain's size (an interval's width, or a box's volume) is out of the range of an f64: {volume}"
            ),
            Error::ZeroSamples => f.write_str("sample count is zero"),
            Error::ZeroChunkSize => f.write_str("chunk size is zero"),
            Error::InvalidTolerance { abs, rel } => write!(
                f,
                "tolerance must be finite and not negative, and not both zero: abs {abs:?}, rel {rel:?}"
            ),
            Error::QuadratureTolerance { rel, min } => write!(
                f,
                "Gauss–Kronrod's relative tolerance {rel:?} is below the {min:?} its error \
                 estimate can resolve; raise it or set an absolute tolerance"
            ),
            Error::QuadratureCannotSkip => f.write_str(
                "Gauss–Kronrod and cubature cannot skip non-finite values (NonFinite::Skip): \
                 integrate the finite part, or split the domain (with break points in 1-D)",
            ),
            Error::MinSamplesAboveBudget {
                min_samples,
                samples,
            } => write!(
                f,
                "minimum sample count {min_samples} exceeds the budget of {samples}"
            ),
            Error::ZeroTimeLimit => f.write_str("time limit is zero"),
            Error::TooFewReplicas { replicas } => {
                write!(
                    f,
                    "randomised QMC needs at least 2 replicas, not {replicas}"
                )
            }
            Error::TooManyReplicas { replicas, max } => {
                write!(
                    f,
                    "randomised QMC takes at most {max} replicas, not {replicas}"
                )
            }
            Error::TooManyDimensions { dims, max } => {
                write!(
                    f,
                    "{dims} dimensions is more than the {max} Sobol points have"
                )
            }
            Error::SobolSamples { samples, replicas } => {
                // Zero replicas is refused before this error can arise, but
                // Display must not divide by zero whatever it is given.
                let replicas_u64 = u64::from(*replicas).max(1);
                let per_replica = (samples / replicas_u64).max(1);
                // Above 2^63 there is no next power of two in a u64; the
                // cap of 2^32 per replica applies anyway. The product is
                // below 2^32 × 2^32, so it fits.
                let suggested = per_replica
                    .checked_next_power_of_two()
                    .map_or(1 << 32, |power| power.min(1 << 32));
                write!(
                    f,
                    "randomised QMC needs {replicas} × a power of two samples, at most \
                     {replicas} × 2^32; {samples} is not (try {})",
                    replicas_u64 * suggested
                )
            }
            Error::SobolChunkSize { chunk_size } => {
                // The nearest power of two that is not zero: 0 suggests 1,
                // and above 2^63 (where the next one does not fit) 2^63.
                let suggested = chunk_size.checked_next_power_of_two().unwrap_or(1 << 63);
                write!(
                    f,
                    "randomised QMC needs a power-of-two chunk size; {chunk_size} is not (try {suggested})"
                )
            }
            Error::ZeroThreads => f.write_str("thread count is zero"),
            Error::TooManyThreads { threads, max } => {
                write!(
                    f,
                    "{threads} threads is more than the {max} an executor may have"
                )
            }
            Error::InvalidThreadName { name } => {
                write!(f, "thread name contains a NUL byte: {name:?}")
            }
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
            Error::SpawnThread(err) => write!(f, "could not spawn a thread: {err}"),
            Error::Parse { line, token } => {
                write!(f, "line {line}: {token:?} is not a finite number")
            }
            Error::NonFiniteInput { position, value } => {
                write!(f, "value {position} of the input is {value}")
            }
            Error::Io(err) => write!(f, "input or output failed: {err}"),
            Error::Read { line, error } => {
                write!(f, "reading the input failed on line {line}: {error}")
            }
            Error::CheckpointCorrupt { reason } => {
                write!(f, "checkpoint is corrupt: {reason}")
            }
            Error::CheckpointMismatch { field } => {
                write!(
                    f,
                    "checkpoint is from another integral: its {field} differs"
                )
            }
            Error::CheckpointIntegrand {
                point,
                saved,
                found,
            } => {
                write!(
                    f,
                    "checkpoint is from another integrand: it gave {saved} at "
                )?;
                match &point[..] {
                    [x] => write!(f, "x = {x}")?,
                    coordinates => write!(f, "{coordinates:?}")?,
                }
                write!(f, ", this one gives {found}")
            }
            Error::ZeroCheckpointInterval => f.write_str("checkpoint interval is zero chunks"),
            Error::QuadratureDimensions { dims } => {
                write!(f, "Gauss–Kronrod integrates in one dimension, not {dims}")
            }
            Error::ZeroSubdivisionLimit => f.write_str("subdivision limit is zero"),
            Error::InvalidBreakPoint { value, reason } => {
                write!(f, "break point {value} cannot be used: {reason}")
            }
            Error::TooManyBreakPoints { count, max } => {
                write!(f, "{count} break points, at most {max} allowed")
            }
            Error::CubatureDimensions { dims: 1, .. } => f.write_str(
                "cubature integrates in 2 or more dimensions, not 1: \
                 use Method::gauss_kronrod() in one",
            ),
            Error::CubatureDimensions { dims, max } => {
                write!(
                    f,
                    "cubature integrates in 2 to {max} dimensions, not {dims}"
                )
            }
            Error::CubatureBudget { samples, min } => write!(
                f,
                "an evaluation budget of {samples} is below one application of cubature's \
                 rule ({min} evaluations in this dimension)"
            ),
            Error::InvalidVegas { reason } => write!(f, "invalid VEGAS setting: {reason}"),
            Error::RankFailed { rank, reason } => write!(f, "MPI rank {rank} stopped: {reason}"),
            Error::MpiCheckpointFiles => {
                f.write_str("checkpoint files are not written under MPI; resuming works")
            }
            Error::NoComponents => f.write_str("a vector integrand needs at least one component"),
            Error::VectorUnsupported { method } => write!(
                f,
                "{method} does not integrate vector integrands yet: use plain Monte Carlo, \
                 Method::sobol(), Method::vegas() or Method::cubature(), or integrate each \
                 component on its own"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::SpawnThread(err) | Error::Io(err) | Error::Read { error: err, .. } => {
                Some(&**err)
            }
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
