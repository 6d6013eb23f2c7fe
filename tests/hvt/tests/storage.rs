//! The `storage` example on one disk image across backends: booted three times as a unix
//! process, then twice on hvt, it counts 1 to 5; bad disks are refused with one line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hvt_tests::{boot, guest_output, workspace};
use morgana_build::{Profile, unix};
use morgana_testkit::{Outcome, Prereq, require, run};

struct Disk(PathBuf);
impl Disk {
    fn new(label: &str, size: usize) -> Disk {
        let path = std::env::temp_dir().join(format!(
            "morgana-storage-{label}-{}.img",
            std::process::id()
        ));
        std::fs::write(&path, vec![0u8; size]).unwrap();
        Disk(path)
    }
    fn flag(&self) -> String {
        format!("--block:storage={}", self.0.display())
    }
}
impl Drop for Disk {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn on_unix(disk: &Path, opts: &[&str], args: &[&str]) -> Outcome {
    let exe = unix::build(&workspace(), "storage", Profile::Release).expect("storage builds");
    let mut cmd = Command::new(exe);
    cmd.arg(format!("--block:storage={}", disk.display()))
        .args(opts)
        .arg("--")
        .args(args);
    run(&mut cmd, Duration::from_secs(60))
}

/// Checks one boot's two lines: the count, then the previous boot's UTC time.
fn assert_boot(out: &str, count: u32) {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], format!("storage: boot {count}"));
    if count == 1 {
        assert_eq!(lines[1], "storage: no previous boot");
        return;
    }
    let time = lines[1]
        .strip_prefix("storage: previous boot at ")
        .unwrap_or_else(|| panic!("{out}"));
    let shape = time.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        19 => b == b'Z',
        _ => b.is_ascii_digit(),
    });
    assert!(shape && time.len() == 20 && time.starts_with("20"), "{out}");
}

#[test]
fn one_disk_counts_three_unix_boots_then_two_hvt_boots() {
    require!(Prereq::Kvm);
    let disk = Disk::new("count", 1 << 20);
    for count in 1..=3 {
        let args: &[&str] = if count == 1 { &["--format"] } else { &[] };
        let out = on_unix(&disk.0, &[], args);
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (Some(0), ""),
            "unix boot {count}"
        );
        assert_boot(&out.stdout, count);
    }
    for count in 4..=5 {
        let out = boot(&["--mem=8", &disk.flag()], "storage", &[]);
        assert_eq!(out.code, Some(0), "hvt boot {count}: {}", out.stdout);
        assert_boot(&guest_output(&out), count);
    }
}

#[test]
fn a_disk_without_a_file_system_or_read_only_is_refused_untouched() {
    let blank = Disk::new("blank", 1 << 20);
    let out = on_unix(&blank.0, &[], &[]);
    let no_fs =
        "error: storage: no littlefs file system on 'storage' (use --format to create one)\n";
    assert_eq!((out.stderr.as_str(), out.code), (no_fs, Some(1)));
    assert_eq!(out.stdout, "");
    assert!(std::fs::read(&blank.0).unwrap().iter().all(|&b| b == 0));

    let odd = Disk::new("odd", 4096 * 5 + 512);
    let out = on_unix(&odd.0, &[], &["--format"]);
    assert_eq!(
        out.stderr,
        "error: storage: 'storage' cannot hold littlefs: 20992 bytes in sectors of 512 (need a \
         multiple of 4096 bytes, at least 8192, in sectors of at most 4096)\n"
    );
    assert_eq!(out.code, Some(1));

    let disk = Disk::new("ro", 1 << 20);
    assert_eq!(on_unix(&disk.0, &[], &["--format"]).code, Some(0));
    let before = std::fs::read(&disk.0).unwrap();
    let out = on_unix(&disk.0, &["--block-mode:storage=ro"], &[]);
    assert_eq!(
        (out.stderr.as_str(), out.code),
        (
            "error: cannot change 'boots/count': the store is read-only\n",
            Some(1)
        )
    );
    assert_eq!(
        std::fs::read(&disk.0).unwrap(),
        before,
        "a read-only disk changed"
    );

    require!(Prereq::Kvm);
    let out = boot(&["--mem=8", &blank.flag()], "storage", &[]);
    assert_eq!(guest_output(&out), no_fs);
    assert_eq!(out.code, Some(1));
    let out = boot(
        &["--mem=8", "--block-mode:storage=ro", &disk.flag()],
        "storage",
        &[],
    );
    assert_eq!(
        guest_output(&out),
        "error: cannot change 'boots/count': the store is read-only\n"
    );
    assert_eq!(out.code, Some(1));
    assert_eq!(std::fs::read(&disk.0).unwrap(), before);
}
