//! Monte Carlo integrals as async tasks: cancellable, progress-reporting,
//! and bitwise reproducible on every core.
//!
//! An [`Integral`] is a spec: an integrand, an interval, a sample budget and
//! a seed. Running it splits the samples into chunks; chunk `i` draws its
//! points from a random stream seeded by `(seed, i)` alone, chunks run on the
//! workers of a bundled [`Executor`], and their partial sums merge strictly
//! in chunk order. So the same spec gives the same bits on one thread or
//! sixteen, on a pool or inline, whichever finished first.
//!
//! The result is a plain [`Future`], awaitable from
//! any runtime (smol, async-std, the `futures` executors) or blocked on with
//! `pollster` in synchronous code. [`Integral::spawn_on`] gives a [`Task`]
//! instead, on any runtime: a future too, with [`status`](Task::status),
//! [`progress`](Task::progress), [`cancel`](Task::cancel) and a
//! [`cancel_handle`](Task::cancel_handle) for a signal handler.
//!
//! ```
//! use quadpipe::Integral;
//!
//! let integral = Integral::new(|x| x, 0.0..std::f64::consts::PI)
//!     .samples(10_000_000)
//!     .seed(42);
//! let estimate = integral.run_blocking()?;
//! println!("{estimate}"); // 4.934... ± 0.000... (10000000 samples)
//!
//! let exact = std::f64::consts::PI.powi(2) / 2.0;
//! assert!((estimate.value - exact).abs() < 5.0 * estimate.std_error);
//! # Ok::<(), quadpipe::Error>(())
//! ```
//!
//! # Pieces
//!
//! - [`Integral`]: the spec, and `run`, `run_blocking`, `run_on`, `spawn_on`, `run_inline`.
//! - [`Method`]: plain Monte Carlo, randomised QMC ([`Method::sobol`]),
//!   VEGAS+ ([`Method::vegas`]), adaptive Gauss–Kronrod
//!   ([`Method::gauss_kronrod`]) and adaptive cubature
//!   ([`Method::cubature`]), each with a builder in [`method`].
//! - [`Executor`]: the bundled pool: `spawn`, `block_on`, and `unblock` for
//!   blocking work. A process-wide default serves [`spawn`] and
//!   [`Integral::run`]; `QUADPIPE_THREADS` sets its thread count.
//! - [`Spawner`]: where a run goes: the bundled pool, the caller's runtime
//!   (smol, async-std, a `futures` pool, any spawn function) or [`Inline`].
//! - [`Task`]: a spawned task's handle, the same on every spawner, with
//!   [`Status`], [`Progress`], its latest [`Checkpoint`] and a cloneable
//!   [`CancelHandle`]. [`default_executor`] and [`shutdown_default`] reach
//!   the process-wide pool.
//! - [`TaskGroup`]: many tasks as one (a parameter sweep), with bounded
//!   concurrency, roll-up [`GroupProgress`], fail-fast or keep-going.
//! - [`Estimate`]: value, standard error, samples, and why it [`Stop`]ped.
//! - [`Accumulator`]: count, mean and variance, merged in a fixed order.
//! - [`TailCheck`]: whether chunk variances say a standard error can be
//!   trusted.
//! - [`Error`]: everything that can go wrong, bad input first of all.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod driver;
mod error;
mod integrand;
mod kernel;
pub mod method;
mod result;
mod runtime;
mod sample;
mod source;
mod spec;

pub use driver::checkpoint::Checkpoint;
#[cfg(feature = "mpi")]
pub use driver::mpi::MpiControl;
pub use error::Error;
pub use integrand::{Batched, Integrand, NonFinite, Pointwise, Scalar, Vector, VectorBatched};
pub use method::Method;
pub use result::accumulator::Accumulator;
pub use result::estimate::{Estimate, Stop};
pub use result::tail::TailCheck;
pub use runtime::executor::{
    Builder, Executor, Shutdown, default_executor, shutdown_default, spawn,
};
pub use runtime::group::{Child, ChildProgress, GroupHandle, GroupProgress, Outcomes, TaskGroup};
pub use runtime::job::Job;
pub use runtime::progress::{Progress, ProgressStream};
pub use runtime::spawn::{Inline, Spawner};
pub use runtime::task::{CancelHandle, Status, Task};
pub use source::Source;
pub use spec::integral::Integral;

/// The handles that cross threads must be able to.
#[allow(dead_code)]
fn _ensure_send_and_sync() {
    fn is_send<T: Send>(_: &T) {}
    fn is_sync<T: Sync>(_: &T) {}

    let executor = Executor::new();
    is_send(&executor);
    is_sync(&executor);

    let integral = Integral::new(|x| x, 0.0..1.0);
    is_send(&integral);
    is_sync(&integral);
    is_send(&integral.run());
    is_send(&integral.run_inline());

    let task = integral.spawn_on(&executor);
    is_send(&task);
    is_sync(&task);
    let handle = task.cancel_handle();
    is_send(&handle);
    is_sync(&handle);
    let inline = integral.spawn_on(Inline);
    is_send(&inline);
    is_sync(&inline);

    let group = TaskGroup::<Estimate>::new();
    is_send(&group);
    is_sync(&group);
    is_send(&group.handle());
    is_sync(&group.handle());
    is_send(&group.outcomes());
}

/// The README's examples, compiled and run as doctests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
