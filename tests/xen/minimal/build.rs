//! This guest is its own backend and does not depend on `morgana-backend-xen`, whose build
//! script puts the Xen linker script on the search path: it names the same script here, so both
//! images have the same layout.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../crates/xen/link");
    println!("cargo::rustc-link-search=native={}", dir.display());
    println!("cargo::rerun-if-changed=../../../crates/xen/link/xen.ld");
}
