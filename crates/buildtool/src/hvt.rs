//! The `hvt` target: a Solo5 hvt image (ABI version 2) for a tender on KVM.
//!
//! Built as every bare-metal target is ([`crate::baremetal`]): cargo builds into its normal
//! target directory, under `x86_64-morgana-hvt/PROFILE/`, and the image is copied to
//! `TARGET_DIR/hvt/PROFILE/NAME.hvt` (`debug` or `release`, side by side).

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::baremetal::{self, Float, HVT};
use crate::symbolize::Symbolizer;
use crate::{Error, Profile, Result, Workspace, cargo, morgana_root, run_checked};

/// The target's name: the JSON's file stem, and cargo's directory for its artifacts.
pub const TARGET_NAME: &str = HVT.name;

/// Builds package `package` as a hard-float hvt image into `ws`'s target directory; returns
/// the image's path (`TARGET_DIR/hvt/PROFILE/NAME.hvt`).
pub fn build(ws: &Workspace, package: &str, profile: Profile) -> Result<PathBuf> {
    build_in(ws, &ws.target_dir(), package, profile, Float::Hard)
}

/// Builds package `package` as a soft-float hvt image (`TARGET_DIR/hvt-softfloat/PROFILE/NAME.hvt`),
/// for hosts whose KVM cannot run SSE in a guest.
pub fn build_soft(ws: &Workspace, package: &str, profile: Profile) -> Result<PathBuf> {
    build_in(ws, &ws.target_dir(), package, profile, Float::Soft)
}

/// [`build`] with an explicit cargo target directory and float mode.
pub fn build_in(
    ws: &Workspace,
    target_dir: &Path,
    package: &str,
    profile: Profile,
    float: Float,
) -> Result<PathBuf> {
    baremetal::hvt(float).build_image(ws, target_dir, package, profile)
}

/// Compiles library crate `package` for this target (nothing is linked): proves that a library
/// written against the interfaces builds for bare metal unchanged.
pub fn check_library(ws: &Workspace, package: &str, float: Float) -> Result<()> {
    baremetal::hvt(float).check_library(ws, package)
}

/// The host target the tender is built for (it runs on x86_64 Linux only).
pub const TENDER_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Builds the tender, `morgana-hvt`, for the host; returns its path. The package's second
/// binary, `morgana-kvm-floor`, lies next to it.
///
/// It is built from Morgana's own sources, so a workspace in another repository gets it too.
/// It is linked statically (`crt-static`): no dynamic loader and shared C library to map and
/// relocate at every start, which makes the tender start sooner and use less memory. The
/// explicit `--target` keeps that flag off build scripts and proc macros, which run on the
/// host as dynamic objects.
pub fn tender(ws: &Workspace, profile: Profile) -> Result<PathBuf> {
    let dir = static_host_build(ws, "crates/tender/Cargo.toml", &[], "tender", profile)?;
    Ok(dir.join("morgana-hvt"))
}

/// Builds the binaries of Morgana's package `manifest` (a path in Morgana's sources), with
/// `cargo build` arguments `args`, for [`TENDER_TARGET`] and linked statically as
/// [`tender`] is, into `target/TARGET_DIR`; returns the directory the binaries are in.
pub fn static_host_build(
    ws: &Workspace,
    manifest: &str,
    args: &[&str],
    target_dir: &str,
    profile: Profile,
) -> Result<PathBuf> {
    let target_dir = ws.target_dir().join(target_dir);
    let mut cmd = cargo();
    cmd.current_dir(&ws.root)
        .arg("build")
        .arg("--manifest-path")
        .arg(morgana_root().join(manifest))
        .args(args)
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--target")
        .arg(TENDER_TARGET)
        .arg("--config")
        .arg(format!(
            "target.{TENDER_TARGET}.rustflags=[\"-C\", \"target-feature=+crt-static\"]"
        ));
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)?;
    Ok(target_dir.join(TENDER_TARGET).join(profile.dir()))
}

/// True for an option of the tender (as opposed to the unikernel's own arguments).
pub fn is_tender_option(arg: &str) -> bool {
    [
        "--net:",
        "--net-mac:",
        "--block:",
        "--block-sector-size:",
        "--mem=",
        "--dumpcore=",
        "--gdb=",
    ]
    .iter()
    .any(|p| arg.starts_with(p))
        || ["--stats", "--dumpcore", "--gdb"].contains(&arg)
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
pub fn run(
    ws: &Workspace,
    package: &str,
    profile: Profile,
    float: Float,
    args: &[String],
) -> Result<ExitStatus> {
    let (mut cmd, image) = command(ws, package, profile, float, args)?;
    run_symbolized(&mut cmd, &image, &ws.root)
}

/// Builds `package` and the tender; returns the command that boots the image with `args`, and
/// the image's path.
pub fn command(
    ws: &Workspace,
    package: &str,
    profile: Profile,
    float: Float,
    args: &[String],
) -> Result<(Command, PathBuf)> {
    let image = build_in(ws, &ws.target_dir(), package, profile, float)?;
    let tender = tender(ws, profile)?;
    let (options, guest) = split_run_args(args);
    let mut cmd = Command::new(&tender);
    cmd.args(options).arg(&image).args(guest);
    Ok((cmd, image))
}

/// Runs `cmd`, a tender booting `image`, with the backtrace lines of its console (standard
/// output) symbolised from the image's debug information; returns its status. Without
/// readable debug information the console is passed on as it is.
pub fn run_symbolized(cmd: &mut Command, image: &Path, root: &Path) -> Result<ExitStatus> {
    let Ok(symbolizer) = Symbolizer::for_image(image, Some(root)) else {
        let program = tender_name(cmd);
        return cmd
            .status()
            .map_err(|source| Error::Spawn { program, source });
    };
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: tender_name(cmd),
            source,
        })?;
    if let Some(out) = child.stdout.take() {
        // A closed stdout of ours ends the copying, not the guest.
        let _ = symbolizer.copy(BufReader::new(out), std::io::stdout().lock());
    }
    child
        .wait()
        .map_err(|e| Error::Other(format!("{}: {e}", tender_name(cmd))))
}

fn tender_name(cmd: &Command) -> String {
    cmd.get_program().to_string_lossy().into_owned()
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
}
