//! Sets `cfg(morgana_hosted)` when the target is not one of the bare-metal ones (`target_os`
//! "hvt" or "xen"): the unikernel is then a process on the host, with the unix backend. The
//! facade's Cargo.toml still names the targets in its `[target.'cfg(...)']` tables, which cannot
//! use this cfg.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(morgana_hosted)");
    println!("cargo::rerun-if-changed=build.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os != "hvt" && target_os != "xen" {
        println!("cargo::rustc-cfg=morgana_hosted");
    }
}
