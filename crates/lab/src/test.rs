//! `cargo xtask test [--target T] [-p NAME]`: every test of the workspace, target by target and
//! then the KVM lab's suite, ending with the list of tests that were skipped and why.
//!
//! Tests that lack a prerequisite (KVM, root, a tool) skip through `morgana-testkit`, which
//! appends `TEST: REASON` to the file named by `MORGANA_SKIP_LOG`; this command points that
//! variable at `TARGET_DIR/test-skips.log`, empties it first and prints it last. With
//! `MORGANA_REQUIRE_ALL=1` (set by CI) such a test fails instead.

use std::path::Path;
use std::process::ExitCode;

use morgana_build::{Error, Result, Target, Workspace, cargo, io_error, run_checked};

use morgana_testkit::prereq::{self, Policy, Prereq, SKIP_LOG_VAR};

use crate::{crates_matrix, kvmlab, xenlab};

/// Packages whose tests belong to the hvt target, not to `unix`: they boot images on KVM.
pub const HVT_TEST_PACKAGES: &[&str] = &["hvt-tests", "morgana-tender"];

/// One part of the test run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The tests of a target.
    Target(Target),
    /// The KVM lab's suite: hvt images under nested KVM (QEMU emulating an SVM CPU).
    KvmLab,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Target(t) => t.name(),
            Stage::KvmLab => "kvmlab",
        }
    }
}

/// Runs the tests of `target` (every target and the KVM lab when `None`), or of one package.
pub fn run(ws: &Workspace, target: Option<Target>, package: Option<&str>) -> Result<ExitCode> {
    let stages: Vec<Stage> = match target {
        Some(t) => vec![Stage::Target(t)],
        None => Target::ALL
            .iter()
            .map(|t| Stage::Target(*t))
            .chain([Stage::KvmLab])
            .collect(),
    };
    run_stages(ws, &stages, package)
}

/// Runs `stages`; every stage runs even when an earlier one failed, and the result says which
/// failed.
pub fn run_stages(ws: &Workspace, stages: &[Stage], package: Option<&str>) -> Result<ExitCode> {
    let log = ws.target_dir().join("test-skips.log");
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    std::fs::write(&log, "").map_err(|e| io_error(&log, e))?;
    let mut failed = Vec::new();
    for &stage in stages {
        let name = stage.name();
        eprintln!("morgana: running the {name} tests");
        let outcome = match stage {
            Stage::Target(Target::Unix) => unix(ws, &log, package),
            Stage::Target(Target::Hvt) => hvt(ws, &log, package),
            Stage::Target(Target::Xen) => xenlab::suite::test(ws, package),
            Stage::KvmLab => kvm_lab(ws, &log, package, stages.len() > 1),
        };
        if let Err(e) = outcome {
            eprintln!("morgana: the {name} tests failed: {e}");
            failed.push(name);
        }
    }
    let skipped = std::fs::read_to_string(&log).map_err(|e| io_error(&log, e))?;
    print!("{}", skip_report(&skipped));
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Failed(format!("the {} tests", failed.join(" and "))))
    }
}

fn unix(ws: &Workspace, log: &Path, package: Option<&str>) -> Result<()> {
    let mut cmd = cargo();
    cmd.current_dir(&ws.root)
        .env(SKIP_LOG_VAR, log)
        .args(["test", "--no-fail-fast"]);
    match package {
        Some(p) => {
            cmd.args(["--package", p]);
        }
        None => {
            cmd.arg("--workspace");
            for p in HVT_TEST_PACKAGES {
                cmd.args(["--exclude", p]);
            }
        }
    }
    run_checked(&mut cmd)
}

/// The tender's own suite (hand-made images, bad images, hostile guests) and the image and
/// boot tests of the unikernels.
fn hvt(ws: &Workspace, log: &Path, package: Option<&str>) -> Result<()> {
    let mut cmd = cargo();
    cmd.current_dir(&ws.root)
        .env(SKIP_LOG_VAR, log)
        .args(["test", "--no-fail-fast"]);
    for p in HVT_TEST_PACKAGES {
        if package.is_none_or(|only| only == *p) {
            cmd.args(["--package", p]);
        }
    }
    if package.is_some_and(|only| !HVT_TEST_PACKAGES.contains(&only)) {
        return Ok(());
    }
    run_checked(&mut cmd)
}

/// The KVM lab's suite with the crate matrix (`crates_matrix`). Without QEMU it is skipped
/// (listed in the skip log), unless `MORGANA_REQUIRE_ALL` is `1`; as part of a whole run, `-p` for a package it does not boot
/// runs nothing.
fn kvm_lab(ws: &Workspace, log: &Path, package: Option<&str>, in_full_run: bool) -> Result<()> {
    let nothing = kvmlab::suite::select(package).is_empty()
        && crates_matrix::select(package).is_empty()
        && crates_matrix::select_build_fails(package).is_empty();
    if in_full_run && nothing {
        return Ok(());
    }
    // The kit's rules for a missing prerequisite, applied to the lab as a whole.
    if let Some(reason) = Prereq::Tool("qemu-system-x86_64").missing()
        && !Policy::from_env().require_all
    {
        prereq::append_line(log, &prereq::skip_line("kvmlab", &reason));
        return Ok(());
    }
    crates_matrix::lab_test(ws, package, log)
}

/// The closing report for the skip log's `lines`.
pub fn skip_report(lines: &str) -> String {
    let skipped: Vec<&str> = lines.lines().filter(|l| !l.trim().is_empty()).collect();
    if skipped.is_empty() {
        return "morgana: no test was skipped\n".into();
    }
    let mut out = format!("morgana: {} test(s) skipped:\n", skipped.len());
    for line in skipped {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_each_skip() {
        assert_eq!(skip_report(""), "morgana: no test was skipped\n");
        assert_eq!(
            skip_report("boot::hello: no /dev/kvm\nnet::ping: not root\n"),
            "morgana: 2 test(s) skipped:\n  boot::hello: no /dev/kvm\n  net::ping: not root\n"
        );
    }
}
