//! The `hvt` target: a Solo5 hvt image (ABI version 2) for a tender on KVM.
//!
//! The target JSON and the linker script are part of this library (so a workspace that depends
//! on it needs no copy of them): [`write_target_files`] writes them under
//! `TARGET_DIR/hvt/spec/`, with the linker script's absolute path in the JSON. Cargo builds
//! into its normal target directory, under `x86_64-morgana-hvt/PROFILE/`; the image is then
//! copied to `TARGET_DIR/hvt/NAME.hvt`.
//!
//! The cargo call gets `RUSTC_BOOTSTRAP=1` (for `-Zbuild-std` and `-Zjson-target-spec` on a
//! stable toolchain) and the C compiler settings for the target, and nothing else in the
//! environment changes.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Error, Profile, Result, Workspace, cargo, run_checked, toolchain};

/// The target's name: the JSON's file stem, and cargo's directory for its artifacts.
pub const TARGET_NAME: &str = "x86_64-morgana-hvt";
/// The target JSON, with `hvt.ld` where the linker script's path goes.
pub const TARGET_JSON: &str = include_str!("../../../targets/x86_64-morgana-hvt.json");
/// The linker script.
pub const LINKER_SCRIPT: &str = include_str!("../../../targets/hvt.ld");

/// C flags for code built with the `cc` crate for this target: freestanding, no SSE/MMX (the
/// target is soft-float), no red zone, not PIC, no stack protector, the libc crate's headers.
pub fn c_flags(ws: &Workspace) -> String {
    let include = ws.root.join("crates/libc/include");
    format!(
        "-ffreestanding -nostdinc -isystem {} -mno-sse -mno-mmx -mno-red-zone -fno-pic -fno-stack-protector",
        include.display()
    )
}

/// Writes the target JSON and linker script into `dir` (only when they changed, so cargo's
/// fingerprints stay valid); returns the JSON's path.
pub fn write_target_files(dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let script = dir.join("hvt.ld");
    write_if_changed(&script, LINKER_SCRIPT)?;
    let script_arg = format!("\"--script={}\"", script.display());
    if script
        .to_str()
        .is_none_or(|s| s.contains('"') || s.contains('\\'))
    {
        return Err(Error::Other(format!(
            "the target directory {} must be a plain UTF-8 path",
            dir.display()
        )));
    }
    let json = TARGET_JSON.replace("\"--script=hvt.ld\"", &script_arg);
    let path = dir.join(format!("{TARGET_NAME}.json"));
    write_if_changed(&path, &json)?;
    Ok(path)
}

fn write_if_changed(path: &Path, content: &str) -> Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    fs::write(path, content).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Other(format!("{}: {e}", path.display()))
}

/// Builds package `package` as an hvt image into `ws`'s target directory; returns the
/// image's path (`TARGET_DIR/hvt/NAME.hvt`).
pub fn build(ws: &Workspace, package: &str, profile: Profile) -> Result<PathBuf> {
    build_in(ws, &ws.target_dir(), package, profile)
}

/// [`build`] with an explicit cargo target directory.
pub fn build_in(
    ws: &Workspace,
    target_dir: &Path,
    package: &str,
    profile: Profile,
) -> Result<PathBuf> {
    toolchain::ensure_rust_src()?;
    let target_dir = if target_dir.is_absolute() {
        target_dir.to_path_buf()
    } else {
        ws.root.join(target_dir)
    };
    let out = target_dir.join("hvt");
    let json = write_target_files(&out.join("spec"))?;
    let env_target = TARGET_NAME.replace('-', "_");
    let mut cmd = cargo();
    cmd.current_dir(&ws.root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", &target_dir)
        .env(format!("CC_{env_target}"), "cc")
        .env(format!("AR_{env_target}"), "ar")
        .env(format!("CFLAGS_{env_target}"), c_flags(ws))
        .args(["build", "--package", package, "--bin", package, "--target"])
        .arg(&json)
        .args([
            "-Zjson-target-spec",
            "-Zbuild-std=core,alloc",
            "-Zbuild-std-features=compiler-builtins-mem",
        ]);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)?;
    let built = target_dir
        .join(TARGET_NAME)
        .join(profile.dir())
        .join(package);
    let image = out.join(format!("{package}.hvt"));
    fs::copy(&built, &image).map_err(|e| io_error(&built, e))?;
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_files_name_the_script_by_absolute_path() {
        let dir = std::env::temp_dir().join(format!("morgana-hvt-spec-{}", std::process::id()));
        let json = write_target_files(&dir).unwrap();
        let text = fs::read_to_string(&json).unwrap();
        let script = dir.join("hvt.ld");
        assert!(text.contains(&format!("\"--script={}\"", script.display())));
        assert_eq!(fs::read_to_string(&script).unwrap(), LINKER_SCRIPT);
        assert!(text.contains("\"os\": \"hvt\""));
        // Unchanged content is not rewritten, so cargo sees the same file.
        let before = fs::metadata(&json).unwrap().modified().unwrap();
        write_target_files(&dir).unwrap();
        assert_eq!(fs::metadata(&json).unwrap().modified().unwrap(), before);
        fs::remove_dir_all(&dir).unwrap();
    }
}
