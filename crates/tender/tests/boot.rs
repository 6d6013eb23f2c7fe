//! Guests that behave: real KVM runs of hand-assembled images.

mod support;

use morgana_testkit::{Prereq, require};
use support::image::{Asm, BLOCK, DATA, Data, Image, MFT_COPY};
use support::{boot, scratch, status, stderr, tender, write_image};

const WALLTIME: u16 = 1;
const PUTS: u16 = 2;
const POLL: u16 = 3;
const BLOCK_WRITE: u16 = 4;
const BLOCK_READ: u16 = 5;
const HALT: u16 = 8;

/// PUTS the `len` bytes at `text_at`, then HALT with `status`.
fn hello_image(text: &[u8], status: u64) -> Image {
    let mut d = Data::new();
    d.u64s(0, &[DATA + 0x100, text.len() as u64])
        .u64s(0x40, &[0, status])
        .put(0x100, text);
    let code = Asm::new()
        .hypercall(PUTS, DATA)
        .hypercall(HALT, DATA + 0x40)
        .hang()
        .finish();
    Image::new(code, d.bytes)
}

#[test]
fn hello_prints_and_halts_with_zero() {
    require!(Prereq::Kvm);
    let out = boot(&hello_image(b"hello\n", 0), &[]);
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(stderr(&out), "");
    assert_eq!(status(&out), 0);
}

#[test]
fn halt_status_becomes_exit_status() {
    require!(Prereq::Kvm);
    let out = boot(&hello_image(b"", 7), &[]);
    assert_eq!(status(&out), 7);
    // Only the low 8 bits survive, as for solo5-hvt.
    let out = boot(&hello_image(b"", 0x1_0203), &[]);
    assert_eq!(status(&out), 3);
}

#[test]
fn command_line_reaches_the_guest() {
    require!(Prereq::Kvm);
    // With no devices the manifest copy is 8 + 104 bytes, so the command line follows it.
    let cmdline = MFT_COPY + 8 + 104;
    let mut d = Data::new();
    d.u64s(0, &[cmdline, 12]).u64s(0x40, &[0, 0]);
    let code = Asm::new()
        .hypercall(PUTS, DATA)
        .hypercall(HALT, DATA + 0x40)
        .hang()
        .finish();
    let path = write_image(&Image::new(code, d.bytes).build());
    let out = tender(&["--mem=4"], &path, &["one", "two", "3"]);
    assert_eq!(out.stdout_bytes, b"one two 3\0\0\0");
    assert_eq!(status(&out), 0);
}

#[test]
fn walltime_is_after_2017() {
    require!(Prereq::Kvm);
    // nsecs at DATA, halt(0) at +0x40, halt(9) at +0x60, nsecs preset to 0.
    let mut d = Data::new();
    d.u64s(0x40, &[0, 0]).u64s(0x60, &[0, 9]);
    let mut a = Asm::new();
    a.hypercall(WALLTIME, DATA)
        .load_rax(DATA)
        .mov_rcx(1_483_228_800_000_000_000)
        .cmp_rax_rcx();
    let halt_ok = Asm::new().hypercall(HALT, DATA + 0x40).finish();
    a.jbe(halt_ok.len() as i8);
    a.code.extend(halt_ok);
    a.hypercall(HALT, DATA + 0x60).hang();
    let out = boot(&Image::new(a.finish(), d.bytes), &[]);
    assert_eq!(status(&out), 0, "stderr: {}", stderr(&out));
}

#[test]
fn poll_with_timeout_returns_after_the_timeout() {
    require!(Prereq::Kvm);
    // poll {timeout 300 ms, ready_set preset 0x55, ret preset 0x55}; halt with ret.
    let mut d = Data::new();
    d.u64s(0, &[300_000_000, 0x55, 0x55]).u64s(0x40, &[0, 0x55]);
    let code = Asm::new()
        .hypercall(POLL, DATA)
        .load_rax(DATA + 16)
        .store_rax(DATA + 0x48)
        .hypercall(HALT, DATA + 0x40)
        .hang()
        .finish();
    let start = std::time::Instant::now();
    let out = boot(&Image::new(code, d.bytes), &[]);
    assert_eq!(status(&out), 0, "stderr: {}", stderr(&out));
    assert!(start.elapsed() >= std::time::Duration::from_millis(300));
}

/// BLOCK_WRITE 512 bytes of `pattern` at `offset`, BLOCK_READ them back into another
/// buffer, PUTS the first 16 bytes read, HALT with the read's `ret`.
fn block_image(offset: u64) -> Image {
    let pattern: Vec<u8> = (0..512u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut d = Data::new();
    d.u64s(0, &[1, offset, DATA + 0x200, 512, 0x55]) // write
        .u64s(0x40, &[1, offset, DATA + 0x400, 512, 0x55]) // read
        .u64s(0x80, &[DATA + 0x400, 16]) // puts
        .u64s(0xc0, &[0, 0x55]) // halt
        .put(0x200, &pattern);
    let code = Asm::new()
        .hypercall(BLOCK_WRITE, DATA)
        .hypercall(BLOCK_READ, DATA + 0x40)
        .hypercall(PUTS, DATA + 0x80)
        .load_rax(DATA + 0x40 + 32)
        .store_rax(DATA + 0xc8)
        .hypercall(HALT, DATA + 0xc0)
        .hang()
        .finish();
    Image::new(code, d.bytes).with_devices(&[("storage", BLOCK)])
}

#[test]
fn block_write_then_read_round_trips_through_the_file() {
    require!(Prereq::Kvm);
    let disk = scratch("disk.img");
    std::fs::write(&disk, vec![0u8; 4096]).expect("disk");
    let opt = format!("--block:storage={}", disk.display());
    let out = boot(&block_image(1024), &[&opt]);
    assert_eq!(status(&out), 0, "stderr: {}", stderr(&out));
    let pattern: Vec<u8> = (0..512u32).map(|i| (i * 7 + 3) as u8).collect();
    assert_eq!(out.stdout_bytes, pattern[..16]);
    let file = std::fs::read(&disk).expect("disk");
    assert_eq!(file.len(), 4096);
    assert_eq!(&file[1024..1536], &pattern[..]);
    assert!(file[..1024].iter().chain(&file[1536..]).all(|&b| b == 0));
}

#[test]
fn block_request_past_the_end_is_einval() {
    require!(Prereq::Kvm);
    let disk = scratch("disk.img");
    std::fs::write(&disk, vec![0u8; 4096]).expect("disk");
    let opt = format!("--block:storage={}", disk.display());
    // Offset 3840 + 512 > 4096: both calls return EINVAL (2); nothing is written.
    let out = boot(
        &block_image(3840),
        &[&opt, "--block-sector-size:storage=4096"],
    );
    assert_eq!(status(&out), 2, "stderr: {}", stderr(&out));
    assert_eq!(out.stdout_bytes, [0u8; 16]);
    assert!(std::fs::read(&disk).expect("disk").iter().all(|&b| b == 0));
}

#[test]
fn stats_report_counts_hypercalls() {
    require!(Prereq::Kvm);
    let out = boot(&hello_image(b"hi\n", 0), &["--stats"]);
    assert_eq!(status(&out), 0);
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "morgana-hvt stats:\n  vm exits: 2\n  hypercall puts: 1\n  hypercall halt: 1\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("start to first guest instruction: ") && err.contains(" ms\n"),
        "{err}"
    );
    assert!(!err.contains("n/a"), "{err}");
    // Every phase, once, in the order the tender goes through them.
    let phases: Vec<&str> = err
        .lines()
        .filter_map(|l| l.trim().strip_prefix("phase "))
        .filter_map(|l| l.split_once(": ").map(|(name, _)| name))
        .collect();
    assert_eq!(
        phases,
        [
            "read image and open devices",
            "map guest memory",
            "create vm and vcpu",
            "load image",
            "install seccomp",
            "run guest"
        ],
        "{err}"
    );
    assert!(err.contains("  monotonic clock at start: "), "{err}");
    assert!(err.contains("  monotonic clock at halt: "), "{err}");
}

#[test]
fn kvm_floor_runs_one_hlt_and_exits_zero() {
    require!(Prereq::Kvm);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_morgana-kvm-floor"))
        .arg("--stats")
        .output()
        .expect("spawn morgana-kvm-floor");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.starts_with("morgana-kvm-floor stats:\n  vm exits: 1\n  other exits: 1\n"),
        "{err}"
    );
}
