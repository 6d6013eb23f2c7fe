//! echo-server as a Linux process on a real tap device inside a network namespace made by the
//! test: many concurrent clients, an idle client timed out while others are served, and boot
//! errors for bad network arguments.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use morgana_testkit::{Netns, Prereq, Process, require, run};

mod common;
use common::exchange;

const EXE: &str = env!("CARGO_BIN_EXE_echo-server");
const ADDR: &str = "10.77.0.2:7";

fn start(ns: &Netns, extra: &[&str]) -> Process {
    ns.add_tap("tap0", 1500, Some("10.77.0.1/24"));
    let mut args = vec!["--net:service=tap0", "--", "--ipv4=10.77.0.2/24"];
    args.extend_from_slice(extra);
    let mut p = Process::start(ns.command(EXE).args(&args));
    let line = p.wait_for_line("echo-server:", Duration::from_secs(10));
    assert_eq!(line, "echo-server: 10.77.0.2/24 listening on port 7");
    p
}

#[test]
fn fifty_concurrent_connections_are_echoed_and_closed_cleanly() {
    require!(Prereq::Tap);
    let ns = Netns::new("echo50");
    let mut server = start(&ns, &[]);
    let addr: SocketAddr = ADDR.parse().unwrap();
    let ok = ns.enter(move || common::fifty_concurrent_exchanges(addr));
    assert_eq!(ok, 50, "connections echoed exactly");
    assert!(server.is_running());
}

/// 64 MiB on one connection come back exactly (same hash, same length), with window scaling
/// negotiated: the server's 64 KiB receive buffer is announced with a shift of 1.
#[test]
fn a_large_transfer_is_echoed_exactly_with_window_scaling() {
    require!(Prereq::Tap, Prereq::Tool("ss"));
    let ns = Netns::new("echobulk");
    let mut server = start(&ns, &[]);
    let addr: SocketAddr = ADDR.parse().unwrap();
    let mut ss = ns.command("ss");
    let scales = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = scales.clone();
    let (sent, got, len) = ns.enter(move || {
        common::bulk_exchange(addr, move || {
            *seen.lock().unwrap() = common::window_scales(&mut ss, "10.77.0.2");
        })
    });
    assert_eq!(len, common::BULK_BYTES);
    assert_eq!(got, sent, "the echo differs from what was sent");
    let scales = scales.lock().unwrap().clone();
    assert_eq!(scales.len(), 1, "one connection: {scales:?}");
    assert_eq!(scales[0].0, 1, "the server's window shift");
    assert!(server.is_running());
}

#[test]
fn an_idle_client_is_dropped_while_others_are_served() {
    require!(Prereq::Tap);
    let ns = Netns::new("echoidle");
    let mut server = start(&ns, &["--idle-timeout=2"]);
    let addr: SocketAddr = ADDR.parse().unwrap();
    let (idle_for, served) = ns.enter(move || {
        let mut idle = TcpStream::connect(addr).expect("connect");
        idle.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let start = Instant::now();
        let served = exchange(addr, b"served meanwhile");
        let mut buf = [0u8; 8];
        let n = idle
            .read(&mut buf)
            .expect("the idle connection ended with a FIN");
        assert_eq!(n, 0);
        (start.elapsed(), served)
    });
    assert_eq!(served, b"served meanwhile");
    assert!(
        idle_for >= Duration::from_millis(1800) && idle_for < Duration::from_secs(6),
        "idle connection closed after {idle_for:?}"
    );
    assert!(server.is_running());
}

#[test]
fn bad_network_arguments_end_the_boot_with_one_error_line() {
    require!(Prereq::Tap);
    let ns = Netns::new("echoargs");
    ns.add_tap("tap0", 1500, Some("10.77.0.1/24"));
    let cases = [
        (
            "--ipv4=10.0.0.300/24",
            "error: malformed boot argument --ipv4=10.0.0.300/24: not an IPv4 address\n",
        ),
        (
            "--ipv4=10.0.0.2",
            "error: malformed boot argument --ipv4=10.0.0.2: expected ADDRESS/PREFIX, like 10.0.0.2/24\n",
        ),
        (
            "--ipv4-gateway=x",
            "error: malformed boot argument --ipv4-gateway=x: invalid IPv4 address syntax\n",
        ),
        (
            "--port=http",
            "error: malformed boot argument --port=http: invalid digit found in string\n",
        ),
    ];
    for (arg, want) in cases {
        let out = run(
            ns.command(EXE).args(["--net:service=tap0", "--", arg]),
            Duration::from_secs(10),
        );
        assert_eq!(out.code, Some(1), "{arg}");
        assert_eq!(out.stderr, want, "{arg}");
        assert_eq!(out.stdout, "", "{arg}");
    }
}

/// Without `--ipv4` the unikernel takes its address from DHCPv4: dnsmasq serves a one-address
/// range on the tap's host side, inside the test's namespace.
#[test]
fn takes_its_address_from_dhcp() {
    // dnsmasq: Debian package dnsmasq-base.
    require!(Prereq::Tap, Prereq::Tool("dnsmasq"));
    let ns = Netns::new("echodhcp");
    ns.add_tap("tap0", 1500, Some("10.77.5.1/24"));
    let _dhcp = Process::start(ns.command("dnsmasq").args([
        "--no-daemon",
        "--port=0",
        "--interface=tap0",
        "--bind-interfaces",
        "--dhcp-range=10.77.5.50,10.77.5.50,255.255.255.0,1h",
        "--dhcp-leasefile=/dev/null",
        "--conf-file=/dev/null",
    ]));
    let mut server = Process::start(ns.command(EXE).arg("--net:service=tap0"));
    let line = server.wait_for_line("echo-server:", Duration::from_secs(30));
    assert_eq!(line, "echo-server: 10.77.5.50/24 listening on port 7");
    let addr: SocketAddr = "10.77.5.50:7".parse().unwrap();
    let got = ns.enter(move || exchange(addr, b"leased"));
    assert_eq!(got, b"leased");
}

#[test]
fn a_thousand_connections_over_a_tap_are_held_at_once_and_echoed() {
    require!(Prereq::Tap);
    let ns = Netns::new("echo1k");
    let mut server = start(&ns, &[]);
    let addr: SocketAddr = ADDR.parse().unwrap();
    let ok = ns.enter(move || {
        morgana_testkit::clients::hold_and_exchange(addr, 1000, morgana_testkit::clients::echo_line)
    });
    assert_eq!(ok, 1000, "connections echoed exactly, twice each");
    assert!(server.is_running());
}

#[test]
fn a_burst_of_64_connections_is_echoed_without_any_syn_sent_again() {
    require!(Prereq::Tap);
    let ns = Netns::new("echosyn");
    let mut server = start(&ns, &[]);
    let addr: SocketAddr = ADDR.parse().unwrap();
    // One exchange first: the first SYN-ACK may wait while the stack resolves our address.
    let warmed = ns.enter(move || {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        morgana_testkit::clients::echo_line(&mut s, 0)
    });
    assert!(matches!(warmed, Ok(true)), "{warmed:?}");
    let before = ns.stack_counter("TcpExtTCPSynRetrans");
    // 64 at once against 16 listening sockets: the SYNs beyond them are held until listeners
    // start, not dropped to come again a second later.
    let ok = ns.enter(move || {
        morgana_testkit::clients::burst(addr, 64, morgana_testkit::clients::echo_line)
    });
    let after = ns.stack_counter("TcpExtTCPSynRetrans");
    assert_eq!(ok, 64, "connections echoed exactly");
    assert_eq!(after - before, 0, "SYNs the clients had to send again");
    assert!(server.is_running());
}

/// Whether a socket of the namespace is in SYN-SENT (`/proc/net/tcp` state 02).
fn a_syn_is_sent(ns: &Netns) -> bool {
    let out = run(
        ns.command("cat").arg("/proc/net/tcp"),
        Duration::from_secs(10),
    );
    out.stdout
        .lines()
        .skip(1)
        .any(|l| l.split_whitespace().nth(3) == Some("02"))
}

/// At the limit (one served, one waiting) a third connection's SYN is held, neither reset nor
/// dropped: it is taken as soon as the first connection ends, without being sent again.
#[test]
fn a_connection_past_the_limit_is_held_until_one_ends_then_taken() {
    require!(Prereq::Tap);
    let ns = Netns::new("echohold");
    let mut server = start(&ns, &["--max-connections=1", "--backlog=1"]);
    let addr: SocketAddr = ADDR.parse().unwrap();
    let connect = move || TcpStream::connect_timeout(&addr, Duration::from_secs(30));
    let (mut served, mut waiting) = ns.enter(move || (connect(), connect()));
    let (served, waiting) = (served.as_mut().unwrap(), waiting.as_mut().unwrap());
    for s in [&*served, &*waiting] {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    }
    assert!(morgana_testkit::clients::echo_line(served, 1).unwrap());
    let before = ns.stack_counter("TcpExtTCPSynRetrans");
    let third = ns.spawn_thread(move || {
        let s = connect()?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok::<_, std::io::Error>(s)
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !a_syn_is_sent(&ns) {
        assert!(
            Instant::now() < deadline,
            "the third connection sent no SYN"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The first connection ends: the waiting one is served, the third takes its listener.
    served.shutdown(std::net::Shutdown::Both).unwrap();
    let mut third = third.join().unwrap().expect("the third connection");
    assert!(morgana_testkit::clients::echo_line(waiting, 2).unwrap());
    waiting.shutdown(std::net::Shutdown::Both).unwrap();
    assert!(morgana_testkit::clients::echo_line(&mut third, 3).unwrap());
    let after = ns.stack_counter("TcpExtTCPSynRetrans");
    assert_eq!(after - before, 0, "SYNs the third client had to send again");
    assert!(server.is_running());
}

/// The `InCsumErrors` counter of `ns`'s TCP statistics (`/proc/net/snmp`).
fn tcp_checksum_errors(ns: &Netns) -> u64 {
    let out = ns.command("cat").arg("/proc/net/snmp").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut tcp = text.lines().filter(|l| l.starts_with("Tcp:"));
    let (names, values) = (tcp.next().unwrap(), tcp.next().unwrap());
    let at = names
        .split_whitespace()
        .position(|n| n == "InCsumErrors")
        .expect("an InCsumErrors counter");
    values.split_whitespace().nth(at).unwrap().parse().unwrap()
}

/// TCP checksums are the tap device's (the stack computes and checks none): on a path routed
/// through a second namespace whose veth pair has checksum offload off at both ends, the
/// kernels fill in and check every checksum in software. The segments the unikernel leaves
/// to the host are completed when routed on and verified by the client's kernel; the client's
/// segments arrive with complete checksums, which the backend verifies. 64 MiB come back
/// exactly and the client's kernel counts no checksum error.
#[test]
fn a_routed_transfer_has_correct_tcp_checksums_both_ways() {
    require!(Prereq::Tap, Prereq::Tool("ethtool"));
    let ns = Netns::new("echocsum");
    let client = Netns::new("echocsumc");
    ns.link_veth(
        &client,
        ("veth0", "10.77.6.1/24"),
        ("veth1", "10.77.6.2/24"),
    );
    ns.exec_ok(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    let off = [
        "tx", "off", "sg", "off", "tso", "off", "gso", "off", "gro", "off",
    ];
    ns.exec_ok(&[&["ethtool", "-K", "veth0"][..], &off].concat());
    client.exec_ok(&[&["ethtool", "-K", "veth1", "rx", "off"][..], &off].concat());
    client.ip(&["route", "add", "10.77.0.0/24", "via", "10.77.6.1"]);
    let mut server = start(&ns, &["--ipv4-gateway=10.77.0.1"]);
    let addr: SocketAddr = ADDR.parse().unwrap();
    let (sent, got, len) = client.enter(move || common::bulk_exchange(addr, || {}));
    assert_eq!(len, common::BULK_BYTES);
    assert_eq!(got, sent, "the echo differs from what was sent");
    assert_eq!(tcp_checksum_errors(&client), 0);
    assert!(server.is_running());
}
