//! How many connections http-server holds as an hvt guest, and what happens past its limit: on
//! a real tap in a namespace made by the test, within the `--mem` docs/benchmarks.md states.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use hvt_tests::boot_on_tap;
use morgana_testkit::clients::{self, PATIENCE};
use morgana_testkit::{Netns, Prereq, Process, require};

const INDEX: &[u8] = include_bytes!("../../../examples/http-server/htdocs/index.html");

/// Boots http-server with `--mem=MEM` on tap `mgtap0` (host side `NET.1/24`, guest `NET.2`)
/// with guest arguments `args`, and waits for its ready line.
fn boot(label: &str, net: &str, mem: u32, args: &[&str]) -> (Netns, Process) {
    let mem = format!("--mem={mem}");
    let ipv4 = format!("--ipv4={net}.2/24");
    let args: Vec<&str> = [ipv4.as_str()]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    let (ns, guest, _) = boot_on_tap(
        label,
        &format!("{net}.1/24"),
        &[&mem],
        "http-server",
        &args,
        "http-server:",
    );
    (ns, guest)
}

/// Connects to `addr` and asks for `/` once; the connection stays open for more.
fn connect_and_get(addr: SocketAddr) -> io::Result<(TcpStream, bool)> {
    let mut s = TcpStream::connect_timeout(&addr, PATIENCE)?;
    s.set_read_timeout(Some(PATIENCE))?;
    let ok = clients::http_get(&mut s, "/", INDEX)?;
    Ok((s, ok))
}

#[test]
fn connections_beyond_the_limit_wait_for_a_slot_instead_of_being_reset() {
    require!(Prereq::Kvm, Prereq::Tap);
    let (ns, mut guest) = boot(
        "hvtlimit",
        "10.79.5",
        4,
        &["--max-connections=2", "--backlog=1"],
    );
    let addr: SocketAddr = "10.79.5.2:80".parse().unwrap();
    // Two connections served, kept open.
    let (first, second) = ns.enter(move || {
        let first = connect_and_get(addr).expect("first connection");
        let second = connect_and_get(addr).expect("second connection");
        (first, second)
    });
    assert!(first.1 && second.1, "the first two got index.html");
    // A third is accepted into the backlog and asks; a fourth finds no socket listening.
    let mut third = ns
        .enter(move || TcpStream::connect_timeout(&addr, PATIENCE))
        .expect("third connection (backlog)");
    third.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(third, "GET / HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let line = guest.wait_for_line("further ones wait", Duration::from_secs(60));
    assert!(
        line.ends_with(
            "port 80: 2 connections served and 1 waiting: further ones wait until one ends"
        ),
        "{line}"
    );
    let fourth = ns.spawn_thread(move || connect_and_get(addr));
    // Closing the first frees a slot for the third, which then gets its answer.
    drop(first.0);
    let mut head = [0u8; 17];
    io::Read::read_exact(&mut third, &mut head).expect("the third connection is answered");
    assert_eq!(&head, b"HTTP/1.1 200 OK\r\n");
    // Closing the second lets the fourth in: its SYN was held until a task listened again.
    drop(second.0);
    let (_fourth, ok) = fourth
        .join()
        .unwrap()
        .expect("the fourth connection waits and is served, not reset");
    assert!(ok, "the fourth got index.html");
    assert!(guest.is_running());
}

/// A hundred, not a thousand: on a KVM-PVM host KVM emulates the guest's walk over its open
/// sockets instruction by instruction, so each event costs time in proportion to the
/// connections open (docs/benchmarks.md, Concurrent connections).
#[test]
fn a_hundred_keep_alive_connections_are_held_at_once_in_8_mib() {
    require!(Prereq::Kvm, Prereq::Tap);
    let (ns, mut guest) = boot(
        "hvt100",
        "10.79.6",
        8,
        &["--max-connections=100", "--idle-timeout=900"],
    );
    let addr: SocketAddr = "10.79.6.2:80".parse().unwrap();
    let ok = ns.enter(move || {
        clients::hold_and_exchange(addr, 100, |s, _| clients::http_get(s, "/", INDEX))
    });
    assert_eq!(
        ok, 100,
        "connections answered 200 with index.html, twice each"
    );
    assert!(guest.is_running());
}
