//! The command line: `cargo xtask COMMAND [--target T] [-p NAME] [--release] [-- ARGS]`.

use std::path::Path;
use std::process::ExitCode;

use crate::baremetal::Float;
use crate::symbolize::Symbolizer;
use crate::{
    Error, Profile, Result, Target, Workspace, cargo, elf, hvt, io_error, run_checked, tap,
    toolchain, unix, xen,
};

/// The usage text of the commands this library runs.
pub const USAGE: &str = "\
usage: cargo xtask COMMAND [OPTIONS] [-- ARGS...]

commands:
  build --target T -p NAME [--release]          build unikernel NAME for target T
        [--float=hard|soft]                      hvt, xen: hard-float (default) or soft-float
  run   --target T -p NAME [--release] [-- ARGS] build and run it; ARGS are device flags
                                                 (--net:NAME=TAP, --block:NAME=FILE, ...),
                                                 then -- and the unikernel's own arguments
        [--tap[=DEVICE]]                         unix, hvt (as root): make a tap mgtapN with
                                                 10.77.N.1/24, bind DEVICE (default service)
                                                 to it, give the unikernel --ipv4=10.77.N.2/24,
                                                 remove the tap when it ends
  test  [-p NAME]                                run the workspace's (or NAME's) tests
  inspect IMAGE                                  print an hvt image's ABI and manifest notes
                                                 as JSON
  symbolize IMAGE [LOG]                          symbolise the backtrace lines of a console
                                                 log (standard input without LOG)";

/// The targets line of the usage text.
const TARGETS: &str = "targets: unix (a Linux process), hvt (Solo5 hvt on KVM), xen (Xen PVH)";

/// Commands a workspace adds to (or takes over from) the ones this library runs.
///
/// Morgana's own workspace adds its test labs and benchmarks this way; a unikernel in another
/// repository uses [`main`], which adds nothing.
pub trait Extension {
    /// Usage lines for the added commands (empty for none).
    fn usage(&self) -> &str;
    /// Runs `inv` when it is one of the extension's commands; `None` hands it to the library.
    fn execute(&self, inv: &Invocation) -> Option<Result<ExitCode>>;
}

/// The extension that adds nothing.
#[derive(Debug)]
pub struct NoExtension;

impl Extension for NoExtension {
    fn usage(&self) -> &str {
        ""
    }
    fn execute(&self, _inv: &Invocation) -> Option<Result<ExitCode>> {
        None
    }
}

/// The whole usage text with `ext`'s commands.
pub fn usage(ext: &dyn Extension) -> String {
    let extra = ext.usage();
    if extra.is_empty() {
        format!("{USAGE}\n\n{TARGETS}")
    } else {
        format!("{USAGE}\n{extra}\n\n{TARGETS}")
    }
}

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
    /// `--float=hard|soft` (bare-metal targets only; hard when not given).
    pub float: Option<Float>,
    /// `--tap[=DEVICE]` (run only): the net device to bind to a tap made for the run.
    pub tap: Option<String>,
    /// Everything after `--`.
    pub rest: Vec<String>,
}

/// Commands whose arguments are all passed on unparsed.
const PASS_THROUGH: &[&str] = &["bench", "cert"];

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
        float: None,
        tap: None,
        rest: Vec::new(),
    };
    // `bench` hands everything after it to the benchmark it names.
    if PASS_THROUGH.contains(&inv.command.as_str()) {
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
            "--tap" => inv.tap = Some(inline.unwrap_or_else(|| tap::DEFAULT_DEVICE.into())),
            "--float" => inv.float = Some(value("--float")?.parse()?),
            "--" => {
                inv.rest.extend(it.cloned());
                break;
            }
            positional
                if matches!(inv.command.as_str(), "inspect" | "symbolize")
                    && !positional.starts_with('-') =>
            {
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

/// The float mode for a bare-metal build; `--float` with `unix` is a mistake worth saying.
fn float_for(inv: &Invocation, target: Target) -> Result<Float> {
    match (target, inv.float) {
        (Target::Unix, Some(_)) => Err(Error::Usage(
            "--float applies to the bare-metal targets (hvt, xen), not unix".into(),
        )),
        (_, float) => Ok(float.unwrap_or_default()),
    }
}

fn need_package(inv: &Invocation) -> Result<&str> {
    inv.package
        .as_deref()
        .ok_or_else(|| Error::Usage(format!("{} needs -p NAME", inv.command)))
}

/// Runs one invocation of this library's commands; returns the process exit code.
pub fn execute(inv: &Invocation) -> Result<ExitCode> {
    match inv.command.as_str() {
        "build" => {
            let ws = Workspace::current()?;
            let target = need_target(inv)?;
            let float = float_for(inv, target)?;
            let (package, dir) = (need_package(inv)?, ws.target_dir());
            let path = match target {
                Target::Unix => unix::build(&ws, package, inv.profile)?,
                Target::Hvt => hvt::build_in(&ws, &dir, package, inv.profile, float)?,
                Target::Xen => xen::build_in(&ws, &dir, package, inv.profile, float)?,
            };
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        "run" => {
            if let Some(device) = &inv.tap {
                return run_on_tap(inv, device);
            }
            let ws = Workspace::current()?;
            let target = need_target(inv)?;
            let float = float_for(inv, target)?;
            let package = need_package(inv)?;
            let status = match target {
                Target::Unix => unix::run(&ws, package, inv.profile, &inv.rest)?,
                Target::Hvt => hvt::run(&ws, package, inv.profile, float, &inv.rest)?,
                Target::Xen => {
                    let image = xen::build_in(&ws, &ws.target_dir(), package, inv.profile, float)?;
                    return Err(Error::Missing(format!(
                        "running a Xen image needs a Xen host: there, `xl create {}`",
                        image.with_extension("xl").display()
                    )));
                }
            };
            Ok(exit_code(status))
        }
        "test" => {
            let ws = Workspace::current()?;
            let mut cmd = cargo();
            cmd.current_dir(&ws.root).arg("test");
            match &inv.package {
                Some(p) => cmd.args(["--package", p]),
                None => cmd.arg("--workspace"),
            };
            run_checked(&mut cmd)?;
            Ok(ExitCode::SUCCESS)
        }
        "inspect" => {
            let [image] = inv.rest.as_slice() else {
                return Err(Error::Usage("inspect needs one IMAGE".into()));
            };
            println!("{}", elf::inspect(std::path::Path::new(image))?);
            Ok(ExitCode::SUCCESS)
        }
        "symbolize" => {
            let (image, log) = match inv.rest.as_slice() {
                [image] => (image, None),
                [image, log] => (image, Some(log)),
                _ => {
                    return Err(Error::Usage(
                        "symbolize needs IMAGE and at most one LOG".into(),
                    ));
                }
            };
            let root = Workspace::current().ok().map(|ws| ws.root);
            let symbolizer = Symbolizer::for_image(Path::new(image), root.as_deref())?;
            let out = std::io::stdout().lock();
            let copied = match log {
                Some(log) => {
                    let file = std::fs::File::open(log).map_err(|e| io_error(Path::new(log), e))?;
                    symbolizer.copy(std::io::BufReader::new(file), out)
                }
                None => symbolizer.copy(std::io::stdin().lock(), out),
            };
            copied.map_err(|e| Error::Other(format!("symbolize: {e}")))?;
            Ok(ExitCode::SUCCESS)
        }
        "check-toolchain" => {
            toolchain::ensure_rust_src()?;
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Error::Usage(format!("unknown command '{other}'"))),
    }
}

/// `run --tap`: the tap first (so that a missing privilege is said before any build), then
/// the build, then the run with the tap bound; the tap goes when the run ends.
fn run_on_tap(inv: &Invocation, device: &str) -> Result<ExitCode> {
    let target = need_target(inv)?;
    let float = float_for(inv, target)?;
    let package = need_package(inv)?;
    if target == Target::Xen {
        return Err(Error::Usage(
            "--tap is for the unix and hvt targets (the Xen lab makes its own)".into(),
        ));
    }
    let tap = tap::Tap::create()?;
    let ws = &Workspace::current()?;
    let mut cmd = match target {
        Target::Unix => {
            let args = tap.bind_args(device, &inv.rest, unix::is_device_flag)?;
            let mut cmd = std::process::Command::new(unix::build(ws, package, inv.profile)?);
            cmd.args(args);
            cmd
        }
        _ => {
            let args = tap.bind_args(device, &inv.rest, hvt::is_tender_option)?;
            hvt::command(ws, package, inv.profile, float, &args)?.0
        }
    };
    Ok(exit_code(tap::run_with(&tap, &mut cmd)?))
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
    main_with(&NoExtension)
}

/// [`main`] with a workspace's own commands added.
pub fn main_with(ext: &dyn Extension) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = parse(&args).and_then(|inv| {
        if matches!(inv.command.as_str(), "help" | "--help" | "-h") {
            println!("{}", usage(ext));
            return Ok(ExitCode::SUCCESS);
        }
        ext.execute(&inv).unwrap_or_else(|| execute(&inv))
    });
    match outcome {
        Ok(code) => code,
        Err(e @ Error::Usage(_)) => {
            eprintln!("error: {e}\n\n{}", usage(ext));
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
        assert_eq!(inv.float, None);
        let inv = parse(&s(&["build", "--target=hvt", "--float=soft", "-p", "x"])).unwrap();
        assert_eq!(inv.float, Some(Float::Soft));
        assert_eq!(
            parse(&s(&["build", "--float=half"]))
                .unwrap_err()
                .to_string(),
            "unknown float mode 'half': expected hard or soft"
        );
        let inv = parse(&s(&["build", "--target=unix", "--float=soft", "-p", "x"])).unwrap();
        assert_eq!(
            execute(&inv).unwrap_err().to_string(),
            "--float applies to the bare-metal targets (hvt, xen), not unix"
        );
        let inv = parse(&s(&["build", "--target=unix", "--package=noop"])).unwrap();
        assert_eq!(
            (inv.target, inv.package.as_deref()),
            (Some(Target::Unix), Some("noop"))
        );
    }

    #[test]
    fn inspect_takes_one_image() {
        let inv = parse(&s(&["inspect", "target/hvt/debug/hello.hvt"])).unwrap();
        assert_eq!(inv.rest, s(&["target/hvt/debug/hello.hvt"]));
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
