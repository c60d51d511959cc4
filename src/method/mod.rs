//! The ways to estimate an integral, and their settings.
//!
//! [`Method`] is what [`Integral::method`](crate::Integral::method) takes;
//! each method with settings has a builder here, made by a constructor of
//! [`Method`] ([`Method::sobol`], [`Method::vegas`],
//! [`Method::gauss_kronrod`], [`Method::cubature`]), so that a new
//! setting breaks no caller.

pub(crate) mod cubature;
pub(crate) mod gauss_kronrod;
pub(crate) mod plain;
pub(crate) mod sobol;
pub(crate) mod vegas;

use std::sync::Arc;

use crate::driver::pass::{Passes, Single};
use crate::spec::settings::Settings;
use crate::{Error, Integrand};

pub use cubature::{Cubature, MAX_CUBATURE_DIMS};
pub use gauss_kronrod::{GaussKronrod, MAX_BREAK_POINTS};
pub use sobol::{MAX_REPLICAS, Sobol};
pub use vegas::Vegas;

/// How an [`Integral`](crate::Integral) samples its integrand.
///
/// - [`Method::MONTE_CARLO`], the default: independent uniform points.
/// - [`Method::sobol`]: randomised quasi-Monte Carlo ([`Sobol`]).
/// - [`Method::vegas`]: adaptive importance sampling ([`Vegas`]).
/// - [`Method::gauss_kronrod`]: adaptive quadrature in one dimension
///   ([`GaussKronrod`]).
/// - [`Method::cubature`]: adaptive cubature in 2 to 15 dimensions
///   ([`Cubature`]).
///
/// # Examples
///
/// ```
/// use quadpipe::{Integral, Method};
///
/// let integral = Integral::over(|x: &[f64]| x[0] * x[1], [0.0..1.0, 0.0..1.0])
///     .samples(1 << 16);
/// let mc = pollster::block_on(integral.run_inline())?;
/// let qmc = pollster::block_on(integral.method(Method::sobol()).run_inline())?;
/// // Both near 1/4; the QMC error bar is far smaller for this smooth integrand.
/// assert!(qmc.std_error < mc.std_error / 10.0);
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Method(Kind);

/// Every method, with its settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Kind {
    #[default]
    MonteCarlo,
    Sobol(Sobol),
    Vegas(Vegas),
    GaussKronrod(GaussKronrod),
    Cubature(Cubature),
}

impl Method {
    /// Plain Monte Carlo: independent uniform points. The error falls as
    /// N^(-1/2) whatever the dimension or smoothness; the standard error
    /// comes from the sample variance.
    pub const MONTE_CARLO: Method = Method(Kind::MonteCarlo);

    /// Randomised QMC with 8 replicas: [`Method::sobol`]'s defaults.
    pub const SOBOL: Method = Method(Kind::Sobol(Sobol::new()));

    /// VEGAS with [`Method::vegas`]'s defaults.
    pub const VEGAS: Method = Method(Kind::Vegas(Vegas::new()));

    /// Gauss–Kronrod with [`Method::gauss_kronrod`]'s defaults.
    pub const GAUSS_KRONROD: Method = Method(Kind::GaussKronrod(GaussKronrod::new()));

    /// Cubature with [`Method::cubature`]'s defaults.
    pub const CUBATURE: Method = Method(Kind::Cubature(Cubature::new()));

    /// Plain Monte Carlo, the default method.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadpipe::Method::monte_carlo(), quadpipe::Method::default());
    /// ```
    pub const fn monte_carlo() -> Method {
        Method::MONTE_CARLO
    }

    /// Randomised quasi-Monte Carlo, with settings to change; see [`Sobol`].
    ///
    /// # Examples
    ///
    /// ```
    /// let method = quadpipe::Method::sobol().replicas(16);
    /// let integral = quadpipe::Integral::new(|x| x * x, 0.0..1.0)
    ///     .samples(16 << 10)
    ///     .method(method);
    /// let estimate = pollster::block_on(integral.run_inline())?;
    /// assert!((estimate.value - 1.0 / 3.0).abs() < 1e-5);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub const fn sobol() -> Sobol {
        Sobol::new()
    }

    /// VEGAS adaptive importance sampling, with settings to change; see
    /// [`Vegas`].
    ///
    /// # Examples
    ///
    /// ```
    /// let method = quadpipe::Method::vegas().iterations(12).warmup(4);
    /// let integral = quadpipe::Integral::over(
    ///     |x: &[f64]| (-100.0 * ((x[0] - 0.5).powi(2) + (x[1] - 0.5).powi(2))).exp(),
    ///     [0.0..1.0, 0.0..1.0],
    /// )
    /// .samples(1 << 18)
    /// .method(method);
    /// let estimate = pollster::block_on(integral.run_inline())?;
    /// let exact = std::f64::consts::PI / 100.0; // nearly all of the peak is inside
    /// assert!((estimate.value - exact).abs() < 5.0 * estimate.std_error + 1e-9);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub const fn vegas() -> Vegas {
        Vegas::new()
    }

    /// Adaptive Gauss–Kronrod quadrature in one dimension, with settings to
    /// change; see [`GaussKronrod`].
    ///
    /// # Examples
    ///
    /// ```
    /// let integral = quadpipe::Integral::new(f64::exp, 0.0..1.0)
    ///     .method(quadpipe::Method::gauss_kronrod().limit(50));
    /// let estimate = pollster::block_on(integral.run_inline())?;
    /// assert!((estimate.value - (1f64.exp() - 1.0)).abs() < 1e-14);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub const fn gauss_kronrod() -> GaussKronrod {
        GaussKronrod::new()
    }

    /// Adaptive cubature in 2 to 15 dimensions (the Genz–Malik rule), with
    /// settings to come; see [`Cubature`].
    ///
    /// # Examples
    ///
    /// ```
    /// let integral = quadpipe::Integral::over(
    ///     |x: &[f64]| (-x[0] * x[0] - x[1] * x[1]).exp(),
    ///     [f64::NEG_INFINITY..f64::INFINITY, 0.0..f64::INFINITY],
    /// )
    /// .method(quadpipe::Method::cubature());
    /// let estimate = pollster::block_on(integral.run_inline())?;
    /// let exact = std::f64::consts::PI / 2.0;
    /// assert!((estimate.value - exact).abs() < 1e-8 * exact);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub const fn cubature() -> Cubature {
        Cubature::new()
    }

    /// The method's tag in a checkpoint, and the bytes of the settings that
    /// decide its bits, for the checkpoint's fingerprint.
    pub(crate) fn fingerprint(&self) -> (u8, Vec<u8>) {
        let mut settings = Vec::new();
        let kind = match &self.0 {
            Kind::MonteCarlo => 1,
            Kind::Sobol(sobol) => {
                sobol.fingerprint(&mut settings);
                2
            }
            Kind::GaussKronrod(quadrature) => {
                quadrature.fingerprint(&mut settings);
                3
            }
            Kind::Vegas(vegas) => {
                vegas.fingerprint(&mut settings);
                4
            }
            Kind::Cubature(cubature) => {
                cubature.fingerprint(&mut settings);
                5
            }
        };
        (kind, settings)
    }
}

/// What to do with a checked method, whichever it is: the one generic step
/// that [`dispatch`] takes for every method.
pub(crate) trait Visit {
    /// What the visit gives.
    type Output;

    /// Does it with `method`.
    fn visit<M: Passes + Sync>(self, method: M) -> Self::Output;
}

/// The one place that knows every method: checks the spec's method against
/// the spec, and hands it, ready to run, to `visitor`. A new method is its
/// module plus one line here (and its tag in [`Method::fingerprint`]).
pub(crate) fn dispatch<I: Integrand, V: Visit>(
    method: &Method,
    integrand: &Arc<I>,
    settings: &Settings,
    visitor: V,
) -> Result<V::Output, Error> {
    use cubature::CubatureRun;
    use gauss_kronrod::GkRun;
    use plain::PlainMonteCarlo;
    use sobol::RandomisedSobol;
    use vegas::{VectorVegasRun, VegasRun};

    let (f, s) = (integrand, settings);
    if f.components() != 1 {
        let unsupported = match &method.0 {
            Kind::GaussKronrod(_) => Some("Gauss–Kronrod"),
            Kind::MonteCarlo | Kind::Sobol(_) | Kind::Vegas(_) | Kind::Cubature(_) => None,
        };
        if let Some(method) = unsupported {
            return Err(Error::VectorUnsupported { method });
        }
    }
    Ok(match &method.0 {
        Kind::MonteCarlo => visitor.visit(Single::new(PlainMonteCarlo::new(f, s)?)),
        Kind::Sobol(sobol) => visitor.visit(Single::new(RandomisedSobol::new(f, s, *sobol)?)),
        Kind::Vegas(vegas) if f.components() > 1 => {
            visitor.visit(VectorVegasRun::new(f, s, *vegas)?)
        }
        Kind::Vegas(vegas) => visitor.visit(VegasRun::new(f, s, *vegas)?),
        Kind::GaussKronrod(gk) => visitor.visit(GkRun::new(f, s, gk)?),
        Kind::Cubature(cubature) => visitor.visit(CubatureRun::new(f, s, cubature)?),
    })
}

impl From<Sobol> for Method {
    fn from(sobol: Sobol) -> Method {
        Method(Kind::Sobol(sobol))
    }
}

impl From<Vegas> for Method {
    fn from(vegas: Vegas) -> Method {
        Method(Kind::Vegas(vegas))
    }
}

impl From<GaussKronrod> for Method {
    fn from(quadrature: GaussKronrod) -> Method {
        Method(Kind::GaussKronrod(quadrature))
    }
}

impl From<Cubature> for Method {
    fn from(cubature: Cubature) -> Method {
        Method(Kind::Cubature(cubature))
    }
}
