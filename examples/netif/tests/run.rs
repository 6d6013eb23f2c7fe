//! `netif` as a process: a real tap device in a network namespace made by the test, and the
//! refusals for taps that are not there.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Netns, Prereq, Process, require, run};

const EXE: &str = env!("CARGO_BIN_EXE_netif");

#[test]
fn missing_tap_is_refused() {
    let out = run(
        Command::new(EXE).arg("--net:service=mgnotap0"),
        Duration::from_secs(10),
    );
    assert_eq!(
        out.stderr,
        "error: cannot attach net device 'service' to tap 'mgnotap0': no such network interface\n"
    );
    assert_eq!(out.code, Some(1));
    let out = run(&mut Command::new(EXE), Duration::from_secs(10));
    assert_eq!(
        out.stderr,
        "error: device 'service' is declared but not bound: pass --net:service=TAP, or --net:service=socket for the host's own TCP/IP\n"
    );
    assert_eq!(out.code, Some(1));
    let out = run(
        Command::new(EXE).arg("--net-mac:service=02:00"),
        Duration::from_secs(10),
    );
    assert_eq!(
        out.stderr,
        "error: --net-mac:service=02:00: expected a MAC address like 02:00:00:00:00:01\n"
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn receives_frames_from_a_real_tap_with_its_mtu_and_mac() {
    require!(Prereq::Tap, Prereq::Tool("python3"));
    let ns = Netns::new("netif");
    ns.add_tap("mgtap0", 9000, None);
    let mut netif = Process::start(ns.command(EXE).args([
        "--net:service=mgtap0",
        "--net-mac:service=02:00:00:00:00:02",
        "--",
        "--frames=2",
    ]));
    let (_, first) = netif
        .next_line(Duration::from_secs(10))
        .expect("netif starts");
    assert_eq!(first, "service: mac 02:00:00:00:00:02 mtu 9000");
    // Two frames from the host side of the tap: a small one and one of the full MTU.
    let script = "import socket,sys\n\
s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n\
s.bind(('mgtap0',0))\n\
hdr=bytes.fromhex('020000000002'+'0200000000aa'+'88b5')\n\
s.send(hdr+b'morgana'+bytes(60-14-7))\n\
s.send(hdr+bytes(9000))\n";
    let out = run(
        ns.command("python3").args(["-c", script]),
        Duration::from_secs(10),
    );
    assert_eq!(out.code, Some(0), "sending frames failed: {}", out.stderr);
    let (_, l1) = netif
        .next_line(Duration::from_secs(10))
        .expect("first frame");
    let (_, l2) = netif
        .next_line(Duration::from_secs(10))
        .expect("second frame");
    assert_eq!(l1, "frame 1: 60 bytes from 02:00:00:00:00:aa type 0x88b5");
    assert_eq!(l2, "frame 2: 9014 bytes from 02:00:00:00:00:aa type 0x88b5");
    assert_eq!(
        netif.wait(Duration::from_secs(10)).and_then(|s| s.code()),
        Some(0)
    );
}
