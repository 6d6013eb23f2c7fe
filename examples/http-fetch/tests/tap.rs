//! http-fetch as a Linux process on a real tap device inside a network namespace made by the
//! test, against a small HTTP responder and a one-record DNS responder that the test runs on
//! the host side of the tap.

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use morgana_testkit::{Netns, Prereq, Process, require};

mod common;
use common::response;

const EXE: &str = env!("CARGO_BIN_EXE_http-fetch");

/// Serves HTTP on 10.77.0.1:8080 and answers DNS `A` queries for any name with 10.77.0.1.
fn start_responders(ns: &Netns) {
    let (listener, dns) = ns.enter(|| {
        (
            TcpListener::bind("10.77.0.1:8080").expect("bind 8080"),
            UdpSocket::bind("10.77.0.1:53").expect("bind 53"),
        )
    });
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&req);
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            let _ = s.write_all(&response(&path));
        }
    });
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = dns.recv_from(&mut buf) {
            if n < 12 {
                continue;
            }
            // Header: same id, response + recursion available, one question, one answer.
            let mut reply = buf[..n].to_vec();
            reply[2..4].copy_from_slice(&[0x81, 0x80]);
            reply[6..8].copy_from_slice(&[0, 1]);
            reply[8..12].copy_from_slice(&[0, 0, 0, 0]);
            // Answer: pointer to the question's name, A, IN, TTL 60, 4 bytes.
            reply.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 77, 0, 1]);
            let _ = dns.send_to(&reply, from);
        }
    });
}

fn fetch(ns: &Netns, url: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let url = format!("--url={url}");
    let mut args = vec![
        "--net:service=tap0",
        "--",
        &url,
        "--ipv4=10.77.0.2/24",
        "--timeout=5",
    ];
    args.extend_from_slice(extra);
    let out = Process::start(ns.command(EXE).args(&args)).finish(Duration::from_secs(30));
    let stdout = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with('['))
        .map(|l| format!("{l}\n"))
        .collect();
    (out.code, stdout, out.stderr)
}

#[test]
fn fetches_by_address_and_by_name_and_fails_on_404() {
    require!(Prereq::Tap);
    let ns = Netns::new("fetch");
    ns.add_tap("tap0", 1500, Some("10.77.0.1/24"));
    start_responders(&ns);

    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let crc = crc32fast::hash(&data);
    assert_eq!(
        fetch(&ns, "http://10.77.0.1:8080/data", &[]),
        (
            Some(0),
            format!("HTTP/1.1 200 OK\nbody: 70000 bytes, crc32 {crc:08x}\n"),
            String::new()
        )
    );
    let crc = crc32fast::hash(b"hello, world");
    assert_eq!(
        fetch(&ns, "http://site.test:8080/chunked", &["--dns=10.77.0.1"]),
        (
            Some(0),
            format!("HTTP/1.1 200 OK\nbody: 12 bytes, crc32 {crc:08x}\n"),
            String::new()
        )
    );
    let crc = crc32fast::hash(b"not found");
    assert_eq!(
        fetch(&ns, "http://10.77.0.1:8080/nothing", &[]),
        (
            Some(1),
            format!("HTTP/1.1 404 Not Found\nbody: 9 bytes, crc32 {crc:08x}\n"),
            "error: the server answered 404\n".to_string()
        )
    );
    assert_eq!(
        fetch(&ns, "http://site.test:8080/data", &[]),
        (
            Some(1),
            String::new(),
            "error: cannot resolve the host: no DNS server is configured (use --dns=ADDR)\n"
                .to_string()
        )
    );
    assert_eq!(
        fetch(&ns, "https://10.77.0.1/", &[]),
        (
            Some(1),
            String::new(),
            "error: malformed boot argument --url=https://10.77.0.1/: expected http://HOST[:PORT]/PATH (only http is supported)\n".to_string()
        )
    );
    assert_eq!(
        fetch(&ns, "http://10.77.0.1:9/", &[]),
        (
            Some(1),
            String::new(),
            "error: cannot connect\n".to_string()
        )
    );
}
