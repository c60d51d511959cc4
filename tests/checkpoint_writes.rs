//! `checkpoint_every` writes its files on threads kept for IO, never on
//! the thread that drives the run, which may be the host's event loop; the
//! files are whole, and a write that fails still fails the run (see
//! `tests/checkpoint.rs`).

mod common;

use std::fs;

use common::watchdog;
use quadpipe::{Checkpoint, Integral};

/// The write system calls this thread has made (Linux's per-thread IO
/// accounting).
#[cfg(target_os = "linux")]
fn writes_by_this_thread() -> u64 {
    let io = fs::read_to_string("/proc/thread-self/io").expect("read /proc/thread-self/io");
    io.lines()
        .find_map(|line| line.strip_prefix("syscw: "))
        .expect("a syscw line")
        .parse()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn the_thread_that_drives_a_run_writes_no_checkpoint() {
    watchdog(|| {
        let directory =
            std::env::temp_dir().join(format!("quadpipe-writes-{}", std::process::id()));
        fs::create_dir_all(&directory).unwrap();
        let path = directory.join("run.qpck");
        // Inline: the driver and every chunk run on this thread, so any
        // write of the run's own would be counted here.
        let integral = Integral::new(f64::exp, 0.0..1.0)
            .samples(1 << 18)
            .chunk_size(1 << 14)
            .checkpoint_every(2, &path);
        let before = writes_by_this_thread();
        let estimate = pollster::block_on(integral.run_inline()).unwrap();
        assert_eq!(writes_by_this_thread(), before);
        // Yet all eight checkpoints were written, the last one whole.
        let checkpoint = Checkpoint::read(&path).unwrap();
        assert_eq!(checkpoint.samples_done(), 1 << 18);
        let resumed = pollster::block_on(integral.resume(&checkpoint).run_inline()).unwrap();
        assert_eq!(resumed, estimate);
        // And no temporary file is left beside it.
        assert_eq!(fs::read_dir(&directory).unwrap().count(), 1);
        fs::remove_dir_all(&directory).unwrap();
    });
}

#[cfg(target_os = "linux")]
#[test]
fn the_accounting_sees_a_write_on_this_thread() {
    // The test above could not fail if the count never moved: a write
    // made here must show.
    watchdog(|| {
        let path = std::env::temp_dir().join(format!("quadpipe-syscw-{}", std::process::id()));
        let before = writes_by_this_thread();
        fs::write(&path, b"x").unwrap();
        assert!(writes_by_this_thread() > before);
        fs::remove_file(&path).unwrap();
    });
}
