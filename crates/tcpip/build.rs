//! Sets `cfg(morgana_hosted)` when the target is not one of the bare-metal ones (`target_os`
//! "hvt" or "xen"): the stack can then also serve its sockets from the host's own TCP/IP (the
//! unix backend's `--net:NAME=socket`). Cargo.toml names the same targets in a `[target]`
//! table, which cannot use this cfg.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(morgana_hosted)");
    println!("cargo::rerun-if-changed=build.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os != "hvt" && target_os != "xen" {
        println!("cargo::rustc-cfg=morgana_hosted");
    }
}
