//! How fast the error falls: plain Monte Carlo against randomised QMC on a
//! smooth Genz integrand (the Gaussian family, 5 dimensions), for
//! N = 2^10 … 2^22 points. For each N it averages the actual error and the
//! reported standard error over a few seeds, prints the table, and writes a
//! log-log plot with the N^-1/2 and N^-1 reference lines to
//! `convergence.svg`.
//!
//! ```text
//! cargo run --release --example convergence
//! cargo run --release --example convergence -- --out /tmp/convergence.svg
//! ```
//!
//! Expect plain Monte Carlo along N^-1/2, randomised QMC close to N^-1,
//! and each method's reported error tracking its actual error: an error
//! bar that lies would show as a gap between the two.

#[path = "../tests/common/genz.rs"]
mod genz;

use std::env;
use std::error::Error;
use std::sync::Arc;

use genz::{Family, Genz};
use plotters::prelude::*;
use quadpipe::{Integral, Method};

/// Seeds averaged at each N: enough to smooth a single run's luck.
const SEEDS: u64 = 5;

/// One point of the table: N and, for each method, the root mean square
/// of the actual error and the mean reported standard error.
struct Row {
    samples: u64,
    mc: (f64, f64),
    qmc: (f64, f64),
}

fn measure(genz: &Arc<Genz>, method: Method, samples: u64) -> Result<(f64, f64), quadpipe::Error> {
    let exact = genz.exact();
    let (mut squares, mut reported) = (0.0, 0.0);
    for seed in 0..SEEDS {
        let g = genz.clone();
        let integral = Integral::over(move |x: &[f64]| g.eval(x), vec![0.0..1.0; genz.dim()])
            .samples(samples)
            .chunk_size(samples.min(1 << 16))
            .method(method.clone())
            .seed(seed);
        let estimate = pollster::block_on(integral.run())?;
        squares += (estimate.value - exact).powi(2);
        reported += estimate.std_error;
    }
    Ok(((squares / SEEDS as f64).sqrt(), reported / SEEDS as f64))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = env::args().collect();
    let out = match args.iter().position(|a| a == "--out") {
        Some(i) => args.get(i + 1).ok_or("--out needs a path")?.clone(),
        None => "convergence.svg".to_owned(),
    };
    let genz = Arc::new(Genz::new(Family::Gaussian, 5));
    println!(
        "Genz {} in 5 dimensions, exact {:.12}",
        Family::Gaussian.name(),
        genz.exact()
    );
    println!(
        "{:>9}  {:>11} {:>11}  {:>11} {:>11}",
        "N", "MC error", "MC std err", "RQMC error", "RQMC std err"
    );
    let mut rows = Vec::new();
    for log2 in 10..=22 {
        let samples = 1u64 << log2;
        let row = Row {
            samples,
            mc: measure(&genz, Method::MONTE_CARLO, samples)?,
            qmc: measure(&genz, Method::SOBOL, samples)?,
        };
        println!(
            "{:>9}  {:>11.3e} {:>11.3e}  {:>11.3e} {:>11.3e}",
            row.samples, row.mc.0, row.mc.1, row.qmc.0, row.qmc.1
        );
        rows.push(row);
    }
    plot(&rows, &out)?;
    println!("wrote {out}");
    Ok(())
}

/// A curve of the plot: its label, colour, whether dashed, and its value.
type Line = (&'static str, RGBColor, bool, fn(&Row) -> f64);

/// The log-log plot: each method's actual error (solid) and reported
/// standard error (dashed), with reference slopes from the first N.
fn plot(rows: &[Row], out: &str) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(out, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let (first, last) = (rows[0].samples as f64, rows[rows.len() - 1].samples as f64);
    let errors = rows.iter().flat_map(|r| [r.mc.0, r.mc.1, r.qmc.0, r.qmc.1]);
    let lowest = errors.clone().fold(f64::INFINITY, f64::min) / 2.0;
    let highest = errors.fold(0.0, f64::max) * 2.0;
    let mut chart = ChartBuilder::on(&root)
        .caption("Genz Gaussian, d = 5: error against N", ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d((first..last).log_scale(), (lowest..highest).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("N (integrand evaluations)")
        .y_desc("error")
        .x_label_formatter(&|n| format!("2^{}", n.log2().round()))
        .y_label_formatter(&|e| format!("{e:.0e}"))
        .draw()?;

    let series = |pick: fn(&Row) -> f64| rows.iter().map(move |r| (r.samples as f64, pick(r)));
    let lines: [Line; 4] = [
        ("MC actual error", RED, false, |r| r.mc.0),
        ("MC reported std error (dashed)", RED, true, |r| r.mc.1),
        ("RQMC actual error", BLUE, false, |r| r.qmc.0),
        ("RQMC reported std error (dashed)", BLUE, true, |r| r.qmc.1),
    ];
    for (label, color, dashed, pick) in lines {
        let style = color.stroke_width(2);
        let drawn = if dashed {
            chart.draw_series(DashedLineSeries::new(series(pick), 6, 4, style))?
        } else {
            chart.draw_series(LineSeries::new(series(pick), style))?
        };
        drawn.label(label).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
        });
    }
    // Above the data by a factor of 3, so the slopes can be compared.
    for (label, slope, anchor) in [
        ("N^-1/2", -0.5, 3.0 * rows[0].mc.1),
        ("N^-1", -1.0, 3.0 * rows[0].qmc.1),
    ] {
        let reference = [first, last].map(|n| (n, anchor * (n / first).powf(slope)));
        chart
            .draw_series(LineSeries::new(reference, BLACK.mix(0.4)))?
            .label(label)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
