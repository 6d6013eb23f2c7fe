//! http-fetch on the host's own TCP/IP (`--net:service=socket`): the same client code as over
//! a tap, against a responder the test runs on 127.0.0.1, names resolved by the host.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

use morgana_testkit::Process;

mod common;
use common::response;

const EXE: &str = env!("CARGO_BIN_EXE_http-fetch");

/// Serves the fixed responses on a loopback port; returns the port.
fn start_responder() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    let port = listener.local_addr().expect("its address").port();
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
    port
}

fn fetch(url: &str) -> (Option<i32>, String, String) {
    let url = format!("--url={url}");
    let out = Process::start(std::process::Command::new(EXE).args([
        "--net:service=socket",
        "--",
        &url,
        "--timeout=5",
    ]))
    .finish(Duration::from_secs(30));
    (out.code, out.stdout, out.stderr)
}

#[test]
fn fetches_by_address_and_by_name_and_fails_on_404_and_refusal() {
    let port = start_responder();
    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let crc = crc32fast::hash(&data);
    assert_eq!(
        fetch(&format!("http://127.0.0.1:{port}/data")),
        (
            Some(0),
            format!("HTTP/1.1 200 OK\nbody: 70000 bytes, crc32 {crc:08x}\n"),
            String::new()
        )
    );
    let crc = crc32fast::hash(b"hello, world");
    assert_eq!(
        fetch(&format!("http://localhost:{port}/chunked")),
        (
            Some(0),
            format!("HTTP/1.1 200 OK\nbody: 12 bytes, crc32 {crc:08x}\n"),
            String::new()
        )
    );
    let crc = crc32fast::hash(b"not found");
    assert_eq!(
        fetch(&format!("http://127.0.0.1:{port}/nothing")),
        (
            Some(1),
            format!("HTTP/1.1 404 Not Found\nbody: 9 bytes, crc32 {crc:08x}\n"),
            "error: the server answered 404\n".to_string()
        )
    );
    // A port nobody listens on: bound, then let go.
    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a loopback port")
        .port();
    assert_eq!(
        fetch(&format!("http://127.0.0.1:{closed}/")),
        (
            Some(1),
            String::new(),
            "error: cannot connect\n".to_string()
        )
    );
}
