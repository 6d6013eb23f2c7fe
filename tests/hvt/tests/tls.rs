//! https-server as a soft-float hvt guest on the host's `/dev/kvm`, on a real tap in a
//! namespace made by the test, against curl and `openssl s_client`.
//!
//! `http-fetch` as a soft-float guest fetches over https from `openssl s_server` on the host
//! side of the tap, and refuses an expired certificate.
//!
//! This host's KVM may pass CPUID through (KVM-PVM), so the guest can be shown AES-NI, SSE
//! and AVX: a crypto crate that picked its code by CPUID would run vector instructions and
//! kill the guest. Handshakes that complete, with the right bytes, show that the soft-float
//! image took only portable code (the build's switches, docs/crates.md).

use std::time::Duration;

use hvt_tests::{boot_on_tap, guest_output, image, tender};
use morgana_testkit::{Netns, Prereq, Process, require, run};

const CA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/https-server/certs/ca.pem"
);
const INDEX: &str = include_str!("../../../examples/http-server/htdocs/index.html");
const CSS: &str = include_str!("../../../examples/http-server/htdocs/css/site.css");

#[test]
fn https_server_handshakes_tls_1_3_and_1_2_and_serves_exact_files() {
    require!(
        Prereq::Kvm,
        Prereq::Tap,
        Prereq::Tool("curl"),
        Prereq::Tool("openssl")
    );
    let (ns, mut guest, line) = boot_on_tap(
        "hvttls",
        "10.79.5.1/24",
        &["--mem=64"],
        "https-server",
        &["--ipv4=10.79.5.2/24"],
        "https-server:",
    );
    assert_eq!(line, "https-server: 3 files, port 443");
    // Two files over one connection (keep-alive), TLS 1.3.
    let out = run(
        ns.command("curl").args([
            "-s",
            "-m",
            "120",
            "--cacert",
            CA,
            "--resolve",
            "localhost:443:10.79.5.2",
            "--tlsv1.3",
            "-w",
            "%{http_code} %{num_connects}\n",
            "https://localhost/",
            "https://localhost/css/site.css",
        ]),
        Duration::from_secs(180),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, format!("{INDEX}200 1\n{CSS}200 0\n"));

    for (flag, version) in [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")] {
        let script = format!(
            "printf 'GET /css/site.css HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' | \
             openssl s_client -brief {flag} -connect 10.79.5.2:443 -servername localhost \
             -verify_hostname localhost -CAfile {CA} -verify_return_error -ign_eof"
        );
        let out = run(
            ns.command("sh").args(["-c", &script]),
            Duration::from_secs(180),
        );
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("Protocol version: {version}\n")),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("Verification: OK\n"), "{}", out.stderr);
        assert!(
            out.stdout.starts_with("HTTP/1.1 200 OK\r\n") && out.stdout.ends_with(CSS),
            "{}",
            out.stdout
        );
    }
    assert!(guest.is_running(), "the guest is still serving");
}

/// One `GET /css/site.css` over TLS 1.2 with `openssl s_client` from namespace `ns`; asserts
/// the whole answer. (`timeout`: a hung `s_client` would otherwise keep the output pipe open
/// after the time limit has killed the shell.)
fn get_css_tls12(ns: &Netns, addr: &str) {
    let script = format!(
        "printf 'GET /css/site.css HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' | \
         timeout 150 openssl s_client -brief -tls1_2 -connect {addr}:443 -servername localhost \
         -verify_hostname localhost -CAfile {CA} -verify_return_error -ign_eof"
    );
    let out = run(
        ns.command("sh").args(["-c", &script]),
        Duration::from_secs(180),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.starts_with("HTTP/1.1 200 OK\r\n") && out.stdout.ends_with(CSS),
        "{}",
        out.stdout
    );
}

/// A connection that comes more than a minute after the last one, when the guest's stack has
/// forgotten the host's MAC address (its neighbour cache keeps entries 60 s). It once hung
/// until the client gave up: the stack kept itself runnable without sending, the executor
/// never went idle to make a `POLL`, and the receive path, which left its reads to `POLL`,
/// never took the client's frames from the tap.
#[test]
fn https_server_answers_a_connection_after_a_minute_idle() {
    require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("openssl"));
    let (ns, mut guest, _) = boot_on_tap(
        "hvttlsidle",
        "10.79.7.1/24",
        &["--mem=64"],
        "https-server",
        &["--ipv4=10.79.7.2/24"],
        "https-server:",
    );
    get_css_tls12(&ns, "10.79.7.2");
    std::thread::sleep(Duration::from_secs(70));
    get_css_tls12(&ns, "10.79.7.2");
    assert!(guest.is_running(), "the guest is still serving");
}

/// What `conformance-tls` prints: known answers of the provider, then a handshake per suite.
const CONFORMANCE_TLS: &[&str] = &[
    "record TLS13_AES_256_GCM_SHA384 ok",
    "open TLS13_AES_256_GCM_SHA384 ok",
    "record TLS13_CHACHA20_POLY1305_SHA256 ok",
    "open TLS13_CHACHA20_POLY1305_SHA256 ok",
    "sha256(abc) ok",
    "sha384(abc) ok",
    "hkdf-sha256 rfc5869 case 1 ok",
    "ECDSA_NISTP256_SHA256 signature ok",
    "RSA_PKCS1_SHA256 signature ok",
    "RSA_PSS_SHA256 signature ok",
    "handshake TLS13_AES_128_GCM_SHA256 Some(TLSv1_3): 40000 bytes each way ok",
    "handshake TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 Some(TLSv1_2): 40000 bytes each way ok",
    "handshake TLS13_AES_256_GCM_SHA384 Some(TLSv1_3): 40000 bytes each way ok",
    "handshake TLS13_CHACHA20_POLY1305_SHA256 Some(TLSv1_3): 40000 bytes each way ok",
    "handshake TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 Some(TLSv1_2): 40000 bytes each way ok",
    "handshake TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 Some(TLSv1_2): 40000 bytes each way ok",
    "SUCCESS",
];

#[test]
fn tls_provider_gives_known_answers_and_handshakes_in_a_soft_float_image() {
    require!(Prereq::Kvm);
    // Soft-float crypto is slow on a KVM-PVM host (the known answers alone take half a
    // minute there): one TLS 1.3 handshake here, every suite in the KVM lab.
    let out = run(
        std::process::Command::new(tender())
            .args(["--mem=64"])
            .arg(image("conformance-tls"))
            .arg("--suites=1"),
        Duration::from_secs(400),
    );
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    let expected: String = CONFORMANCE_TLS[..11]
        .iter()
        .chain(CONFORMANCE_TLS.last())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(guest_output(&out), expected);
}

/// Boots the soft-float http-fetch on tap `mgtap0` of `ns` with `args`; returns the exit
/// status and the guest's own output.
fn fetch(ns: &Netns, args: &[&str]) -> (Option<i32>, String, String) {
    let out = run(
        ns.command(tender())
            .args(["--mem=64", "--net:service=mgtap0"])
            .arg(image("http-fetch"))
            .args(args),
        Duration::from_secs(400),
    );
    (out.code, guest_output(&out), out.stderr)
}

#[test]
fn http_fetch_gets_a_file_over_https_and_refuses_an_expired_certificate() {
    require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("openssl"));
    let certs = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/https-server/certs"
    );
    let read = |f: &str| std::fs::read_to_string(format!("{certs}/{f}")).unwrap();
    let ca = morgana_certs::Ca::load(
        morgana_certs::DEV_CA_NAME,
        &read("ca.pem"),
        &read("ca-key.pem"),
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("hvt-fetch-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = b"fetched by a soft-float guest\n";
    std::fs::write(dir.join("hello.txt"), body).unwrap();
    let ns = Netns::new("hvtfetchtls");
    ns.add_tap("mgtap0", 1500, Some("10.79.6.1/24"));
    let mut servers = Vec::new();
    for (port, validity) in [
        (8443u16, morgana_certs::Validity::Current),
        (8444, morgana_certs::Validity::Expired),
    ] {
        let cert = ca.server(&["10.79.6.1"], validity).unwrap();
        let (c, k) = (
            dir.join(format!("{port}.pem")),
            dir.join(format!("{port}-key.pem")),
        );
        std::fs::write(&c, &cert.cert_pem).unwrap();
        std::fs::write(&k, &cert.key_pem).unwrap();
        servers.push(Process::start(
            ns.command("openssl")
                .current_dir(&dir)
                .args(["s_server", "-quiet", "-WWW", "-accept", &port.to_string()])
                .arg("-cert")
                .arg(&c)
                .arg("-key")
                .arg(&k),
        ));
        ns.wait_for_tcp(
            format!("10.79.6.1:{port}").parse().unwrap(),
            Duration::from_secs(10),
        );
    }
    let args = |port: u16| {
        [
            format!("--url=https://10.79.6.1:{port}/hello.txt"),
            "--ca=dev-ca.pem".to_string(),
            "--ipv4=10.79.6.2/24".to_string(),
            "--timeout=120".to_string(),
            "--logs=warn".to_string(),
        ]
    };
    let good = args(8443);
    let good: Vec<&str> = good.iter().map(String::as_str).collect();
    let (code, output, stderr) = fetch(&ns, &good);
    assert_eq!(
        (code, output.as_str()),
        (
            Some(0),
            format!(
                "HTTP/1.0 200 ok\nbody: {} bytes, crc32 {:08x}\n",
                body.len(),
                crc32fast::hash(body)
            )
            .as_str()
        ),
        "{stderr}"
    );
    let expired = args(8444);
    let expired: Vec<&str> = expired.iter().map(String::as_str).collect();
    let (code, output, stderr) = fetch(&ns, &expired);
    // The guest's error line comes out on the console, with its other output.
    assert_eq!(
        (code, format!("{output}{stderr}").as_str()),
        (
            Some(1),
            "error: TLS with 10.79.6.1: the server's certificate has expired\n"
        )
    );
    drop(servers);
    let _ = std::fs::remove_dir_all(&dir);
}
