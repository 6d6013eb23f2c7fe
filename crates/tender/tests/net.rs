//! Network devices: real taps inside network namespaces created by each test.

mod support;

use morgana_testkit::{Prereq, require};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::image::{Asm, DATA, Data, Image, MFT_COPY, NET};
use support::net::{netns_with_tap0, provoke_arp, tap0_counter, tender_in, tender_in_passing};
use support::stderr;

/// Offsets in the manifest copy of entry 1 (the only device).
const ENTRY1: u64 = MFT_COPY + 8 + 104;

#[test]
fn manifest_copy_carries_mtu_and_mac() {
    require!(Prereq::Kvm, Prereq::Tap);
    let ns = netns_with_tap0("mtu", 9000);
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
    let out = tender_in(
        &ns,
        &["--net:service=tap0", "--net-mac:service=02:11:22:33:44:55"],
        &image,
    );
    assert_eq!(out.code, Some(9000 & 0xff), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout_bytes, [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    // Without --net-mac: a random locally administered unicast address.
    let out = tender_in(&ns, &["--net:service=tap0"], &image);
    assert_eq!(out.code, Some(40), "stderr: {}", stderr(&out));
    assert_eq!(out.stdout_bytes.len(), 6);
    assert_eq!(out.stdout_bytes[0] & 3, 2);
}

#[test]
fn net_write_reaches_the_host_interface() {
    require!(Prereq::Kvm, Prereq::Tap);
    let ns = netns_with_tap0("write", 1500);
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
    let (packets, bytes) = (
        tap0_counter(&ns, "rx_packets"),
        tap0_counter(&ns, "rx_bytes"),
    );
    let out = tender_in(&ns, &["--net:service=tap0"], &image);
    assert_eq!(out.code, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(tap0_counter(&ns, "rx_packets") - packets, 1);
    assert_eq!(tap0_counter(&ns, "rx_bytes") - bytes, 60);
}

#[test]
fn poll_reports_a_readable_tap_and_net_read_gets_the_frame() {
    require!(Prereq::Kvm, Prereq::Tap);
    let ns = netns_with_tap0("read", 1500);
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
    let sender = provoke_arp(&ns, "10.77.0.1", "10.77.0.2", stop.clone());
    let out = tender_in(&ns, &["--net:service=tap0"], &image);
    stop.store(true, Ordering::Relaxed);
    sender.join().expect("sender");
    assert_eq!(
        out.stdout_bytes,
        2u64.to_le_bytes(),
        "ready set must be exactly handle 1; stderr: {}",
        stderr(&out)
    );
    assert_eq!(
        out.code,
        Some(42),
        "an ARP request is 42 bytes; stderr: {}",
        stderr(&out)
    );
}

#[test]
fn a_down_interface_is_refused() {
    require!(Prereq::Kvm, Prereq::Tap);
    let ns = netns_with_tap0("down", 1500);
    ns.ip(&["link", "set", "tap0", "down"]);
    let image =
        Image::new(Asm::new().hang().finish(), Data::new().bytes).with_devices(&[("service", NET)]);
    let out = tender_in(&ns, &["--net:service=tap0"], &image);
    assert_eq!(
        stderr(&out),
        "morgana-hvt: Could not attach interface: tap0: Network is down (os error 100)\n"
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn net_calls_with_bad_pointers_end_the_tender() {
    require!(Prereq::Kvm, Prereq::Tap);
    let ns = netns_with_tap0("badptr", 1500);
    // NET_WRITE with an overflowing frame pointer; NET_READ with a buffer past the top.
    for (n, data, len) in [(6u16, u64::MAX - 8, 60u64), (7, 0x3f_f000, 0x1000)] {
        let mut d = Data::new();
        d.u64s(0, &[1, data, len, 0x55]);
        let image = Image::new(Asm::new().hypercall(n, DATA).hang().finish(), d.bytes)
            .with_devices(&[("service", NET)]);
        let out = tender_in(&ns, &["--net:service=tap0"], &image);
        assert_eq!(
            stderr(&out),
            format!("morgana-hvt: Invalid guest access: gpa={data:#x}, sz={len}\n")
        );
        assert_eq!(out.code, Some(1));
    }
    // A struct ending exactly at the top of memory.
    let image = Image::new(
        Asm::new().hypercall(6, 0x40_0000 - 32).hang().finish(),
        Data::new().bytes,
    )
    .with_devices(&[("service", NET)]);
    let out = tender_in(&ns, &["--net:service=tap0"], &image);
    assert_eq!(
        stderr(&out),
        "morgana-hvt: Invalid guest access: gpa=0x3fffe0, sz=32\n"
    );
}

/// NET_WRITE one 60-byte broadcast frame on handle 1, PUTS the manifest copy's MAC of entry 1,
/// HALT with the low byte of its MTU.
fn write_and_report_image() -> Image {
    let mut frame = vec![0xffu8; 6];
    frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x88, 0xb5]);
    frame.resize(60, 0xab);
    let mut d = Data::new();
    d.u64s(0, &[1, DATA + 0x100, 60, 0x55])
        .u64s(0x40, &[ENTRY1 + 72, 6])
        .u64s(0x80, &[0, 0x55])
        .put(0x100, &frame);
    let mut a = Asm::new();
    a.hypercall(6, DATA)
        .hypercall(2, DATA + 0x40)
        .load_u16(ENTRY1 + 78)
        .store_rax(DATA + 0x88)
        .hypercall(8, DATA + 0x80)
        .hang();
    Image::new(a.finish(), d.bytes).with_devices(&[("service", NET)])
}

#[test]
fn a_passed_tap_fd_works_like_a_tap_name() {
    require!(Prereq::Kvm, Prereq::Tap);
    let ns = netns_with_tap0("fd", 9000);
    let image = write_and_report_image();
    let mac = "--net-mac:service=02:11:22:33:44:55";
    let run = |how: &str, option: &str, passed: Option<i32>| {
        let packets = tap0_counter(&ns, "rx_packets");
        let out = tender_in_passing(&ns, &[option, mac], &image, passed);
        assert_eq!(stderr(&out), "", "{how}");
        assert_eq!(out.code, Some(9000 & 0xff), "{how}: MTU 9000");
        assert_eq!(
            out.stdout_bytes,
            [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
            "{how}"
        );
        assert_eq!(
            tap0_counter(&ns, "rx_packets") - packets,
            1,
            "{how}: frame sent"
        );
    };
    run("by name", "--net:service=tap0", None);
    // Opened only now: a single-queue tap takes one attachment at a time.
    let fd = ns.open_tap("tap0");
    let by_fd = format!("--net:service=@{}", fd.as_raw_fd());
    run("by fd", &by_fd, Some(fd.as_raw_fd()));
    // While the test holds the tap, attaching it by name fails.
    let out = tender_in(&ns, &["--net:service=tap0", mac], &image);
    assert_eq!(
        stderr(&out),
        "morgana-hvt: Could not attach interface: tap0: Device or resource busy (os error 16)\n"
    );
    drop(fd);
    // A descriptor that is not open in the tender is refused like a missing tap.
    let out = tender_in(&ns, &["--net:service=@77", mac], &image);
    assert_eq!(
        stderr(&out),
        "morgana-hvt: Could not attach interface: @77: Bad file descriptor (os error 9)\n"
    );
    assert_eq!(out.code, Some(1));
}

/// Declares NICs "a" (handle 1, on tap0) and "b" (handle 2, on tap1); POLL for up to 20 s,
/// PUTS `ready_set` and the 4-byte `ret` with the 4 padding bytes after it, HALT with 0.
fn two_nic_poller() -> Image {
    let mut d = Data::new();
    d.u64s(0, &[20_000_000_000, 0x55, 0x5555_5555_5555_5555])
        .u64s(0x40, &[DATA + 8, 16])
        .u64s(0x80, &[0, 0]);
    let mut a = Asm::new();
    a.hypercall(3, DATA)
        .hypercall(2, DATA + 0x40)
        .hypercall(8, DATA + 0x80)
        .hang();
    Image::new(a.finish(), d.bytes).with_devices(&[("a", NET), ("b", NET)])
}

#[test]
fn poll_with_two_taps_sets_only_the_ready_handle() {
    require!(Prereq::Kvm, Prereq::Tap);
    // Traffic on one tap at a time, each in a fresh namespace, so that no ARP retry from
    // the other case can arrive.
    for (case, busy, from, to, handle) in [
        ("poll2b", "tap1", "10.78.0.1", "10.78.0.2", 2u64),
        ("poll2a", "tap0", "10.77.0.1", "10.77.0.2", 1),
    ] {
        let ns = morgana_testkit::Netns::new(case);
        ns.add_tap("tap0", 1500, Some("10.77.0.1/24"));
        ns.add_tap("tap1", 1500, Some("10.78.0.1/24"));
        let stop = Arc::new(AtomicBool::new(false));
        let sender = provoke_arp(&ns, from, to, stop.clone());
        let out = tender_in(&ns, &["--net:a=tap0", "--net:b=tap1"], &two_nic_poller());
        stop.store(true, Ordering::Relaxed);
        sender.join().expect("sender");
        let mut expected = (1u64 << handle).to_le_bytes().to_vec();
        expected.extend_from_slice(&1u32.to_le_bytes());
        expected.extend_from_slice(&0x5555_5555u32.to_le_bytes());
        assert_eq!(
            out.stdout_bytes,
            expected,
            "traffic on {busy}: ready set must be exactly handle {handle}, ret 1; stderr: {}",
            stderr(&out)
        );
        assert_eq!(out.code, Some(0));
    }
}
