//! Debian's Xen, dom0 kernel and busybox: downloaded with `apt-get download`, unpacked with
//! `dpkg-deb -x`, never installed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::cpio::Cpio;
use super::scripts;
use morgana_build::io_error;
use morgana_build::{Error, Result, run_captured, run_checked};

/// Packages the lab is made of (the dom0 kernel is added: `linux-image-amd64`'s dependency).
pub const PACKAGES: &[&str] = &[
    "xen-hypervisor-4.17-amd64",
    "xen-utils-4.17",
    "xen-utils-common",
    "xenstore-utils",
    "libxencall1",
    "libxenevtchn1",
    "libxenforeignmemory1",
    "libxengnttab1",
    "libxenmisc4.17",
    "libxenstore4",
    "libxentoollog1",
    "libxentoolcore1",
    "libxendevicemodel1",
    "libxenhypfs1",
    "libyajl2",
    "busybox-static",
];

/// Kernel modules dom0 loads, in load order.
pub const MODULES: &[&str] = &[
    "drivers/xen/xen-evtchn.ko",
    "drivers/xen/xen-gntdev.ko",
    "drivers/xen/xen-gntalloc.ko",
    "drivers/xen/xen-privcmd.ko",
    "drivers/xen/xenfs/xenfs.ko",
    "drivers/block/xen-blkback/xen-blkback.ko",
    "drivers/net/xen-netback/xen-netback.ko",
    "drivers/block/loop.ko",
];

/// dom0 programs, at their Debian paths.
const PROGRAMS: &[&str] = &[
    "usr/lib/xen-4.17/bin/xl",
    "usr/lib/xen-4.17/bin/xenstored",
    "usr/lib/xen-4.17/bin/xenconsoled",
    "usr/lib/xen-4.17/bin/xen-init-dom0",
    "usr/lib/xen-4.17/bin/libxl-save-helper",
    "usr/bin/xenstore",
];

fn kernel_package() -> Result<String> {
    let out = run_captured(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))?;
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-"))
        .map(str::to_string)
        .ok_or_else(|| Error::Missing("apt-cache names no kernel for linux-image-amd64".into()))
}

/// Downloads and unpacks the packages (once); returns the unpacked tree.
pub fn fetch(dir: &Path) -> Result<PathBuf> {
    let debs = dir.join("debs");
    let root = dir.join("root");
    let stamp = dir.join("root.stamp");
    if stamp.exists() {
        return Ok(root);
    }
    std::fs::create_dir_all(&debs).map_err(|e| io_error(&debs, e))?;
    let mut wanted: Vec<String> = PACKAGES.iter().map(|s| s.to_string()).collect();
    wanted.push(kernel_package()?);
    let have = |p: &str| {
        std::fs::read_dir(&debs).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{p}_"))
            })
        })
    };
    let missing: Vec<&String> = wanted.iter().filter(|p| !have(p)).collect();
    if !missing.is_empty() {
        eprintln!("xenlab: apt-get download {} packages", missing.len());
        run_checked(
            Command::new("apt-get")
                .current_dir(&debs)
                .args(["download", "-q"])
                .args(&missing),
        )
        .map_err(|_| {
            Error::Missing(
                "apt-get download failed: the lab needs Debian bookworm's package lists (apt-get update)"
                    .into(),
            )
        })?;
    }
    std::fs::create_dir_all(&root).map_err(|e| io_error(&root, e))?;
    for entry in std::fs::read_dir(&debs).map_err(|e| io_error(&debs, e))? {
        let path = entry.map_err(|e| io_error(&debs, e))?.path();
        if path.extension().is_some_and(|x| x == "deb") {
            run_checked(Command::new("dpkg-deb").arg("-x").arg(&path).arg(&root))?;
        }
    }
    std::fs::write(&stamp, "").map_err(|e| io_error(&stamp, e))?;
    Ok(root)
}

/// The dom0 kernel in the unpacked tree.
pub fn kernel(root: &Path) -> Result<PathBuf> {
    let boot = root.join("boot");
    std::fs::read_dir(&boot)
        .map_err(|e| io_error(&boot, e))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .ok_or_else(|| Error::Missing(format!("no vmlinuz in {}", boot.display())))
}

fn modules_dir(root: &Path) -> Result<PathBuf> {
    let base = root.join("lib/modules");
    std::fs::read_dir(&base)
        .map_err(|e| io_error(&base, e))?
        .flatten()
        .map(|e| e.path().join("kernel"))
        .find(|p| p.is_dir())
        .ok_or_else(|| Error::Missing(format!("no kernel modules in {}", base.display())))
}

/// Shared libraries `binary` needs, as (path in dom0, file to copy), found with `ldd`
/// preferring the unpacked tree (the C library and libgcc come from the host, which is Debian
/// bookworm like the packages).
fn libraries(root: &Path, binary: &Path) -> Result<Vec<(String, PathBuf)>> {
    let lib_path = format!(
        "{}:{}",
        root.join("usr/lib/x86_64-linux-gnu").display(),
        root.join("lib/x86_64-linux-gnu").display()
    );
    let out = run_captured(
        Command::new("ldd")
            .arg(binary)
            .env("LD_LIBRARY_PATH", lib_path),
    )?;
    let mut libs = Vec::new();
    for line in out.lines() {
        let path = match line.split_once("=>") {
            Some((_, rhs)) => rhs.trim().split(' ').next().unwrap_or(""),
            None => line.trim().split(' ').next().unwrap_or(""),
        };
        if path.starts_with('/') {
            let file = PathBuf::from(path);
            let inside = file
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| path.trim_start_matches('/').to_string());
            if inside.contains("not found") {
                return Err(Error::Missing(format!("{}: {line}", binary.display())));
            }
            libs.push((inside, file));
        } else if line.contains("not found") {
            return Err(Error::Missing(format!(
                "{}: {}",
                binary.display(),
                line.trim()
            )));
        }
    }
    Ok(libs)
}

/// A hash (FNV-1a) of everything the dom0 initramfs is built from besides the packages.
pub fn recipe_hash() -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [scripts::INIT, scripts::VIF, scripts::BLOCK];
    for text in parts.iter().chain(MODULES).chain(PROGRAMS) {
        for b in text.bytes().chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The dom0 initramfs: busybox, the Xen tools and their libraries, modules, scripts, `/init`.
pub fn dom0_initramfs(root: &Path) -> Result<Vec<u8>> {
    let mut c = Cpio::default();
    let mut seen = BTreeSet::new();
    let read = |p: &Path| std::fs::read(p).map_err(|e| io_error(p, e));
    for d in [
        "bin",
        "dev",
        "proc",
        "sys",
        "tmp",
        "etc",
        "lib",
        "lib/modules",
        "var",
        "run",
    ] {
        seen.insert(d.to_string());
        c.dir(d);
    }
    c.file("bin/busybox", 0o755, &read(&root.join("bin/busybox"))?);
    c.symlink("bin/sh", "busybox");
    c.file("init", 0o755, scripts::INIT.as_bytes());
    for (name, text) in [
        ("morgana-vif", scripts::VIF),
        ("morgana-block", scripts::BLOCK),
    ] {
        let path = format!("etc/xen/scripts/{name}");
        c.parents(&path, &mut seen);
        c.file(&path, 0o755, text.as_bytes());
    }
    c.file("etc/xen/xl.conf", 0o644, b"autoballoon=\"off\"\n");
    let kernel_modules = modules_dir(root)?;
    for m in MODULES {
        let file = kernel_modules.join(m);
        let name = Path::new(m)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        c.file(
            &format!("lib/modules/{}", name.unwrap_or_default()),
            0o644,
            &read(&file)?,
        );
    }
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for p in PROGRAMS {
        let file = root.join(p);
        files.extend(libraries(root, &file)?);
        files.push((p.to_string(), file));
    }
    // xl needs libgcc_s for pthread_cancel, which it loads at run time.
    let gcc = Path::new("/lib/x86_64-linux-gnu/libgcc_s.so.1");
    files.push((
        "lib/x86_64-linux-gnu/libgcc_s.so.1".into(),
        gcc.to_path_buf(),
    ));
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0);
    for (inside, file) in &files {
        c.parents(inside, &mut seen);
        // Follow symlinks: the dom0 gets the real contents under the linked name.
        c.file(inside, 0o755, &read(file)?);
    }
    // The xenstore client is one program under several names.
    for tool in [
        "xenstore-read",
        "xenstore-write",
        "xenstore-ls",
        "xenstore-list",
        "xenstore-rm",
    ] {
        c.symlink(&format!("usr/bin/{tool}"), "xenstore");
    }
    Ok(c.finish())
}
