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
  cert [--out=DIR] NAME...                       a development CA and a server certificate for
                                                 host names and IP addresses NAME (PEM files in
                                                 DIR, default target/certs; the CA is reused)
  bench KIND                                     benchmarks, KIND one of: net (root, wrk,
                                                 nginx; [--echo] for the echo part only); tls (the same over TLS 1.3); boot (hvt
                                                 images, [--runs N]); size (stripped example
                                                 images); exits (hvt VM exits per request,
                                                 root); xen (the lab); frame-pointers (their
                                                 cost, [--runs N]); storage (block device and
                                                 littlefs store next to fio)
  disk create --size SIZE [--from DIR] FILE      a littlefs disk image (the unikernels' store)
  disk ls FILE [KEY] | disk get FILE KEY         look inside one
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
            ("cert", _) => in_workspace(|ws| cert(ws, &inv.rest)),
            ("xenlab", _) => in_workspace(|ws| xenlab::command(ws, &inv.rest)),
            ("kvmlab", _) => in_workspace(|ws| kvmlab::command(ws, &inv.rest)),
            ("bench", _) => in_workspace(|ws| match inv.rest.first().map(String::as_str) {
                Some("boot") => bench::boot::run(ws, &inv.rest[1..]).map(|()| ExitCode::SUCCESS),
                Some("tls") => bench::tls::run(ws),
                Some("size") => bench::size::run(ws, &inv.rest[1..]).map(|()| ExitCode::SUCCESS),
                Some("exits") => bench::hvt_net::run(ws).map(|()| ExitCode::SUCCESS),
                Some("xen") => xenlab::bench::bench(ws).map(|()| ExitCode::SUCCESS),
                Some("frame-pointers") => {
                    bench::framepointers::run(ws, &inv.rest[1..]).map(|()| ExitCode::SUCCESS)
                }
                Some("storage") => bench::storage::run(ws).map(|()| ExitCode::SUCCESS),
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

/// `cargo xtask cert [--out=DIR] NAME...`: see [`morgana_certs::write_dir`].
fn cert(ws: &Workspace, args: &[String]) -> Result<ExitCode> {
    let mut dir = ws.root.join("target").join("certs");
    let mut names = Vec::new();
    for arg in args {
        match arg.strip_prefix("--out=") {
            Some(d) => {
                let cwd = std::env::current_dir()
                    .map_err(|e| Error::Other(format!("the current directory: {e}")))?;
                dir = cwd.join(d);
            }
            None if arg.starts_with('-') => {
                return Err(Error::Usage(format!(
                    "unknown option '{arg}' (cert [--out=DIR] NAME...)"
                )));
            }
            None => names.push(arg.as_str()),
        }
    }
    let new_ca = morgana_certs::write_dir(&dir, &names).map_err(|e| Error::Other(e.to_string()))?;
    let ca = if new_ca {
        "a new CA"
    } else {
        "the CA already there"
    };
    println!(
        "{}: chain.pem and key.pem for {}, signed by {ca} (ca.pem)",
        dir.display(),
        names.join(", ")
    );
    println!(
        "embed them with MORGANA_TLS_CERTS={} when building; clients trust {}",
        dir.display(),
        dir.join("ca.pem").display()
    );
    Ok(ExitCode::SUCCESS)
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

/// `disk ...`: the disk tool's own arguments, passed on whole (they are no build options).
fn disk(args: &[String]) -> ExitCode {
    let status = Workspace::current().and_then(|ws| {
        cargo()
            .current_dir(&ws.root)
            .args(["run", "--quiet", "--package", "morgana-disk", "--"])
            .args(args)
            .status()
            .map_err(|e| Error::Usage(format!("cannot run cargo: {e}")))
    });
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `main` of the workspace's xtask.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "disk") {
        return disk(&args[1..]);
    }
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
