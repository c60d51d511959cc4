//! `Integral::run_blocking`: the caller's thread computes chunks beside the
//! default executor's workers, with the same bits as every other way of
//! running; a one-chunk pass never leaves the caller, slow chunks go to
//! the workers (woken while the caller's first chunk runs), and it works (and does not deadlock) on a pool worker too.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::watchdog;
use quadpipe::{Error, Integral, Method};

fn exp_sum(x: &[f64]) -> f64 {
    x.iter().map(|&xi| (-xi * xi).exp()).sum()
}

#[test]
fn same_bits_as_inline_for_every_method() {
    watchdog(|| {
        let cases = [
            (Method::MONTE_CARLO, 1_000),
            (Method::MONTE_CARLO, 1 << 20),
            (Method::SOBOL, 1 << 14),
            (Method::VEGAS, 1 << 16),
            (Method::CUBATURE, 1 << 16),
        ];
        for (method, samples) in cases {
            let integral = Integral::over(exp_sum, vec![0.0..1.0; 3])
                .method(method.clone())
                .samples(samples)
                .seed(5);
            let inline = pollster::block_on(integral.run_inline()).unwrap();
            assert_eq!(integral.run_blocking().unwrap(), inline, "{method:?}");
        }
        let one_dim = Integral::new(|x: f64| x.sqrt(), 0.0..1.0).method(Method::GAUSS_KRONROD);
        let inline = pollster::block_on(one_dim.run_inline()).unwrap();
        assert_eq!(one_dim.run_blocking().unwrap(), inline);
    });
}

#[test]
fn same_bits_for_a_vector_integrand() {
    watchdog(|| {
        let integral = Integral::vector(
            3,
            |x: &[f64], out: &mut [f64]| {
                out[0] = x[0];
                out[1] = x[0] * x[1];
                out[2] = (x[0] + x[1]).cos();
            },
            vec![0.0..1.0; 2],
        )
        .samples(1 << 16)
        .chunk_size(1 << 12);
        let inline = pollster::block_on(integral.run_inline()).unwrap();
        assert_eq!(integral.run_blocking().unwrap(), inline);
    });
}

/// The names of the threads that called the integrand, and an integrand
/// that records them after `delay`.
fn recording(delay: Duration) -> (Arc<Mutex<HashSet<String>>>, impl Fn(f64) -> f64 + Clone) {
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let seen = threads.clone();
    let f = move |x: f64| {
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        let name = thread::current().name().unwrap_or("unnamed").to_owned();
        seen.lock().unwrap().insert(name);
        x
    };
    (threads, f)
}

#[test]
fn a_one_chunk_run_stays_on_the_calling_thread() {
    watchdog(|| {
        let caller = thread::current().name().unwrap().to_owned();
        let (threads, f) = recording(Duration::ZERO);
        let integral = Integral::new(f, 0.0..1.0).samples(4096).chunk_size(4096);
        integral.run_blocking().unwrap();
        assert_eq!(*threads.lock().unwrap(), HashSet::from([caller]));
    });
}

#[test]
fn slow_chunks_go_to_the_workers() {
    watchdog(|| {
        // Each chunk sleeps 16 × 100 µs, past the caller's limit, so the
        // caller computes at most two of the eight chunks.
        let (threads, f) = recording(Duration::from_micros(100));
        let integral = Integral::new(f, 0.0..1.0).samples(128).chunk_size(16);
        let estimate = integral.run_blocking().unwrap();
        assert_eq!(estimate.samples, 128);
        let threads = threads.lock().unwrap();
        assert!(
            threads
                .iter()
                .any(|name| name.starts_with("quadpipe-worker")),
            "{threads:?}"
        );
    });
}

#[test]
fn a_long_first_chunk_starts_the_workers_before_it_ends() {
    watchdog(|| {
        // Two chunks of 16 steps of 16 samples, 200 µs a sample: the
        // caller's first chunk runs ~50 ms, and hands the second to a
        // worker at its first look, ~3 ms in, so that the two overlap.
        let caller = thread::current().name().unwrap().to_owned();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        let f = move |x: f64| {
            thread::sleep(Duration::from_micros(200));
            let name = thread::current().name().unwrap_or("unnamed").to_owned();
            seen.lock().unwrap().push((name, Instant::now()));
            x
        };
        let integral = Integral::new(f, 0.0..1.0).samples(512).chunk_size(256);
        let estimate = integral.run_blocking().unwrap();
        assert_eq!(estimate.samples, 512);
        let calls = calls.lock().unwrap();
        let last_of_caller = (calls.iter().filter(|(name, _)| *name == caller))
            .map(|&(_, at)| at)
            .max()
            .expect("the caller computed the first chunk");
        let first_of_workers = (calls.iter().filter(|(name, _)| *name != caller))
            .map(|&(_, at)| at)
            .min()
            .expect("a worker computed the second chunk");
        assert!(
            first_of_workers < last_of_caller,
            "the chunks did not overlap"
        );
    });
}

#[test]
fn works_on_a_worker_of_the_default_executor() {
    watchdog(|| {
        let integral = Integral::new(f64::exp, 0.0..1.0)
            .samples(1 << 16)
            .chunk_size(1 << 10);
        let expected = pollster::block_on(integral.run_inline()).unwrap();
        let executor = quadpipe::default_executor().unwrap();
        // Every worker blocked in `run_blocking` at once: each computes
        // its own chunks rather than wait for a worker it holds.
        let tasks: Vec<_> = (0..executor.threads() + 1)
            .map(|_| {
                let integral = integral.clone();
                executor.spawn(async move { integral.run_blocking() })
            })
            .collect();
        for task in tasks {
            assert_eq!(pollster::block_on(task).unwrap().unwrap(), expected);
        }
    });
}

#[test]
fn errors_come_back_as_from_run() {
    watchdog(|| {
        let bad = Integral::new(|x| x, 0.0..f64::NAN).run_blocking();
        assert!(matches!(bad, Err(Error::NonFiniteBound { .. })), "{bad:?}");
        let panics = Integral::new(|_| panic!("boom"), 0.0..1.0).run_blocking();
        assert!(matches!(panics, Err(Error::Panicked(ref m)) if m.contains("boom")));
    });
}
