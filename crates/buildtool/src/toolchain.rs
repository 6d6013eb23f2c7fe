//! Checks that the toolchain has what bare-metal builds need.

use std::path::PathBuf;
use std::process::Command;

use crate::{Error, Result, run_captured, run_checked};

/// The `rustc` sysroot of the active toolchain.
pub fn sysroot() -> Result<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Ok(PathBuf::from(
        run_captured(Command::new(rustc).args(["--print", "sysroot"]))?.trim(),
    ))
}

/// Makes sure the `rust-src` component is installed, installing it with rustup if it is not.
///
/// `-Zbuild-std` compiles `core` and `alloc` from it. Our machines set `RUSTUP_AUTO_INSTALL=0`,
/// so rustup does not add it on demand even though `rust-toolchain.toml` names it.
pub fn ensure_rust_src() -> Result<()> {
    let lib = sysroot()?.join("lib/rustlib/src/rust/library/core/src/lib.rs");
    if lib.exists() {
        return Ok(());
    }
    eprintln!("morgana: rust-src is not installed; running: rustup component add rust-src");
    run_checked(Command::new("rustup").args(["component", "add", "rust-src"])).map_err(|_| {
        Error::Missing("the rust-src component is missing: run `rustup component add rust-src` in the workspace".into())
    })?;
    if lib.exists() {
        Ok(())
    } else {
        Err(Error::Missing(
            "rust-src is still missing after rustup: run `rustup component add rust-src`".into(),
        ))
    }
}
