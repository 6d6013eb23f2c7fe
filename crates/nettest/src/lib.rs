//! Test support for unikernels on real tap devices, on the host (root needed).
//!
//! A [`Netns`] is a network namespace the test creates and deletes (on drop, even after a
//! failed assertion). Inside it, [`Netns::add_tap`] makes a tap interface with a host-side
//! address; [`Netns::spawn`] starts a process inside (the unikernel, `curl`...) whose
//! [`Process`] guard kills it by PID on drop; [`Netns::enter`] runs a closure on a thread moved
//! into the namespace, so Rust clients (`std::net`) reach the unikernel; [`Netns::send_frames`]
//! writes raw Ethernet frames on an interface with an `AF_PACKET` socket. Traffic never leaves
//! the namespace.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};
use nix::sys::socket::{AddressFamily, SockFlag, SockProtocol, SockType, bind, send, socket};

/// Why tap tests cannot run here, or `None` when they can.
pub fn skip_reason() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("not root: network namespaces and tap devices need root".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("the `ip` tool (iproute2) is missing".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun is missing".into());
    }
    None
}

/// Skips the calling test (returns from it) with a printed reason when tap tests cannot run.
#[macro_export]
macro_rules! require_tap {
    () => {
        if let Some(reason) = $crate::skip_reason() {
            eprintln!("skipped: {reason}");
            return;
        }
    };
}

/// Runs `ip ARGS` and fails the test with its stderr if it fails.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("running ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// A network namespace, deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace named after `tag`, this process and a counter, with `lo` up.
    pub fn new(tag: &str) -> Netns {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("morgana-{tag}-{}-{n}", std::process::id());
        ip(&["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip ARGS` inside the namespace.
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["-n", &self.name];
        full.extend_from_slice(args);
        ip(&full);
    }

    /// Adds tap interface `tap` (up) with host-side address `host_cidr` (e.g. `10.77.0.1/24`).
    pub fn add_tap(&self, tap: &str, host_cidr: &str) {
        self.ip(&["tuntap", "add", tap, "mode", "tap"]);
        self.ip(&["addr", "add", host_cidr, "dev", tap]);
        self.ip(&["link", "set", tap, "up"]);
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// Runs `program ARGS` inside the namespace to completion.
    pub fn output(&self, program: &str, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {program}: {e}"))
    }

    /// Starts `program ARGS` inside the namespace with piped stdout and stderr.
    pub fn spawn(&self, program: &str, args: &[&str]) -> Process {
        let child = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        Process { child: Some(child) }
    }

    /// Runs `f` on a new thread that has joined this namespace (sockets it opens live there).
    pub fn enter<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let ns = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            setns(&ns, CloneFlags::CLONE_NEWNET).expect("setns into the test namespace");
            f()
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }

    /// Waits until a TCP connection to `addr` from inside the namespace succeeds.
    pub fn wait_for_tcp(&self, addr: SocketAddr, timeout: Duration) {
        let ok = self.enter(move || {
            let deadline = Instant::now() + timeout;
            while Instant::now() < deadline {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        });
        assert!(
            ok,
            "nothing accepted connections on {addr} within {timeout:?}"
        );
    }

    /// Writes each frame on interface `ifname` with a raw `AF_PACKET` socket; returns, per
    /// frame, `Ok` or the kernel's refusal (e.g. `EMSGSIZE` for a frame over the MTU).
    pub fn send_frames(&self, ifname: &str, frames: Vec<Vec<u8>>) -> Vec<Result<(), String>> {
        let ifname = ifname.to_string();
        self.enter(move || {
            let link = nix::ifaddrs::getifaddrs()
                .expect("getifaddrs")
                .filter(|a| a.interface_name == ifname)
                .find_map(|a| a.address.and_then(|s| s.as_link_addr().copied()))
                .unwrap_or_else(|| panic!("no link address for {ifname}"));
            let fd = socket(
                AddressFamily::Packet,
                SockType::Raw,
                SockFlag::SOCK_CLOEXEC,
                None::<SockProtocol>,
            )
            .expect("AF_PACKET socket");
            bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &link).expect("bind to the interface");
            frames
                .iter()
                .map(|f| {
                    send(
                        std::os::fd::AsRawFd::as_raw_fd(&fd),
                        f,
                        nix::sys::socket::MsgFlags::empty(),
                    )
                    .map(|_| ())
                    .map_err(|e| e.to_string())
                })
                .collect()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A process started by a test; killed (by its PID) and reaped on drop.
#[derive(Debug)]
pub struct Process {
    child: Option<Child>,
}

impl Process {
    /// Reads stdout lines until one contains `needle` (and returns it); fails the test if the
    /// process ends first or `timeout` passes.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        let child = self.child.as_mut().expect("process already finished");
        let stdout = child.stdout.take().expect("stdout already taken");
        let (tx, rx) = std::sync::mpsc::channel();
        let needle = needle.to_string();
        // The reader keeps draining stdout after the match: a process writing into a closed
        // pipe would die of SIGPIPE.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains(&needle) {
                    let _ = tx.send(line);
                }
            }
        });
        match rx.recv_timeout(timeout) {
            Ok(line) => line,
            Err(_) => {
                let status = child.try_wait().ok().flatten();
                panic!("no line with the expected text within {timeout:?} (exit: {status:?})");
            }
        }
    }

    /// True while the process is running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Waits for the process to end (at most `timeout`) and returns its output.
    pub fn finish(mut self, timeout: Duration) -> Output {
        let mut child = self.child.take().expect("process already finished");
        let deadline = Instant::now() + timeout;
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the process did not end within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("collecting output")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
