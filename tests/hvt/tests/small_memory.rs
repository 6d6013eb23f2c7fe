//! The network services in the smallest memory docs/benchmarks.md gives for them (`--mem=4`),
//! on a real tap in a namespace made by the test: echo-server echoes 64 KiB exactly and
//! http-server serves its page.

use std::time::Duration;

use hvt_tests::boot_on_tap;
use morgana_testkit::{Prereq, require, run};

#[test]
fn echo_server_echoes_64_kib_exactly_in_4_mib() {
    require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("python3"));
    let (ns, mut guest, _) = boot_on_tap(
        "hvtecho4",
        "10.79.4.1/24",
        &["--mem=4"],
        "echo-server",
        &["--ipv4=10.79.4.2/24"],
        "echo-server:",
    );
    // 64 KiB of a pattern that repeats only every 251 bytes, sent whole, then read back.
    let script = "import socket\ns=socket.create_connection(('10.79.4.2',7),timeout=60)\n\
                  d=bytes(i%251 for i in range(65536))\ns.sendall(d)\ns.shutdown(socket.SHUT_WR)\n\
                  got=b''\nwhile True:\n    b=s.recv(65536)\n    if not b: break\n    got+=b\n\
                  print(len(got), got==d)";
    let out = run(
        ns.command("python3").args(["-c", script]),
        Duration::from_secs(90),
    );
    assert_eq!(out.code, Some(0), "echo client failed: {}", out.stderr);
    assert_eq!(out.stdout, "65536 True\n");
    assert!(guest.is_running());
}

#[test]
fn http_server_serves_its_page_in_4_mib() {
    require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("curl"));
    let (ns, mut guest, _) = boot_on_tap(
        "hvthttp4",
        "10.79.5.1/24",
        &["--mem=4"],
        "http-server",
        &["--ipv4=10.79.5.2/24"],
        "http-server:",
    );
    let out = run(
        ns.command("curl").args([
            "-s",
            "-m",
            "60",
            "-w",
            "\n%{http_code}",
            "http://10.79.5.2/",
        ]),
        Duration::from_secs(90),
    );
    let (body, code) = out.stdout.rsplit_once('\n').expect("curl printed a status");
    assert_eq!(code, "200");
    assert_eq!(
        body,
        include_str!("../../../examples/http-server/htdocs/index.html")
    );
    assert!(guest.is_running());
}
