//! Shared helpers for the tender's integration tests.

#![allow(dead_code)]

pub mod image;
pub mod net;
pub mod solo5;

use morgana_testkit::{Outcome, run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The tender binary under test.
pub const TENDER: &str = env!("CARGO_BIN_EXE_morgana-hvt");

/// A fresh path in a per-process scratch directory.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!("morgana-tender-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(format!("{}-{name}", N.fetch_add(1, Ordering::Relaxed)))
}

/// Writes `bytes` to a scratch file and returns its path.
pub fn write_image(bytes: &[u8]) -> PathBuf {
    let p = scratch("kernel.hvt");
    std::fs::write(&p, bytes).expect("write image");
    p
}

/// Runs `program args...`, killing it (by PID) after `limit`.
pub fn run_with_limit(program: &str, args: &[String], limit: Duration) -> Outcome {
    run(Command::new(program).args(args), limit)
}

/// Runs the tender with `options`, then the image at `kernel`, then `guest_args`.
pub fn tender(options: &[&str], kernel: &Path, guest_args: &[&str]) -> Outcome {
    let mut args: Vec<String> = options.iter().map(|s| s.to_string()).collect();
    args.push(kernel.display().to_string());
    args.extend(guest_args.iter().map(|s| s.to_string()));
    run_with_limit(TENDER, &args, Duration::from_secs(30))
}

/// Writes `image` and runs it with `--mem=4` plus `options`.
pub fn boot(image: &image::Image, options: &[&str]) -> Outcome {
    let path = write_image(&image.build());
    let mut opts = vec!["--mem=4"];
    opts.extend_from_slice(options);
    tender(&opts, &path, &[])
}

/// Exit status (panics if killed by a signal).
pub fn status(out: &Outcome) -> i32 {
    out.code
        .unwrap_or_else(|| panic!("tender killed by a signal; stderr={}", out.stderr))
}

/// Stderr as text.
pub fn stderr(out: &Outcome) -> String {
    out.stderr.clone()
}

/// Asserts status 1 and that stderr is exactly one line `morgana-hvt: {message}`.
pub fn assert_fails_with(out: &Outcome, message: &str) {
    assert_eq!(stderr(out), format!("morgana-hvt: {message}\n"), "stderr");
    assert_eq!(status(out), 1, "status");
}
