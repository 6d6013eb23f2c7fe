//! The `unix` target: the host's cargo, the unikernel as a Linux process.

use std::path::PathBuf;
use std::process::{Command, ExitStatus};

use crate::{Error, Profile, Result, Workspace, cargo, run_checked};

/// Builds package `package` for the host and returns the executable's path.
pub fn build(ws: &Workspace, package: &str, profile: Profile) -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.current_dir(&ws.root)
        .args(["build", "--package", package, "--bin", package]);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)?;
    let exe = ws.target_dir().join(profile.dir()).join(package);
    if exe.exists() {
        Ok(exe)
    } else {
        Err(Error::Other(format!(
            "cargo built no executable at {}",
            exe.display()
        )))
    }
}

/// True for a device flag of the unix backend (as opposed to the application's arguments).
pub fn is_device_flag(arg: &str) -> bool {
    ["--net:", "--net-mac:", "--block:", "--block-sector-size:"]
        .iter()
        .any(|p| arg.starts_with(p))
}

/// Builds and runs `package` with `args` (device flags, `--`, application arguments).
pub fn run(ws: &Workspace, package: &str, profile: Profile, args: &[String]) -> Result<ExitStatus> {
    let exe = build(ws, package, profile)?;
    Command::new(&exe)
        .args(args)
        .status()
        .map_err(|source| Error::Spawn {
            program: exe.display().to_string(),
            source,
        })
}
