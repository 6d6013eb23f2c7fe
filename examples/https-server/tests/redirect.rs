//! `--redirect-port`: https-server on the host's own TCP/IP also answers plain HTTP on a second
//! port with `301` to the same URL over HTTPS (curl: exact status line, headers and, following
//! the redirect, the exact page over TLS); a request without a usable `Host` gets `400`; the
//! port HTTPS is on, or not a port, is refused at boot with one `error:` line and status 1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Prereq, Process, require, run};

const EXE: &str = env!("CARGO_BIN_EXE_https-server");
const CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs/ca.pem");
/// Loopback ports no other test of the workspace uses: HTTPS and the plain redirect.
const HTTPS_PORT: u16 = 24_944;
const PLAIN_PORT: u16 = 24_980;

fn htdocs(path: &str) -> Vec<u8> {
    let file = format!(
        "{}/../http-server/htdocs/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// curl with `args`; returns (exit status, stdout).
fn curl(args: &[&str]) -> (Option<i32>, String) {
    let out = run(
        Command::new("curl").args(["-s", "-m", "20"]).args(args),
        Duration::from_secs(30),
    );
    (out.code, out.stdout)
}

/// The response head curl prints with `-D -` for a redirect to `location`.
fn moved(location: &str) -> String {
    format!(
        "HTTP/1.1 301 Moved Permanently\r\nServer: morgana\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\n\
         Location: {location}\r\nConnection: close\r\n\r\n"
    )
}

/// Everything the server sends back for `request`, sent raw on one connection.
fn raw(request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", PLAIN_PORT)).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn plain_http_is_redirected_to_the_same_url_over_https() {
    require!(Prereq::Tool("curl"));
    let mut server = Process::start(Command::new(EXE).args([
        "--net:service=socket".to_string(),
        "--".into(),
        format!("--port={HTTPS_PORT}"),
        format!("--redirect-port={PLAIN_PORT}"),
    ]));
    let line = server.wait_for_line("https-server:", Duration::from_secs(30));
    assert_eq!(
        line,
        format!("https-server: 3 files, port {HTTPS_PORT}, redirect from port {PLAIN_PORT}")
    );
    let plain = |path: &str| format!("http://localhost:{PLAIN_PORT}{path}");

    // The host from Host, its port replaced by the HTTPS one; path and query kept.
    let (code, head) = curl(&["-D", "-", "-o", "/dev/null", &plain("/css/site.css?v=2")]);
    let to = format!("https://localhost:{HTTPS_PORT}/css/site.css?v=2");
    assert_eq!((code, head), (Some(0), moved(&to)));
    for (host, location) in [
        ("127.0.0.1", format!("https://127.0.0.1:{HTTPS_PORT}/")),
        ("[::1]:80", format!("https://[::1]:{HTTPS_PORT}/")),
        (
            "www.example.test:8080",
            format!("https://www.example.test:{HTTPS_PORT}/"),
        ),
    ] {
        let host_header = format!("Host: {host}");
        let (code, head) = curl(&[
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-H",
            &host_header,
            &plain("/"),
        ]);
        assert_eq!((code, head), (Some(0), moved(&location)), "{host}");
    }
    // HEAD: the head only.
    let (code, out) = curl(&["-I", &plain("/")]);
    let to = format!("https://localhost:{HTTPS_PORT}/");
    assert_eq!((code, out), (Some(0), moved(&to)));
    // GET: the head and a one-line body.
    let answer = raw(b"GET /a?b HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let to = format!("https://localhost:{HTTPS_PORT}/a?b");
    assert_eq!(answer, format!("{}301 Moved Permanently\n", moved(&to)));

    // Followed, the redirect gets the page itself over TLS.
    let out = run(
        Command::new("curl")
            .args(["-s", "-m", "20", "-L", "--cacert", CA])
            .args([
                "-w",
                "\n%{http_code} %{num_redirects} %{url_effective}",
                &plain("/css/site.css"),
            ]),
        Duration::from_secs(30),
    );
    let mut expected = htdocs("css/site.css");
    expected.extend_from_slice(
        format!("\n200 1 https://localhost:{HTTPS_PORT}/css/site.css").as_bytes(),
    );
    assert_eq!((out.code, out.stdout_bytes), (Some(0), expected));

    // No Host (HTTP/1.1 and 1.0), a bad one, two, or a target not in origin form: 400.
    let bad = "HTTP/1.1 400 Bad Request\r\n";
    for args in [
        &["-H", "Host:"][..],
        &["-0", "-H", "Host:"],
        &["-H", "Host: evil.test/x"],
        &["-H", "Host: user@evil.test"],
        &["-H", "Host: [::1"],
    ] {
        let (code, head) =
            curl(&[&["-D", "-", "-o", "/dev/null"][..], args, &[&plain("/")]].concat());
        assert_eq!(code, Some(0), "{args:?}");
        assert!(head.starts_with(bad), "{args:?}: {head}");
    }
    for request in [
        &b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"[..],
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ] {
        let answer = raw(request);
        assert!(answer.starts_with(bad), "{request:?}: {answer}");
    }
    // Headers over the limit: 431.
    let long = [
        &b"GET / HTTP/1.1\r\nHost: a\r\nX: "[..],
        &[b'a'; 9000],
        b"\r\n\r\n",
    ]
    .concat();
    assert!(raw(&long).starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));

    // HTTPS is served as before.
    let https = format!("https://localhost:{HTTPS_PORT}/");
    let out = run(
        Command::new("curl").args(["-s", "-m", "20", "--cacert", CA, &https]),
        Duration::from_secs(30),
    );
    assert_eq!(
        (out.code, out.stdout_bytes),
        (Some(0), htdocs("index.html"))
    );
    assert!(server.is_running());
}

#[test]
fn a_redirect_port_that_cannot_be_used_is_refused_at_boot() {
    for (arg, message) in [
        (
            format!("--redirect-port={HTTPS_PORT}"),
            format!(
                "error: --redirect-port={HTTPS_PORT} is the port HTTPS is served on; choose \
                 another (e.g. 80)\n"
            ),
        ),
        (
            "--redirect-port=http".to_string(),
            "error: malformed boot argument --redirect-port=http: invalid digit found in \
             string\n"
                .to_string(),
        ),
    ] {
        let out = run(
            Command::new(EXE).args([
                "--net:service=socket".to_string(),
                "--".into(),
                format!("--port={HTTPS_PORT}"),
                arg,
            ]),
            Duration::from_secs(30),
        );
        assert_eq!(
            (out.code, out.stderr.as_str(), out.stdout.as_str()),
            (Some(1), message.as_str(), "")
        );
    }
}
