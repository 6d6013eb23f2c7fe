//! Network namespaces made by one test, with tap devices inside, deleted when dropped (even
//! after a failed assertion). Traffic in these tests never leaves the namespace: the host side
//! of each tap gets an address there and tests only talk to addresses on those links.
//!
//! Creating one needs [`Prereq::Tap`](crate::Prereq::Tap): check it with
//! [`require!`](crate::require) first, so a host without it skips the test instead of failing.
//!
//! [`Netns::add_tap`] puts a tap in a namespace; [`Netns::link_veth`] joins two namespaces with
//! a veth pair.
//!
//! Inside a namespace, [`Netns::command`] runs programs (the unikernel, `curl`...; start them
//! with [`Process`](crate::Process) or [`run`](crate::run)), [`Netns::enter`] runs Rust code
//! (`std::net` clients, raw sockets) on a thread moved into it, and [`Netns::send_frames`]
//! writes raw Ethernet frames on an interface.

use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, bind, send};

/// A network namespace for one test, deleted with everything in it when dropped.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl Netns {
    /// Creates a namespace named after `label` (plus this process's id and a counter, so
    /// parallel tests never collide), with loopback up and IPv6 off so that nothing chatters
    /// on its links (router solicitations, duplicate address detection) unless a test asks.
    ///
    /// # Panics
    /// If the namespace cannot be made (not root, no `ip` command: see
    /// [`Prereq::Tap`](crate::Prereq::Tap)).
    pub fn new(label: &str) -> Netns {
        let name = format!(
            "mg-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns.exec_ok(&[
            "sh",
            "-c",
            "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && \
             echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6",
        ]);
        ns
    }

    /// The namespace's name (as `ip netns` knows it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip ARGS` inside the namespace.
    ///
    /// # Panics
    /// If it fails (the message holds its standard error).
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        ip(&full);
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs `args[0]` with arguments `args[1..]` inside the namespace.
    ///
    /// # Panics
    /// If it cannot run or fails (the message holds its standard error).
    pub fn exec_ok(&self, args: &[&str]) {
        let (program, rest) = args.split_first().expect("a program to run");
        let out = self
            .command(program)
            .args(rest)
            .output()
            .unwrap_or_else(|e| panic!("ip netns exec {program}: {e}"));
        assert!(
            out.status.success(),
            "{args:?} in {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }

    /// Adds tap device `tap` with `mtu` (bytes of IP packet), up, with host-side address
    /// `addr` in CIDR notation (e.g. `10.77.0.1/24`) when given.
    pub fn add_tap(&self, tap: &str, mtu: u32, addr: Option<&str>) {
        self.ip(&["tuntap", "add", "dev", tap, "mode", "tap"]);
        self.ip(&["link", "set", "dev", tap, "mtu", &mtu.to_string()]);
        if let Some(addr) = addr {
            self.ip(&["addr", "add", addr, "dev", tap]);
        }
        self.ip(&["link", "set", "dev", tap, "up"]);
    }

    /// Joins this namespace to `other` with a veth pair: interface `name` here with address
    /// `cidr`, interface `peer_name` in `other` with address `peer_cidr` (CIDR notation, e.g.
    /// `10.79.0.1/24`), both up. The pair goes away with either namespace.
    ///
    /// # Panics
    /// If a step fails (a name taken, an invalid address).
    pub fn link_veth(
        &self,
        other: &Netns,
        (name, cidr): (&str, &str),
        (peer_name, peer_cidr): (&str, &str),
    ) {
        self.ip(&[
            "link",
            "add",
            name,
            "type",
            "veth",
            "peer",
            "name",
            peer_name,
            "netns",
            &other.name,
        ]);
        self.ip(&["addr", "add", cidr, "dev", name]);
        self.ip(&["link", "set", "dev", name, "up"]);
        other.ip(&["addr", "add", peer_cidr, "dev", peer_name]);
        other.ip(&["link", "set", "dev", peer_name, "up"]);
    }

    /// A statistics counter of interface `ifname`, e.g. `rx_packets` (see
    /// `/sys/class/net/IF/statistics/`).
    pub fn interface_counter(&self, ifname: &str, counter: &str) -> u64 {
        let path = format!("/sys/class/net/{ifname}/statistics/{counter}");
        let out = self
            .command("cat")
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("cat {path}: {e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{path} in {}: {text:?}", self.name))
    }

    /// A counter of the namespace's TCP/IP stack from `/proc/net/netstat` or `/proc/net/snmp`,
    /// by its group and name as `nstat` shows them joined, e.g. `TcpExtTCPSynRetrans` (SYNs
    /// this namespace's clients sent again).
    ///
    /// # Panics
    /// If there is no such counter.
    pub fn stack_counter(&self, counter: &str) -> u64 {
        let out = self
            .command("cat")
            .args(["/proc/net/netstat", "/proc/net/snmp"])
            .output()
            .unwrap_or_else(|e| panic!("cat /proc/net/netstat: {e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        find_stack_counter(&text, counter)
            .unwrap_or_else(|| panic!("no counter {counter} in {}", self.name))
    }

    /// Starts `f` on a new thread that has joined this namespace (sockets it opens live there).
    pub fn spawn_thread<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let ns = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            setns(&ns, CloneFlags::CLONE_NEWNET).expect("setns into the test's namespace");
            f()
        })
    }

    /// Runs `f` on a thread that has joined this namespace and returns its result (a panic in
    /// `f` continues in the caller).
    pub fn enter<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        self.spawn_thread(f)
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }

    /// Waits until a TCP connection to `addr` from inside the namespace succeeds.
    ///
    /// # Panics
    /// If none succeeds within `limit`.
    pub fn wait_for_tcp(&self, addr: SocketAddr, limit: Duration) {
        let connected = self.enter(move || {
            let deadline = Instant::now() + limit;
            while Instant::now() < deadline {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        });
        assert!(
            connected,
            "nothing accepted connections on {addr} within {limit:?}"
        );
    }

    /// Writes each frame on interface `ifname` with a raw `AF_PACKET` socket; returns, per
    /// frame, `Ok` or the kernel's refusal as text (e.g. `EMSGSIZE: Message too long` for a
    /// frame over the MTU).
    pub fn send_frames(&self, ifname: &str, frames: Vec<Vec<u8>>) -> Vec<Result<(), String>> {
        let ifname = ifname.to_string();
        self.enter(move || {
            let link = nix::ifaddrs::getifaddrs()
                .expect("getifaddrs")
                .filter(|a| a.interface_name == ifname)
                .find_map(|a| a.address.and_then(|s| s.as_link_addr().copied()))
                .unwrap_or_else(|| panic!("no link address for {ifname}"));
            let fd = nix::sys::socket::socket(
                AddressFamily::Packet,
                SockType::Raw,
                SockFlag::SOCK_CLOEXEC,
                None::<SockProtocol>,
            )
            .expect("AF_PACKET socket");
            bind(fd.as_raw_fd(), &link).expect("bind to the interface");
            frames
                .iter()
                .map(|f| {
                    send(fd.as_raw_fd(), f, MsgFlags::empty())
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
                .collect()
        })
    }

    /// Opens `/dev/net/tun` attached to tap `tap` (`IFF_TAP | IFF_NO_PI`, close-on-exec) from
    /// inside the namespace, as a parent process would before handing the descriptor to a
    /// unikernel.
    ///
    /// # Panics
    /// If the device cannot be opened or attached (e.g. the tap is busy).
    pub fn open_tap(&self, tap: &str) -> OwnedFd {
        let tap = tap.to_string();
        self.enter(move || attach_tap(&tap))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Runs `ip ARGS` (in the test's own namespace).
///
/// # Panics
/// If it cannot run or fails (the message holds its standard error).
fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ip: {e}"));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Opens `/dev/net/tun` and attaches it to tap `tap` of the calling thread's namespace.
fn attach_tap(tap: &str) -> OwnedFd {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .unwrap_or_else(|e| panic!("/dev/net/tun: {e}"));
    // SAFETY: ifreq is plain old data (a name and a union of integers); all zeroes is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    assert!(tap.len() < req.ifr_name.len(), "tap name too long: {tap}");
    for (dst, &src) in req.ifr_name.iter_mut().zip(tap.as_bytes()) {
        *dst = src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes only `req`, which lives across the call, on a
    // descriptor this function owns.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) };
    assert_eq!(
        rc,
        0,
        "TUNSETIFF {tap}: {}",
        std::io::Error::last_os_error()
    );
    file.into()
}

/// The counter `GroupName` (e.g. `TcpExtTCPSynRetrans`) in the text of `/proc/net/netstat`:
/// per group, a line of names then a line of values, each starting with `Group:`.
fn find_stack_counter(text: &str, counter: &str) -> Option<u64> {
    let lines: Vec<&str> = text.lines().collect();
    lines.chunks(2).find_map(|pair| {
        let [names, values] = pair else { return None };
        let (group, names) = names.split_once(": ")?;
        let (_, values) = values.split_once(": ")?;
        let name = counter.strip_prefix(group)?;
        let i = names.split_whitespace().position(|n| n == name)?;
        values.split_whitespace().nth(i)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Prereq, require};
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener};
    use std::path::Path;

    #[test]
    fn stack_counters_by_group_and_name() {
        let text = "TcpExt: SyncookiesSent TCPSynRetrans\nTcpExt: 3 17\n\
                    IpExt: InNoRoutes\nIpExt: 5\nTcp: RtoAlgorithm ActiveOpens\nTcp: 1 42\n";
        assert_eq!(find_stack_counter(text, "TcpExtTCPSynRetrans"), Some(17));
        assert_eq!(find_stack_counter(text, "IpExtInNoRoutes"), Some(5));
        assert_eq!(find_stack_counter(text, "TcpActiveOpens"), Some(42));
        assert_eq!(find_stack_counter(text, "TcpExtNothing"), None);
    }

    #[test]
    fn a_namespace_holds_its_taps_and_is_deleted_on_drop() {
        require!(Prereq::Tap);
        let ns = Netns::new("kit");
        ns.add_tap("mgkit0", 9000, Some("10.99.0.1/24"));
        let out = crate::run(
            ns.command("cat").arg("/sys/class/net/mgkit0/mtu"),
            Duration::from_secs(10),
        );
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), "9000\n"));
        // Attached by the test, the tap carries a frame written by it: the host side counts it.
        let before = ns.interface_counter("mgkit0", "rx_packets");
        let tap = ns.open_tap("mgkit0");
        let frame = [
            [0xff; 6].as_slice(),
            &[2, 0, 0, 0, 0, 1, 0x88, 0xb5],
            &[0; 46],
        ]
        .concat();
        let written = nix::unistd::write(&tap, &frame).expect("write a frame");
        assert_eq!(written, 60);
        assert_eq!(ns.interface_counter("mgkit0", "rx_packets") - before, 1);
        let path = format!("/run/netns/{}", ns.name());
        assert!(Path::new(&path).exists());
        drop(tap);
        drop(ns);
        assert!(!Path::new(&path).exists());
    }

    #[test]
    fn a_veth_pair_joins_two_namespaces() {
        require!(Prereq::Tap);
        let (a, b) = (Netns::new("kit-a"), Netns::new("kit-b"));
        a.link_veth(&b, ("mgkitv0", "10.98.0.1/24"), ("mgkitv1", "10.98.0.2/24"));
        // Each end is in its own namespace only, administratively up (flags: UP, BROADCAST,
        // MULTICAST; the carrier comes up a moment later).
        let flags = |ns: &Netns, ifname: &str| {
            let out = crate::run(
                ns.command("cat")
                    .arg(format!("/sys/class/net/{ifname}/flags")),
                Duration::from_secs(10),
            );
            (out.code, out.stdout)
        };
        assert_eq!(flags(&a, "mgkitv0"), (Some(0), "0x1003\n".to_string()));
        assert_eq!(flags(&b, "mgkitv1"), (Some(0), "0x1003\n".to_string()));
        assert_eq!(flags(&a, "mgkitv1"), (Some(1), String::new()));
        assert_eq!(flags(&b, "mgkitv0"), (Some(1), String::new()));
        // A connection from one namespace reaches the other over the pair, from the address
        // given to this end. The listener's socket stays in `b` on this thread.
        let listener = b.enter(|| TcpListener::bind("10.98.0.2:7007").expect("bind in b"));
        a.enter(|| {
            let mut s = TcpStream::connect("10.98.0.2:7007").expect("connect from a");
            s.write_all(b"across the veth").expect("write");
        });
        let (mut conn, peer) = listener.accept().expect("accept");
        let mut got = String::new();
        conn.read_to_string(&mut got).expect("read");
        assert_eq!(
            (peer.ip(), got.as_str()),
            (Ipv4Addr::new(10, 98, 0, 1).into(), "across the veth")
        );
        let paths = [a.name(), b.name()].map(|n| format!("/run/netns/{n}"));
        drop((a, b));
        assert!(paths.iter().all(|p| !Path::new(p).exists()));
    }
}
