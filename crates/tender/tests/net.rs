//! Network devices: real taps inside network namespaces created by each test.

mod support;

use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::image::{Asm, DATA, Data, Image, MFT_COPY, NET};
use support::{TENDER, kvm_available, run_with_limit, stderr, write_image};

/// A network namespace holding one tap `tap0` (10.77.0.1/24, up); deleted on drop.
struct Netns {
    name: String,
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

impl Netns {
    /// Creates the namespace, or returns `None` (after saying why) if that is impossible.
    fn create(test: &str, mtu: u32) -> Option<Self> {
        if !kvm_available(test) {
            return None;
        }
        if Command::new("ip").arg("-V").output().is_err() {
            eprintln!("SKIPPED {test}: the ip command is not installed");
            return None;
        }
        let name = format!("mhvt-{}-{test}", std::process::id());
        if !ip(&["netns", "add", &name]) {
            eprintln!("SKIPPED {test}: cannot create a network namespace (needs root)");
            return None;
        }
        let ns = Self { name };
        let sh = "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6";
        assert!(ns.exec(&["sh", "-c", sh]));
        assert!(ip(&[
            "-n", &ns.name, "tuntap", "add", "dev", "tap0", "mode", "tap"
        ]));
        assert!(ip(&[
            "-n",
            &ns.name,
            "link",
            "set",
            "tap0",
            "mtu",
            &mtu.to_string(),
            "up"
        ]));
        assert!(ip(&[
            "-n",
            &ns.name,
            "addr",
            "add",
            "10.77.0.1/24",
            "dev",
            "tap0"
        ]));
        Some(ns)
    }

    fn exec(&self, cmd: &[&str]) -> bool {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(cmd)
            .status()
            .is_ok_and(|s| s.success())
    }

    fn counter(&self, which: &str) -> u64 {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.name,
                "cat",
                &format!("/sys/class/net/tap0/statistics/{which}"),
            ])
            .output()
            .expect("cat");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("counter")
    }

    /// Runs the tender inside the namespace.
    fn tender(&self, options: &[&str], image: &Image) -> std::process::Output {
        let path = write_image(&image.build());
        let mut args: Vec<String> = ["netns", "exec", &self.name, TENDER, "--mem=4"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(options.iter().map(|s| s.to_string()));
        args.push(path.display().to_string());
        run_with_limit("ip", &args, Duration::from_secs(30))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        ip(&["netns", "del", &self.name]);
    }
}

/// Offsets in the manifest copy of entry 1 (the only device).
const ENTRY1: u64 = MFT_COPY + 8 + 104;

#[test]
fn manifest_copy_carries_mtu_and_mac() {
    let Some(ns) = Netns::create("mtu", 9000) else {
        return;
    };
    // PUTS the 6 MAC bytes, then HALT with the MTU's low byte (9000 & 0xff = 40).
    let mut d = Data::new();
    d.u64s(0, &[ENTRY1 + 72, 6]).u64s(0x40, &[0, 0x55]);
    let mut a = Asm::new();
    a.hypercall(2, DATA)
        .load_u16(ENTRY1 + 78)
        .store_rax(DATA + 0x48)
        .hypercall(8, DATA + 0x40)
        .hang();
    let image = Image::new(a.finish(), d.bytes).with_devices(&[("service", NET)]);
    let out = ns.tender(
        &["--net:service=tap0", "--net-mac:service=02:11:22:33:44:55"],
        &image,
    );
    assert_eq!(
        out.status.code(),
        Some(9000 & 0xff),
        "stderr: {}",
        stderr(&out)
    );
    assert_eq!(out.stdout, [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    // Without --net-mac: a random locally administered unicast address.
    let out = ns.tender(&["--net:service=tap0"], &image);
    assert_eq!(out.status.code(), Some(40), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout.len(), 6);
    assert_eq!(out.stdout[0] & 3, 2);
}

#[test]
fn net_write_reaches_the_host_interface() {
    let Some(ns) = Netns::create("write", 1500) else {
        return;
    };
    let mut frame = vec![0xffu8; 6];
    frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x88, 0xb5]);
    frame.resize(60, 0xab);
    let mut d = Data::new();
    d.u64s(0, &[1, DATA + 0x100, 60, 0x55])
        .u64s(0x40, &[0, 0x55])
        .put(0x100, &frame);
    let mut a = Asm::new();
    a.hypercall(6, DATA)
        .load_rax(DATA + 24)
        .store_rax(DATA + 0x48)
        .hypercall(8, DATA + 0x40)
        .hang();
    let image = Image::new(a.finish(), d.bytes).with_devices(&[("service", NET)]);
    let (packets, bytes) = (ns.counter("rx_packets"), ns.counter("rx_bytes"));
    let out = ns.tender(&["--net:service=tap0"], &image);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(ns.counter("rx_packets") - packets, 1);
    assert_eq!(ns.counter("rx_bytes") - bytes, 60);
}

/// Sends UDP datagrams to 10.77.0.2 from inside the namespace until `stop`, so the host
/// kernel keeps sending ARP requests out of tap0.
fn provoke_arp(ns: &str, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path).expect("netns file");
        // SAFETY: setns moves only this thread into the namespace; `f` is a valid netns fd.
        assert_eq!(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
        let sock = std::net::UdpSocket::bind("10.77.0.1:0").expect("bind");
        while !stop.load(Ordering::Relaxed) {
            let _ = sock.send_to(b"ping", "10.77.0.2:9");
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}

#[test]
fn poll_reports_a_readable_tap_and_net_read_gets_the_frame() {
    let Some(ns) = Netns::create("read", 1500) else {
        return;
    };
    // POLL (20 s) at DATA; PUTS its ready_set; NET_READ into DATA+0x800 (2048 bytes);
    // HALT with the frame length.
    let mut d = Data::new();
    d.u64s(0, &[20_000_000_000, 0x55, 0x55])
        .u64s(0x40, &[DATA + 8, 8])
        .u64s(0x80, &[1, DATA + 0x800, 2048, 0x55])
        .u64s(0xc0, &[0, 0x55]);
    let mut a = Asm::new();
    a.hypercall(3, DATA)
        .hypercall(2, DATA + 0x40)
        .hypercall(7, DATA + 0x80)
        .load_rax(DATA + 0x90)
        .store_rax(DATA + 0xc8)
        .hypercall(8, DATA + 0xc0)
        .hang();
    let image = Image::new(a.finish(), d.bytes).with_devices(&[("service", NET)]);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = provoke_arp(&ns.name, stop.clone());
    let out = ns.tender(&["--net:service=tap0"], &image);
    stop.store(true, Ordering::Relaxed);
    sender.join().expect("sender");
    assert_eq!(
        out.stdout,
        2u64.to_le_bytes(),
        "ready set must be exactly handle 1; stderr: {}",
        stderr(&out)
    );
    assert_eq!(
        out.status.code(),
        Some(42),
        "an ARP request is 42 bytes; stderr: {}",
        stderr(&out)
    );
}

#[test]
fn a_down_interface_is_refused() {
    let Some(ns) = Netns::create("down", 1500) else {
        return;
    };
    assert!(ip(&["-n", &ns.name, "link", "set", "tap0", "down"]));
    let image =
        Image::new(Asm::new().hang().finish(), Data::new().bytes).with_devices(&[("service", NET)]);
    let out = ns.tender(&["--net:service=tap0"], &image);
    assert_eq!(
        stderr(&out),
        "morgana-hvt: Could not attach interface: tap0: Network is down (os error 100)\n"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn net_calls_with_bad_pointers_end_the_tender() {
    let Some(ns) = Netns::create("badptr", 1500) else {
        return;
    };
    // NET_WRITE with an overflowing frame pointer; NET_READ with a buffer past the top.
    for (n, data, len) in [(6u16, u64::MAX - 8, 60u64), (7, 0x3f_f000, 0x1000)] {
        let mut d = Data::new();
        d.u64s(0, &[1, data, len, 0x55]);
        let image = Image::new(Asm::new().hypercall(n, DATA).hang().finish(), d.bytes)
            .with_devices(&[("service", NET)]);
        let out = ns.tender(&["--net:service=tap0"], &image);
        assert_eq!(
            stderr(&out),
            format!("morgana-hvt: Invalid guest access: gpa={data:#x}, sz={len}\n")
        );
        assert_eq!(out.status.code(), Some(1));
    }
    // A struct ending exactly at the top of memory.
    let image = Image::new(
        Asm::new().hypercall(6, 0x40_0000 - 32).hang().finish(),
        Data::new().bytes,
    )
    .with_devices(&[("service", NET)]);
    let out = ns.tender(&["--net:service=tap0"], &image);
    assert_eq!(
        stderr(&out),
        "morgana-hvt: Invalid guest access: gpa=0x3fffe0, sz=32\n"
    );
}
