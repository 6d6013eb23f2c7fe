//! echo-server as a Linux process on the host's own TCP/IP (`--net:service=socket`): no tap,
//! no namespace, no root. Clients on 127.0.0.1 get the same answers as over a tap, with the
//! server running as an ordinary user.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use morgana_testkit::{Prereq, Process, Unprivileged, require, run};

mod common;

const EXE: &str = env!("CARGO_BIN_EXE_echo-server");

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    listener.local_addr().expect("its address").port()
}

/// Starts echo-server on the host's TCP/IP on a free loopback port, as this user, and waits
/// for its start line.
fn start_on_loopback() -> (Process, SocketAddr) {
    let port = free_port();
    let mut server = Process::start(std::process::Command::new(EXE).args([
        "--net:service=socket".to_string(),
        "--".to_string(),
        format!("--port={port}"),
    ]));
    server.wait_for_line("echo-server:", Duration::from_secs(10));
    (server, SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

#[test]
fn fifty_clients_on_loopback_are_echoed_by_an_ordinary_user() {
    let root = Prereq::Root.missing().is_none();
    if root {
        require!(Prereq::Tool("setpriv"));
    }
    let program = Unprivileged::new(EXE);
    let port = free_port();
    let mut server = Process::start(program.command().args([
        "--net:service=socket".to_string(),
        "--".to_string(),
        format!("--port={port}"),
        "--idle-timeout=2".to_string(),
    ]));
    let line = server.wait_for_line("echo-server:", Duration::from_secs(10));
    assert_eq!(
        line,
        format!("echo-server: 127.0.0.1/8 listening on port {port}")
    );
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(common::fifty_concurrent_exchanges(addr), 50);

    // An idle client gets the server's FIN while another is served.
    let mut idle = TcpStream::connect(addr).expect("connect");
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(
        common::exchange(addr, b"served meanwhile"),
        b"served meanwhile"
    );
    let mut buf = [0u8; 8];
    assert_eq!(idle.read(&mut buf).expect("a FIN, not a timeout"), 0);
    assert!(server.is_running());
}

/// 64 MiB on one connection through the host's TCP/IP come back exactly, with the host's
/// window scaling.
#[test]
fn a_large_transfer_is_echoed_exactly() {
    require!(Prereq::Tool("ss"));
    let (mut server, addr) = start_on_loopback();
    let mut scales = Vec::new();
    let (sent, got, len) = common::bulk_exchange(addr, || {
        scales = common::window_scales(&mut std::process::Command::new("ss"), &addr.to_string());
    });
    // The client's socket, the one whose destination is the server's port.
    assert_eq!(scales.len(), 1, "{scales:?}");
    assert!(
        scales.iter().all(|&(snd, rcv)| snd > 0 && rcv > 0),
        "{scales:?}"
    );
    assert_eq!(len, common::BULK_BYTES);
    assert_eq!(got, sent, "the echo differs from what was sent");
    assert!(server.is_running());
}

#[test]
fn a_port_already_in_use_is_one_error_line() {
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    let port = taken.local_addr().expect("its address").port();
    let out = run(
        std::process::Command::new(EXE).args([
            "--net:service=socket".to_string(),
            "--".to_string(),
            format!("--port={port}"),
        ]),
        Duration::from_secs(10),
    );
    assert_eq!(
        (out.code, out.stderr),
        (
            Some(1),
            format!(
                "error: cannot listen on TCP port {port}: Address already in use (os error 98)\n"
            )
        )
    );
}

#[test]
fn a_thousand_connections_on_loopback_are_held_at_once_and_echoed() {
    let (mut server, addr) = start_on_loopback();
    let ok = morgana_testkit::clients::hold_and_exchange(
        addr,
        1000,
        morgana_testkit::clients::echo_line,
    );
    assert_eq!(ok, 1000, "connections echoed exactly, twice each");
    assert!(server.is_running());
}
