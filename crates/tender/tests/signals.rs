//! SIGTERM and SIGINT end a running tender with one line and status 1, as `solo5-hvt` does,
//! also while the guest is blocked in POLL.

mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use support::image::{Asm, DATA, Data, Image};
use support::{TENDER, kvm_available, write_image};

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
    let mut child = Command::new(TENDER)
        .arg("--mem=4")
        .args(options)
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tender");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut ready = [0u8; 6];
    stdout
        .read_exact(&mut ready)
        .expect("the guest prints ready");
    assert_eq!(&ready, b"ready\n");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: plain kill(2) of our own child, which has not been waited for and so still
    // holds its PID.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("stdout");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        format!("ready\n{rest}"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sigterm_during_poll_exits_1() {
    if !kvm_available("sigterm_during_poll_exits_1") {
        return;
    }
    let (status, stdout, stderr) = signal_while_polling(libc::SIGTERM);
    assert_eq!(stderr, "morgana-hvt: Exiting on signal 15\n");
    assert_eq!(status, Some(1));
    assert_eq!(stdout, "ready\n");
}

#[test]
fn sigint_during_poll_exits_1() {
    if !kvm_available("sigint_during_poll_exits_1") {
        return;
    }
    let (status, stdout, stderr) = signal_while_polling(libc::SIGINT);
    assert_eq!(stderr, "morgana-hvt: Exiting on signal 2\n");
    assert_eq!(status, Some(1));
    assert_eq!(stdout, "ready\n");
}

#[test]
fn a_signal_still_prints_the_stats() {
    if !kvm_available("a_signal_still_prints_the_stats") {
        return;
    }
    let (status, _, stderr) = signal_while_polling_with(libc::SIGTERM, &["--stats"]);
    assert_eq!(status, Some(1));
    let mut lines = stderr.lines();
    assert_eq!(lines.next(), Some("morgana-hvt: Exiting on signal 15"));
    assert_eq!(lines.next(), Some("morgana-hvt stats:"));
    // The guest made one PUTS before the signal (and maybe its POLL); it never halted.
    assert!(stderr.contains("\n  hypercall puts: 1\n"), "{stderr}");
    assert!(!stderr.contains("hypercall halt"), "{stderr}");
}
