//! Debugging hvt guests: symbolised backtraces of a panic and a fault three calls deep, and
//! `morgana-hvt --dumpcore` read by gdb.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use morgana_build::symbolize::{Symbolizer, debug_info_path};
use morgana_testkit::backtrace::assert_frames;
use morgana_testkit::{Outcome, Prereq, require, run};

use hvt_tests::{boot, image, tender, workspace};

const FILE: &str = "tests/conformance/backtrace/src/main.rs";

/// Boots `conformance-backtrace MODE` and returns its exit code and symbolised console.
fn backtrace_of(mode: &str) -> (Option<i32>, String) {
    let out = boot(&["--mem=4"], "conformance-backtrace", &[mode]);
    let image = image("conformance-backtrace");
    let symbolizer = Symbolizer::for_image(&image, Some(&workspace().root)).expect("debug info");
    let mut symbolised = Vec::new();
    symbolizer
        .copy(out.stdout.as_bytes(), &mut symbolised)
        .expect("symbolise");
    (out.code, String::from_utf8(symbolised).expect("UTF-8"))
}

#[test]
fn release_images_keep_their_debug_information_beside_them() {
    let image = image("conformance-backtrace");
    let debug = debug_info_path(&image);
    let (image_size, debug_size) = (
        std::fs::metadata(&image).unwrap().len(),
        std::fs::metadata(&debug).unwrap().len(),
    );
    assert!(debug_size > image_size, "{image_size} {debug_size}");
}

#[test]
fn a_panic_three_calls_deep_is_symbolised() {
    require!(Prereq::Kvm);
    let (code, out) = backtrace_of("panic");
    assert_eq!(code, Some(255), "{out}");
    assert!(
        out.contains(&format!(
            "\npanic: panicked at {FILE}:25:9:\nthree calls deep\nbacktrace: #0 ret 0x"
        )),
        "{out}"
    );
    assert_frames(
        &out,
        &[
            ("backtrace_inner_panic", &format!("{FILE}:25")),
            ("backtrace_middle", &format!("{FILE}:42")),
            ("backtrace_outer", &format!("{FILE}:50")),
        ],
    );
    assert!(out.ends_with("Solo5: solo5_exit(255) called\n"), "{out}");
}

#[test]
fn a_fault_three_calls_deep_is_symbolised() {
    require!(Prereq::Kvm);
    let (code, out) = backtrace_of("fault");
    assert_eq!(code, Some(255), "{out}");
    let trap = out
        .lines()
        .find(|l| l.starts_with("Solo5: trap: type=#PF ec=0x2 rip="))
        .unwrap_or_else(|| panic!("no trap line in {out}"));
    let rip = trap["Solo5: trap: type=#PF ec=0x2 rip=0x".len()..]
        .split(' ')
        .next()
        .unwrap_or_default();
    let rip = u64::from_str_radix(rip, 16).unwrap_or_else(|_| panic!("{trap}"));
    // Frame 0 is the faulting instruction, inside the innermost function (into which the
    // volatile write is inlined).
    assert!(
        out.contains(&format!("{trap}\nSolo5: backtrace: #0 pc {rip:#018x} ")),
        "{out}"
    );
    let first = assert_frames(
        &out,
        &[
            ("backtrace_inner_fault", &format!("{FILE}:34")),
            ("backtrace_middle", &format!("{FILE}:43")),
            ("backtrace_outer", &format!("{FILE}:50")),
        ],
    );
    assert_eq!(first, 0, "{out}");
    assert!(out.ends_with("Solo5: ABORT: fatal trap\n"), "{out}");
}

/// A fresh, empty directory for core files.
fn core_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("morgana-debug-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("core directory");
    dir
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// Boots `conformance-backtrace MODE` with `--dumpcore=DIR`; returns its outcome and the core.
fn dump(mode: &str, dir: &Path) -> (Outcome, PathBuf) {
    let opt = format!("--dumpcore={}", dir.display());
    let out = boot(&["--mem=4", &opt], "conformance-backtrace", &[mode]);
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    let files = files_in(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        out.stderr,
        format!("morgana-hvt: core dumped to {}\n", files[0].display())
    );
    (out, files[0].clone())
}

/// `gdb -batch -ex bt IMAGE CORE`: the frames it prints, one line each.
fn gdb_backtrace(core: &Path) -> String {
    let image = image("conformance-backtrace");
    let out = run(
        Command::new("gdb")
            .args(["-batch", "-nx", "-ex", "bt"])
            .arg(&image)
            .arg(core),
        Duration::from_secs(120),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.stdout
}

/// The function gdb names in frame `n` of `bt` (`#N  0x... in FUNCTION ()`), without crate
/// hashes.
fn gdb_frame(bt: &str, n: usize) -> String {
    let line = bt
        .lines()
        .find(|l| l.starts_with(&format!("#{n} ")))
        .unwrap_or_else(|| panic!("no frame {n} in {bt}"));
    let name = line.split(" in ").nth(1).unwrap_or_default();
    let name = name.split(" (").next().unwrap_or_default();
    let mut plain = String::new();
    let mut hash = false;
    for c in name.chars() {
        match c {
            '[' => hash = true,
            ']' => hash = false,
            c if !hash => plain.push(c),
            _ => {}
        }
    }
    plain
}

#[test]
fn dumpcore_after_a_fault_opens_in_gdb_at_the_faulting_function() {
    require!(Prereq::Kvm);
    require!(Prereq::Tool("gdb"));
    let dir = core_dir("fault");
    let (_, core) = dump("fault", &dir);
    let bt = gdb_backtrace(&core);
    assert!(
        bt.contains("Program terminated with signal SIGSEGV"),
        "{bt}"
    );
    assert_eq!(
        gdb_frame(&bt, 0),
        "conformance_backtrace::backtrace_inner_fault",
        "{bt}"
    );
    assert_eq!(
        gdb_frame(&bt, 1),
        "conformance_backtrace::backtrace_middle",
        "{bt}"
    );
    assert_eq!(
        gdb_frame(&bt, 2),
        "conformance_backtrace::backtrace_outer",
        "{bt}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dumpcore_after_a_panic_shows_the_panicking_calls() {
    require!(Prereq::Kvm);
    require!(Prereq::Tool("gdb"));
    let dir = core_dir("panic");
    let (_, core) = dump("panic", &dir);
    let bt = gdb_backtrace(&core);
    assert!(
        bt.contains("Program terminated with signal SIGABRT"),
        "{bt}"
    );
    let frames: Vec<String> = (0..64)
        .take_while(|n| bt.lines().any(|l| l.starts_with(&format!("#{n} "))))
        .map(|n| gdb_frame(&bt, n))
        .collect();
    let at = frames
        .iter()
        .position(|f| f == "conformance_backtrace::backtrace_inner_panic")
        .unwrap_or_else(|| panic!("{bt}"));
    assert_eq!(
        frames[at + 1..at + 3],
        [
            "conformance_backtrace::backtrace_middle",
            "conformance_backtrace::backtrace_outer"
        ],
        "{bt}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dumpcore_leaves_nothing_after_a_normal_exit() {
    require!(Prereq::Kvm);
    let dir = core_dir("normal");
    let opt = format!("--dumpcore={}", dir.display());
    let out = boot(&["--mem=4", &opt], "conformance-hello", &["x"]);
    assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""));
    // Status 1 (an application error) is no abort either.
    let out = boot(&["--mem=4", &opt], "conformance-backtrace", &[]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert_eq!(files_in(&dir), Vec::<PathBuf>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dumpcore_into_a_missing_directory_fails_before_the_guest_starts() {
    let missing = std::env::temp_dir().join(format!("morgana-debug-{}-none", std::process::id()));
    let opt = format!("--dumpcore={}", missing.display());
    let out = boot(&["--mem=4", &opt], "conformance-backtrace", &["fault"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr),
        (
            Some(1),
            "",
            format!(
                "morgana-hvt: --dumpcore: {}: No such file or directory (os error 2)\n",
                missing.display()
            )
        )
    );
}

#[test]
fn dumpcore_into_an_unwritable_directory_fails_before_the_guest_starts() {
    require!(Prereq::Root);
    // A directory only root may write to, and the tender run as nobody.
    let dir = core_dir("unwritable");
    let mut cmd = Command::new(tender());
    cmd.arg("--mem=4")
        .arg(format!("--dumpcore={}", dir.display()))
        .arg(image("conformance-backtrace"))
        .arg("fault")
        .uid(65534)
        .gid(65534);
    let out = run(&mut cmd, Duration::from_secs(60));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(1), ""),
        "{}",
        out.stderr
    );
    let prefix = format!(
        "morgana-hvt: --dumpcore: {}/core.morgana-hvt.",
        dir.display()
    );
    assert!(
        out.stderr.starts_with(&prefix)
            && out.stderr.ends_with(": Permission denied (os error 13)\n")
            && out.stderr.lines().count() == 1,
        "{}",
        out.stderr
    );
    assert_eq!(files_in(&dir), Vec::<PathBuf>::new());
    let _ = std::fs::remove_dir_all(&dir);
}
