//! The ways to estimate an integral.

pub(crate) mod gauss_kronrod;
pub(crate) mod plain;
pub(crate) mod quadrature;
pub(crate) mod sobol;
pub(crate) mod vegas;
pub(crate) mod vegas_grid;
pub(crate) mod vegas_strata;

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
#[derive(Clone, Copy, Debug, Default, PartialEq)]
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
    /// Adaptive Gauss–Kronrod quadrature in one dimension: QUADPACK's QAGS
    /// (G10–K21 rule, bisection of the subinterval with the largest error,
    /// Wynn's epsilon extrapolation for endpoint singularities), and QAGI
    /// (G7–K15 after `x = a + (1 − t)/t`) when a bound is infinite.
    /// Deterministic; for smooth integrands it reaches 1e-10 in a few
    /// hundred evaluations. The sample budget does not apply: it stops
    /// when its error estimate meets the [`tolerance`](crate::Integral::tolerance)
    /// (relative 1e-10 if none is set), or says why not
    /// ([`Stop::SubdivisionLimit`](crate::Stop::SubdivisionLimit),
    /// [`Stop::RoundOff`](crate::Stop::RoundOff),
    /// [`Stop::Divergent`](crate::Stop::Divergent)). The estimate's
    /// `std_error` holds that error estimate, and `samples` the evaluations.
    GaussKronrod {
        /// The most subintervals, at least 1 (QUADPACK's `limit`).
        limit: u32,
    },
    /// VEGAS+, Lepage's adaptive importance sampling (J. Comput. Phys. 27,
    /// 192, 1978) with adaptive stratified sampling (J. Comput. Phys. 439,
    /// 110386, 2021): points drawn through a separable map of the unit
    /// cube that each iteration refines from a histogram of `(f · J)²`, so
    /// that samples crowd where `|f|` is large, and spread over hypercubes
    /// of the map's unit cube, each iteration moving samples towards the
    /// hypercubes where `f · J` varied most. The warm-up iterations
    /// together spend at most a fifth of the sample budget (less if their
    /// equal share is less), split equally; the counted iterations split
    /// the rest. The estimate is the inverse-variance weighted average of
    /// the counted iterations, with `χ²/dof` and `Q` saying whether they
    /// agree
    /// ([`Estimate::chi2_per_dof`](crate::Estimate::chi2_per_dof),
    /// [`Estimate::iterations_disagree`](crate::Estimate::iterations_disagree)).
    /// A [`tolerance`](crate::Integral::tolerance) is checked on that
    /// average at the end of each iteration. Best for integrands peaked
    /// along the axes (products of one-variable factors); a peak along a
    /// diagonal defeats any separable grid.
    Vegas {
        /// Iterations, each with `samples / iterations` points; at least 1.
        iterations: u32,
        /// Leading iterations that only train the grid and are left out
        /// of the average; fewer than `iterations`.
        warmup: u32,
        /// The damping exponent of grid refinement, finite and ≥ 0: 0 never
        /// adapts, larger adapts faster but follows noise more. 0.5 is the
        /// default of Lepage's Python package `vegas` (GSL and Numerical
        /// Recipes use 1.5 with a coarser grid and stronger smoothing);
        /// [`Method::VEGAS`] uses 1.
        alpha: f64,
        /// Increments per axis; 0 chooses as `vegas` does:
        /// `min(samples per iteration / 10, 1000)`.
        increments: u32,
    },
}

impl Method {
    /// Randomised QMC with 8 replicas.
    pub const SOBOL: Method = Method::Sobol { replicas: 8 };

    /// Gauss–Kronrod with up to 1000 subintervals: enough for cos(1000x)
    /// on [0, 1] (128 at 1e-10), and 40 kB of bookkeeping at most.
    pub const GAUSS_KRONROD: Method = Method::GaussKronrod { limit: 1000 };

    /// VEGAS+ with 12 iterations: 8 of warm-up on a fifth of the samples,
    /// then 4 counted on the rest; damping `alpha = 1` and vegas's choice
    /// of increments.
    ///
    /// Chosen by `bench/peers.py` (the Genz families in d = 2, 5, 8 at 2^16
    /// and 2^20 evaluations, against Lepage's `vegas` with its defaults):
    /// at vegas's `alpha = 0.5` a 1000-increment grid moves only about
    /// `alpha / ln 1000 ≈ 7%` of the way to its target per iteration (the
    /// damped weights grow as `(1/ln(1/r))^alpha`), so after ten
    /// iterations it is still far from converged on a peak. `alpha = 1`
    /// cut the geometric mean error over the product-peak, gaussian and C0
    /// families about 4× against 0.5, and 0.75 half as much (20 equal
    /// iterations, 10 seeds); on vegas itself 1.5 gained little more on
    /// peaks and lost on the oscillatory family. It needs the grading of
    /// the grid (`MAX_DENSITY_RATIO` in `method/vegas_grid.rs`), without
    /// which it fails the discontinuous family. Eight small warm-up iterations
    /// adapt the grid often; four large counted ones keep the stratified
    /// estimate strong (see `WARMUP_SHARE` in `method/vegas.rs`).
    pub const VEGAS: Method = Method::Vegas {
        iterations: 12,
        warmup: 8,
        alpha: 1.0,
        increments: 0,
    };
}
