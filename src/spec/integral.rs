//! The spec of an integral, and the ways to run it.

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::driver::announce;
use crate::runtime::executor::default_executor;
use crate::runtime::task::TaskLink;
use crate::spec::settings::{Bounds, Settings};
use crate::spec::{Prepared, Spec};
use crate::{
    Batched, Checkpoint, Error, Estimate, Inline, Integrand, Method, NonFinite, Pointwise, Scalar,
    Spawner, Task, Vector, VectorBatched,
};

/// Samples drawn when [`Integral::samples`] is not called.
const DEFAULT_SAMPLES: u64 = 1_000_000;

/// An integral to estimate: an integrand, a domain, a method, a budget and
/// stop rules.
///
/// Build it with [`new`](Integral::new) (a function of one variable over an
/// interval), [`over`](Integral::over) (a function of a point over a box)
/// or [`batched`](Integral::batched) (a function of a block of points), and
/// the setters; then run it: on the default executor
/// ([`run`](Integral::run), [`spawn`](Integral::spawn)), on an executor or
/// runtime of your own ([`run_on`](Integral::run_on),
/// [`spawn_on`](Integral::spawn_on)), or with no threads at all
/// ([`run_inline`](Integral::run_inline)). Every way gives the same bits
/// for the same spec: chunk `i` draws its points from a stream seeded by
/// `(seed, i)`, chunks merge in chunk order, and stop rules are decided on
/// that ordered prefix.
///
/// Settings are checked when a run starts: bad input makes the run fail
/// with its [`Error`], never a panic.
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
pub struct Integral<I> {
    integrand: Arc<I>,
    settings: Settings,
    method: Method,
}

impl<F> Integral<Scalar<F>>
where
    F: Fn(f64) -> f64 + Send + Sync + 'static,
{
    /// The integral of `integrand` from `bounds.start` to `bounds.end`.
    ///
    /// An interval given from its upper end (`3.0..1.0`) integrates with
    /// the sign flipped, as in mathematics, to the bit; an interval of zero
    /// width gives exactly 0. A NaN or infinite bound makes the run fail
    /// with [`Error::NonFiniteBound`].
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
        Integral::with(Scalar(integrand), Bounds::Interval(bounds))
    }
}

impl<F> Integral<Pointwise<F>>
where
    F: Fn(&[f64]) -> f64 + Send + Sync + 'static,
{
    /// The integral of `integrand` over the box with one `lower..upper`
    /// range per axis; the integrand gets each point's coordinates as a
    /// slice.
    ///
    /// Every axis must be finite with `lower < upper`
    /// ([`Error::NonFiniteBound`], [`Error::EmptyAxis`]), and there must be
    /// at least one ([`Error::NoAxes`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// // The volume of the unit ball in 3-D, 4π/3, by hit-or-miss.
    /// let ball = Integral::over(
    ///     |p: &[f64]| if p.iter().map(|x| x * x).sum::<f64>() < 1.0 { 1.0 } else { 0.0 },
    ///     [-1.0..1.0, -1.0..1.0, -1.0..1.0],
    /// );
    /// let estimate = pollster::block_on(ball.run())?;
    /// assert!((estimate.value - 4.0 * std::f64::consts::PI / 3.0).abs() < 5.0 * estimate.std_error);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn over(integrand: F, bounds: impl IntoIterator<Item = Range<f64>>) -> Self {
        Integral::with(
            Pointwise(integrand),
            Bounds::Box(bounds.into_iter().collect()),
        )
    }
}

impl<F> Integral<Batched<F>>
where
    F: Fn(&[f64], &mut [f64]) + Send + Sync + 'static,
{
    /// The integral over a box, like [`over`](Integral::over), of an
    /// integrand that takes a block of points at a time: `points` holds
    /// them one after another (`d` coordinates each), and it must fill
    /// `values` with one value per point. Blocks hold up to 4096
    /// coordinates. In one dimension, pass a box of one range.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// // x·y over the unit square, one block at a time.
    /// let integral = Integral::batched(
    ///     |points: &[f64], values: &mut [f64]| {
    ///         for (value, point) in values.iter_mut().zip(points.chunks_exact(2)) {
    ///             *value = point[0] * point[1];
    ///         }
    ///     },
    ///     [0.0..1.0, 0.0..1.0],
    /// );
    /// let estimate = pollster::block_on(integral.run())?;
    /// assert!((estimate.value - 0.25).abs() < 5.0 * estimate.std_error);
    ///
    /// // The same points and bits as the point-wise form.
    /// let pointwise = Integral::over(|p: &[f64]| p[0] * p[1], [0.0..1.0, 0.0..1.0]);
    /// assert_eq!(pollster::block_on(pointwise.run())?, estimate);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn batched(integrand: F, bounds: impl IntoIterator<Item = Range<f64>>) -> Self {
        Integral::with(
            Batched(integrand),
            Bounds::Box(bounds.into_iter().collect()),
        )
    }
}

impl<F> Integral<Vector<F>>
where
    F: Fn(&[f64], &mut [f64]) + Send + Sync + 'static,
{
    /// The integrals of `m` functions at once over a box, one point at a
    /// time: `integrand(point, values)` writes the `m` values at `point`
    /// (`values` has exactly `m` places). Every component is estimated at
    /// the same points, so work they share is done once, and the estimate
    /// has each component ([`Estimate::component`]) and, for plain Monte
    /// Carlo, randomised QMC and VEGAS, their covariance
    /// ([`Estimate::covariance`]). Under plain Monte Carlo and randomised
    /// QMC, each component's value and standard error are, to the bit,
    /// those of [`over`](Integral::over) with that component alone and the
    /// same seed. A [`tolerance`](Integral::tolerance) stops the run when
    /// every component meets it.
    ///
    /// Plain Monte Carlo, [`Method::sobol`], [`Method::vegas`] and
    /// [`Method::cubature`] take vector integrands (VEGAS adapts to every
    /// component, or to the one [`Vegas::adapt_to`](crate::method::Vegas::adapt_to)
    /// names; cubature ranks its regions by their largest component error,
    /// and gives no covariance); Gauss–Kronrod fails with
    /// [`Error::VectorUnsupported`], and `m = 0` with
    /// [`Error::NoComponents`]. A complex integrand is two components, its
    /// real and imaginary parts.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// // ∫₀¹ e^{iπx} dx = 2i/π, as its real and imaginary parts.
    /// let phase = Integral::vector(2, |x: &[f64], z: &mut [f64]| {
    ///     let (im, re) = (std::f64::consts::PI * x[0]).sin_cos();
    ///     z[0] = re;
    ///     z[1] = im;
    /// }, [0.0..1.0]);
    /// let estimate = pollster::block_on(phase.samples(1 << 18).run())?;
    /// let (re, im) = (estimate.component(0).unwrap(), estimate.component(1).unwrap());
    /// assert!(re.value.abs() < 5.0 * re.std_error);
    /// assert!((im.value - 2.0 / std::f64::consts::PI).abs() < 5.0 * im.std_error);
    ///
    /// // The imaginary part alone gives the same bits.
    /// let alone = Integral::over(|x: &[f64]| (std::f64::consts::PI * x[0]).sin(), [0.0..1.0]);
    /// let alone = pollster::block_on(alone.samples(1 << 18).run())?;
    /// assert_eq!((alone.value, alone.std_error), (im.value, im.std_error));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn vector(m: usize, integrand: F, bounds: impl IntoIterator<Item = Range<f64>>) -> Self {
        Integral::with(
            Vector {
                f: integrand,
                components: m,
            },
            Bounds::Box(bounds.into_iter().collect()),
        )
    }
}

impl<F> Integral<VectorBatched<F>>
where
    F: Fn(&[f64], &mut [f64]) + Send + Sync + 'static,
{
    /// [`vector`](Integral::vector) for an integrand that takes a block of
    /// points at a time, like [`batched`](Integral::batched): `points`
    /// holds `n` points one after another (`d` coordinates each), and
    /// `values` has exactly `n × m` places, point after point: value `j` of
    /// point `i` goes to `values[i * m + j]`. The same points, and bits, as
    /// the point-wise form.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::Integral;
    ///
    /// // The first three moments of x·y over the unit square.
    /// let moments = Integral::vector_batched(3, |points: &[f64], values: &mut [f64]| {
    ///     for (point, out) in points.chunks_exact(2).zip(values.chunks_exact_mut(3)) {
    ///         let xy = point[0] * point[1];
    ///         out.copy_from_slice(&[xy, xy * xy, xy * xy * xy]);
    ///     }
    /// }, [0.0..1.0, 0.0..1.0]);
    /// let estimate = pollster::block_on(moments.samples(1 << 16).run())?;
    /// for (j, exact) in [1.0 / 4.0, 1.0 / 9.0, 1.0 / 16.0].into_iter().enumerate() {
    ///     assert!(estimate.component(j).unwrap().interval(0.999).contains(&exact));
    /// }
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn vector_batched(
        m: usize,
        integrand: F,
        bounds: impl IntoIterator<Item = Range<f64>>,
    ) -> Self {
        Integral::with(
            VectorBatched {
                f: integrand,
                components: m,
            },
            Bounds::Box(bounds.into_iter().collect()),
        )
    }
}

impl<I: Integrand> Integral<I> {
    fn with(integrand: I, bounds: Bounds) -> Self {
        Integral {
            integrand: Arc::new(integrand),
            settings: Settings {
                bounds,
                samples: DEFAULT_SAMPLES,
                seed: 0,
                chunk_size: None,
                tolerance: None,
                min_samples: None,
                time_limit: None,
                non_finite: NonFinite::Error,
                id: Arc::from(""),
                checkpoint_every: None,
                resume: None,
            },
            method: Method::MONTE_CARLO,
        }
    }

    /// How many times to evaluate the integrand at most; 1,000,000 by
    /// default. Without a [`tolerance`](Integral::tolerance) the run spends
    /// all of it; with one, it stops earlier when it can. The standard error
    /// shrinks as one over its square root (faster with [`Method::sobol`]).
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
        self.settings.samples = samples;
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
        self.settings.seed = seed;
        self
    }

    /// Samples per chunk, the unit of scheduling. By default each pass of
    /// the method (the whole budget for plain MC and randomised QMC, an
    /// iteration for VEGAS) is cut into about 64 chunks of a power of two
    /// samples, at least 2^14 coordinates (2^12 samples) and at most 2^20
    /// samples each: a pure function of the budget, the method and the
    /// dimension, never of the machine, so the bits are the same
    /// everywhere, and from 2^16 samples up every core has work.
    ///
    /// Chunks are what run in parallel, merge, and report progress, and
    /// where stop rules are checked. Make them larger if the integrand is
    /// so cheap that the per-chunk cost (a task spawn and a merge, a few
    /// microseconds) shows; smaller if it is so expensive that a chunk takes
    /// much more than ten milliseconds, if a run has too few chunks to keep
    /// every core busy to the end, or if a tolerance should be checked more
    /// often. The chunk size is part of the spec: changing it changes which
    /// stream each sample comes from, and so the bits. [`Method::sobol`]
    /// needs a power of two. [`Method::cubature`] takes it as the
    /// evaluations of a chunk, a group of regions (2^13 by default), and
    /// changes nothing but the scheduling with it.
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
        self.settings.chunk_size = Some(chunk_size);
        self
    }

    /// How to estimate: [`Method::MONTE_CARLO`] (the default),
    /// [`Method::sobol`] (randomised quasi-Monte Carlo), [`Method::vegas`],
    /// [`Method::gauss_kronrod`] or [`Method::cubature`], each with
    /// settings of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Method};
    ///
    /// let smooth = Integral::over(|p: &[f64]| (p[0] + p[1] + p[2]).cos(), vec![0.0..1.0; 3])
    ///     .samples(8 << 14)
    ///     .method(Method::sobol().replicas(8));
    /// let estimate = pollster::block_on(smooth.run())?;
    /// assert_eq!(estimate.degrees_of_freedom(), Some(7));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn method(mut self, method: impl Into<Method>) -> Self {
        self.method = method.into();
        self
    }

    /// Stops as soon as the standard error is at most
    /// `max(abs, rel · |value|)`, checked at each chunk boundary once
    /// [`min_samples`](Integral::min_samples) have been merged.
    ///
    /// The decision is made on the chunks merged in chunk order, so it
    /// falls at the same chunk on any thread count: a tolerance run is as
    /// reproducible as any other. [`samples`](Integral::samples) is the
    /// most it may spend: if the target is out of reach, the run ends there
    /// with [`Stop::ToleranceNotMet`](crate::Stop::ToleranceNotMet), never
    /// runs forever, and never hides it.
    ///
    /// # Errors
    ///
    /// The run fails with [`Error::InvalidTolerance`] if either part is
    /// negative, NaN or infinite, or both are zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, Stop};
    ///
    /// let integral = Integral::new(f64::exp, 0.0..1.0)
    ///     .samples(1 << 30)
    ///     .chunk_size(1 << 16)
    ///     .tolerance(0.0, 1e-4);
    /// let estimate = pollster::block_on(integral.run())?;
    /// assert_eq!(estimate.stop, Stop::ToleranceMet);
    /// assert!(estimate.std_error <= 1e-4 * estimate.value);
    /// assert!(estimate.samples < 1 << 30);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn tolerance(mut self, abs: f64, rel: f64) -> Self {
        self.settings.tolerance = Some((abs, rel));
        self
    }

    /// The fewest samples a [`tolerance`](Integral::tolerance) stop may
    /// happen at: 65,536 by default (or the whole budget, if smaller), so
    /// that a lucky early estimate with a small-looking error cannot end
    /// the run. Ignored without a tolerance.
    ///
    /// # Errors
    ///
    /// The run fails with [`Error::MinSamplesAboveBudget`] if it exceeds
    /// [`samples`](Integral::samples).
    ///
    /// # Examples
    ///
    /// ```
    /// # pollster::block_on(async {
    /// let estimate = quadpipe::Integral::new(|x| x, 0.0..1.0)
    ///     .samples(1 << 22)
    ///     .chunk_size(1 << 14)
    ///     .tolerance(1.0, 0.0) // met by any estimate
    ///     .min_samples(1 << 20)
    ///     .run_inline()
    ///     .await?;
    /// assert_eq!(estimate.samples, 1 << 20);
    /// # Ok::<(), quadpipe::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn min_samples(mut self, min_samples: u64) -> Self {
        self.settings.min_samples = Some(min_samples);
        self
    }

    /// Stops once `limit` has passed since the run started, with
    /// [`Stop::TimeLimit`](crate::Stop::TimeLimit): chunks running then
    /// stop within about a millisecond of work and give the samples they
    /// drew, so even one chunk of `u64::MAX` samples ends. How much fits
    /// depends on the machine and its load, so such an estimate is not
    /// reproducible, and says so; no checkpoint is taken past the limit.
    ///
    /// # Errors
    ///
    /// The run fails with [`Error::ZeroTimeLimit`] if `limit` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use quadpipe::{Integral, Stop};
    ///
    /// let endless = Integral::new(f64::sin, 0.0..1.0)
    ///     .samples(u64::MAX)
    ///     .time_limit(Duration::from_millis(50));
    /// let estimate = pollster::block_on(endless.run())?;
    /// assert_eq!(estimate.stop, Stop::TimeLimit);
    /// assert!(!estimate.stop.is_reproducible());
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.settings.time_limit = Some(limit);
        self
    }

    /// What to do with NaN or infinite integrand values:
    /// [`NonFinite::Error`] (the default) or [`NonFinite::Skip`].
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Integral, NonFinite};
    ///
    /// // sqrt(x) is NaN for x < 0: skipped, the rest integrates to 2/3.
    /// let integral = Integral::new(f64::sqrt, -1.0..1.0).non_finite(NonFinite::Skip);
    /// let estimate = pollster::block_on(integral.run())?;
    /// assert!(estimate.skipped > 0);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn non_finite(mut self, policy: NonFinite) -> Self {
        self.settings.non_finite = policy;
        self
    }

    /// Names the integrand, for checkpoints: a closure has no name of its
    /// own, so without one a checkpoint cannot tell two integrands apart.
    /// Change the name when the integrand changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let integral = quadpipe::Integral::new(f64::exp, 0.0..1.0).id("exp, v1");
    /// ```
    pub fn id(mut self, id: &str) -> Self {
        self.settings.id = Arc::from(id);
        self
    }

    /// Writes a [`Checkpoint`] to `path` after every `chunks` merged chunks,
    /// atomically (a temporary file, then a rename), so a crash never
    /// leaves less than the previous checkpoint. Resume with
    /// [`resume`](Integral::resume).
    ///
    /// # Errors
    ///
    /// The run fails with [`Error::ZeroCheckpointInterval`] if `chunks` is
    /// zero, and with [`Error::Io`] if a write fails: a run that cannot
    /// save its progress says so rather than going on unsaved.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Checkpoint, Integral};
    ///
    /// let path = std::env::temp_dir().join("quadpipe-every.qpck");
    /// let integral = Integral::new(f64::sin, 0.0..1.0)
    ///     .samples(1 << 20)
    ///     .chunk_size(1 << 16)
    ///     .checkpoint_every(4, &path);
    /// pollster::block_on(integral.run())?;
    /// assert_eq!(Checkpoint::read(&path)?.samples_done(), 1 << 20);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn checkpoint_every(mut self, chunks: u64, path: impl AsRef<Path>) -> Self {
        self.settings.checkpoint_every = Some((chunks, path.as_ref().to_owned()));
        self
    }

    /// Continues from `checkpoint` instead of from nothing: its merged
    /// chunks are not drawn again, and the final estimate has the same bits
    /// as a run that was never stopped.
    ///
    /// # Errors
    ///
    /// The run fails with [`Error::CheckpointMismatch`] if the checkpoint
    /// comes from another spec (another [`id`](Integral::id), domain,
    /// method, non-finite policy, stop rules, seed, budget or chunk size).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Error, Executor, Integral};
    ///
    /// let executor = Executor::builder().threads(1).build()?;
    /// let integral = Integral::new(f64::exp, 0.0..1.0).samples(1 << 17).chunk_size(1 << 16);
    /// let mut task = integral.spawn_on(&executor);
    /// executor.block_on(&mut task)?;
    /// let checkpoint = task.checkpoint().unwrap();
    ///
    /// let other_seed = integral.clone().seed(9).resume(&checkpoint);
    /// let err = pollster::block_on(other_seed.run_inline()).unwrap_err();
    /// assert!(matches!(err, Error::CheckpointMismatch { field: "seed" }));
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn resume(&self, checkpoint: &Checkpoint) -> Self {
        let mut resumed = self.clone();
        resumed.settings.resume = Some(checkpoint.clone());
        resumed
    }

    /// Runs on the process-wide default executor; the calling task only
    /// merges chunks, never runs one.
    ///
    /// The default executor starts on first use, with one worker per core
    /// or as many as the `QUADPIPE_THREADS` environment variable says.
    ///
    /// # Errors
    ///
    /// Bad input (each setter says which); a non-finite integrand value
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
        let prepared = default_executor()
            .and_then(|executor| self.prepare(Spawner::from(executor), TaskLink::default(), false));
        async move { prepared?.run.await }
    }

    /// Runs on the process-wide default executor and blocks this thread
    /// until the estimate is ready: for synchronous code, in place of
    /// `pollster::block_on(integral.run())`.
    ///
    /// The blocked thread computes chunks too: the one the run waits for,
    /// when no worker has started it yet. A small run (a few microseconds
    /// of work) then finishes before a sleeping worker would have woken,
    /// which on a virtual machine takes tens of microseconds; a large run
    /// still spreads over every worker. Same bits as every other way of
    /// running. Do not call it from inside an async task: it blocks the
    /// thread.
    ///
    /// # Errors
    ///
    /// As [`run`](Integral::run).
    ///
    /// # Examples
    ///
    /// ```
    /// let integral = quadpipe::Integral::new(|x| x * x, 0.0..1.0).samples(1 << 16);
    /// let estimate = integral.run_blocking()?;
    /// assert_eq!(estimate, pollster::block_on(integral.run())?);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn run_blocking(&self) -> Result<Estimate, Error> {
        let spawner = Spawner::from(default_executor()?).helped_by_caller();
        let prepared = self.prepare(spawner, TaskLink::default(), false)?;
        pollster::block_on(prepared.run)
    }

    /// Runs with its chunks on `spawner`: the bundled [`Executor`](crate::Executor), an
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
        let prepared = self.prepare(spawner.into(), TaskLink::default(), false);
        async move { prepared?.run.await }
    }

    /// Spawns the run on `spawner` and returns its [`Task`], which reports
    /// status and progress (samples merged, the running estimate) and the
    /// latest [`checkpoint`](Task::checkpoint), and can be cancelled, also
    /// through a [`cancel_handle`](Task::cancel_handle); a cancelled task
    /// keeps the estimate of what it merged.
    ///
    /// `spawner` is anything [`run_on`](Integral::run_on) takes: the
    /// bundled [`Executor`](crate::Executor), an `async_executor` or smol executor, a
    /// `futures` thread pool, any runtime through [`Spawner::from_fn`], or
    /// [`Inline`]. Both the run's driver (which merges chunks) and its
    /// chunks go there, so a run spawned on the caller's own runtime needs
    /// no quadpipe thread; an [`Inline`] run works inside whoever awaits
    /// the task. Every spawner gives the same `Task` and the same bits.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Executor, Inline, Integral, Status};
    ///
    /// let executor = Executor::builder().threads(2).build()?;
    /// let integral = Integral::new(f64::cos, 0.0..1.0).samples(1 << 20);
    /// let mut task = integral.spawn_on(&executor);
    /// let estimate = executor.block_on(&mut task)?;
    /// assert_eq!(task.status(), Status::Finished);
    /// assert_eq!(task.progress().done, 1 << 20);
    ///
    /// // On a `futures` thread pool, or inline: the same bits.
    /// let pool = futures::executor::ThreadPool::new().unwrap();
    /// assert_eq!(pollster::block_on(integral.spawn_on(&pool))?, estimate);
    /// assert_eq!(pollster::block_on(integral.spawn_on(Inline))?, estimate);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn spawn_on(&self, spawner: impl Into<Spawner>) -> Task<Estimate> {
        let spawner = spawner.into();
        let link = TaskLink::default();
        let prepared = self.prepare(spawner.clone(), link.clone(), true);
        if let Ok(prepared) = &prepared {
            announce(prepared.total, &link);
        }
        spawner.spawn_tracked(async move { prepared?.run.await }, link)
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
        self.run_on(Inline)
    }

    pub(crate) fn spec(&self) -> Result<Spec<I>, Error> {
        Spec::new(&self.integrand, &self.settings, self.method.clone())
    }

    /// The checked run, with its chunks on `spawner`.
    fn prepare(&self, spawner: Spawner, link: TaskLink, publish: bool) -> Result<Prepared, Error> {
        self.spec()?.prepare(spawner, link, publish)
    }
}

impl<I> Clone for Integral<I> {
    fn clone(&self) -> Self {
        Integral {
            integrand: self.integrand.clone(),
            settings: self.settings.clone(),
            method: self.method.clone(),
        }
    }
}

impl<I: fmt::Debug> fmt::Debug for Integral<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Integral")
            .field("integrand", &self.integrand)
            .field("bounds", &self.settings.bounds)
            .field("samples", &self.settings.samples)
            .field("seed", &self.settings.seed)
            .field("chunk_size", &self.settings.chunk_size)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}
