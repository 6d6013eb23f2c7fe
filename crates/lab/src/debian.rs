//! Debian packages for the labs: downloaded with `apt-get download`, unpacked with
//! `dpkg-deb -x` (never installed) and cached; the kernel, its modules and the shared libraries
//! of programs found in the unpacked tree.

use std::path::{Path, PathBuf};
use std::process::Command;

use morgana_build::io_error;
use morgana_build::{Error, Result, run_captured, run_checked};

/// The versioned kernel package `linux-image-amd64` depends on (e.g. `linux-image-6.1.0-56-amd64`).
pub fn kernel_package() -> Result<String> {
    let out = run_captured(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))?;
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-"))
        .map(str::to_string)
        .ok_or_else(|| Error::Missing("apt-cache names no kernel for linux-image-amd64".into()))
}

/// Downloads `packages` into `dir/debs` (those not there yet) and unpacks them all into
/// `dir/root`, once: a stamp file marks the tree complete. Returns the unpacked tree.
///
/// `label` names the lab in progress messages.
pub fn fetch(dir: &Path, packages: &[String], label: &str) -> Result<PathBuf> {
    let debs = dir.join("debs");
    let root = dir.join("root");
    let stamp = dir.join("root.stamp");
    if stamp.exists() {
        return Ok(root);
    }
    std::fs::create_dir_all(&debs).map_err(|e| io_error(&debs, e))?;
    let have = |p: &str| {
        std::fs::read_dir(&debs).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{p}_"))
            })
        })
    };
    let missing: Vec<&String> = packages.iter().filter(|p| !have(p)).collect();
    if !missing.is_empty() {
        eprintln!("{label}: apt-get download {} packages", missing.len());
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

/// The kernel (`boot/vmlinuz-*`) in the unpacked tree.
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

/// The kernel's module tree (`lib/modules/VERSION/kernel`) in the unpacked tree.
pub fn modules_dir(root: &Path) -> Result<PathBuf> {
    let base = root.join("lib/modules");
    std::fs::read_dir(&base)
        .map_err(|e| io_error(&base, e))?
        .flatten()
        .map(|e| e.path().join("kernel"))
        .find(|p| p.is_dir())
        .ok_or_else(|| Error::Missing(format!("no kernel modules in {}", base.display())))
}

/// Shared libraries `binary` needs, as (path inside the lab, file to copy), found with `ldd`
/// preferring the unpacked tree `root` (the C library and libgcc come from the host, which is
/// Debian bookworm like the packages).
pub fn libraries(root: &Path, binary: &Path) -> Result<Vec<(String, PathBuf)>> {
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
        if line.contains("not found") {
            return Err(Error::Missing(format!(
                "{}: {}",
                binary.display(),
                line.trim()
            )));
        }
        if let Some(file) = ldd_path(line) {
            let inside = file
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| file.to_string_lossy().trim_start_matches('/').to_string());
            libs.push((inside, file));
        }
    }
    Ok(libs)
}

/// The library file one line of `ldd` output names, if any (`vdso` names none).
fn ldd_path(line: &str) -> Option<PathBuf> {
    let path = match line.split_once("=>") {
        Some((_, rhs)) => rhs.trim().split(' ').next().unwrap_or(""),
        None => line.trim().split(' ').next().unwrap_or(""),
    };
    path.starts_with('/').then(|| PathBuf::from(path))
}

/// The FNV-1a hash of `parts` (each ended by a NUL): names cached files after the recipe they
/// were made from, so a change to the recipe rebuilds them.
pub fn recipe_hash<'a>(parts: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for text in parts {
        for b in text.bytes().chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_lines_name_their_libraries() {
        assert_eq!(
            ldd_path("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f00)"),
            Some(PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"))
        );
        assert_eq!(
            ldd_path("\t/lib64/ld-linux-x86-64.so.2 (0x00007f00)"),
            Some(PathBuf::from("/lib64/ld-linux-x86-64.so.2"))
        );
        assert_eq!(ldd_path("\tlinux-vdso.so.1 (0x00007ffd)"), None);
    }

    #[test]
    fn the_recipe_hash_depends_on_every_part_and_its_boundaries() {
        assert_eq!(recipe_hash([]), 0xcbf2_9ce4_8422_2325);
        assert_ne!(recipe_hash(["ab", "c"]), recipe_hash(["a", "bc"]));
        assert_eq!(recipe_hash(["ab", "c"]), recipe_hash(["ab", "c"]));
    }
}
