//! The gateway as a Linux process on a real tap in a namespace made by the test: both
//! services answer on their ports from the one image.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use morgana_testkit::{Netns, Prereq, Process, require, run};

const EXE: &str = env!("CARGO_BIN_EXE_gateway");

#[test]
fn serves_the_site_and_echo_from_one_image() {
    require!(Prereq::Tap, Prereq::Tool("curl"));
    let ns = Netns::new("gateway");
    ns.add_tap("tap0", 1500, Some("10.78.0.1/24"));
    let mut gw = Process::start(ns.command(EXE).args([
        "--net:service=tap0",
        "--",
        "--ipv4=10.78.0.2/24",
        "--http-port=8080",
        "--echo-port=7007",
    ]));
    let line = gw.wait_for_line("gateway:", Duration::from_secs(10));
    assert_eq!(line, "gateway: http on port 8080, echo on port 7007");

    let page = run(
        ns.command("curl").args([
            "-s",
            "-m",
            "10",
            "-w",
            "\n%{http_code} %{content_type}",
            "http://10.78.0.2:8080/",
        ]),
        Duration::from_secs(20),
    );
    let body = page.stdout;
    let expected = format!(
        "{}\n200 text/html; charset=utf-8",
        include_str!("../htdocs/index.html")
    );
    assert_eq!(body, expected);

    let addr: SocketAddr = "10.78.0.2:7007".parse().unwrap();
    let echoed = ns.enter(move || {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"through the gateway").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("read until FIN");
        got
    });
    assert_eq!(echoed, b"through the gateway");
    assert!(gw.is_running(), "the gateway keeps running");
}

#[test]
fn equal_ports_are_refused() {
    require!(Prereq::Tap);
    let ns = Netns::new("gwports");
    ns.add_tap("tap0", 1500, Some("10.78.1.1/24"));
    let out = run(
        ns.command(EXE).args([
            "--net:service=tap0",
            "--",
            "--ipv4=10.78.1.2/24",
            "--http-port=7",
            "--echo-port=7",
        ]),
        Duration::from_secs(10),
    );
    assert_eq!(
        out.stderr,
        "error: --http-port and --echo-port must differ\n"
    );
    assert_eq!(out.code, Some(1));
}
