//! Process start: bind the declared devices from the command line, then run the application.
//!
//! ```text
//! PROGRAM [--net:NAME=TAP|socket] [--net-mac:NAME=MAC] [--block:NAME=FILE]
//!         [--block-sector-size:NAME=N] [--block-mode:NAME=ro|rw]
//!         [--] [APPLICATION ARGUMENTS...]
//! ```
//!
//! Device flags come first; `--`, or the first argument that is not a device flag, starts the
//! application's arguments. Every declared device must be bound, and only declared devices may
//! be. `--net:NAME=socket` binds a net device to the host's own TCP/IP instead of a TAP
//! interface ([`crate::sockets`]). Any problem ends the process with one `error:` line on standard error and status 1
//! before the application starts.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;

use morgana_net::MacAddress;
use morgana_rt::manifest::{Bindings, Device, DeviceKind};
use morgana_rt::{Platform, Spawner};

use crate::block::{self, Block, DEFAULT_SECTOR_SIZE};
use crate::devices;
use crate::net::Net;

/// A command-line or device problem that stops the process before the application runs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BootError {
    /// A device flag without `=VALUE`.
    #[error("malformed option '{0}': expected --FLAG:NAME=VALUE")]
    Malformed(String),
    /// A device flag names a device the application does not declare.
    #[error("{flag}: no device '{name}' is declared by this unikernel")]
    NotDeclared {
        /// The flag as given.
        flag: String,
        /// The name it binds.
        name: String,
    },
    /// A device flag of the wrong kind for the declared device.
    #[error("{flag}: device '{name}' is declared as a {declared} device")]
    WrongKind {
        /// The flag as given.
        flag: String,
        /// The device name.
        name: String,
        /// Its declared kind.
        declared: DeviceKind,
    },
    /// The same device bound twice.
    #[error("{flag}: device '{name}' is already bound")]
    Duplicate {
        /// The flag as given.
        flag: String,
        /// The device name.
        name: String,
    },
    /// A declared device with no binding.
    #[error("device '{name}' is declared but not bound: pass {}", bind_hint(*kind, name))]
    Unbound {
        /// The device name.
        name: &'static str,
        /// Its kind.
        kind: DeviceKind,
    },
    /// A malformed `--net-mac` value.
    #[error("{0}: expected a MAC address like 02:00:00:00:00:01")]
    Mac(String),
    /// A malformed or invalid `--block-sector-size` value.
    #[error("{0}: the sector size must be a power of two, at least 512")]
    SectorSize(String),
    /// A `--block-mode` value other than `ro` or `rw`.
    #[error("{0}: the mode must be ro (read-only) or rw (read-write)")]
    BlockMode(String),
    /// The TAP interface could not be attached.
    #[error("cannot attach net device '{name}' to tap '{tap}': {reason}")]
    Tap {
        /// The device name.
        name: String,
        /// The interface name.
        tap: String,
        /// The system's reason.
        reason: String,
    },
    /// The block file could not be used.
    #[error("cannot use '{path}' for block device '{name}': {reason}")]
    BlockFile {
        /// The device name.
        name: String,
        /// The file.
        path: String,
        /// Why not.
        reason: String,
    },
    /// An argument that is not UTF-8.
    #[error("argument {0} is not valid UTF-8")]
    NotUtf8(usize),
}

/// What binds an unbound device of `kind`.
fn bind_hint(kind: DeviceKind, name: &str) -> String {
    match kind {
        DeviceKind::Net => format!(
            "--net:{name}=TAP, or --net:{name}={} for the host's own TCP/IP",
            crate::net::HOST_STACK
        ),
        _ => format!("--{kind}:{name}=..."),
    }
}

#[derive(Default)]
struct Flags {
    net: HashMap<&'static str, (String, String)>,
    mac: HashMap<&'static str, (String, MacAddress)>,
    block: HashMap<&'static str, (String, PathBuf)>,
    sector: HashMap<&'static str, (String, u32)>,
    read_only: HashMap<&'static str, (String, bool)>,
}

fn find(devices: &[Device], flag: &str, name: &str, kind: DeviceKind) -> Result<Device, BootError> {
    let d = devices
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| BootError::NotDeclared {
            flag: flag.to_string(),
            name: name.to_string(),
        })?;
    if d.kind != kind {
        return Err(BootError::WrongKind {
            flag: flag.to_string(),
            name: name.to_string(),
            declared: d.kind,
        });
    }
    Ok(*d)
}

fn insert<V>(
    map: &mut HashMap<&'static str, (String, V)>,
    d: Device,
    flag: &str,
    v: V,
) -> Result<(), BootError> {
    if map.insert(d.name, (flag.to_string(), v)).is_some() {
        return Err(BootError::Duplicate {
            flag: flag.to_string(),
            name: d.name.to_string(),
        });
    }
    Ok(())
}

/// Splits the arguments into device flags and application arguments and checks the flags
/// against the declared devices. Opens nothing.
fn parse_flags(devices: &[Device], args: &[String]) -> Result<(Flags, Vec<String>), BootError> {
    let mut flags = Flags::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        let Some((option, rest)) = arg.strip_prefix("--").and_then(|a| a.split_once(':')) else {
            break;
        };
        let kind = match option {
            "net" | "net-mac" => DeviceKind::Net,
            "block" | "block-sector-size" | "block-mode" => DeviceKind::Block,
            _ => break,
        };
        let (name, value) = rest
            .split_once('=')
            .ok_or_else(|| BootError::Malformed(arg.clone()))?;
        let d = find(devices, arg, name, kind)?;
        match option {
            "net" => insert(&mut flags.net, d, arg, value.to_string())?,
            "net-mac" => {
                let mac = value.parse().map_err(|_| BootError::Mac(arg.clone()))?;
                insert(&mut flags.mac, d, arg, mac)?
            }
            "block" => insert(&mut flags.block, d, arg, PathBuf::from(value))?,
            "block-mode" => {
                let read_only = match value {
                    "ro" => true,
                    "rw" => false,
                    _ => return Err(BootError::BlockMode(arg.clone())),
                };
                insert(&mut flags.read_only, d, arg, read_only)?
            }
            _ => {
                let size = value
                    .parse::<u64>()
                    .ok()
                    .and_then(|s| block::check_sector_size(s).ok())
                    .ok_or_else(|| BootError::SectorSize(arg.clone()))?;
                insert(&mut flags.sector, d, arg, size)?
            }
        }
        i += 1;
    }
    Ok((flags, args[i..].to_vec()))
}

/// Parses the command line (without the program name), opens every declared device and
/// returns them with the application's arguments.
pub(crate) fn bind(
    devices: &'static [Device],
    args: &[String],
) -> Result<(Bindings<Net, Block>, Vec<String>), BootError> {
    let (flags, app_args) = parse_flags(devices, args)?;
    let unbound = |d: Device| BootError::Unbound {
        name: d.name,
        kind: d.kind,
    };
    let bound = Bindings::bind(
        devices,
        |d| {
            let (_, tap) = flags.net.get(d.name).ok_or_else(|| unbound(d))?;
            let mac = flags.mac.get(d.name).map(|(_, m)| *m);
            if tap == crate::net::HOST_STACK {
                return Ok(Net::host_stack());
            }
            Net::open(tap, mac).map_err(|e| BootError::Tap {
                name: d.name.to_string(),
                tap: tap.clone(),
                reason: e.to_string(),
            })
        },
        |d| {
            let (_, path) = flags.block.get(d.name).ok_or_else(|| unbound(d))?;
            let sector = flags
                .sector
                .get(d.name)
                .map_or(DEFAULT_SECTOR_SIZE, |(_, s)| *s);
            let read_only = flags.read_only.get(d.name).is_some_and(|(_, ro)| *ro);
            Block::open(path, sector, read_only).map_err(|e| BootError::BlockFile {
                name: d.name.to_string(),
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        },
    )?;
    Ok((bound, app_args))
}

/// The unix platform: see the crate documentation for what backs each service.
#[derive(Debug)]
struct UnixPlatform {
    boot_ns: u64,
}

impl morgana_console::Console for UnixPlatform {
    fn write(&self, bytes: &[u8]) {
        crate::console::write_stdout(bytes)
    }
}

impl morgana_clock::Clock for UnixPlatform {
    fn monotonic_ns(&self) -> u64 {
        crate::clock::monotonic_ns().saturating_sub(self.boot_ns)
    }
    fn wall_ns(&self) -> u64 {
        crate::clock::wall_ns()
    }
}

impl morgana_entropy::SeedSource for UnixPlatform {
    fn fill_seed(&self, dest: &mut [u8]) -> Result<(), morgana_entropy::EntropyError> {
        crate::entropy::fill(dest)
    }
}

impl Platform for UnixPlatform {
    fn wait(&self, deadline_ns: Option<u64>) {
        crate::wait::wait(deadline_ns.map(|d| d.saturating_add(self.boot_ns)))
    }

    fn exit(&self, status: u8) -> ! {
        std::process::exit(i32::from(status))
    }

    fn write_error(&self, bytes: &[u8]) {
        crate::console::write_stderr(bytes)
    }
}

fn fail(e: impl std::fmt::Display) -> ! {
    crate::console::write_stderr(format!("error: {e}\n").as_bytes());
    std::process::exit(1)
}

/// Runs `app` (and the tasks it spawns) on this thread until it completes, with the unix
/// platform installed and no devices bound: for tests that drive in-memory devices and stacks.
pub fn block_on<F, Fut>(app: F) -> Fut::Output
where
    F: FnOnce(Spawner) -> Fut,
    Fut: Future,
{
    static PLATFORM: std::sync::OnceLock<UnixPlatform> = std::sync::OnceLock::new();
    let platform = PLATFORM.get_or_init(|| UnixPlatform {
        boot_ns: crate::clock::monotonic_ns(),
    });
    morgana_rt::block_on(platform, app)
}

/// Starts the unikernel: binds `devices` from the process's command line and runs `app`.
///
/// Called by the entry point that `morgana::main!` generates; never returns.
pub fn start<F, Fut, E>(devices: &'static [Device], app: F) -> !
where
    F: FnOnce(Spawner) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let boot_ns = crate::clock::monotonic_ns();
    // The entry is a C `main`, so Rust's start-up did not ignore SIGPIPE: do it as it would, so
    // a closed stdout or peer is an error to handle, not the end of the process.
    // SAFETY: setting a signal's disposition to SIG_IGN has no memory-safety preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    std::panic::set_hook(Box::new(|info| {
        crate::console::write_stderr(format!("panic: {info}\n").as_bytes());
        crate::backtrace::print();
        std::process::exit(i32::from(morgana_rt::EXIT_ABORT))
    }));
    crate::backtrace::install();
    let mut args = Vec::new();
    for (i, a) in std::env::args_os().enumerate().skip(1) {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(_) => fail(BootError::NotUtf8(i)),
        }
    }
    let (bound, app_args) = bind(devices, &args).unwrap_or_else(|e| fail(e));
    devices::install(bound);
    let platform: &'static UnixPlatform = Box::leak(Box::new(UnixPlatform { boot_ns }));
    morgana_rt::run(platform, app_args, app)
}

#[cfg(test)]
mod tests {
    use super::*;

    static DEVICES: &[Device] = &[Device::net("service"), Device::block("storage")];

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn device_flags_then_application_arguments() {
        let args = strings(&[
            "--net:service=tap0",
            "--block:storage=disk.img",
            "--block-sector-size:storage=4096",
            "--",
            "--hello=x",
        ]);
        let (flags, rest) = parse_flags(DEVICES, &args).unwrap();
        assert_eq!(rest, ["--hello=x"]);
        assert_eq!(flags.net["service"].1, "tap0");
        assert_eq!(flags.sector["storage"].1, 4096);
        let (_, rest) =
            parse_flags(DEVICES, &strings(&["--net:service=tap0", "--port=7", "x"])).unwrap();
        assert_eq!(rest, ["--port=7", "x"]);
    }

    #[test]
    fn bad_flags_are_named() {
        let err = |args: &[&str]| {
            parse_flags(DEVICES, &strings(args))
                .err()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            err(&["--net:nope=tap0"]),
            "--net:nope=tap0: no device 'nope' is declared by this unikernel"
        );
        assert_eq!(
            err(&["--block:service=f"]),
            "--block:service=f: device 'service' is declared as a net device"
        );
        assert_eq!(
            err(&["--net:service"]),
            "malformed option '--net:service': expected --FLAG:NAME=VALUE"
        );
        assert_eq!(
            err(&["--net:service=a", "--net:service=b"]),
            "--net:service=b: device 'service' is already bound"
        );
        assert_eq!(
            err(&["--net-mac:service=01:02"]),
            "--net-mac:service=01:02: expected a MAC address like 02:00:00:00:00:01"
        );
        for bad in ["521", "256", "0", "x", "8589934592"] {
            let flag = format!("--block-sector-size:storage={bad}");
            assert_eq!(
                err(&[&flag]),
                format!("{flag}: the sector size must be a power of two, at least 512")
            );
        }
    }

    #[test]
    fn unbound_device_is_an_error() {
        let e = bind(DEVICES, &strings(&["--block:storage=/dev/null"]))
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "device 'service' is declared but not bound: pass --net:service=TAP, or --net:service=socket for the host's own TCP/IP"
        );
    }
}
