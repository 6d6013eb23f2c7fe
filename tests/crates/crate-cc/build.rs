//! Compiles the C checksums with the C compiler and flags the image target's build sets up.

fn main() {
    println!("cargo:rerun-if-changed=csrc");
    cc::Build::new()
        .file("csrc/sums.c")
        .warnings(true)
        .compile("sums");
}
