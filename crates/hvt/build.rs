//! Puts this backend's linker script, `link/hvt.ld`, on the final link's library search path.
//!
//! The image target's JSON names the script by file name only (`--script=hvt.ld`) and the
//! linker looks it up on the search path, so the target definition holds no path of the
//! machine that builds it and images built in different directories are identical.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("link");
    println!("cargo::rustc-link-search=native={}", dir.display());
    println!("cargo::rerun-if-changed=link/hvt.ld");
}
