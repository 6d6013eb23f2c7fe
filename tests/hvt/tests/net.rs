//! Network unikernels as hvt guests, on a real tap in a namespace made by the test: the same
//! sources as on unix, under the Morgana tender. Guest code is slow on our KVM-PVM machines, so
//! each test exchanges only a few packets, with generous time limits.

use std::time::Duration;

use hvt_tests::boot_on_tap;
use morgana_testkit::{Netns, Prereq, require, run};

fn curl(ns: &Netns, url: &str) -> (String, String) {
    let out = run(
        ns.command("curl")
            .args(["-s", "-m", "60", "-w", "\n%{http_code}", url]),
        Duration::from_secs(90),
    );
    let text = out.stdout;
    let (body, code) = text.rsplit_once('\n').expect("curl printed a status");
    (body.to_string(), code.to_string())
}

/// One TCP echo exchange from inside the namespace (python3's socket module as the client).
fn echo(ns: &Netns, addr: &str, port: u16, payload: &str) -> String {
    let script = format!(
        "import socket\ns=socket.create_connection(('{addr}',{port}),timeout=60)\ns.sendall(b'{payload}')\n\
         s.shutdown(socket.SHUT_WR)\nd=b''\nwhile True:\n    b=s.recv(4096)\n    if not b: break\n    d+=b\n\
         print(d.decode())"
    );
    let out = run(
        ns.command("python3").args(["-c", &script]),
        Duration::from_secs(90),
    );
    assert_eq!(out.code, Some(0), "echo client failed: {}", out.stderr);
    out.stdout.trim_end().to_string()
}

#[test]
fn http_server_serves_a_page_and_a_404() {
    require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("curl"));
    let (ns, _guest, _) = boot_on_tap(
        "hvthttp",
        "10.79.0.1/24",
        &["--mem=32"],
        "http-server",
        &["--ipv4=10.79.0.2/24"],
        "http-server:",
    );
    let (body, code) = curl(&ns, "http://10.79.0.2/");
    assert_eq!(code, "200");
    assert_eq!(
        body,
        include_str!("../../../examples/http-server/htdocs/index.html")
    );
    let (_, code) = curl(&ns, "http://10.79.0.2/no-such-page");
    assert_eq!(code, "404");
}

#[test]
fn echo_server_echoes() {
    require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("python3"));
    let (ns, _guest, _) = boot_on_tap(
        "hvtecho",
        "10.79.1.1/24",
        &["--mem=32"],
        "echo-server",
        &["--ipv4=10.79.1.2/24"],
        "echo-server:",
    );
    assert_eq!(echo(&ns, "10.79.1.2", 7, "hello hvt"), "hello hvt");
}

#[test]
fn gateway_serves_both_services_from_one_image() {
    require!(
        Prereq::Kvm,
        Prereq::Tap,
        Prereq::Tool("curl"),
        Prereq::Tool("python3")
    );
    let (ns, _guest, _) = boot_on_tap(
        "hvtgw",
        "10.79.2.1/24",
        &["--mem=32"],
        "gateway",
        &["--ipv4=10.79.2.2/24"],
        "gateway:",
    );
    let (body, code) = curl(&ns, "http://10.79.2.2/");
    assert_eq!(
        (body.as_str(), code.as_str()),
        (
            include_str!("../../../examples/gateway/htdocs/index.html"),
            "200"
        )
    );
    assert_eq!(echo(&ns, "10.79.2.2", 7, "both ways"), "both ways");
}
