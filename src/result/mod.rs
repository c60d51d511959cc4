//! What a run gives back: running sums that merge in a fixed order, the
//! estimate built from them, the statistics of its error bars, and the
//! check that says when those cannot be trusted.

pub(crate) mod accumulator;
pub(crate) mod estimate;
pub(crate) mod stats;
pub(crate) mod tail;
