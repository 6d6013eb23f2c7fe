//! The crate matrix: the unikernels of `tests/crates` (a project outside the workspace that
//! depends on Morgana by path, as a user's would), one per popular crate, each checking the
//! crate against published known-answer vectors. `cargo xtask test --target kvmlab` builds them
//! hard- and soft-float and boots them in the same lab run as the KVM lab's suite; the
//! soft-float builds known to fail are checked to fail, with their message. `docs/crates.md`
//! has the table.

mod cases;

use std::path::{Path, PathBuf};
use std::process::Command;

use morgana_build::baremetal::{self, Float};
use morgana_build::{Error, Result, Workspace, describe, io_error};
use morgana_testkit::prereq::{self, Policy, Prereq};

use crate::kvmlab::suite::{self, Case};
use crate::kvmlab::{Echo, Lab};

pub use cases::{BUILD_FAILS, BuildFails, Flavour, MatrixCase, RUNS};

/// The name that selects the whole matrix with `-p`.
pub const ALL: &str = "crates";

/// Flags of the [`Flavour::Portable`] soft-float builds: the cfgs by which the RustCrypto
/// crates and curve25519-dalek compile out their SIMD backends, whose `#[target_feature]`
/// functions LLVM cannot compile for a soft-float target.
pub const PORTABLE_CFGS: &str = "--cfg aes_force_soft --cfg polyval_force_soft \
     --cfg poly1305_force_soft --cfg curve25519_dalek_backend=\"serial\"";

/// The matrix's project (`tests/crates` of Morgana's tree).
pub fn project(ws: &Workspace) -> Workspace {
    Workspace {
        root: ws.root.join("tests/crates"),
    }
}

/// The cargo target directory of a flavour's builds, under the main workspace's, so builds
/// are cached between runs; the portable flavour has its own (other flags, other artefacts).
pub fn target_dir(ws: &Workspace, flavour: Flavour) -> PathBuf {
    let name = match flavour {
        Flavour::Default => "crates-matrix",
        Flavour::Portable => "crates-matrix-portable",
    };
    ws.target_dir().join(name)
}

fn selected(only: Option<&str>, package: &str, name: &str) -> bool {
    only.is_none_or(|p| p == ALL || p == package || p == name)
}

/// The lab cases of the matrix for `only` (a package, a case name or [`ALL`]; all when `None`).
pub fn select(only: Option<&str>) -> Vec<&'static MatrixCase> {
    RUNS.iter()
        .filter(|m| selected(only, m.case.package, m.case.name))
        .collect()
}

/// The build checks for `only`.
pub fn select_build_fails(only: Option<&str>) -> Vec<&'static BuildFails> {
    BUILD_FAILS
        .iter()
        .filter(|b| selected(only, b.package, b.name))
        .collect()
}

/// The cargo command that builds binary `package` of the matrix in `float` mode and flavour.
fn build_command(
    ws: &Workspace,
    package: &str,
    float: Float,
    flavour: Flavour,
) -> Result<(Command, PathBuf)> {
    let target = baremetal::hvt(float);
    let dir = target_dir(ws, flavour);
    // The portable flavour is built as a user would ask for it: with RUSTFLAGS, which the
    // build joins to its own. With --target they reach the image's crates only, not build
    // scripts.
    let user_flags = (flavour == Flavour::Portable).then_some(PORTABLE_CFGS);
    let plan = baremetal::RustflagsPlan::new(None, user_flags);
    let mut cmd = target.cargo_build_with(&project(ws), &dir, &plan)?;
    if flavour == Flavour::Portable {
        // What only a feature switches (sha2's `force-soft`, under ed25519-dalek).
        cmd.args(["--features", "portable"]);
    }
    cmd.args(["--package", package, "--bin", package, "--release"]);
    let elf = dir.join(target.name).join("release").join(package);
    Ok((cmd, elf))
}

/// Builds binary `package` of the matrix; returns its image,
/// `TARGET/crates-matrix[-portable]/hvt[-softfloat]/PACKAGE.hvt`.
pub fn build_image(
    ws: &Workspace,
    package: &str,
    float: Float,
    flavour: Flavour,
) -> Result<PathBuf> {
    let (mut cmd, elf) = build_command(ws, package, float, flavour)?;
    baremetal::hvt(float).run_build(&mut cmd)?;
    let dir = baremetal::hvt(float).image_dir(&target_dir(ws, flavour));
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
    let image = dir.join(format!("{package}.hvt"));
    std::fs::copy(&elf, &image).map_err(|e| io_error(&elf, e))?;
    Ok(image)
}

/// Runs one build that must fail; `Ok(None)` when it failed with the expected message,
/// `Ok(Some(why))` when it did not.
pub fn check_build_fails(ws: &Workspace, check: &BuildFails) -> Result<Option<String>> {
    let (mut cmd, _) = build_command(ws, check.package, check.float, Flavour::Default)?;
    let out = cmd
        .output()
        .map_err(|e| Error::Other(format!("cannot run {}: {e}", describe(&cmd))))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    Ok(if out.status.success() {
        Some("it builds now: make it a lab case and update docs/crates.md".into())
    } else if baremetal::explain_failure(check.float, &stderr).is_none() {
        Some(format!(
            "the build tool would not explain this failure; its output has {:?} but none of \
             the soft-float SIMD signs",
            check.message
        ))
    } else if !stderr.contains(check.message) {
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        Some(format!(
            "it failed without {:?}: {}",
            check.message,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
        ))
    } else {
        None
    })
}

/// Checks the builds that must fail, printing one line each; returns the number of failures.
fn build_checks(ws: &Workspace, checks: &[&BuildFails]) -> Result<usize> {
    let mut failed = 0;
    for check in checks {
        eprintln!(
            "morgana: building {} ({}-float), which must fail",
            check.package,
            check.float.name()
        );
        match check_build_fails(ws, check)? {
            None => println!(
                "kvmlab test {} ... ok (fails to build: {})",
                check.name, check.message
            ),
            Some(why) => {
                failed += 1;
                println!("kvmlab test {} ... FAILED\n    {why}", check.name);
            }
        }
    }
    Ok(failed)
}

/// The KVM lab's suite and the crate matrix for `only` in one lab run: the suite's images
/// and the matrix's are built, the matrix's failing builds checked, everything booted in one
/// QEMU and each outcome checked. A case whose host programs ([`Case::tools`]) are missing is
/// left out and listed in `skip_log`, unless `MORGANA_REQUIRE_ALL` is `1` (then the lab fails
/// saying which is missing).
pub fn lab_test(ws: &Workspace, only: Option<&str>, skip_log: &Path) -> Result<()> {
    let matrix = select(only);
    let mut cases: Vec<&Case> = suite::select(only);
    cases.extend(matrix.iter().map(|m| &m.case));
    let checks = select_build_fails(only);
    if cases.is_empty() && checks.is_empty() {
        return Err(Error::Usage("no kvmlab test matches that package".into()));
    }
    if !Policy::from_env().require_all {
        cases.retain(|case| {
            let missing = case.tools.iter().find_map(|t| Prereq::Tool(t).missing());
            if let Some(reason) = &missing {
                let name = format!("kvmlab {}", case.name);
                prereq::append_line(skip_log, &prereq::skip_line(&name, reason));
            }
            missing.is_none()
        });
    }
    let mut failed = build_checks(ws, &checks)?;
    let flavour = |name: &str| {
        matrix
            .iter()
            .find(|m| m.case.name == name)
            .map(|m| m.flavour)
    };
    // The image function gets package and float only: matrix cases are found by name below.
    let mut guests = Vec::new();
    for case in &cases {
        let image = |package: &str, float: Float| match flavour(case.name) {
            Some(f) => build_image(ws, package, float, f),
            None => morgana_build::hvt::build_in(
                ws,
                &ws.target_dir(),
                package,
                morgana_build::Profile::Release,
                float,
            ),
        };
        guests.extend(suite::guests(ws, &[*case], image)?);
    }
    if !cases.is_empty() {
        let lab = Lab::assemble(ws)?;
        let run = lab.run(&guests, Echo::Prefixed)?;
        failed += suite::report(&cases, &run);
    }
    match failed {
        0 => Ok(()),
        n => Err(Error::Failed(format!("{n} kvmlab test(s)"))),
    }
}

/// The images' paths, for tests: where [`build_image`] puts them.
pub fn image_path(ws: &Workspace, package: &str, float: Float, flavour: Flavour) -> PathBuf {
    baremetal::hvt(float)
        .image_dir(&target_dir(ws, flavour))
        .join(format!("{package}.hvt"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_matrix_binary_exists_and_names_are_unique() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/crates");
        let mut names: Vec<&str> = RUNS.iter().map(|m| m.case.name).collect();
        names.extend(BUILD_FAILS.iter().map(|b| b.name));
        names.extend(suite::CASES.iter().map(|c| c.name));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        for m in RUNS {
            assert!(
                root.join(m.case.package).join("Cargo.toml").is_file(),
                "{}",
                m.case.package
            );
            assert!(!m.case.expect.is_empty());
        }
        for b in BUILD_FAILS {
            assert!(
                root.join(b.package).join("Cargo.toml").is_file(),
                "{}",
                b.package
            );
        }
    }

    #[test]
    fn selection_by_package_name_or_all() {
        assert_eq!(select(Some(ALL)).len(), RUNS.len());
        assert_eq!(select(Some("crate-blake3")).len(), 2);
        assert_eq!(select(Some("crates-p256-soft-portable")).len(), 1);
        assert_eq!(select(Some("hello")).len(), 0);
        assert_eq!(select_build_fails(Some("crate-sha2")).len(), 1);
        assert_eq!(select_build_fails(Some("crate-blake3")).len(), 0);
    }

    #[test]
    fn flavours_have_their_own_target_directories() {
        let ws = Workspace {
            root: PathBuf::from("/r"),
        };
        assert_ne!(
            target_dir(&ws, Flavour::Default),
            target_dir(&ws, Flavour::Portable)
        );
        assert!(
            image_path(&ws, "crate-cc", Float::Soft, Flavour::Default)
                .ends_with("crates-matrix/hvt-softfloat/crate-cc.hvt")
        );
    }
}
