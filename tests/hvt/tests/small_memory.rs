//! The network services in the smallest memory docs/benchmarks.md gives for them (`--mem=4`),
//! on a real tap in a namespace made by the test: echo-server echoes 64 KiB exactly and
//! http-server serves its page.

use std::time::Duration;

use hvt_tests::{image, tender};
use morgana_testkit::{Netns, Prereq, Process, require, run};

/// Boots `package` with `--mem=4` on tap `mgtap0` (host side `host/24`), guest address `guest`,
/// and waits for its line starting with `ready`.
fn start(label: &str, package: &str, host: &str, guest: &str, ready: &str) -> (Netns, Process) {
    let ns = Netns::new(label);
    ns.add_tap("mgtap0", 1500, Some(&format!("{host}/24")));
    let mut p = Process::start(
        ns.command(tender())
            .args(["--mem=4", "--net:service=mgtap0"])
            .arg(image(package))
            .arg(format!("--ipv4={guest}/24")),
    );
    loop {
        let (_, line) = p
            .next_line(Duration::from_secs(120))
            .expect("the guest starts");
        if line.starts_with(ready) {
            return (ns, p);
        }
    }
}

#[test]
fn echo_server_echoes_64_kib_exactly_in_4_mib() {
    require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("python3"));
    let (ns, mut guest) = start(
        "hvtecho4",
        "echo-server",
        "10.79.4.1",
        "10.79.4.2",
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
    let (ns, mut guest) = start(
        "hvthttp4",
        "http-server",
        "10.79.5.1",
        "10.79.5.2",
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
