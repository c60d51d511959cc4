//! The integral of x over [0, π] (the walk-through's), and five more specs
//! (randomised QMC, VEGAS, a tolerance stop, Gauss–Kronrod, cubature), on every rank
//! of an MPI job, then the RQMC and VEGAS ones again, cancelled part way and
//! resumed from their checkpoints: rank 0 prints each estimate with its
//! bits, the rank count and the time.
//! The bits are the same on 1, 2 or 3 ranks, and the same as one process
//! without MPI (`--local`).
//!
//! ```text
//! cargo build --release --features mpi --example mpi_integral
//! mpirun --bind-to none -np 2 target/release/examples/mpi_integral
//! target/release/examples/mpi_integral --local   # no MPI at all
//! ```
//!
//! Options: `--samples N` (default 2^28) for the first spec;
//! `--only-pi` runs only it (for timing); `--fail-on-rank R` makes the
//! integrand return NaN on rank R, and `--cancel-on-rank R` cancels rank R
//! after 100 ms, and `--other-seed-on-rank R` gives rank R another seed:
//! every rank must then stop with an error naming R.

use std::error::Error;
use std::f64::consts::PI;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mpi::traits::{Communicator, CommunicatorCollectives};
use quadpipe::{Estimate, Integral, Method, MpiControl};

struct Options {
    samples: u64,
    only_pi: bool,
    local: bool,
    fail_on: Option<i32>,
    cancel_on: Option<i32>,
    other_seed_on: Option<i32>,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let mut options = Options {
        samples: 1 << 28,
        only_pi: false,
        local: false,
        fail_on: None,
        cancel_on: None,
        other_seed_on: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--samples" => options.samples = value()?.parse()?,
            "--only-pi" => options.only_pi = true,
            "--local" => options.local = true,
            "--fail-on-rank" => options.fail_on = Some(value()?.parse()?),
            "--cancel-on-rank" => options.cancel_on = Some(value()?.parse()?),
            "--other-seed-on-rank" => options.other_seed_on = Some(value()?.parse()?),
            _ => return Err(format!("unknown option {arg}").into()),
        }
    }
    Ok(options)
}

/// Runs one spec on all ranks, or in this process alone.
fn run<I: quadpipe::Integrand>(
    integral: &Integral<I>,
    world: Option<&impl Communicator>,
    control: &MpiControl,
) -> Result<Estimate, quadpipe::Error> {
    match world {
        Some(world) => integral.run_mpi_with(world, control),
        None => pollster::block_on(integral.run()),
    }
}

/// Cancels `integral` once it has merged `after` samples, then resumes it
/// from its last checkpoint: the bits must be those of an uninterrupted
/// run. Under MPI rank 0 cancels, and every rank resumes from its own copy
/// of the same checkpoint.
fn cancelled_and_resumed<I: quadpipe::Integrand>(
    integral: &Integral<I>,
    world: Option<&impl Communicator>,
    after: u64,
    control: &MpiControl,
) -> Result<Estimate, quadpipe::Error> {
    let checkpoint = match world {
        Some(world) => {
            let interrupted = MpiControl::new();
            let watcher = interrupted.clone();
            let ended = Arc::new(AtomicBool::new(false));
            let watching = (world.rank() == 0).then(|| {
                let ended = ended.clone();
                std::thread::spawn(move || {
                    while !ended.load(Ordering::Relaxed) {
                        if watcher.progress().done >= after {
                            watcher.cancel();
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                })
            });
            // Err when cancelled; if the run was quicker than the watcher,
            // its last checkpoint is its end, and resuming still must agree.
            let _ = integral.run_mpi_with(world, &interrupted);
            ended.store(true, Ordering::Relaxed);
            if let Some(thread) = watching {
                thread.join().expect("the watcher does not panic");
            }
            interrupted.checkpoint()
        }
        None => {
            let mut task = integral.spawn();
            while !task.is_finished() {
                if task.progress().done >= after {
                    task.cancel();
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let _ = pollster::block_on(&mut task);
            task.checkpoint()
        }
    };
    let checkpoint = checkpoint.expect("a checkpoint before the cancel");
    if world.is_none_or(|world| world.rank() == 0) {
        eprintln!("resuming from {} samples", checkpoint.samples_done());
    }
    run(&integral.clone().resume(&checkpoint), world, control)
}

fn main() -> Result<(), Box<dyn Error>> {
    let options = options()?;
    // Without MPI nothing is initialised, so no launcher is needed.
    let universe = if options.local {
        None
    } else {
        Some(mpi::initialize().ok_or("MPI was already initialised")?)
    };
    let world = universe.as_ref().map(|universe| universe.world());
    let (rank, ranks) = world.as_ref().map_or((0, 1), |w| (w.rank(), w.size()));

    let control = MpiControl::new();
    if options.cancel_on == Some(rank) {
        let control = control.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            control.cancel();
        });
    }
    let poisoned = options.fail_on == Some(rank);
    let seed = if options.other_seed_on == Some(rank) {
        2
    } else {
        1
    };
    let pi = Integral::new(move |x| if poisoned { f64::NAN } else { x }, 0.0..PI)
        .samples(options.samples)
        .chunk_size(1 << 20)
        .seed(seed);
    let rqmc = Integral::over(
        |p: &[f64]| (p[0] + p[1] * p[2]).cos(),
        [0.0..1.0, 0.0..1.0, 0.0..1.0],
    )
    .method(Method::SOBOL)
    .samples(8 << 20)
    .chunk_size(1 << 16)
    .seed(2);
    let vegas = Integral::over(
        |p: &[f64]| (-p.iter().map(|x| (x - 0.4) * (x - 0.4)).sum::<f64>() / 0.01).exp(),
        vec![0.0..1.0; 4],
    )
    .method(Method::VEGAS)
    .samples(10 << 18)
    .chunk_size(1 << 14)
    .seed(3);
    let tolerance = Integral::new(f64::exp, 0.0..1.0)
        .samples(1 << 30)
        .chunk_size(1 << 14)
        .tolerance(0.0, 1e-4)
        .seed(4);
    // A pass per bisection, its two halves a chunk each, on two ranks.
    let quadrature = Integral::new(|x| x.sqrt() * (1.0 / x).ln(), 0.0..1.0)
        .method(Method::GAUSS_KRONROD)
        .tolerance(0.0, 1e-12);
    // Adaptive cubature: passes of many regions, a group of them a chunk,
    // with an infinite axis.
    let cubature = Integral::over(
        |p: &[f64]| (-(p[0] * p[0] + 2.0 * p[1] * p[1] + p[2])).exp(),
        [0.0..1.0, 0.0..f64::INFINITY, 0.0..2.0],
    )
    .method(Method::CUBATURE)
    .tolerance(0.0, 1e-10)
    .chunk_size(2000);

    let started = Instant::now();
    let world = world.as_ref();
    let mut results = vec![("pi", run(&pi, world, &control))];
    if !options.only_pi {
        results.push(("rqmc", run(&rqmc, world, &control)));
        results.push(("vegas", run(&vegas, world, &control)));
        results.push(("tolerance", run(&tolerance, world, &control)));
        results.push(("quadrature", run(&quadrature, world, &control)));
        results.push(("cubature", run(&cubature, world, &control)));
        results.push((
            "rqmc-resumed",
            cancelled_and_resumed(&rqmc, world, 2 << 20, &control),
        ));
        results.push((
            "vegas-resumed",
            cancelled_and_resumed(&vegas, world, 3 << 18, &control),
        ));
    }
    let elapsed = started.elapsed();
    let mut failed = false;
    for (name, result) in results {
        match result {
            Ok(estimate) if rank == 0 => println!(
                "{name:<13} {:#018x} {estimate:.12} stop: {}",
                estimate.value.to_bits(),
                estimate.stop
            ),
            Ok(_) => {}
            Err(err) => {
                // One write per line, so that the ranks' lines do not mix.
                let line = format!("rank {rank}: {name}: {err}\n");
                std::io::stderr().write_all(line.as_bytes())?;
                failed = true;
            }
        }
    }
    if rank == 0 {
        println!("ranks: {ranks}, time: {:.3} s", elapsed.as_secs_f64());
    }
    // Every rank has said its piece before any exits: mpirun ends the job
    // at the first non-zero exit. Then MPI is finalised, as `universe` drops.
    if let Some(world) = world {
        world.barrier();
    }
    drop(universe);
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
