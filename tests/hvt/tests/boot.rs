//! Boot tests: hvt images built by the library, booted on `/dev/kvm` by our tender, with exact
//! output and exit status. Guest code runs very slowly on our KVM-PVM machines, so every guest
//! does little work.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hvt_tests::{boot, guest_output, image, image_with, tender, workspace};
use morgana_build::baremetal::Float;
use morgana_build::{Profile, hvt};
use morgana_testkit::{Netns, Prereq, Process, require, run};

fn temp_file(name: &str, size: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("morgana-boot-{}-{name}", std::process::id()));
    std::fs::write(&path, vec![0u8; size]).unwrap();
    path
}

#[test]
fn tutorial_hello_prints_four_lines_and_exits_0() {
    require!(Prereq::Kvm);
    let out = boot(&["--mem=2"], "hello", &[]);
    assert_eq!(guest_output(&out), "hello\n".repeat(4));
    assert!(
        out.stdout
            .starts_with("Solo5: Morgana hvt guest, Solo5 ABI version 2\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("Solo5: solo5_exit(0) called\n"),
        "{}",
        out.stdout
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn conformance_hello_echoes_its_command_line_and_quiet_is_quiet() {
    require!(Prereq::Kvm);
    let out = boot(
        &["--mem=4"],
        "conformance-hello",
        &["Hello_Solo5", "a", "", "b"],
    );
    assert_eq!(
        guest_output(&out),
        "Hello, World\nCommand line is: 'Hello_Solo5 a b'\nSUCCESS\n"
    );
    assert_eq!(out.code, Some(0));
    let out = boot(&["--mem=4"], "conformance-quiet", &["--solo5:quiet"]);
    assert_eq!((out.stdout.as_str(), out.code), ("SUCCESS\n", Some(0)));
}

#[test]
fn globals_entropy_and_time_succeed() {
    require!(Prereq::Kvm);
    for package in [
        "conformance-globals",
        "conformance-entropy",
        "conformance-time",
    ] {
        let out = boot(&["--mem=4"], package, &[]);
        assert!(
            guest_output(&out).ends_with("SUCCESS\n"),
            "{package}: {}",
            out.stdout
        );
        assert_eq!(out.code, Some(0), "{package}: {}", out.stdout);
    }
}

/// `getrandom` 0.2 and 0.3 and `OsRng`, used as third-party crates use them, draw from
/// Morgana's entropy: nothing else could serve them on hvt.
#[test]
fn getrandom_draws_from_the_platform_with_no_user_code() {
    require!(Prereq::Kvm);
    let out = boot(&["--mem=4"], "conformance-getrandom", &[]);
    assert_eq!(
        guest_output(&out),
        "getrandom 0.2: two different 32-byte draws\n\
         getrandom 0.3: two different 32-byte draws\n\
         rand_core OsRng: two different 32-byte draws\n\
         SUCCESS\n"
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn cpu_traps_are_reported_and_halt_with_255() {
    require!(Prereq::Kvm);
    for (package, cr2) in [
        ("conformance-exception", "cr2=0x400000000"),
        ("conformance-zeropage", "cr2=0x8"),
    ] {
        let out = boot(&["--mem=4"], package, &[]);
        assert_eq!(out.code, Some(255), "{package}: {}", out.stdout);
        let trap = out
            .stdout
            .lines()
            .find(|l| l.starts_with("Solo5: trap: type=#PF ec=0x2 "))
            .unwrap_or_else(|| {
                panic!("{package}: no trap line in {}", out.stdout);
            });
        assert!(trap.ends_with(cr2), "{package}: {trap}");
        assert!(
            out.stdout.ends_with("Solo5: ABORT: fatal trap\n"),
            "{package}: {}",
            out.stdout
        );
    }
}

/// Unbounded recursion runs into the unmapped guard below the stack: at `--mem=4` the stack's
/// reserve is the top 256 KiB, the guard its lowest 32 KiB (0x3c0000 to 0x3c8000), so the first
/// write past the stack is a page fault in the guard's top page (the recursion's frames are
/// smaller than a page). The heap below is never
/// written, and the program never reaches its last line.
#[test]
fn a_stack_overflow_is_a_page_fault_in_the_guard() {
    require!(Prereq::Kvm);
    let out = boot(&["--mem=4"], "conformance-stackoverflow", &[]);
    assert_eq!(out.code, Some(255), "{}", out.stdout);
    assert_eq!(
        guest_output(&out),
        "recursing until the stack overflows\n",
        "{}",
        out.stdout
    );
    let mut lines = out
        .stdout
        .lines()
        .skip_while(|l| *l != "recursing until the stack overflows");
    lines.next();
    let trap = lines.next().unwrap_or_default();
    let address = trap
        .strip_prefix("Solo5: trap: stack overflow (page fault at 0x3c7")
        .and_then(|rest| rest.strip_suffix(" in the guard page below the stack)"))
        .unwrap_or_else(|| panic!("no stack overflow line after the guest's: {}", out.stdout));
    assert!(
        address.len() == 3 && address.chars().all(|c| c.is_ascii_hexdigit()),
        "{trap}"
    );
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("Solo5: backtrace: #0 pc 0x")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("Solo5: ABORT: fatal trap\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn block_io_with_512_and_4096_byte_sectors() {
    require!(Prereq::Kvm);
    for (sector, file_size) in [(512usize, 16 * 512), (4096, 4 * 4096)] {
        let disk = temp_file(&format!("blk-{sector}"), file_size);
        let opts = [
            format!("--block:storage={}", disk.display()),
            format!("--block-sector-size:storage={sector}"),
        ];
        let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
        let out = boot(&[&["--mem=4"], &opts[..]].concat(), "conformance-blk", &[]);
        let sectors = file_size / sector;
        assert_eq!(
            guest_output(&out),
            format!("storage: {sectors} sectors of {sector} bytes\nSUCCESS\n")
        );
        assert_eq!(out.code, Some(0));
        let bytes = std::fs::read(&disk).unwrap();
        assert!(
            bytes.iter().any(|&b| b != 0),
            "the guest's writes reached the file"
        );
        std::fs::remove_file(&disk).unwrap();
    }
}

#[test]
fn block_example_writes_what_the_host_reads() {
    require!(Prereq::Kvm);
    let disk = temp_file("block-example", 8 * 512);
    let flag = format!("--block:storage={}", disk.display());
    let out = boot(&["--mem=4", &flag], "block", &["--write=from-the-guest"]);
    assert_eq!(
        guest_output(&out),
        "storage: 8 sectors of 512 bytes\nsector 0: \"from-the-guest\"\n"
    );
    assert_eq!(out.code, Some(0));
    assert_eq!(&std::fs::read(&disk).unwrap()[..14], b"from-the-guest");
    std::fs::remove_file(&disk).unwrap();
}

#[test]
fn block_requests_span_sectors_and_read_only_disks_refuse_writes() {
    require!(Prereq::Kvm);
    let disk = temp_file("block-span", 8 * 512);
    let flag = format!("--block:storage={}", disk.display());
    let out = boot(&["--mem=4", "--stats", &flag], "block", &["--span=6"]);
    assert_eq!(
        guest_output(&out),
        "storage: 8 sectors of 512 bytes\nsector 0: \"\"\nsectors 1..=6: written and read back in one request each\n"
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let bytes = std::fs::read(&disk).unwrap();
    for (i, sector) in bytes.chunks(512).enumerate() {
        let expected = if (1..=6).contains(&i) { i as u8 } else { 0 };
        assert!(sector.iter().all(|&b| b == expected), "sector {i}");
    }
    let ro = "--block-mode:storage=ro";
    let out = boot(&["--mem=4", ro, &flag], "block", &[]);
    assert!(
        guest_output(&out).starts_with("storage: 8 sectors of 512 bytes, read-only\n"),
        "{}",
        out.stdout
    );
    assert_eq!(out.code, Some(0));
    let out = boot(&["--mem=4", ro, &flag], "block", &["--span=2"]);
    assert!(
        out.stdout.contains("error: the device is read-only\n"),
        "{}",
        out.stdout
    );
    assert_eq!(out.code, Some(1));
    assert_eq!(
        std::fs::read(&disk).unwrap(),
        bytes,
        "the read-only disk changed"
    );
    std::fs::remove_file(&disk).unwrap();
}

#[test]
fn sixty_three_devices_fit_in_the_manifest() {
    require!(Prereq::Kvm);
    let files: Vec<PathBuf> = (0..63)
        .map(|i| temp_file(&format!("mft-{i}"), 512))
        .collect();
    let opts: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(i, f)| format!("--block:storage{i}={}", f.display()))
        .collect();
    let mut all: Vec<&str> = vec!["--mem=4"];
    all.extend(opts.iter().map(String::as_str));
    let out = boot(&all, "conformance-mft_maxdevices", &[]);
    assert!(guest_output(&out).ends_with("SUCCESS\n"), "{}", out.stdout);
    assert_eq!(out.code, Some(0));
    files.iter().for_each(|f| std::fs::remove_file(f).unwrap());
}

#[test]
fn c_code_gives_the_same_output_as_on_unix() {
    require!(Prereq::Kvm);
    let out = boot(&["--mem=4"], "checksum", &["--text=123456789"]);
    assert_eq!(
        guest_output(&out),
        "crc32=cbf43926 adler32=091e01de length=9\n"
    );
    assert_eq!(out.code, Some(0));
}

#[test]
fn a_crates_io_c_library_runs_unchanged() {
    require!(Prereq::Kvm);
    // zstd-sys compiles libzstd with `cc`; the build passes the target's C flags and headers.
    // Debug build: optimised libzstd picks BMI2 code (`shlx`) by CPUID, which KVM-PVM's
    // instruction emulator cannot run; on hardware KVM the release image works too.
    let mut cmd = Command::new(tender());
    cmd.arg("--mem=16")
        .arg(image_with("compress", Profile::Debug))
        .arg("--repeat=1000");
    let out = run(&mut cmd, Duration::from_secs(120));
    assert_eq!(
        guest_output(&out),
        "zstd: 8000 -> 26 bytes, round trip ok\n"
    );
    assert_eq!(out.code, Some(0));
}

#[test]
fn boot_argument_errors_end_the_guest_with_status_1() {
    require!(Prereq::Kvm);
    let out = boot(&["--mem=4"], "hello-key", &[]);
    assert_eq!(
        guest_output(&out),
        "error: missing boot argument --hello=TEXT\n"
    );
    assert_eq!(out.code, Some(1));
    let out = boot(&["--mem=4"], "hello-key", &["--solo5:loud", "--hello=x"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
}

/// Boots `conformance-net` in a new namespace `ns_name` with the guest arguments `args` (which
/// include `--limit=3`), pings it three times from the host, and asserts that all three are
/// answered and that the guest then exits 0.
fn three_pings_are_answered(ns_name: &str, args: &[&str]) {
    let ns = Netns::new(ns_name);
    ns.add_tap("mgtap0", 1500, Some("10.0.0.1/24"));
    let image = image("conformance-net");
    let mut guest = Process::start(
        ns.command(tender())
            .args(["--mem=4", "--net:service0=mgtap0"])
            .arg(&image)
            .args(args),
    );
    // Ping once the guest serves: a ping sent while it still boots waits on ARP, whose timing
    // is the host's, not the guest's.
    guest.wait_for_line("Serving ping on 10.0.0.2", Duration::from_secs(60));
    let ping = run(
        ns.command("ping")
            .args(["-c", "3", "-i", "0.3", "-W", "20", "10.0.0.2"]),
        Duration::from_secs(90),
    );
    assert!(
        ping.stdout.contains("3 packets transmitted, 3 received"),
        "{}",
        ping.stdout
    );
    assert_eq!(
        guest.wait(Duration::from_secs(60)).and_then(|s| s.code()),
        Some(0)
    );
}

#[test]
fn the_net_conformance_unikernel_answers_ping_over_a_real_tap() {
    // ping: Debian package iputils-ping.
    require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("ping"));
    three_pings_are_answered("hvtnet", &["--limit=3"]);
}

/// A task that keeps itself runnable forever does not keep the net device's readiness from the
/// task that reads it: the executor's non-blocking `POLL` after a few busy passes reports it.
/// Without that check the guest never made a `POLL` and no ping was answered.
#[test]
fn pings_are_answered_while_a_task_keeps_itself_runnable() {
    // ping: Debian package iputils-ping.
    require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("ping"));
    three_pings_are_answered("hvtbusy", &["--limit=3", "--busy-task"]);
}

/// A library written only against the interfaces compiles for bare metal without a `cfg` of
/// its own: the in-memory switch (over `morgana-net`) and the C checksum crate.
#[test]
fn interface_libraries_compile_for_hvt_unchanged() {
    let ws = workspace();
    for lib in ["morgana-vnet", "checksum-c"] {
        hvt::check_library(&ws, lib, Float::Hard).unwrap_or_else(|e| panic!("{lib}: {e}"));
    }
    assert!(Path::new(&ws.root).join("crates/vnet/src/lib.rs").exists());
}

/// What every build of `conformance-fpu` prints first and last: the same bits with or without
/// SSE.
const FPU_FIRST: &str = "H(100) bits 0x4014bfdfe4591243\npcmpeqb mask 0x7ded\n";
const FPU_LAST: &str = "scalar mul-add bits 0xc038666666666666\nSUCCESS\n";

/// A hard-float image on this host's KVM: either it computes the known results (a KVM that
/// runs SSE in a guest), or the tender says in one line why it stopped and what to do instead
/// (KVM-PVM stops at the first SSE compare): never a bare "internal error".
#[test]
fn a_hard_float_image_runs_or_the_tender_says_why_not() {
    require!(Prereq::Kvm);
    let image = hvt::build(&workspace(), "conformance-fpu", Profile::Release).expect("builds");
    let out = run(
        Command::new(tender()).arg("--mem=4").arg(&image),
        Duration::from_secs(120),
    );
    if out.code == Some(0) {
        let guest = guest_output(&out);
        assert!(guest.starts_with(FPU_FIRST), "{guest}");
        assert!(guest.ends_with(FPU_LAST), "{guest}");
    } else {
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        let (head, tail) = out
            .stderr
            .split_once(": this host's KVM could not run")
            .unwrap_or_else(|| panic!("no explanation in {:?}", out.stderr));
        assert!(head.starts_with("morgana-hvt: KVM: internal error exit at rip=0x"));
        assert_eq!(
            tail,
            " an instruction of this hard-float image (KVM-PVM cannot run SSE in a guest); \
             build it with --float=soft, or run it in the KVM lab (cargo xtask kvmlab)\n"
        );
    }
}

/// A soft-float image must not be shown SIMD. Where the host lets it through (KVM-PVM does not
/// intercept CPUID), the image says so on its console, and `conformance-fpu` refuses to go on
/// rather than risk a wrong answer; where the tender's mask holds, it computes and succeeds.
#[test]
fn a_soft_float_image_that_sees_simd_says_so() {
    require!(Prereq::Kvm);
    let out = boot(&["--mem=4"], "conformance-fpu", &[]);
    let warned = out.stdout.lines().any(|l| {
        l == "Solo5: warning: CPUID shows SIMD to this soft-float image; code choosing SIMD by \
              CPUID may give wrong results: run it under morgana-hvt on hardware KVM, or hard-float"
    });
    let guest = guest_output(&out);
    assert!(guest.starts_with(FPU_FIRST), "{guest}");
    if guest.contains("avx offered: yes\n") {
        assert!(warned, "AVX shown without the warning: {}", out.stdout);
        assert!(
            guest.ends_with("error: a soft-float image is shown AVX\n"),
            "{guest}"
        );
        assert_eq!(out.code, Some(1));
    } else {
        assert!(
            guest.ends_with(&format!("avx offered: no\n{FPU_LAST}")),
            "{guest}"
        );
        assert_eq!(out.code, Some(0), "{}", out.stdout);
    }
}
