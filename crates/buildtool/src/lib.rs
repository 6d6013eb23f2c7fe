//! Morgana's build tool as a library.
//!
//! The tool knows **targets**, never particular libraries: a target is a way to build and run
//! a package (the host's cargo for `unix`; a target JSON, a linker script and C flags for the
//! bare-metal targets). `cargo xtask` in this workspace is a thin command line over [`cli`], and
//! a unikernel in another repository can have the same with a two-line xtask:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     morgana_build::cli::main()
//! }
//! ```

pub mod baremetal;
pub mod cli;
pub mod elf;
pub mod hvt;
pub mod symbolize;
pub mod tap;
pub mod toolchain;
pub mod unix;
pub mod xen;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

/// What the tool can fail with; each is one line for the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line was wrong.
    #[error("{0}")]
    Usage(String),
    /// A command the tool ran could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command the tool ran failed.
    #[error("{0} failed")]
    Failed(String),
    /// A needed part of the toolchain or the host is missing.
    #[error("{0}")]
    Missing(String),
    /// Anything else, explained.
    #[error("{0}")]
    Other(String),
}

/// Result of the tool's operations.
pub type Result<T> = std::result::Result<T, Error>;

/// A build target: where the unikernel will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An ordinary Linux process on the host.
    Unix,
    /// A Solo5 hvt image, run by a tender on KVM.
    Hvt,
    /// A Xen PVH image.
    Xen,
}

impl Target {
    /// Every target, in the order tests run them.
    pub const ALL: [Target; 3] = [Target::Unix, Target::Hvt, Target::Xen];

    /// The target's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Unix => "unix",
            Target::Hvt => "hvt",
            Target::Xen => "xen",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Target {
    type Err = Error;
    fn from_str(s: &str) -> Result<Target> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| Error::Usage(format!("unknown target '{s}': expected unix, hvt or xen")))
    }
}

/// The cargo profile to build with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// `dev`: the default.
    #[default]
    Debug,
    /// `release`.
    Release,
}

impl Profile {
    /// The directory cargo puts this profile's artifacts in.
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// The cargo workspace being built.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Directory of the workspace's root `Cargo.toml`.
    pub root: PathBuf,
}

impl Workspace {
    /// The workspace that contains the current directory.
    pub fn current() -> Result<Workspace> {
        let out = run_captured(cargo().args([
            "locate-project",
            "--workspace",
            "--message-format",
            "plain",
        ]))?;
        let manifest = PathBuf::from(out.trim());
        let root = manifest.parent().ok_or_else(|| {
            Error::Other(format!(
                "odd workspace manifest path {}",
                manifest.display()
            ))
        })?;
        Ok(Workspace {
            root: root.to_path_buf(),
        })
    }

    /// Cargo's target directory (`CARGO_TARGET_DIR` or `target/` under the root).
    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| self.root.join("target"), PathBuf::from)
    }
}

/// The root of Morgana's own source tree (where this library was built from): target files,
/// the libc headers and the tender come from here, also for workspaces in other repositories.
pub fn morgana_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A `cargo` command (the one running us, when there is one).
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd`, inheriting standard streams; an error unless it exits 0.
pub fn run_checked(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().map_err(|e| spawn_error(cmd, e))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Failed(describe(cmd)))
    }
}

/// Runs `cmd` and returns its standard output; an error unless it exits 0.
pub fn run_captured(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| spawn_error(cmd, e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Failed(format!("{} ({})", describe(cmd), err.trim())));
    }
    String::from_utf8(out.stdout)
        .map_err(|_| Error::Other(format!("{} printed non-UTF-8 output", describe(cmd))))
}

/// The error for a failed file operation on `path`.
pub fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Other(format!("{}: {e}", path.display()))
}

fn spawn_error(cmd: &Command, source: std::io::Error) -> Error {
    Error::Spawn {
        program: cmd.get_program().to_string_lossy().into_owned(),
        source,
    }
}

/// A command as a user would type it, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
