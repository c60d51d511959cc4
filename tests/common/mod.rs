//! Helpers shared by the integration tests.

#![allow(dead_code)] // Each test binary uses its own subset.

pub mod genz;

use std::env;
use std::io;
use std::panic::resume_unwind;
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use futures::io::{AsyncRead, Cursor};

/// How long a test may run before it is declared hung. Generous: the slowest
/// test here takes about a second; a deadlock takes forever.
pub const WATCHDOG: Duration = Duration::from_secs(30);

/// Runs `test` on a thread of its own and fails if it does not finish
/// within [`WATCHDOG`], so a deadlock fails fast instead of hanging CI.
/// A panic in `test` is passed on with its own message.
pub fn watchdog<T: Send + 'static>(test: impl FnOnce() -> T + Send + 'static) -> T {
    watchdog_for(WATCHDOG, test)
}

/// [`watchdog`] with a limit of its own, for a test meant to run long.
pub fn watchdog_for<T: Send + 'static>(
    limit: Duration,
    test: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, outcome) = mpsc::channel();
    let runner = thread::Builder::new()
        .name("watched-test".into())
        .spawn(move || {
            let _ = done.send(test());
        })
        .expect("start the test thread");
    match outcome.recv_timeout(limit) {
        Ok(value) => value,
        Err(RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => resume_unwind(panic),
            Ok(()) => unreachable!("the test thread ended without a result"),
        },
        Err(RecvTimeoutError::Timeout) => {
            panic!("test still running after {limit:?}: deadlock or hang")
        }
    }
}

/// Waits until `condition` holds, checking every millisecond; false if it
/// still does not after [`WATCHDOG`].
pub fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < WATCHDOG {
        if condition() {
            return true;
        }
        thread::sleep(Duration::from_millis(1));
    }
    false
}

/// The names of this process's threads that start with `prefix` (Linux
/// truncates a thread's name to 15 bytes).
#[cfg(target_os = "linux")]
pub fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

/// Set in a child process to the case it should check.
pub const CHILD: &str = "QUADPIPE_TEST_CHILD";

/// Runs test `name` of this binary in a child process with
/// `QUADPIPE_THREADS=value` and checks that it passed: the default
/// executor starts once per process, so each value needs a process.
pub fn in_child(name: &str, value: &str) {
    let status = Command::new(env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("QUADPIPE_THREADS", value)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{name} with QUADPIPE_THREADS={value:?} failed"
    );
}

/// The binary of example `name`, built with the profile these tests were
/// built with, into the same target directory. `cargo test` builds the
/// examples already and this finds them up to date; under `cargo test
/// --test NAME` it builds the one needed.
pub fn example(name: &str) -> std::path::PathBuf {
    // The test binary is `<target dir>/<profile dir>/deps/<test>-<hash>`.
    let exe = env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let target_dir = profile_dir.parent().unwrap();
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("release") => "release",
        _ => "test",
    };
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", name, "--profile", profile])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .status()
        .unwrap();
    assert!(status.success(), "cargo build --example {name} failed");
    profile_dir.join("examples").join(name)
}

/// Holds an integrand mid-run: every call past the first `after` waits
/// until [`open`](Gate::open), so a test can act on a task whose work is
/// known to be part done. Clones share the count and the gate.
#[derive(Clone)]
pub struct Gate {
    after: u64,
    calls: Arc<AtomicU64>,
    open: Arc<AtomicBool>,
}

impl Gate {
    /// A closed gate that lets the first `after` calls through.
    pub fn new(after: u64) -> Gate {
        Gate {
            after,
            calls: Arc::new(AtomicU64::new(0)),
            open: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Counts a call, and waits here if it is past the first `after`
    /// while the gate is closed.
    pub fn pass(&self) {
        if self.calls.fetch_add(1, Ordering::SeqCst) >= self.after {
            while !self.open.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// Calls so far, held ones included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Lets every call through from now on.
    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Counts the live copies of an integrand that holds it: each clone of the
/// guard is one, so a count back at zero shows nothing of a run was leaked.
pub struct DropGuard(Arc<AtomicUsize>);

impl DropGuard {
    pub fn new(live: &Arc<AtomicUsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        DropGuard(live.clone())
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A reader that gives `text`, then fails with `error` instead of ending:
/// a source whose input breaks off.
pub struct FailsAfter {
    text: Cursor<Vec<u8>>,
    error: &'static str,
}

impl FailsAfter {
    pub fn new(text: &[u8], error: &'static str) -> FailsAfter {
        FailsAfter {
            text: Cursor::new(text.to_vec()),
            error,
        }
    }
}

impl AsyncRead for FailsAfter {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.text).poll_read(cx, buf) {
            Poll::Ready(Ok(0)) => Poll::Ready(Err(io::Error::other(self.error))),
            other => other,
        }
    }
}

/// Runs `body` with a smol executor that `threads` threads drive, as a
/// multi-threaded smol service does; the threads stop once `body` returns.
pub fn on_smol_threads<R>(
    threads: usize,
    body: impl FnOnce(&Arc<smol::Executor<'static>>) -> R,
) -> R {
    let executor = Arc::new(smol::Executor::new());
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (executor, stopped) = (executor.clone(), stopped.clone());
            thread::spawn(move || smol::block_on(executor.run(stopped.recv())))
        })
        .collect();
    let result = body(&executor);
    drop(stop);
    for worker in workers {
        // Each worker's `run` ended because the channel closed.
        assert!(worker.join().unwrap().is_err());
    }
    result
}
