//! The forms an integrand can take (one value per point, or several), and
//! what to do with its NaNs.

use std::fmt;

use crate::Error;
use crate::driver::halt::Halt;
use crate::kernel::chunk::{McChunk, McPart};

/// A function an [`Integral`](crate::Integral) can integrate: one of
/// [`Scalar`], [`Pointwise`], [`Batched`], [`Vector`] or
/// [`VectorBatched`], made by [`Integral::new`](crate::Integral::new),
/// [`Integral::over`](crate::Integral::over),
/// [`Integral::batched`](crate::Integral::batched),
/// [`Integral::vector`](crate::Integral::vector) and
/// [`Integral::vector_batched`](crate::Integral::vector_batched). It
/// cannot be implemented outside this crate.
pub trait Integrand: sealed::Evaluate + Send + Sync + 'static {}

/// A function of one variable, `Fn(f64) -> f64`: the fast one-dimensional
/// form, whose calls are inlined into the vectorised sampling loop.
pub struct Scalar<F>(pub(crate) F);

/// A function of a point, `Fn(&[f64]) -> f64`, called once per point with
/// all its coordinates.
pub struct Pointwise<F>(pub(crate) F);

/// A function of a block of points, `Fn(&[f64], &mut [f64])`, called once
/// per block: the first slice holds the points one after another (`d`
/// coordinates each), the second has room for one value per point. For an
/// integrand that vectorises itself or calls out to other code (a GPU, a
/// simulation) and would rather be called once per thousand points.
pub struct Batched<F>(pub(crate) F);

/// A function of a point with `m` values, `Fn(&[f64], &mut [f64])`,
/// called once per point: the first slice holds the point's coordinates,
/// the second has room for exactly its `m` values (so it can never write
/// too few or too many).
pub struct Vector<F> {
    pub(crate) f: F,
    pub(crate) components: usize,
}

/// A function of a block of points with `m` values each,
/// `Fn(&[f64], &mut [f64])`, called once per block: the first slice holds
/// `n` points one after another (`d` coordinates each), the second has
/// room for exactly `n × m` values, point after point: value `j` of point
/// `i` goes to `values[i * m + j]`.
pub struct VectorBatched<F> {
    pub(crate) f: F,
    pub(crate) components: usize,
}

/// What to do when the integrand returns NaN or an infinity.
///
/// # Examples
///
/// ```
/// use quadpipe::{Error, Integral, NonFinite};
///
/// // ln(x) is NaN on half of [-1, 1].
/// let ln = Integral::new(f64::ln, -1.0..1.0).samples(1000);
/// let err = pollster::block_on(ln.run_inline()).unwrap_err();
/// assert!(matches!(err, Error::NonFiniteValue { .. }));
///
/// // Skipped, the NaNs count as 0: the estimate is ∫₀¹ ln x dx = -1.
/// let skipping = ln.samples(1 << 20).non_finite(NonFinite::Skip);
/// let estimate = pollster::block_on(skipping.run_inline())?;
/// assert!((estimate.value + 1.0).abs() < 5.0 * estimate.std_error);
/// assert!(estimate.skipped > 500_000 && estimate.skipped < 550_000);
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NonFinite {
    /// The run fails with [`Error::NonFiniteValue`], which names the first
    /// such point in sample order and the value there.
    #[default]
    Error,
    /// Such values count as 0, and how many there were is reported in
    /// [`Estimate::skipped`](crate::Estimate::skipped). For a vector
    /// integrand this holds per component: a NaN in one component counts
    /// as 0 for that component alone, and each component counts its own
    /// (see [`Estimate::component`](crate::Estimate::component)), so each
    /// component's estimate is the one a run of it alone would give. The estimate is then
    /// the integral over the part of the domain where the integrand is
    /// finite: what you want when the bad points are a set of measure zero
    /// (a singularity that rounding hits), or a region you mean to leave
    /// out; the count tells you which it was.
    Skip,
}

impl<F: Fn(f64) -> f64 + Send + Sync + 'static> Integrand for Scalar<F> {}
impl<F: Fn(&[f64]) -> f64 + Send + Sync + 'static> Integrand for Pointwise<F> {}
impl<F: Fn(&[f64], &mut [f64]) + Send + Sync + 'static> Integrand for Batched<F> {}
impl<F: Fn(&[f64], &mut [f64]) + Send + Sync + 'static> Integrand for Vector<F> {}
impl<F: Fn(&[f64], &mut [f64]) + Send + Sync + 'static> Integrand for VectorBatched<F> {}

pub(crate) mod sealed {
    use super::*;

    /// How the samplers call each form. Public in a private module: the
    /// `Integrand` trait is sealed, and these methods stay out of sight.
    pub trait Evaluate {
        /// Sums the integrand over one plain Monte Carlo chunk.
        fn mc_chunk(&self, chunk: &McChunk<'_>, halt: &Halt) -> Result<McPart, Error>;

        /// Fills `values[i * m + j]` with component `j` of the integrand
        /// at point `i` of `points` (`dims` coordinates each, one point
        /// after another), `m` being [`components`](Self::components).
        fn evaluate(&self, dims: usize, points: &[f64], values: &mut [f64]);

        /// Values per point: 1 but for the vector forms.
        fn components(&self) -> usize {
            1
        }
    }
}

impl<F: Fn(f64) -> f64> sealed::Evaluate for Scalar<F> {
    fn mc_chunk(&self, chunk: &McChunk<'_>, halt: &Halt) -> Result<McPart, Error> {
        chunk.run_scalar(&self.0, halt)
    }

    fn evaluate(&self, _dims: usize, points: &[f64], values: &mut [f64]) {
        for (value, &x) in values.iter_mut().zip(points) {
            *value = (self.0)(x);
        }
    }
}

impl<F: Fn(&[f64]) -> f64> sealed::Evaluate for Pointwise<F> {
    fn mc_chunk(&self, chunk: &McChunk<'_>, halt: &Halt) -> Result<McPart, Error> {
        chunk.run_blocks(
            |dims, points, values| self.evaluate(dims, points, values),
            halt,
        )
    }

    fn evaluate(&self, dims: usize, points: &[f64], values: &mut [f64]) {
        for (value, point) in values.iter_mut().zip(points.chunks_exact(dims)) {
            *value = (self.0)(point);
        }
    }
}

impl<F: Fn(&[f64], &mut [f64])> sealed::Evaluate for Batched<F> {
    fn mc_chunk(&self, chunk: &McChunk<'_>, halt: &Halt) -> Result<McPart, Error> {
        chunk.run_blocks(
            |dims, points, values| self.evaluate(dims, points, values),
            halt,
        )
    }

    fn evaluate(&self, _dims: usize, points: &[f64], values: &mut [f64]) {
        (self.0)(points, values);
    }
}

impl<F: Fn(&[f64], &mut [f64])> sealed::Evaluate for Vector<F> {
    fn mc_chunk(&self, chunk: &McChunk<'_>, halt: &Halt) -> Result<McPart, Error> {
        chunk.run_components(
            self.components,
            |dims, points, values| self.evaluate(dims, points, values),
            halt,
        )
    }

    fn evaluate(&self, dims: usize, points: &[f64], values: &mut [f64]) {
        let point_values = values.chunks_exact_mut(self.components);
        for (values, point) in point_values.zip(points.chunks_exact(dims)) {
            (self.f)(point, values);
        }
    }

    fn components(&self) -> usize {
        self.components
    }
}

impl<F: Fn(&[f64], &mut [f64])> sealed::Evaluate for VectorBatched<F> {
    fn mc_chunk(&self, chunk: &McChunk<'_>, halt: &Halt) -> Result<McPart, Error> {
        chunk.run_components(
            self.components,
            |dims, points, values| self.evaluate(dims, points, values),
            halt,
        )
    }

    fn evaluate(&self, _dims: usize, points: &[f64], values: &mut [f64]) {
        (self.f)(points, values);
    }

    fn components(&self) -> usize {
        self.components
    }
}

impl<F> fmt::Debug for Vector<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vector({} components)", self.components)
    }
}

impl<F> fmt::Debug for VectorBatched<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VectorBatched({} components)", self.components)
    }
}

impl<F> fmt::Debug for Scalar<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scalar(Fn(f64) -> f64)")
    }
}

impl<F> fmt::Debug for Pointwise<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pointwise(Fn(&[f64]) -> f64)")
    }
}

impl<F> fmt::Debug for Batched<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Batched(Fn(&[f64], &mut [f64]))")
    }
}
