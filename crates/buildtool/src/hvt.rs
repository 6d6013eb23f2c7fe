//! The `hvt` target: a Solo5 hvt image (ABI version 2) for a tender on KVM.
//!
//! The target JSON and the linker script are part of this library (so a workspace that depends
//! on it needs no copy of them): [`write_target_files`] writes them under
//! `TARGET_DIR/hvt/spec/`, with the linker script's absolute path in the JSON. Cargo builds
//! into its normal target directory, under `x86_64-morgana-hvt/PROFILE/`; the image is then
//! copied to `TARGET_DIR/hvt/NAME.hvt`.
//!
//! The cargo call gets `RUSTC_BOOTSTRAP=1` (for `-Zbuild-std` and `-Zjson-target-spec` on a
//! stable toolchain) and the C compiler settings for the target, and nothing else in the
//! environment changes.

use std::fs;
use std::path::{Path, PathBuf};

use std::process::{Command, ExitStatus};

use crate::{Error, Profile, Result, Workspace, cargo, morgana_root, run_checked, toolchain};

/// The target's name: the JSON's file stem, and cargo's directory for its artifacts.
pub const TARGET_NAME: &str = "x86_64-morgana-hvt";
/// The target JSON, with `hvt.ld` where the linker script's path goes.
pub const TARGET_JSON: &str = include_str!("../../../targets/x86_64-morgana-hvt.json");
/// The linker script.
pub const LINKER_SCRIPT: &str = include_str!("../../../targets/hvt.ld");

/// C flags for code built with the `cc` crate for this target: freestanding, no SSE/MMX (the
/// target is soft-float), no red zone, not PIC, no stack protector, the libc crate's headers.
pub fn c_flags() -> String {
    let include = morgana_root().join("crates/libc/include");
    format!(
        "-ffreestanding -nostdinc -isystem {} -mno-sse -mno-mmx -mno-red-zone -fno-pic -fno-stack-protector",
        include.display()
    )
}

/// Writes the target JSON and linker script into `dir` (only when they changed, so cargo's
/// fingerprints stay valid); returns the JSON's path.
pub fn write_target_files(dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let script = dir.join("hvt.ld");
    write_if_changed(&script, LINKER_SCRIPT)?;
    let script_arg = format!("\"--script={}\"", script.display());
    if script
        .to_str()
        .is_none_or(|s| s.contains('"') || s.contains('\\'))
    {
        return Err(Error::Other(format!(
            "the target directory {} must be a plain UTF-8 path",
            dir.display()
        )));
    }
    let json = TARGET_JSON.replace("\"--script=hvt.ld\"", &script_arg);
    let path = dir.join(format!("{TARGET_NAME}.json"));
    write_if_changed(&path, &json)?;
    Ok(path)
}

fn write_if_changed(path: &Path, content: &str) -> Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    fs::write(path, content).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Other(format!("{}: {e}", path.display()))
}

/// Builds package `package` as an hvt image into `ws`'s target directory; returns the
/// image's path (`TARGET_DIR/hvt/NAME.hvt`).
pub fn build(ws: &Workspace, package: &str, profile: Profile) -> Result<PathBuf> {
    build_in(ws, &ws.target_dir(), package, profile)
}

/// A cargo command that builds for this target into `target_dir`: the target JSON, build-std,
/// `RUSTC_BOOTSTRAP=1` and the C compiler settings, for this one child process.
fn target_cargo(ws: &Workspace, target_dir: &Path) -> Result<Command> {
    toolchain::ensure_rust_src()?;
    let json = write_target_files(&target_dir.join("hvt").join("spec"))?;
    let env_target = TARGET_NAME.replace('-', "_");
    let mut cmd = cargo();
    cmd.current_dir(&ws.root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", target_dir)
        .env(format!("CC_{env_target}"), "cc")
        .env(format!("AR_{env_target}"), "ar")
        .env(format!("CFLAGS_{env_target}"), c_flags())
        .arg("build")
        .arg("--target")
        .arg(&json)
        .args([
            "-Zjson-target-spec",
            "-Zbuild-std=core,alloc",
            "-Zbuild-std-features=compiler-builtins-mem",
        ]);
    Ok(cmd)
}

fn absolute(ws: &Workspace, dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        ws.root.join(dir)
    }
}

/// [`build`] with an explicit cargo target directory.
pub fn build_in(
    ws: &Workspace,
    target_dir: &Path,
    package: &str,
    profile: Profile,
) -> Result<PathBuf> {
    let target_dir = absolute(ws, target_dir);
    let mut cmd = target_cargo(ws, &target_dir)?;
    cmd.args(["--package", package, "--bin", package]);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)?;
    let built = target_dir
        .join(TARGET_NAME)
        .join(profile.dir())
        .join(package);
    let image = target_dir.join("hvt").join(format!("{package}.hvt"));
    fs::copy(&built, &image).map_err(|e| io_error(&built, e))?;
    Ok(image)
}

/// Compiles library crate `package` for this target (nothing is linked): proves that a library
/// written against the interfaces builds for bare metal unchanged.
pub fn check_library(ws: &Workspace, package: &str) -> Result<()> {
    let mut cmd = target_cargo(ws, &ws.target_dir())?;
    cmd.args(["--package", package, "--lib"]);
    run_checked(&mut cmd)
}

/// Builds the tender, `morgana-hvt`, for the host; returns its path.
///
/// It is built from Morgana's own sources, so a workspace in another repository gets it too.
pub fn tender(ws: &Workspace, profile: Profile) -> Result<PathBuf> {
    let target_dir = ws.target_dir().join("tender");
    let mut cmd = cargo();
    cmd.current_dir(&ws.root)
        .arg("build")
        .arg("--manifest-path")
        .arg(morgana_root().join("crates/tender/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)?;
    Ok(target_dir.join(profile.dir()).join("morgana-hvt"))
}

/// Runs the hvt tests: the tender's own suite (hand-made images, bad images, hostile guests)
/// and the image and boot tests of the unikernels.
pub fn test(ws: &Workspace) -> Result<()> {
    toolchain::ensure_rust_src()?;
    run_checked(cargo().current_dir(&ws.root).args([
        "test",
        "--package",
        "morgana-tender",
        "--package",
        "hvt-tests",
    ]))
}

/// True for an option of the tender (as opposed to the unikernel's own arguments).
fn is_tender_option(arg: &str) -> bool {
    [
        "--net:",
        "--net-mac:",
        "--block:",
        "--block-sector-size:",
        "--mem=",
    ]
    .iter()
    .any(|p| arg.starts_with(p))
        || arg == "--stats"
}

/// Splits `cargo xtask run` arguments into the tender's options and the unikernel's arguments:
/// tender options come first; `--` or the first other argument starts the unikernel's.
pub fn split_run_args(args: &[String]) -> (&[String], &[String]) {
    let n = args.iter().take_while(|a| is_tender_option(a)).count();
    match args.get(n).map(String::as_str) {
        Some("--") => (&args[..n], &args[n + 1..]),
        _ => (&args[..n], &args[n..]),
    }
}

/// Builds `package` and the tender, then boots the image with `args` (tender options, then
/// `--` and the unikernel's arguments); returns the tender's status.
pub fn run(ws: &Workspace, package: &str, profile: Profile, args: &[String]) -> Result<ExitStatus> {
    let image = build(ws, package, profile)?;
    let tender = tender(ws, profile)?;
    let (options, guest) = split_run_args(args);
    Command::new(&tender)
        .args(options)
        .arg(&image)
        .args(guest)
        .status()
        .map_err(|source| Error::Spawn {
            program: tender.display().to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_arguments_split_between_tender_and_unikernel() {
        let args: Vec<String> = ["--mem=8", "--net:service=tap0", "--", "--ipv4=10.0.0.2/24"]
            .map(String::from)
            .into();
        let (t, g) = split_run_args(&args);
        assert_eq!((t, g), (&args[..2], &args[3..]));
        let args: Vec<String> = ["--block:storage=d.img", "--hello=x", "y"]
            .map(String::from)
            .into();
        let (t, g) = split_run_args(&args);
        assert_eq!((t, g), (&args[..1], &args[1..]));
        let (t, g) = split_run_args(&[]);
        assert!(t.is_empty() && g.is_empty());
    }

    #[test]
    fn target_files_name_the_script_by_absolute_path() {
        let dir = std::env::temp_dir().join(format!("morgana-hvt-spec-{}", std::process::id()));
        let json = write_target_files(&dir).unwrap();
        let text = fs::read_to_string(&json).unwrap();
        let script = dir.join("hvt.ld");
        assert!(text.contains(&format!("\"--script={}\"", script.display())));
        assert_eq!(fs::read_to_string(&script).unwrap(), LINKER_SCRIPT);
        assert!(text.contains("\"os\": \"hvt\""));
        // Unchanged content is not rewritten, so cargo sees the same file.
        let before = fs::metadata(&json).unwrap().modified().unwrap();
        write_target_files(&dir).unwrap();
        assert_eq!(fs::metadata(&json).unwrap().modified().unwrap(), before);
        fs::remove_dir_all(&dir).unwrap();
    }
}
