//! The workspace's command line: the library's commands plus the labs, the full test suite and
//! the benchmarks.

use std::process::ExitCode;

use morgana_build::cli::{Extension, Invocation};
use morgana_build::{Error, Result, Target, Workspace, cargo, run_checked};

use crate::{bench, kvmlab, test, xenlab};

/// Usage lines for the commands this crate adds.
pub const USAGE: &str =
    "  test  [--target T] [-p NAME]                   run the tests (every target when none given);
                                                 lists what was skipped and why at the end
  bindings [-- --check]                          regenerate (or check) committed C bindings
  xenlab [-- IMAGE.xen [ARGS...]]                assemble the Xen test lab; boot IMAGE in it
  kvmlab [-- IMAGE.hvt [OPTIONS] [-- ARGS]]      assemble the KVM test lab (nested KVM under
                                                 QEMU); boot IMAGE in it with tender OPTIONS
  test --target kvmlab [-p NAME]                 only the KVM lab's suite (also part of test)
  bench net|boot|size|exits|xen                  benchmarks (net: root, wrk, nginx; boot: hvt
                                                 images, [--runs N]; size: stripped example
                                                 images; exits: hvt VM exits per request,
                                                 root; xen: the lab)
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
            ("kvmlab", _) => in_workspace(|ws| kvmlab::command(ws, &inv.rest)),
            ("bench", _) => in_workspace(|ws| match inv.rest.first().map(String::as_str) {
                Some("boot") => bench::boot::run(ws, &inv.rest[1..]).map(|()| ExitCode::SUCCESS),
                Some("size") => bench::size::run(ws, &inv.rest[1..]).map(|()| ExitCode::SUCCESS),
                Some("exits") => bench::hvt_net::run(ws).map(|()| ExitCode::SUCCESS),
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

/// `test --target kvmlab [-p NAME]` (`--target=kvmlab`, `--package NAME` too): the lab is no
/// target of the library's command line, so this is recognised before it parses. Returns the
/// package filter (`Some(None)`: every test), or `None` for any other command line.
pub fn kvmlab_test_request(args: &[String]) -> Option<Option<String>> {
    let (command, rest) = args.split_first()?;
    if command != "test" {
        return None;
    }
    let mut lab = false;
    let mut package = None;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--target" => lab = it.next()? == "kvmlab",
            "--target=kvmlab" => lab = true,
            "-p" | "--package" => package = Some(it.next()?.clone()),
            other => package = Some(other.strip_prefix("--package=")?.to_string()),
        }
    }
    lab.then_some(package)
}

/// `main` of the workspace's xtask.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(package) = kvmlab_test_request(&args) {
        let outcome = Workspace::current()
            .and_then(|ws| test::run_stages(&ws, &[test::Stage::KvmLab], package.as_deref()));
        return outcome.unwrap_or_else(|e| {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        });
    }
    morgana_build::cli::main_with(&LabCommands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(args: &[&str]) -> Option<Option<String>> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        kvmlab_test_request(&args)
    }

    #[test]
    fn only_the_kvmlab_test_command_is_taken_early() {
        assert_eq!(request(&["test", "--target", "kvmlab"]), Some(None));
        assert_eq!(
            request(&["test", "--target=kvmlab", "-p", "hello"]),
            Some(Some("hello".into()))
        );
        assert_eq!(
            request(&["test", "--package=checksum", "--target", "kvmlab"]),
            Some(Some("checksum".into()))
        );
        assert_eq!(request(&["test", "--target", "hvt"]), None);
        assert_eq!(request(&["test"]), None);
        assert_eq!(request(&["kvmlab", "--target", "kvmlab"]), None);
        // Anything else is left to the full parser and its error messages.
        assert_eq!(request(&["test", "--target", "kvmlab", "--release"]), None);
        assert_eq!(request(&["test", "--target"]), None);
    }
}
