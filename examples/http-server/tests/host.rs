//! http-server as a Linux process on the host's own TCP/IP (`--net:service=socket`): no tap,
//! no namespace, no root. curl on 127.0.0.1 gets the same answers as over a tap, with the
//! server running as an ordinary user.

use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

use morgana_testkit::{Prereq, Process, Unprivileged, require, run};

mod common;

const EXE: &str = env!("CARGO_BIN_EXE_http-server");

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    listener.local_addr().expect("its address").port()
}

/// Runs curl on the host; returns (exit status, stdout).
fn curl(args: &[&str]) -> (i32, Vec<u8>) {
    let mut full = vec!["-s", "-m", "10"];
    full.extend_from_slice(args);
    let out = run(
        std::process::Command::new("curl").args(&full),
        Duration::from_secs(20),
    );
    (out.code.unwrap_or(-1), out.stdout_bytes)
}

/// The real user id of process `pid`, from `/proc`.
fn uid_of(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc");
    let line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .expect("a Uid line");
    line.split_whitespace().nth(1).unwrap_or("").to_string()
}

#[test]
fn curl_on_loopback_gets_the_same_answers_as_over_a_tap_from_an_ordinary_user() {
    require!(Prereq::Tool("curl"));
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
        "--idle-timeout=5".to_string(),
    ]));
    let line = server.wait_for_line("http-server:", Duration::from_secs(10));
    assert_eq!(line, format!("http-server: 3 files, port {port}"));
    if root {
        assert_eq!(uid_of(server.pid()), "65534", "runs as nobody");
    }
    common::check_site(&curl, &format!("http://127.0.0.1:{port}"));
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
        (out.code, out.stdout.as_str(), out.stderr),
        (
            Some(1),
            "",
            format!(
                "error: cannot listen on TCP port {port}: Address already in use (os error 98)\n"
            )
        )
    );
}

#[test]
fn a_thousand_keep_alive_connections_on_loopback_are_held_at_once_and_answered() {
    let port = free_port();
    let mut server = Process::start(std::process::Command::new(EXE).args([
        "--net:service=socket".to_string(),
        "--".to_string(),
        format!("--port={port}"),
    ]));
    server.wait_for_line("http-server:", Duration::from_secs(10));
    let index = common::htdocs("index.html");
    let addr = std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let ok = morgana_testkit::clients::hold_and_exchange(addr, 1000, |s, _| {
        morgana_testkit::clients::http_get(s, "/", &index)
    });
    assert_eq!(
        ok, 1000,
        "connections answered 200 with index.html, twice each"
    );
    assert!(server.is_running());
}
