//! Where work runs: the bundled pool, the adapters to other runtimes, the
//! thread pool for blocking work, and the task handles that report on it.
//! Nothing here knows about integrals.

pub(crate) mod blocking;
pub(crate) mod executor;
pub(crate) mod group;
pub(crate) mod idle;
pub(crate) mod job;
pub(crate) mod progress;
pub(crate) mod spawn;
pub(crate) mod task;
