//! kv-server on hvt over a real tap: a client PUTs numbered keys while the tender is killed
//! with SIGKILL at a random moment, several rounds on one disk; after each restart the store
//! mounts and every acknowledged key reads back with its value.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hvt_tests::{image, tender};
use morgana_testkit::{Netns, Prereq, Process, require};

const ADDR: &str = "10.79.0.2:80";

/// One request on a fresh connection; the status code and body, or `None` if the
/// connection failed.
fn request(method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&ADDR.parse().ok()?, Duration::from_secs(30)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let req = format!(
        "{method} /kv/{path} HTTP/1.1\r\nHost: kv\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.get(9..12)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

fn boot(ns: &Netns, disk: &str, format: bool) -> Process {
    let mut cmd = ns.command(tender());
    cmd.args(["--mem=32", "--net:service=mgtap0"])
        .arg(format!("--block:storage={disk}"))
        .arg(image("kv-server"))
        .arg("--ipv4=10.79.0.2/24");
    if format {
        cmd.arg("--format");
    }
    let mut guest = Process::start(&mut cmd);
    guest.wait_for_line("kv-server: port 80", Duration::from_secs(120));
    guest
}

#[test]
fn acknowledged_puts_survive_sigkill_of_the_tender() {
    require!(Prereq::Kvm, Prereq::Tap);
    let ns = Netns::new("kvkill");
    ns.add_tap("mgtap0", 1500, Some("10.79.0.1/24"));
    let disk = std::env::temp_dir().join(format!("morgana-kvkill-{}.img", std::process::id()));
    std::fs::write(&disk, vec![0u8; 4 << 20]).unwrap();
    let disk_arg = disk.display().to_string();
    let acked: Arc<Mutex<Vec<u32>>> = Arc::default();
    let mut next = 0u32;
    for round in 0..3 {
        let guest = boot(&ns, &disk_arg, round == 0);
        // Everything acknowledged before reads back.
        let keys = acked.lock().unwrap().clone();
        let check = ns.spawn_thread(move || {
            keys.iter()
                .filter(|n| {
                    request("GET", &format!("k{n}"), "") != Some((200, format!("value {n}")))
                })
                .copied()
                .collect::<Vec<u32>>()
        });
        assert_eq!(
            check.join().unwrap(),
            Vec::<u32>::new(),
            "round {round}: lost keys"
        );
        let stop = Arc::new(AtomicBool::new(false));
        let client = {
            let (acked, stop) = (acked.clone(), stop.clone());
            ns.spawn_thread(move || {
                let mut n = next;
                while !stop.load(Ordering::Relaxed) {
                    match request("PUT", &format!("k{n}"), &format!("value {n}")) {
                        Some((201 | 204, _)) => acked.lock().unwrap().push(n),
                        _ => break,
                    }
                    n += 1;
                }
                n + 1
            })
        };
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        std::thread::sleep(Duration::from_millis(2000 + u64::from(nanos % 4000)));
        drop(guest); // SIGKILL, by PID
        stop.store(true, Ordering::Relaxed);
        next = client.join().unwrap();
    }
    let guest = boot(&ns, &disk_arg, false);
    let keys = acked.lock().unwrap().clone();
    assert!(
        keys.len() >= 3,
        "only {} PUTs were acknowledged",
        keys.len()
    );
    let lost = ns
        .spawn_thread(move || {
            keys.iter()
                .filter(|n| {
                    request("GET", &format!("k{n}"), "") != Some((200, format!("value {n}")))
                })
                .copied()
                .collect::<Vec<u32>>()
        })
        .join()
        .unwrap();
    assert_eq!(lost, Vec::<u32>::new(), "lost keys after the last kill");
    drop(guest);
    std::fs::remove_file(&disk).unwrap();
}
