//! Network namespaces with real tap devices, created by the tests that use them and deleted
//! on drop. All traffic stays inside: the host side of each tap has its own address there and
//! the tests only send to addresses on those links.

#![allow(dead_code)]

use super::image::Image;
use super::{TENDER, kvm_available, run_command_with_limit, write_image};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `ip ARGS...` succeeded.
pub fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Moves the calling thread (only) into the network namespace pinned at `path`.
fn enter(path: &str) {
    let ns = std::fs::File::open(path).expect("netns file");
    // SAFETY: setns affects only this thread; `ns` is an open netns file for the call.
    let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

/// A network namespace holding one tap `tap0` (10.77.0.1/24, up); deleted on drop.
#[derive(Debug)]
pub struct Netns {
    /// The namespace's name (under /run/netns).
    pub name: String,
}

impl Netns {
    /// Creates the namespace with `tap0`, or returns `None` (after saying why) if that is
    /// impossible here.
    pub fn create(test: &str, mtu: u32) -> Option<Self> {
        let ns = Self::empty(test)?;
        ns.add_tap("tap0", mtu, Some("10.77.0.1/24"));
        Some(ns)
    }

    /// Creates a namespace with no tap yet (loopback down, IPv6 off so nothing chatters).
    pub fn empty(test: &str) -> Option<Self> {
        if !kvm_available(test) {
            return None;
        }
        if Command::new("ip").arg("-V").output().is_err() {
            eprintln!("SKIPPED {test}: the ip command is not installed");
            return None;
        }
        let name = format!("mhvt-{}-{test}", std::process::id());
        if !ip(&["netns", "add", &name]) {
            eprintln!("SKIPPED {test}: cannot create a network namespace (needs root)");
            return None;
        }
        let ns = Self { name };
        let sh = "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6";
        assert!(ns.exec(&["sh", "-c", sh]));
        Some(ns)
    }

    /// Adds tap `tap` with `mtu`, up, with host address `addr` (CIDR) if given.
    pub fn add_tap(&self, tap: &str, mtu: u32, addr: Option<&str>) {
        let n = self.name.as_str();
        assert!(ip(&["-n", n, "tuntap", "add", "dev", tap, "mode", "tap"]));
        let mtu = mtu.to_string();
        assert!(ip(&["-n", n, "link", "set", tap, "mtu", &mtu, "up"]));
        if let Some(addr) = addr {
            assert!(ip(&["-n", n, "addr", "add", addr, "dev", tap]));
        }
    }

    /// Runs `cmd` inside the namespace; true if it succeeded.
    pub fn exec(&self, cmd: &[&str]) -> bool {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(cmd)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// A statistics counter of `tap`, e.g. `rx_packets`.
    pub fn counter_of(&self, tap: &str, which: &str) -> u64 {
        let path = format!("/sys/class/net/{tap}/statistics/{which}");
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, "cat", &path])
            .output()
            .expect("cat");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("counter")
    }

    /// A statistics counter of `tap0`.
    pub fn counter(&self, which: &str) -> u64 {
        self.counter_of("tap0", which)
    }

    /// Runs the tender inside the namespace with `--mem=4`, `options` and `image`.
    pub fn tender(&self, options: &[&str], image: &Image) -> Output {
        self.tender_passing(options, image, None)
    }

    /// [`Netns::tender`], with `fd` (if any) inherited by the tender under the same number.
    pub fn tender_passing(&self, options: &[&str], image: &Image, fd: Option<RawFd>) -> Output {
        let path = write_image(&image.build());
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, TENDER, "--mem=4"])
            .args(options)
            .arg(&path);
        if let Some(fd) = fd {
            // SAFETY: runs in the child between fork and exec and only calls fcntl, which is
            // async-signal-safe. Clearing FD_CLOEXEC there lets this one child (and the
            // tender it execs) inherit `fd`; other children of the test process do not.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        run_command_with_limit(&mut cmd, Duration::from_secs(30))
    }

    /// Opens `/dev/net/tun` attached to `tap` (`IFF_TAP | IFF_NO_PI`) from inside the
    /// namespace, the way a parent process would before handing the fd to a tender.
    pub fn open_tap_fd(&self, tap: &str) -> OwnedFd {
        let ns_path = format!("/run/netns/{}", self.name);
        let tap = tap.to_string();
        // A fresh thread, so that only it enters the namespace.
        std::thread::spawn(move || {
            enter(&ns_path);
            // SAFETY: opens a device by a constant path; the result is checked below.
            let raw =
                unsafe { libc::open(c"/dev/net/tun".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
            assert!(
                raw >= 0,
                "open /dev/net/tun: {}",
                std::io::Error::last_os_error()
            );
            // SAFETY: `raw` is a fresh descriptor that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: ifreq is plain old data; all-zero is a valid value.
            let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
            for (dst, &src) in req.ifr_name.iter_mut().zip(tap.as_bytes()) {
                *dst = src as libc::c_char;
            }
            req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
            // SAFETY: TUNSETIFF reads and writes only `req`, which outlives the call.
            let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut req) };
            assert_eq!(
                rc,
                0,
                "TUNSETIFF {tap}: {}",
                std::io::Error::last_os_error()
            );
            fd
        })
        .join()
        .expect("tap opener")
    }

    /// Sends UDP datagrams from `from` to `to` (port 9) inside the namespace until `stop`, so
    /// the kernel keeps sending ARP requests for `to` out of the tap that holds `from`.
    pub fn provoke_arp(
        &self,
        from: &'static str,
        to: &'static str,
        stop: Arc<AtomicBool>,
    ) -> std::thread::JoinHandle<()> {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            enter(&path);
            let sock = std::net::UdpSocket::bind((from, 0)).expect("bind");
            while !stop.load(Ordering::Relaxed) {
                let _ = sock.send_to(b"ping", (to, 9));
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        ip(&["netns", "del", &self.name]);
    }
}
