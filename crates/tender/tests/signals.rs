//! SIGTERM and SIGINT end a running tender with one line and status 1, as `solo5-hvt` does,
//! also while the guest is blocked in POLL.

mod support;

use morgana_testkit::{Prereq, Process, require};
use std::process::Command;
use std::time::Duration;
use support::image::{Asm, DATA, Data, Image};
use support::{TENDER, write_image};

/// PUTS "ready\n", then POLL for 20 s (no NICs: a plain sleep), then HALT with 0.
fn sleeper() -> Image {
    let mut d = Data::new();
    d.u64s(0, &[DATA + 0x100, 6])
        .u64s(0x40, &[20_000_000_000, 0x55, 0x55])
        .u64s(0x80, &[0, 0])
        .put(0x100, b"ready\n");
    let code = Asm::new()
        .hypercall(2, DATA)
        .hypercall(3, DATA + 0x40)
        .hypercall(8, DATA + 0x80)
        .hang()
        .finish();
    Image::new(code, d.bytes)
}

/// Boots the sleeper, sends `signal` once the guest has printed "ready" (so it is in, or
/// about to enter, POLL), and returns (status, stdout, stderr).
fn signal_while_polling(signal: libc::c_int) -> (Option<i32>, String, String) {
    signal_while_polling_with(signal, &[])
}

/// [`signal_while_polling`] with extra tender options.
fn signal_while_polling_with(
    signal: libc::c_int,
    options: &[&str],
) -> (Option<i32>, String, String) {
    let path = write_image(&sleeper().build());
    let mut tender = Process::start(Command::new(TENDER).arg("--mem=4").args(options).arg(&path));
    let (_, first) = tender
        .next_line(Duration::from_secs(30))
        .expect("the guest prints ready");
    assert_eq!(first, "ready");
    let pid = libc::pid_t::try_from(tender.pid()).expect("pid");
    // SAFETY: plain kill(2) of our own child, which has not been waited for and so still
    // holds its PID.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let out = tender.finish(Duration::from_secs(30));
    (out.code, out.stdout, out.stderr)
}

#[test]
fn sigterm_during_poll_exits_1() {
    require!(Prereq::Kvm);
    let (status, stdout, stderr) = signal_while_polling(libc::SIGTERM);
    assert_eq!(stderr, "morgana-hvt: Exiting on signal 15\n");
    assert_eq!(status, Some(1));
    assert_eq!(stdout, "ready\n");
}

#[test]
fn sigint_during_poll_exits_1() {
    require!(Prereq::Kvm);
    let (status, stdout, stderr) = signal_while_polling(libc::SIGINT);
    assert_eq!(stderr, "morgana-hvt: Exiting on signal 2\n");
    assert_eq!(status, Some(1));
    assert_eq!(stdout, "ready\n");
}

#[test]
fn a_signal_still_prints_the_stats() {
    require!(Prereq::Kvm);
    let (status, _, stderr) = signal_while_polling_with(libc::SIGTERM, &["--stats"]);
    assert_eq!(status, Some(1));
    let mut lines = stderr.lines();
    assert_eq!(lines.next(), Some("morgana-hvt: Exiting on signal 15"));
    assert_eq!(lines.next(), Some("morgana-hvt stats:"));
    // The guest made one PUTS before the signal (and maybe its POLL); it never halted.
    assert!(stderr.contains("\n  hypercall puts: 1\n"), "{stderr}");
    assert!(!stderr.contains("hypercall halt"), "{stderr}");
}
