//! The ways to estimate an integral.

pub(crate) mod gauss_kronrod;
pub(crate) mod plain;
pub(crate) mod sobol;
pub(crate) mod vegas_grid;

/// How an [`Integral`](crate::Integral) samples its integrand.
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Method};
///
/// let integral = Integral::over(|x: &[f64]| x[0] * x[1], [0.0..1.0, 0.0..1.0])
///     .samples(1 << 16);
/// let mc = pollster::block_on(integral.run_inline())?;
/// let qmc = pollster::block_on(integral.method(Method::SOBOL).run_inline())?;
/// // Both near 1/4; the QMC error bar is far smaller for this smooth integrand.
/// assert!(qmc.std_error < mc.std_error / 10.0);
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// Plain Monte Carlo: independent uniform points. The error falls as
    /// N^(-1/2) whatever the dimension or smoothness; the standard error
    /// comes from the sample variance.
    #[default]
    MonteCarlo,
    /// Randomised quasi-Monte Carlo: `replicas` independent Owen-scrambled
    /// Sobol sequences. For smooth integrands the error falls nearly as
    /// N^(-1); the estimate is the mean of the replicas' estimates and its
    /// standard error comes from their spread (Student's t with
    /// `replicas − 1` degrees of freedom), never from a single point set.
    Sobol {
        /// Independent scrambles, at least 2; 8 is usual.
        replicas: u32,
    },
}

impl Method {
    /// Randomised QMC with 8 replicas.
    pub const SOBOL: Method = Method::Sobol { replicas: 8 };
}
