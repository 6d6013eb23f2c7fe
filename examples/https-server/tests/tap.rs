//! https-server as a Linux process on a real tap in a namespace made by the test, against
//! `curl --cacert` and `openssl s_client` run inside the namespace: TLS 1.3 and 1.2, exact
//! bodies, keep-alive; then recorded ClientHellos, cut short and corrupted, and plain garbage
//! must not stop it from serving the next client.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use morgana_testkit::{Netns, Prereq, Process, require, run};

const EXE: &str = env!("CARGO_BIN_EXE_https-server");
const ADDR: &str = "10.78.0.2";

fn manifest(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn htdocs(path: &str) -> Vec<u8> {
    let file = manifest(&format!("../http-server/htdocs/{path}"));
    std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn start(ns: &Netns) -> Process {
    ns.add_tap("tap0", 1500, Some("10.78.0.1/24"));
    let mut p = Process::start(ns.command(EXE).args([
        "--net:service=tap0",
        "--net-mac:service=02:00:00:78:00:02",
        "--",
        "--ipv4=10.78.0.2/24",
        "--idle-timeout=5",
    ]));
    let line = p.wait_for_line("https-server:", Duration::from_secs(10));
    assert_eq!(line, "https-server: 3 files, port 443");
    p
}

/// curl inside the namespace, trusting the development CA, with `localhost` resolving to the
/// server (the development certificate is for localhost); returns (exit status, stdout).
fn curl(ns: &Netns, args: &[&str]) -> (i32, Vec<u8>) {
    let ca = manifest("certs/ca.pem");
    let resolve = format!("localhost:443:{ADDR}");
    let mut full = vec!["-s", "-m", "20", "--cacert", &ca, "--resolve", &resolve];
    full.extend_from_slice(args);
    let out = run(ns.command("curl").args(&full), Duration::from_secs(30));
    (out.code.unwrap_or(-1), out.stdout_bytes)
}

/// `openssl s_client -brief` with `version` (`-tls1_3`, `-tls1_2`) sending one request;
/// returns (exit status, the summary on stderr, the response on stdout).
fn s_client(ns: &Netns, version: &str) -> (i32, String, String) {
    let ca = manifest("certs/ca.pem");
    let connect = format!("{ADDR}:443");
    let script = format!(
        "printf 'GET /css/site.css HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' | \
         openssl s_client -brief {version} -connect {connect} -servername localhost \
         -verify_hostname localhost -CAfile {ca} -verify_return_error -ign_eof"
    );
    let out = run(
        ns.command("sh").args(["-c", &script]),
        Duration::from_secs(30),
    );
    (out.code.unwrap_or(-1), out.stderr, out.stdout)
}

#[test]
fn curl_and_openssl_get_exact_files_over_tls_1_3_and_1_2_with_keep_alive() {
    require!(Prereq::Tap, Prereq::Tool("curl"), Prereq::Tool("openssl"));
    let ns = Netns::new("httpsd");
    let mut server = start(&ns);

    for (path, file) in [
        ("/", "index.html"),
        ("/css/site.css", "css/site.css"),
        ("/img/logo.png", "img/logo.png"),
    ] {
        let (code, body) = curl(&ns, &[&format!("https://localhost{path}")]);
        assert_eq!((code, body), (0, htdocs(file)), "{path}");
    }

    // Three URLs on one command line: one TLS connection, reused (keep-alive).
    let fmt = "%{http_code} %{num_connects} %{size_download}\\n";
    let (code, out) = curl(
        &ns,
        &[
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            "-w",
            fmt,
            "https://localhost/",
            "https://localhost/css/site.css",
            "https://localhost/missing.html",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8_lossy(&out),
        format!(
            "200 1 {}\n200 0 {}\n404 0 14\n",
            htdocs("index.html").len(),
            htdocs("css/site.css").len()
        )
    );

    // TLS 1.2 only, from curl.
    let (code, body) = curl(
        &ns,
        &["--tlsv1.2", "--tls-max", "1.2", "https://localhost/"],
    );
    assert_eq!((code, body), (0, htdocs("index.html")));

    // A client that does not trust the development CA is refused by its own checks.
    let out = run(
        ns.command("curl").args([
            "-s",
            "-m",
            "20",
            "--resolve",
            &format!("localhost:443:{ADDR}"),
            "https://localhost/",
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(
        out.code,
        Some(60),
        "curl: peer certificate cannot be authenticated"
    );

    for (flag, version) in [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")] {
        let (code, summary, response) = s_client(&ns, flag);
        assert_eq!(code, 0, "{summary}");
        assert!(
            summary.contains(&format!("Protocol version: {version}\n")),
            "{summary}"
        );
        assert!(summary.contains("Verification: OK\n"), "{summary}");
        let css = String::from_utf8(htdocs("css/site.css")).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200 OK\r\n") && response.ends_with(&css),
            "{response}"
        );
    }
    // TLS 1.1: refused with an alert (rustls sends handshake_failure), and the server serves
    // on.
    let script = format!(
        "openssl s_client -brief -tls1_1 -cipher DEFAULT@SECLEVEL=0 -connect {ADDR}:443 \
         -servername localhost </dev/null"
    );
    let out = run(
        ns.command("sh").args(["-c", &script]),
        Duration::from_secs(30),
    );
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("alert handshake failure"),
        "{}",
        out.stderr
    );
    let (code, body) = curl(&ns, &["https://localhost/"]);
    assert_eq!((code, body), (0, htdocs("index.html")));
    assert!(server.is_running());
}

/// The first flight of a real client: what `openssl s_client` sends to a listener on loopback.
fn recorded_client_hello() -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "localhost"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (mut sock, _) = listener.accept().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut hello = vec![0u8; 5];
    sock.read_exact(&mut hello).unwrap();
    let len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
    hello.resize(5 + len, 0);
    sock.read_exact(&mut hello[5..]).unwrap();
    drop(sock);
    let _ = client.kill();
    let _ = client.wait();
    assert_eq!(hello[0], 0x16, "a handshake record");
    hello
}

#[test]
fn garbage_truncated_and_corrupted_client_hellos_do_not_stop_the_server() {
    require!(Prereq::Tap, Prereq::Tool("curl"), Prereq::Tool("openssl"));
    let hello = recorded_client_hello();
    let ns = Netns::new("httpsbad");
    let mut server = start(&ns);
    let (code, _) = curl(&ns, &["https://localhost/"]);
    assert_eq!(code, 0, "served before the garbage");

    let mut inputs: Vec<Vec<u8>> = vec![
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
        vec![0u8; 64],
        vec![0xff; 20_000],
    ];
    // Cut short at every interesting place: in the record header, in the handshake header,
    // in the body, one byte short.
    for cut in [1, 3, 5, 6, 9, 40, hello.len() / 2, hello.len() - 1] {
        inputs.push(hello[..cut].to_vec());
    }
    // Corrupted: bytes flipped through the record (deterministic positions).
    for i in (0..hello.len()).step_by(hello.len() / 12 + 1) {
        let mut bad = hello.clone();
        bad[i] ^= 0x5a;
        inputs.push(bad);
    }
    // Lengths that lie: record length over the maximum, handshake length over the record.
    let mut bad = hello.clone();
    bad[3..5].copy_from_slice(&0xffffu16.to_be_bytes());
    inputs.push(bad);
    let mut bad = hello.clone();
    bad[6..9].copy_from_slice(&[0x00, 0xff, 0xff]);
    inputs.push(bad);
    let count = inputs.len();
    let answered = ns.enter(move || {
        inputs
            .into_iter()
            .map(|input| {
                let mut s = TcpStream::connect((ADDR, 443)).expect("connects");
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let _ = s.write_all(&input);
                let _ = s.shutdown(std::net::Shutdown::Write);
                let mut rest = Vec::new();
                // The server answers with an alert or nothing, then closes.
                s.read_to_end(&mut rest).is_ok()
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(answered, vec![true; count], "every connection was closed");
    let (code, body) = curl(&ns, &["https://localhost/"]);
    assert_eq!(
        (code, body),
        (0, htdocs("index.html")),
        "served after the garbage"
    );
    assert!(server.is_running());
}
