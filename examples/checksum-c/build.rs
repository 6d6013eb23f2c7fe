//! Compiles the C sources with whatever C compiler and flags the target's build sets up (the
//! `cc` crate's `CC_<target>`/`CFLAGS_<target>` conventions); nothing here knows the target.

fn main() {
    println!("cargo:rerun-if-changed=csrc");
    cc::Build::new()
        .file("csrc/checksum.c")
        .include("csrc")
        .warnings(true)
        .compile("checksum_c");
}
