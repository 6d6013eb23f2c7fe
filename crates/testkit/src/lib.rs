//! Helpers for integration tests that run unikernels as real processes.
//!
//! - [`Netns`]: a network namespace made for one test, with tap devices inside, deleted when
//!   dropped. Traffic in these tests never leaves the namespace.
//! - [`Running`]: a child process killed (by its PID, only ever one we started) when dropped.
//! - [`run`]: run a command to completion with a time limit and capture everything.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// True when the tests run as root (needed for namespaces and tap devices).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The captured result of a finished command.
#[derive(Debug)]
pub struct Outcome {
    /// Exit code (`None` if killed by a signal or the time limit).
    pub code: Option<i32>,
    /// Everything written to standard output.
    pub stdout: String,
    /// Everything written to standard error.
    pub stderr: String,
}

/// Runs `cmd` with no input, waits at most `limit`, and captures its output.
///
/// # Panics
/// If the command cannot start or outlives `limit` (it is then killed).
pub fn run(cmd: &mut Command, limit: Duration) -> Outcome {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = wait_with_limit(&mut child, limit);
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let Some(status) = status else {
        panic!("{cmd:?} did not finish within {limit:?}\nstdout: {stdout}\nstderr: {stderr}");
    };
    Outcome {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// Waits for `child` at most `limit`; kills it and returns `None` when the time is up.
pub fn wait_with_limit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A running child process, killed when dropped; its standard output arrives line by line.
#[derive(Debug)]
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<(Instant, String)>,
}

impl Running {
    /// Starts `cmd` with standard output piped (standard error inherited).
    pub fn start(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    /// The next line of standard output with the time it arrived, waiting at most `limit`.
    pub fn next_line(&mut self, limit: Duration) -> Option<(Instant, String)> {
        self.lines.recv_timeout(limit).ok()
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        wait_with_limit(&mut self.child, limit)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A network namespace for one test, deleted (with everything in it) when dropped.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

static NEXT_NS: AtomicU32 = AtomicU32::new(0);

impl Netns {
    /// Creates a namespace named after `label`, with loopback up; `None` (and a printed
    /// reason) where the host cannot: not root, or no `ip` command.
    pub fn create(label: &str) -> Option<Netns> {
        if !is_root() {
            eprintln!("skipped: network namespace tests need root");
            return None;
        }
        if Command::new("ip").arg("-V").output().is_err() {
            eprintln!("skipped: the ip command (iproute2) is not installed");
            return None;
        }
        let name = format!(
            "mg-{label}-{}-{}",
            std::process::id(),
            NEXT_NS.fetch_add(1, Ordering::Relaxed)
        );
        let ns = Netns { name };
        ns.host_cmd(&["netns", "add", &ns.name]);
        ns.ip(&["link", "set", "lo", "up"]);
        // No IPv6 chatter (router solicitations, DAD) unless a test asks for it.
        ns.exec_ok(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        ns.exec_ok(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        Some(ns)
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn host_cmd(&self, args: &[&str]) {
        let out = Command::new("ip").args(args).output().expect("ip runs");
        assert!(
            out.status.success(),
            "ip {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `ip ARGS` inside the namespace and asserts it succeeds.
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        self.host_cmd(&full);
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs `args[0] args[1..]` inside the namespace and asserts it succeeds.
    pub fn exec_ok(&self, args: &[&str]) {
        let out = self
            .command(args[0])
            .args(&args[1..])
            .output()
            .expect("ip netns exec runs");
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Adds tap device `tap` with `mtu`, up, with host-side address `addr` (e.g. "10.0.0.1/24")
    /// when given.
    pub fn add_tap(&self, tap: &str, mtu: u32, addr: Option<&str>) {
        self.ip(&["tuntap", "add", "dev", tap, "mode", "tap"]);
        self.ip(&["link", "set", "dev", tap, "mtu", &mtu.to_string()]);
        if let Some(addr) = addr {
            self.ip(&["addr", "add", addr, "dev", tap]);
        }
        self.ip(&["link", "set", "dev", tap, "up"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
