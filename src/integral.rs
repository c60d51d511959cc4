//! The spec of an integral, and the ways to run it.

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::sync::Arc;

use crate::executor::default_executor;
use crate::pipeline::{announce, drive};
use crate::plain::PlainMonteCarlo;
use crate::task::TaskLink;
use crate::{Error, Estimate, Executor, Inline, Spawner, Task};

/// Samples drawn when [`Integral::samples`] is not called.
const DEFAULT_SAMPLES: u64 = 1_000_000;

/// Samples per chunk when [`Integral::chunk_size`] is not called: 2^20,
/// about 0.6 ms of a cheap integrand on one AVX2 core (the kernel runs at
/// ~0.6 ns per sample) and ~15 ms of one that calls `sin`. Spawning and
/// merging a chunk costs a few microseconds, so that vanishes; a cancel is
/// still prompt, because a chunk looks at its cancel flag every 16 Ki
/// samples; and a run of 10^8 samples still makes ~100 chunks to spread
/// over the cores and report progress with.
const DEFAULT_CHUNK_SIZE: u64 = 1 << 20;

/// The integral of a function over an interval, estimated by Monte Carlo.
///
/// Build it with [`new`](Integral::new) and the setters, then run it: on
/// the default executor ([`run`](Integral::run), [`spawn`](Integral::spawn)),
/// on an executor of your own ([`run_on`](Integral::run_on),
/// [`spawn_on`](Integral::spawn_on)), or with no threads at all
/// ([`run_inline`](Integral::run_inline)). Every way gives the same bits for
/// the same spec: chunk `i` draws its points from a stream seeded by
/// `(seed, i)`, and chunks merge in chunk order.
///
/// An interval given from its upper end (`3.0..1.0`) integrates with the
/// sign flipped, as in mathematics, to the bit; an interval of zero width
/// gives exactly 0.
///
/// # Examples
///
/// ```
/// use quadpipe::Integral;
///
/// # pollster::block_on(async {
/// let integral = Integral::new(f64::sin, 0.0..std::f64::consts::PI)
///     .samples(1 << 20)
///     .seed(42);
/// let estimate = integral.run().await?;
/// assert!((estimate.value - 2.0).abs() < 5.0 * estimate.std_error);
///
/// // The same spec gives the same bits, however it runs.
/// assert_eq!(integral.run_inline().await?, estimate);
/// # Ok::<(), quadpipe::Error>(())
/// # }).unwrap();
/// ```
pub struct Integral<F> {
    integrand: Arc<F>,
    bounds: Range<f64>,
    samples: u64,
    seed: u64,
    chunk_size: u64,
}

impl<F> Integral<F>
where
    F: Fn(f64) -> f64 + Send + Sync + 'static,
{
    /// The integral of `integrand` from `bounds.start` to `bounds.end`.
    ///
    /// Bounds are checked when the integral runs: a NaN or infinite bound
    /// makes the run fail with [`Error::NonFiniteBound`].
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// # pollster::block_on(async {
    /// let forward = Integral::new(|x| x * x, 1.0..3.0).run_inline().await?;
    /// let backward = Integral::new(|x| x * x, 3.0..1.0).run_inline().await?;
    /// assert_eq!(backward.value, -forward.value);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn new(integrand: F, bounds: Range<f64>) -> Self {
        Integral {
            integrand: Arc::new(integrand),
            bounds,
            samples: DEFAULT_SAMPLES,
            seed: 0,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }

    /// How many times to evaluate the integrand; 1,000,000 by default.
    /// The standard error shrinks as one over its square root.
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let estimate = quadpipe::Integral::new(|x| x, 0.0..1.0).samples(1000).run_inline().await?;
    /// assert_eq!(estimate.samples, 1000);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn samples(mut self, samples: u64) -> Self {
        self.samples = samples;
        self
    }

    /// The seed of the random streams; 0 by default. The same seed gives
    /// the same bits, on any number of threads; different seeds give
    /// independent estimates.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// # pollster::block_on(async {
    /// let a = Integral::new(|x| x, 0.0..1.0).seed(1).run_inline().await?;
    /// let b = Integral::new(|x| x, 0.0..1.0).seed(2).run_inline().await?;
    /// assert_ne!(a.value, b.value);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Samples per chunk, the unit of scheduling; 2^20 by default.
    ///
    /// Chunks are what run in parallel, merge, and report progress. Make
    /// them larger if the integrand is so cheap that the per-chunk cost (a
    /// task spawn and a merge, a few microseconds) shows; smaller if it is
    /// so expensive that a chunk takes much more than ten milliseconds, or
    /// if a run has too few chunks to keep every core busy to the end. The
    /// chunk size is part of the spec: changing it changes which stream each
    /// sample comes from, and so the bits.
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let estimate = quadpipe::Integral::new(f64::exp, 0.0..1.0)
    ///     .samples(1 << 16)
    ///     .chunk_size(1 << 12)
    ///     .run_inline()
    ///     .await?;
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn chunk_size(mut self, chunk_size: u64) -> Self {
        self.chunk_size = chunk_size;
        self
    }

    /// Runs on the process-wide default executor; the calling task only
    /// merges chunks, never runs one.
    ///
    /// The default executor starts on first use, with one worker per core
    /// or as many as the `QUADPIPE_THREADS` environment variable says.
    ///
    /// # Errors
    ///
    /// Bad input ([`Error::NonFiniteBound`], [`Error::ZeroSamples`],
    /// [`Error::ZeroChunkSize`]); a non-finite integrand value
    /// ([`Error::NonFiniteValue`], naming the point); a panicking integrand
    /// ([`Error::Panicked`]); an invalid `QUADPIPE_THREADS`.
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let estimate = quadpipe::Integral::new(|x| 1.0 / x, 1.0..2.0).run().await?;
    /// assert!((estimate.value - 2f64.ln()).abs() < 5.0 * estimate.std_error);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn run(&self) -> impl Future<Output = Result<Estimate, Error>> + Send + 'static {
        let work = self.work();
        async move {
            let spawner = Spawner::from(default_executor()?);
            drive(work?, spawner, TaskLink::default()).await
        }
    }

    /// Runs with its chunks on `spawner`: the bundled [`Executor`], an
    /// `async_executor` or smol executor, a `futures` thread pool, any
    /// runtime through [`Spawner::from_fn`], or [`Inline`]. The calling task,
    /// on whatever runtime awaits it, only merges chunks (unless `spawner`
    /// is [`Inline`]). Every spawner gives the same bits.
    ///
    /// Dropping the future cancels the run: no new chunk starts, and chunks
    /// already running stop at their next check.
    ///
    /// # Errors
    ///
    /// As [`run`](Integral::run), and [`Error::Cancelled`] if the spawner's
    /// executor drops a chunk without running it (it shut down).
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(2).build()?;
    /// let integral = quadpipe::Integral::new(|x| x * x, 0.0..1.0).samples(1 << 20);
    /// let estimate = pollster::block_on(integral.run_on(&executor))?;
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn run_on(
        &self,
        spawner: impl Into<Spawner>,
    ) -> impl Future<Output = Result<Estimate, Error>> + Send + 'static {
        let (work, spawner) = (self.work(), spawner.into());
        async move { drive(work?, spawner, TaskLink::default()).await }
    }

    /// Spawns the run on `executor` and returns its [`Task`], which reports
    /// status and progress (samples merged, the running estimate) and can
    /// be cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Executor, Integral, Status};
    ///
    /// let executor = Executor::builder().threads(2).build()?;
    /// let mut task = Integral::new(f64::cos, 0.0..1.0).samples(1 << 20).spawn_on(&executor);
    /// let estimate = executor.block_on(&mut task)?;
    /// assert_eq!(task.status(), Status::Finished);
    /// assert_eq!(task.progress().done, 1 << 20);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn spawn_on(&self, executor: &Executor) -> Task<Estimate> {
        let link = TaskLink::default();
        let work = self.work();
        if let Ok(work) = &work {
            announce(&**work, &link);
        }
        let (spawner, driver_link) = (Spawner::from(executor), link.clone());
        executor.spawn_tracked(
            async move { drive(work?, spawner, driver_link).await },
            link,
        )
    }

    /// Spawns the run on the process-wide default executor; see
    /// [`spawn_on`](Integral::spawn_on) and [`run`](Integral::run).
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let task = quadpipe::Integral::new(f64::exp, 0.0..1.0).spawn();
    /// let estimate = task.await?;
    /// assert!((estimate.value - (1f64.exp() - 1.0)).abs() < 5.0 * estimate.std_error);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn spawn(&self) -> Task<Estimate> {
        match default_executor() {
            Ok(executor) => self.spawn_on(executor),
            Err(err) => Task::failed(err),
        }
    }

    /// Runs with no threads at all: the chunks run one by one inside the
    /// awaiting task, which yields to its executor between chunks.
    ///
    /// For a single-threaded program, a test, or an integrand that is not
    /// worth a thread. Same bits as every other way of running.
    ///
    /// # Examples
    ///
    /// ```
    /// let integral = quadpipe::Integral::new(|x| x, 0.0..2.0).samples(10_000);
    /// let estimate = pollster::block_on(integral.run_inline())?;
    /// assert!((estimate.value - 2.0).abs() < 5.0 * estimate.std_error);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn run_inline(&self) -> impl Future<Output = Result<Estimate, Error>> + Send + 'static {
        let work = self.work();
        async move { drive(work?, Spawner::from(Inline), TaskLink::default()).await }
    }

    /// Checks the spec and turns it into chunked work.
    fn work(&self) -> Result<Arc<PlainMonteCarlo<F>>, Error> {
        let Range { start, end } = self.bounds;
        for value in [start, end] {
            if !value.is_finite() {
                return Err(Error::NonFiniteBound { axis: 0, value });
            }
        }
        if self.samples == 0 {
            return Err(Error::ZeroSamples);
        }
        if self.chunk_size == 0 {
            return Err(Error::ZeroChunkSize);
        }
        let (lo, hi) = (start.min(end), start.max(end));
        Ok(Arc::new(PlainMonteCarlo {
            f: self.integrand.clone(),
            lo,
            width: hi - lo,
            reversed: start > end,
            seed: self.seed,
            samples: self.samples,
            chunk_size: self.chunk_size,
        }))
    }
}

impl<F> Clone for Integral<F> {
    fn clone(&self) -> Self {
        Integral {
            integrand: self.integrand.clone(),
            bounds: self.bounds.clone(),
            samples: self.samples,
            seed: self.seed,
            chunk_size: self.chunk_size,
        }
    }
}

impl<F> fmt::Debug for Integral<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Integral")
            .field("bounds", &self.bounds)
            .field("samples", &self.samples)
            .field("seed", &self.seed)
            .field("chunk_size", &self.chunk_size)
            .finish_non_exhaustive()
    }
}
