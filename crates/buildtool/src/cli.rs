//! The command line: `cargo xtask COMMAND [--target T] [-p NAME] [--release] [-- ARGS]`.

use std::process::ExitCode;

use crate::{
    Error, Profile, Result, Target, Workspace, bench, bench_boot, elf, hvt, run_checked, toolchain,
    unix, xen, xenlab,
};

/// The usage text.
pub const USAGE: &str = "\
usage: cargo xtask COMMAND [OPTIONS] [-- ARGS...]

commands:
  build --target T -p NAME [--release]          build unikernel NAME for target T
  run   --target T -p NAME [--release] [-- ARGS] build and run it; ARGS are device flags
                                                 (--net:NAME=TAP, --block:NAME=FILE, ...),
                                                 then -- and the unikernel's own arguments
  test  [--target T] [-p NAME]                   run the tests (every target when none given)
  bindings [-- --check]                          regenerate (or check) committed C bindings
  inspect IMAGE                                  print an hvt image's ABI and manifest notes
                                                 as JSON
  xenlab [-- IMAGE.xen [ARGS...]]                assemble the Xen test lab; boot IMAGE in it
  bench net|boot|xen                             benchmarks (net: root, wrk, nginx; boot: hvt
                                                 images, [--runs N]; xen: the lab)

targets: unix (a Linux process), hvt (Solo5 hvt on KVM), xen (Xen PVH)";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The command word.
    pub command: String,
    /// `--target`.
    pub target: Option<Target>,
    /// `-p`/`--package`.
    pub package: Option<String>,
    /// `--release`.
    pub profile: Profile,
    /// Everything after `--`.
    pub rest: Vec<String>,
}

/// Parses the arguments after `cargo xtask`.
pub fn parse(args: &[String]) -> Result<Invocation> {
    let mut it = args.iter();
    let command = it
        .next()
        .ok_or_else(|| Error::Usage("no command given".into()))?
        .clone();
    let mut inv = Invocation {
        command,
        target: None,
        package: None,
        profile: Profile::Debug,
        rest: Vec::new(),
    };
    // `bench` hands everything after it to the benchmark it names.
    if inv.command == "bench" {
        inv.rest.extend(it.cloned());
        return Ok(inv);
    }
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| Error::Usage(format!("{name} needs a value")))
        };
        match flag {
            "--target" => inv.target = Some(value("--target")?.parse()?),
            "-p" | "--package" => inv.package = Some(value("--package")?),
            "--release" => inv.profile = Profile::Release,
            "--" => {
                inv.rest.extend(it.cloned());
                break;
            }
            positional if inv.command == "inspect" && !positional.starts_with('-') => {
                inv.rest.push(positional.to_string())
            }
            other => return Err(Error::Usage(format!("unknown option '{other}'"))),
        }
    }
    Ok(inv)
}

fn need_target(inv: &Invocation) -> Result<Target> {
    inv.target
        .ok_or_else(|| Error::Usage(format!("{} needs --target unix|hvt|xen", inv.command)))
}

fn need_package(inv: &Invocation) -> Result<&str> {
    inv.package
        .as_deref()
        .ok_or_else(|| Error::Usage(format!("{} needs -p NAME", inv.command)))
}

/// Runs one invocation; returns the process exit code.
pub fn execute(inv: &Invocation) -> Result<ExitCode> {
    match inv.command.as_str() {
        "build" => {
            let ws = Workspace::current()?;
            let path = match need_target(inv)? {
                Target::Unix => unix::build(&ws, need_package(inv)?, inv.profile)?,
                Target::Hvt => hvt::build(&ws, need_package(inv)?, inv.profile)?,
                Target::Xen => xen::build(&ws, need_package(inv)?, inv.profile)?,
            };
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        "run" => {
            let ws = Workspace::current()?;
            let status = match need_target(inv)? {
                Target::Unix => unix::run(&ws, need_package(inv)?, inv.profile, &inv.rest)?,
                Target::Hvt => hvt::run(&ws, need_package(inv)?, inv.profile, &inv.rest)?,
                Target::Xen => {
                    return xenlab::run_package(&ws, need_package(inv)?, inv.profile, &inv.rest);
                }
            };
            Ok(exit_code(status))
        }
        "test" => {
            let ws = Workspace::current()?;
            let targets = inv.target.map_or_else(|| Target::ALL.to_vec(), |t| vec![t]);
            for t in targets {
                eprintln!("morgana: running the {t} tests");
                match t {
                    Target::Unix => unix::test(&ws, inv.package.as_deref())?,
                    Target::Hvt => hvt::test(&ws)?,
                    Target::Xen => xenlab::suite::test(&ws, inv.package.as_deref())?,
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        "inspect" => {
            let [image] = inv.rest.as_slice() else {
                return Err(Error::Usage("inspect needs one IMAGE".into()));
            };
            println!("{}", elf::inspect(std::path::Path::new(image))?);
            Ok(ExitCode::SUCCESS)
        }
        "xenlab" => xenlab::command(&Workspace::current()?, &inv.rest),
        "bench" => {
            let ws = Workspace::current()?;
            match inv.rest.first().map(String::as_str) {
                Some("boot") => {
                    bench_boot::run(&ws, &inv.rest[1..])?;
                    Ok(ExitCode::SUCCESS)
                }
                Some("xen") => {
                    xenlab::bench::bench(&ws)?;
                    Ok(ExitCode::SUCCESS)
                }
                _ => bench::run(&ws, &inv.rest),
            }
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        "bindings" => {
            // Regenerates the committed bindgen output; `-- --check` only verifies it.
            let ws = Workspace::current()?;
            run_checked(
                crate::cargo()
                    .current_dir(&ws.root)
                    .args(["run", "--quiet", "--package", "gen-bindings", "--"])
                    .args(&inv.rest),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        "check-toolchain" => {
            toolchain::ensure_rust_src()?;
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Error::Usage(format!("unknown command '{other}'"))),
    }
}

/// The process status to pass on: the child's code, or 128 + signal like a shell.
pub fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => ExitCode::from(c as u8),
        (None, Some(sig)) => ExitCode::from(128u8.wrapping_add(sig as u8)),
        _ => ExitCode::FAILURE,
    }
}

/// `main` for an xtask binary: parses `std::env::args`, runs, reports errors in one line.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args).and_then(|inv| execute(&inv)) {
        Ok(code) => code,
        Err(e @ Error::Usage(_)) => {
            eprintln!("error: {e}\n\n{USAGE}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn parses_commands_and_passes_arguments_through() {
        let inv = parse(&s(&[
            "run",
            "--target",
            "hvt",
            "-p",
            "hello",
            "--release",
            "--",
            "--net:a=tap0",
            "--",
            "x",
        ]))
        .unwrap();
        assert_eq!(inv.command, "run");
        assert_eq!(inv.target, Some(Target::Hvt));
        assert_eq!(inv.package.as_deref(), Some("hello"));
        assert_eq!(inv.profile, Profile::Release);
        assert_eq!(inv.rest, s(&["--net:a=tap0", "--", "x"]));
        let inv = parse(&s(&["build", "--target=unix", "--package=noop"])).unwrap();
        assert_eq!(
            (inv.target, inv.package.as_deref()),
            (Some(Target::Unix), Some("noop"))
        );
    }

    #[test]
    fn inspect_takes_one_image() {
        let inv = parse(&s(&["inspect", "target/hvt/hello.hvt"])).unwrap();
        assert_eq!(inv.rest, s(&["target/hvt/hello.hvt"]));
        let none = parse(&s(&["inspect"])).unwrap();
        assert_eq!(
            execute(&none).unwrap_err().to_string(),
            "inspect needs one IMAGE"
        );
        assert_eq!(
            parse(&s(&["build", "hello"])).unwrap_err().to_string(),
            "unknown option 'hello'"
        );
    }

    #[test]
    fn bench_passes_everything_on() {
        let inv = parse(&s(&["bench", "boot", "--runs", "3"])).unwrap();
        assert_eq!(inv.rest, s(&["boot", "--runs", "3"]));
        let none = parse(&s(&["bench"])).unwrap();
        assert_eq!(
            execute(&none).unwrap_err().to_string(),
            "bench needs a benchmark name: net, boot or xen"
        );
    }

    #[test]
    fn rejects_bad_command_lines() {
        let err = |a: &[&str]| parse(&s(a)).unwrap_err().to_string();
        assert_eq!(err(&[]), "no command given");
        assert_eq!(
            err(&["build", "--target", "vmware"]),
            "unknown target 'vmware': expected unix, hvt or xen"
        );
        assert_eq!(err(&["build", "--target"]), "--target needs a value");
        assert_eq!(
            err(&["build", "--frobnicate"]),
            "unknown option '--frobnicate'"
        );
    }
}
