//! `block` as a process on real files: data goes where it should, and bad files or flags are
//! refused with one line and status 1 without touching the file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Outcome, run};

fn block(args: &[&str]) -> Outcome {
    run(
        Command::new(env!("CARGO_BIN_EXE_block")).args(args),
        Duration::from_secs(20),
    )
}

struct TempDir(PathBuf);
impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("morgana-block-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn file(&self, name: &str, size: usize) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, vec![0xa5u8; size]).unwrap();
        p
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn flag(name: &str, path: &Path) -> String {
    format!("--block:{name}={}", path.display())
}

#[test]
fn writes_and_reads_sector_zero_of_a_real_file() {
    let dir = TempDir::new("rw");
    let disk = dir.file("disk.img", 8 * 512);
    let out = block(&[&flag("storage", &disk), "--", "--write=hello disk"]);
    assert_eq!(
        out.stdout,
        "storage: 8 sectors of 512 bytes\nsector 0: \"hello disk\"\n"
    );
    assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""));
    let bytes = std::fs::read(&disk).unwrap();
    assert_eq!(&bytes[..10], b"hello disk");
    assert!(
        bytes[10..512].iter().all(|&b| b == 0),
        "rest of sector 0 zeroed"
    );
    assert!(
        bytes[512..].iter().all(|&b| b == 0xa5),
        "other sectors untouched"
    );
    let again = block(&[&flag("storage", &disk)]);
    assert_eq!(
        again.stdout,
        "storage: 8 sectors of 512 bytes\nsector 0: \"hello disk\"\n"
    );
}

#[test]
fn one_request_spans_many_sectors() {
    let dir = TempDir::new("span");
    let disk = dir.file("disk.img", 8 * 512);
    let out = block(&[&flag("storage", &disk), "--", "--span=6"]);
    assert_eq!(
        out.stdout,
        "storage: 8 sectors of 512 bytes\nsector 0: \"\\u{a5}\\u{a5}\"\nsectors 1..=6: written and read back in one request each\n"
            .replace("\\u{a5}\\u{a5}", &"\u{fffd}".repeat(512))
    );
    assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""));
    let bytes = std::fs::read(&disk).unwrap();
    for (i, sector) in bytes.chunks(512).enumerate() {
        let expected = if (1..=6).contains(&i) { i as u8 } else { 0xa5 };
        assert!(sector.iter().all(|&b| b == expected), "sector {i}");
    }
}

#[test]
fn a_read_only_device_refuses_writes_and_keeps_the_file() {
    let dir = TempDir::new("ro");
    let disk = dir.file("disk.img", 4 * 512);
    let ro = "--block-mode:storage=ro";
    let out = block(&[&flag("storage", &disk), ro]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("storage: 4 sectors of 512 bytes, read-only\n")
    );
    for app in ["--write=x", "--span=2"] {
        let out = block(&[&flag("storage", &disk), ro, "--", app]);
        assert_eq!(out.stderr, "error: the device is read-only\n", "{app}");
        assert_eq!(out.code, Some(1));
    }
    let bad = block(&[&flag("storage", &disk), "--block-mode:storage=readonly"]);
    assert_eq!(
        bad.stderr,
        "error: --block-mode:storage=readonly: the mode must be ro (read-only) or rw (read-write)\n"
    );
    assert_eq!(bad.code, Some(1));
    assert_eq!(std::fs::read(&disk).unwrap(), vec![0xa5u8; 4 * 512]);
}

#[test]
fn sector_size_comes_from_the_command_line() {
    let dir = TempDir::new("4k");
    let disk = dir.file("disk.img", 2 * 4096);
    let out = block(&[&flag("storage", &disk), "--block-sector-size:storage=4096"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.starts_with("storage: 2 sectors of 4096 bytes\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_devices_and_flags_are_refused_and_the_file_is_untouched() {
    let dir = TempDir::new("bad");
    let odd = dir.file("odd.img", 1000);
    let empty = dir.file("empty.img", 0);
    let small = dir.file("small.img", 1024);
    let missing = dir.0.join("missing.img");
    let cases: Vec<(Vec<String>, String)> = vec![
        (vec![], "error: device 'storage' is declared but not bound: pass --block:storage=...\n".into()),
        (
            vec![flag("disk", &small)],
            format!("error: {}: no device 'disk' is declared by this unikernel\n", flag("disk", &small)),
        ),
        (
            vec![format!("--net:storage=tap0")],
            "error: --net:storage=tap0: device 'storage' is declared as a block device\n".into(),
        ),
        (
            vec![flag("storage", &odd)],
            format!(
                "error: cannot use '{}' for block device 'storage': its size 1000 is not a non-zero multiple of the sector size 512\n",
                odd.display()
            ),
        ),
        (
            vec![flag("storage", &empty)],
            format!(
                "error: cannot use '{}' for block device 'storage': its size 0 is not a non-zero multiple of the sector size 512\n",
                empty.display()
            ),
        ),
        (
            vec![flag("storage", &small), "--block-sector-size:storage=4096".into()],
            format!(
                "error: cannot use '{}' for block device 'storage': its size 1024 is not a non-zero multiple of the sector size 4096\n",
                small.display()
            ),
        ),
        (
            vec![flag("storage", &missing)],
            format!(
                "error: cannot use '{}' for block device 'storage': No such file or directory (os error 2)\n",
                missing.display()
            ),
        ),
        (
            vec![flag("storage", &dir.0)],
            format!("error: cannot use '{}' for block device 'storage': Is a directory (os error 21)\n", dir.0.display()),
        ),
        (
            vec![flag("storage", &small), "--block-sector-size:storage=521".into()],
            "error: --block-sector-size:storage=521: the sector size must be a power of two, at least 512\n".into(),
        ),
        (
            vec![flag("storage", &small), "--".into(), format!("--write={}", "x".repeat(513))],
            "error: --write text is longer than one sector (512 bytes)\n".into(),
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = block(&args);
        assert_eq!(out.stderr, expected, "args {args:?}");
        assert_eq!(out.code, Some(1), "args {args:?}");
    }
    for (file, size) in [(&odd, 1000), (&small, 1024)] {
        assert_eq!(
            std::fs::read(file).unwrap(),
            vec![0xa5u8; size],
            "{} changed",
            file.display()
        );
    }
}
