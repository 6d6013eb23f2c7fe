//! Debian's Xen, dom0 kernel and busybox: downloaded with `apt-get download`, unpacked with
//! `dpkg-deb -x`, never installed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::scripts;
use crate::cpio::Cpio;
use crate::debian;
use morgana_build::Result;
use morgana_build::io_error;

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

/// Downloads and unpacks the packages and the dom0 kernel (once); returns the unpacked tree.
pub fn fetch(dir: &Path) -> Result<PathBuf> {
    let mut wanted: Vec<String> = PACKAGES.iter().map(|s| s.to_string()).collect();
    wanted.push(debian::kernel_package()?);
    debian::fetch(dir, &wanted, "xenlab")
}

/// A hash of everything the dom0 initramfs is built from besides the packages.
pub fn recipe_hash() -> u64 {
    let parts = [scripts::INIT, scripts::VIF, scripts::BLOCK];
    debian::recipe_hash(
        parts
            .into_iter()
            .chain(MODULES.iter().copied())
            .chain(PROGRAMS.iter().copied()),
    )
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
    let kernel_modules = debian::modules_dir(root)?;
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
        files.extend(debian::libraries(root, &file)?);
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
