//! Builds that integration tests make of the workspace itself: a package with other features
//! than the test's own binary, and littlefs disk images made by the disk tool
//! (`cargo xtask disk`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::run;

/// `cargo`, as the one running the tests names it.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds binary `package` (debug) with `features` into `target_dir`, a target directory of
/// its own so that the test's binary keeps its default features; returns the executable.
/// Panics, with cargo's output, if the build fails.
pub fn build_with_features(package: &str, features: &str, target_dir: &Path) -> PathBuf {
    let out = run(
        cargo()
            .args(["build", "--quiet", "-p", package, "--features", features])
            .env("CARGO_TARGET_DIR", target_dir),
        Duration::from_secs(1200),
    );
    assert_eq!(
        out.code,
        Some(0),
        "building {package} with {features}: {}",
        out.stderr
    );
    target_dir.join("debug").join(package)
}

/// Writes `image`, a littlefs disk of `size` (the disk tool's syntax: `256K`, `1M`) holding
/// the files under `from`, with the disk tool. Panics, with its output, if that fails.
pub fn littlefs_disk(from: &Path, size: &str, image: &Path) {
    let out = run(
        cargo()
            .args([
                "run",
                "--quiet",
                "-p",
                "morgana-disk",
                "--",
                "create",
                "--size",
                size,
                "--from",
            ])
            .arg(from)
            .arg(image),
        Duration::from_secs(600),
    );
    assert_eq!(
        out.code,
        Some(0),
        "making {}: {}",
        image.display(),
        out.stderr
    );
}
