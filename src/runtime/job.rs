//! The unit of work every backend runs.

use std::future::Future;
use std::pin::Pin;

/// A unit of chunk work handed to a [`Spawner`](crate::Spawner): a boxed
/// future that runs one chunk and sends its result back. It does not borrow
/// anything and catches its own panics.
pub type Job = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
