//! The workspace's command line: the library's commands plus the labs, the full test suite and
//! the benchmarks.

use std::process::ExitCode;

use morgana_build::cli::{Extension, Invocation};
use morgana_build::{Error, Result, Target, Workspace, cargo, run_checked};

use crate::{bench, test, xenlab};

/// Usage lines for the commands this crate adds.
pub const USAGE: &str =
    "  test  [--target T] [-p NAME]                   run the tests (every target when none given);
                                                 lists what was skipped and why at the end
  bindings [-- --check]                          regenerate (or check) committed C bindings
  xenlab [-- IMAGE.xen [ARGS...]]                assemble the Xen test lab; boot IMAGE in it
  bench net|boot|xen                             benchmarks (net: root, wrk, nginx; boot: hvt
                                                 images, [--runs N]; xen: the lab)
  (run --target xen boots the image in the Xen test lab)";

/// Morgana's workspace commands as an [`Extension`] of the library's command line.
#[derive(Debug)]
pub struct LabCommands;

impl Extension for LabCommands {
    fn usage(&self) -> &str {
        USAGE
    }

    fn execute(&self, inv: &Invocation) -> Option<Result<ExitCode>> {
        let outcome = match (inv.command.as_str(), inv.target) {
            ("test", target) => in_workspace(|ws| test::run(ws, target, inv.package.as_deref())),
            ("run", Some(Target::Xen)) => in_workspace(|ws| {
                let package = inv
                    .package
                    .as_deref()
                    .ok_or_else(|| Error::Usage("run needs -p NAME".into()))?;
                xenlab::run_package(ws, package, inv.profile, &inv.rest)
            }),
            ("xenlab", _) => in_workspace(|ws| xenlab::command(ws, &inv.rest)),
            ("bench", _) => in_workspace(|ws| match inv.rest.first().map(String::as_str) {
                Some("boot") => bench::boot::run(ws, &inv.rest[1..]).map(|()| ExitCode::SUCCESS),
                Some("xen") => xenlab::bench::bench(ws).map(|()| ExitCode::SUCCESS),
                _ => bench::net::run(ws, &inv.rest),
            }),
            // Regenerates the committed bindgen output; `-- --check` only verifies it.
            ("bindings", _) => in_workspace(|ws| {
                run_checked(
                    cargo()
                        .current_dir(&ws.root)
                        .args(["run", "--quiet", "--package", "gen-bindings", "--"])
                        .args(&inv.rest),
                )
                .map(|()| ExitCode::SUCCESS)
            }),
            _ => return None,
        };
        Some(outcome)
    }
}

fn in_workspace(f: impl FnOnce(&Workspace) -> Result<ExitCode>) -> Result<ExitCode> {
    f(&Workspace::current()?)
}

/// `main` of the workspace's xtask.
pub fn main() -> ExitCode {
    morgana_build::cli::main_with(&LabCommands)
}
