//! kv-server as a Linux process on a real tap in a namespace made by the test, driven with
//! curl: statuses and bodies of PUT/GET/DELETE and listings, and values that survive the
//! process being killed and started again on the same disk.

use std::path::PathBuf;
use std::time::Duration;

use morgana_testkit::{Netns, Prereq, Process, require, run};

const EXE: &str = env!("CARGO_BIN_EXE_kv-server");
const BASE: &str = "http://10.78.0.2/kv";

struct Disk(PathBuf);
impl Drop for Disk {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn start(ns: &Netns, disk: &Disk, format: bool) -> Process {
    let mut cmd = ns.command(EXE);
    cmd.args([
        "--net:service=tap0".to_string(),
        format!("--block:storage={}", disk.0.display()),
        "--".into(),
        "--ipv4=10.78.0.2/24".into(),
    ]);
    if format {
        cmd.arg("--format");
    }
    let mut p = Process::start(&mut cmd);
    assert_eq!(
        p.wait_for_line("kv-server:", Duration::from_secs(10)),
        "kv-server: port 80"
    );
    p
}

/// curl inside the namespace: (HTTP status, body).
fn curl(ns: &Netns, method: &str, path: &str, data: Option<&str>) -> (String, String) {
    let url = format!("{BASE}{path}");
    let mut args = vec!["-s", "-m", "10", "-X", method, "-w", "\n%{http_code}", &url];
    if let Some(d) = data {
        args.extend(["--data-binary", d]);
    }
    let out = run(ns.command("curl").args(&args), Duration::from_secs(20));
    assert_eq!(out.code, Some(0), "curl {method} {path}: {}", out.stderr);
    let (body, status) = out.stdout.rsplit_once('\n').expect("status line");
    (status.to_string(), body.to_string())
}

fn pair(status: &str, body: &str) -> (String, String) {
    (status.to_string(), body.to_string())
}

#[test]
fn put_get_delete_list_and_survive_a_kill() {
    require!(Prereq::Tap, Prereq::Tool("curl"));
    let ns = Netns::new("kvsrv");
    ns.add_tap("tap0", 1500, Some("10.78.0.1/24"));
    let disk =
        Disk(std::env::temp_dir().join(format!("morgana-kv-server-{}.img", std::process::id())));
    std::fs::write(&disk.0, vec![0u8; 1 << 20]).unwrap();
    let server = start(&ns, &disk, true);

    assert_eq!(curl(&ns, "PUT", "/a/b", Some("hello")), pair("201", ""));
    assert_eq!(curl(&ns, "PUT", "/a/b", Some("world")), pair("204", ""));
    assert_eq!(curl(&ns, "GET", "/a/b", None), pair("200", "world"));
    assert_eq!(curl(&ns, "PUT", "/top", Some("t")), pair("201", ""));
    assert_eq!(curl(&ns, "GET", "/", None), pair("200", "a/\ntop\n"));
    assert_eq!(curl(&ns, "GET", "/a", None), pair("200", "b\n"));
    assert_eq!(
        curl(&ns, "GET", "/nope", None),
        pair("404", "no key 'nope'\n")
    );
    assert_eq!(
        curl(&ns, "PUT", "/top/under", Some("x")),
        pair("409", "'top' is a value, not a dictionary\n")
    );
    assert_eq!(
        curl(&ns, "PUT", "/x%2F..%2Fy", Some("x")),
        pair(
            "400",
            "invalid key 'x/../y': it has a '.' or '..' segment\n"
        )
    );
    assert_eq!(curl(&ns, "DELETE", "/top", None), pair("204", ""));
    assert_eq!(
        curl(&ns, "DELETE", "/top", None),
        pair("404", "no key 'top'\n")
    );
    assert_eq!(
        curl(&ns, "POST", "/a/b", Some("x")),
        pair("405", "405 Method Not Allowed\n")
    );

    // A value larger than the free space: refused, and the store keeps what it had.
    let big = disk.0.with_extension("big");
    std::fs::write(&big, vec![b'x'; 1_040_000]).unwrap();
    let at_big = format!("@{}", big.display());
    assert_eq!(
        curl(&ns, "PUT", "/big", Some(&at_big)),
        pair("507", "no space left for 'big'\n")
    );
    std::fs::remove_file(&big).unwrap();
    assert_eq!(curl(&ns, "GET", "/a/b", None), pair("200", "world"));
    assert_eq!(curl(&ns, "PUT", "/after", Some("fits")), pair("201", ""));
    assert_eq!(curl(&ns, "DELETE", "/after", None), pair("204", ""));

    // SIGKILL, then the same disk again: every acknowledged value is there.
    drop(server);
    let _server = start(&ns, &disk, false);
    assert_eq!(curl(&ns, "GET", "/a/b", None), pair("200", "world"));
    assert_eq!(curl(&ns, "GET", "/", None), pair("200", "a/\n"));
}
