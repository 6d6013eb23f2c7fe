//! `cargo xtask run --tap[=DEVICE]`: a tap device made for one run of a unikernel on the direct
//! stack (unix or hvt), removed when the unikernel ends or the run is interrupted.
//!
//! The tap is the first free `mgtapN` (N from 0 to 15) with host address `10.77.N.1/24`; the
//! unikernel's net device `DEVICE` (default `service`) is bound to it and the unikernel gets
//! `--ipv4=10.77.N.2/24`. Making a tap needs root; without it the error says what to run
//! instead.

use std::path::Path;
use std::process::{Command, ExitStatus};

use nix::sys::signal::{SigSet, Signal};
use nix::unistd::Pid;

use crate::{Error, Result, run_captured};

/// Net device bound to the tap when `--tap` names none: the one every example declares.
pub const DEFAULT_DEVICE: &str = "service";

/// How many `mgtapN` names are tried.
const MAX_TAPS: u8 = 16;

/// A tap device with a host address, deleted when dropped.
#[derive(Debug)]
pub struct Tap {
    /// The interface name, `mgtapN`.
    pub name: String,
    /// This host's address on it, CIDR notation.
    pub host: String,
    /// The address the unikernel gets, CIDR notation.
    pub guest: String,
    /// Whether this value made the device (and so deletes it).
    made: bool,
}

/// The tap name and the two addresses for index `n`.
fn plan(n: u8) -> (String, String, String) {
    (
        format!("mgtap{n}"),
        format!("10.77.{n}.1/24"),
        format!("10.77.{n}.2/24"),
    )
}

fn ip(args: &[&str]) -> Result<()> {
    run_captured(Command::new("ip").args(args)).map(|_| ())
}

impl Tap {
    /// Creates the first free `mgtapN`, gives it its host address and brings it up.
    pub fn create() -> Result<Tap> {
        if !nix::unistd::geteuid().is_root() {
            let (name, host, guest) = plan(0);
            return Err(Error::Other(format!(
                "--tap creates a tap device, which needs root: run as root, or once as root \
                 `ip tuntap add {name} mode tap user $USER && ip addr add {host} dev {name} && \
                 ip link set {name} up`, then run with `-- --net:{DEFAULT_DEVICE}={name} -- \
                 --ipv4={guest}` (on unix, `-- --net:{DEFAULT_DEVICE}=socket` uses the host's \
                 own TCP/IP and needs no tap)"
            )));
        }
        let n = (0..MAX_TAPS)
            .find(|n| !Path::new("/sys/class/net").join(plan(*n).0).exists())
            .ok_or_else(|| Error::Other("--tap: mgtap0 to mgtap15 all exist".into()))?;
        let (name, host, guest) = plan(n);
        ip(&["tuntap", "add", "dev", &name, "mode", "tap"])?;
        // From here on, dropping the value deletes the device.
        let tap = Tap {
            name,
            host,
            guest,
            made: true,
        };
        ip(&["addr", "add", &tap.host, "dev", &tap.name])?;
        ip(&["link", "set", "dev", &tap.name, "up"])?;
        Ok(tap)
    }

    /// The unikernel's address, without the prefix length.
    pub fn guest_address(&self) -> &str {
        self.guest.split('/').next().unwrap_or(&self.guest)
    }

    /// `args` (device flags, then `--` and the application's arguments) with the net device
    /// `device` bound to this tap and `--ipv4=` for the unikernel added.
    ///
    /// Device flags are those `is_device_flag` accepts, up to `--` or the first other
    /// argument. An `--ipv4=` of the user's own would contradict the tap's and is refused.
    pub fn bind_args(
        &self,
        device: &str,
        args: &[String],
        is_device_flag: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>> {
        let n = args.iter().take_while(|a| is_device_flag(a)).count();
        let (flags, rest) = args.split_at(n);
        let app = match rest.first().map(String::as_str) {
            Some("--") => &rest[1..],
            _ => rest,
        };
        let bound = format!("--net:{device}=");
        if flags.iter().any(|f| f.starts_with(&bound)) {
            return Err(Error::Usage(format!(
                "--tap binds device '{device}' itself: drop {bound}..."
            )));
        }
        if app.iter().any(|a| a.starts_with("--ipv4=")) {
            return Err(Error::Usage(format!(
                "--tap gives the unikernel --ipv4={}: drop the --ipv4= argument",
                self.guest
            )));
        }
        let mut out: Vec<String> = flags.to_vec();
        out.push(format!("{bound}{}", self.name));
        out.push("--".into());
        out.push(format!("--ipv4={}", self.guest));
        out.extend_from_slice(app);
        Ok(out)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if !self.made {
            return;
        }
        if let Err(e) = ip(&["link", "del", "dev", &self.name]) {
            eprintln!("morgana: could not remove tap {}: {e}", self.name);
        }
    }
}

/// Runs `cmd` to its end while `tap` exists: the signals that would end this process
/// (`SIGINT`, `SIGTERM`, `SIGHUP`) are passed on to the child instead, so that this process
/// outlives it and can remove the tap.
pub fn run_with(tap: &Tap, cmd: &mut Command) -> Result<ExitStatus> {
    println!(
        "morgana: the unikernel is at {} (tap {}, this host {})",
        tap.guest_address(),
        tap.name,
        tap.host
    );
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        program: cmd.get_program().to_string_lossy().into_owned(),
        source,
    })?;
    // Blocked from now on in this thread and the forwarder spawned below, which takes them
    // with sigwait(2); the child was started with the usual mask and dispositions.
    let mut signals = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(s);
    }
    let blocked = signals.thread_block();
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    if blocked.is_ok() {
        std::thread::spawn(move || {
            while let Ok(signal) = signals.wait() {
                let _ = nix::sys::signal::kill(pid, signal);
            }
        });
    }
    child
        .wait()
        .map_err(|e| Error::Other(format!("waiting for the unikernel: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    fn tap() -> Tap {
        let (name, host, guest) = plan(3);
        // Never made: only its names are used, and dropping it does not touch the host.
        Tap {
            name,
            host,
            guest,
            made: false,
        }
    }

    fn is_flag(a: &str) -> bool {
        a.starts_with("--net:") || a.starts_with("--block:") || a.starts_with("--mem=")
    }

    #[test]
    fn the_tap_is_bound_and_the_address_given() {
        let t = tap();
        let cases: [(&[&str], &[&str]); 4] = [
            (&[], &["--net:service=mgtap3", "--", "--ipv4=10.77.3.2/24"]),
            (
                &["--mem=8", "--", "--port=8080"],
                &[
                    "--mem=8",
                    "--net:service=mgtap3",
                    "--",
                    "--ipv4=10.77.3.2/24",
                    "--port=8080",
                ],
            ),
            (
                &["--port=8080"],
                &[
                    "--net:service=mgtap3",
                    "--",
                    "--ipv4=10.77.3.2/24",
                    "--port=8080",
                ],
            ),
            (
                &["--block:storage=d.img", "--", "--", "x"],
                &[
                    "--block:storage=d.img",
                    "--net:service=mgtap3",
                    "--",
                    "--ipv4=10.77.3.2/24",
                    "--",
                    "x",
                ],
            ),
        ];
        for (given, want) in cases {
            assert_eq!(
                t.bind_args("service", &s(given), is_flag).unwrap(),
                s(want),
                "{given:?}"
            );
        }
        assert_eq!(t.guest_address(), "10.77.3.2");
    }

    #[test]
    fn contradicting_arguments_are_refused() {
        let t = tap();
        let err = |args: &[&str]| {
            t.bind_args("service", &s(args), is_flag)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&["--net:service=tap0"]),
            "--tap binds device 'service' itself: drop --net:service=..."
        );
        assert_eq!(
            err(&["--", "--ipv4=10.0.0.2/24"]),
            "--tap gives the unikernel --ipv4=10.77.3.2/24: drop the --ipv4= argument"
        );
    }
}
