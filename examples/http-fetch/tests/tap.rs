//! http-fetch as a Linux process on a real tap device inside a network namespace made by the
//! test, against a small HTTP responder and a one-record DNS responder that the test runs on
//! the host side of the tap.

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use morgana_certs::{Ca, DEV_CA_NAME, Validity};
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
        fetch(&ns, "ftp://10.77.0.1/", &[]),
        (
            Some(1),
            String::new(),
            "error: malformed boot argument --url=ftp://10.77.0.1/: expected http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH\n".to_string()
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

/// Starts `openssl s_server` on 10.77.0.1:`port` with `cert` (and its key), serving files
/// from `dir` (`-WWW`).
fn s_server(
    ns: &Netns,
    dir: &std::path::Path,
    port: u16,
    name: &str,
    cert: &morgana_certs::ServerCert,
) -> Process {
    let (cert_path, key_path) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::write(&cert_path, &cert.cert_pem).unwrap();
    std::fs::write(&key_path, &cert.key_pem).unwrap();
    let server = Process::start(
        ns.command("openssl")
            .current_dir(dir)
            .args(["s_server", "-quiet", "-WWW", "-accept", &port.to_string()])
            .arg("-cert")
            .arg(&cert_path)
            .arg("-key")
            .arg(&key_path),
    );
    ns.wait_for_tcp(
        format!("10.77.0.1:{port}").parse().unwrap(),
        Duration::from_secs(10),
    );
    server
}

#[test]
fn fetches_over_https_and_refuses_expired_misnamed_and_untrusted_certificates() {
    require!(Prereq::Tap, Prereq::Tool("openssl"));
    let ns = Netns::new("fetchtls");
    ns.add_tap("tap0", 1500, Some("10.77.0.1/24"));
    start_responders(&ns);
    let certs = concat!(env!("CARGO_MANIFEST_DIR"), "/../https-server/certs");
    let read = |f: &str| std::fs::read_to_string(format!("{certs}/{f}")).unwrap();
    let dev_ca = Ca::load(DEV_CA_NAME, &read("ca.pem"), &read("ca-key.pem")).unwrap();
    let stranger = Ca::new("a CA nobody trusts").unwrap();
    let dir = std::env::temp_dir().join(format!("http-fetch-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = b"hello over TLS\n";
    std::fs::write(dir.join("hello.txt"), body).unwrap();
    let names = ["site.test", "10.77.0.1"];
    let _servers = [
        s_server(
            &ns,
            &dir,
            8443,
            "good",
            &dev_ca.server(&names, Validity::Current).unwrap(),
        ),
        s_server(
            &ns,
            &dir,
            8444,
            "expired",
            &dev_ca.server(&names, Validity::Expired).unwrap(),
        ),
        s_server(
            &ns,
            &dir,
            8445,
            "other",
            &dev_ca.server(&["other.test"], Validity::Current).unwrap(),
        ),
        s_server(
            &ns,
            &dir,
            8446,
            "stranger",
            &stranger.server(&names, Validity::Current).unwrap(),
        ),
    ];
    let dns = ["--dns=10.77.0.1", "--ca=dev-ca.pem"];
    let ok = (
        Some(0),
        format!(
            "HTTP/1.0 200 ok\nbody: {} bytes, crc32 {:08x}\n",
            body.len(),
            crc32fast::hash(body)
        ),
        String::new(),
    );
    // By name (sent as SNI) and by address.
    assert_eq!(fetch(&ns, "https://site.test:8443/hello.txt", &dns), ok);
    assert_eq!(fetch(&ns, "https://10.77.0.1:8443/hello.txt", &dns), ok);
    let refused = |port: u16, ca: &[&str], why: &str| {
        assert_eq!(
            fetch(&ns, &format!("https://site.test:{port}/hello.txt"), ca),
            (
                Some(1),
                String::new(),
                format!("error: TLS with site.test: {why}\n")
            ),
            "port {port}"
        );
    };
    refused(8444, &dns, "the server's certificate has expired");
    refused(
        8445,
        &dns,
        "the server's certificate is not valid for site.test",
    );
    refused(
        8446,
        &dns,
        "the server's certificate is not signed by a trusted CA",
    );
    // The bundled roots do not know the development CA.
    refused(
        8443,
        &["--dns=10.77.0.1"],
        "the server's certificate is not signed by a trusted CA",
    );
    assert_eq!(
        fetch(
            &ns,
            "https://site.test:8443/",
            &["--dns=10.77.0.1", "--ca=nope.pem"]
        ),
        (
            Some(1),
            String::new(),
            "error: CA store: no entry 'nope.pem' (entries: dev-ca.pem)\n".to_string()
        )
    );
    // A plain HTTP server (which waits for a request head that never comes): the timeout.
    assert_eq!(
        fetch(&ns, "https://10.77.0.1:8080/data", &dns),
        (Some(1), String::new(), "error: timed out\n".to_string())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
