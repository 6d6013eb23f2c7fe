//! Compiles the C half of the library with the `cc` crate.
//!
//! Bare-metal targets (`target_os` "hvt" or "xen"): the image build sets `CC_<target>`,
//! `CFLAGS_<target>` and `AR_<target>` (the `cc` crate's conventions); the flags added here make
//! the build correct on its own too: freestanding, only this crate's headers, no SSE/MMX, no red
//! zone, no PIC, no stack protector.
//!
//! Any other target (the host, for tests): the same sources are compiled with `c/host_prefix.h`
//! force-included, which gives every public symbol a `morgana_` prefix so the library can be
//! linked beside the host libc and compared against it.
//!
//! Sets `cfg(morgana_hosted)` for the host build, so the Rust half says "hosted" once instead
//! of listing the bare-metal targets at every symbol.
//!
//! Exports `DEP_MORGANA_LIBC_INCLUDE` (the absolute include directory) to the build scripts of
//! crates that depend on this one.

use std::env;
use std::path::PathBuf;

const SOURCES: &[&str] = &["ctype.c", "errno.c", "printf.c", "stdlib.c", "string.c"];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let include = manifest_dir.join("include");
    let c_dir = manifest_dir.join("c");
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let bare_metal = target_os == "hvt" || target_os == "xen";
    // `cfg(morgana_hosted)`: the host build, where every symbol carries the `morgana_` prefix.
    println!("cargo::rustc-check-cfg=cfg(morgana_hosted)");
    if !bare_metal {
        println!("cargo::rustc-cfg=morgana_hosted");
    }

    let mut build = cc::Build::new();
    build
        .files(SOURCES.iter().map(|name| c_dir.join(name)))
        .flag("-std=c11")
        .flag("-ffreestanding")
        .flag("-nostdinc")
        .flag("-isystem")
        .flag(&include)
        .flag("-fno-stack-protector")
        .warnings(true)
        .extra_warnings(true);
    if bare_metal {
        build
            .pic(false)
            .flag("-fno-pic")
            .flag("-mno-sse")
            .flag("-mno-mmx")
            .flag("-mno-red-zone");
    } else {
        build.flag("-include").flag(c_dir.join("host_prefix.h"));
    }
    build.compile("morgana_libc_c");

    println!("cargo:include={}", include.display());
    println!("cargo:rerun-if-changed=c");
    println!("cargo:rerun-if-changed=include");
    // Lets tests find the archive to check its symbol names.
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    println!(
        "cargo:rustc-env=MORGANA_LIBC_ARCHIVE={}",
        out_dir.join("libmorgana_libc_c.a").display()
    );
}
