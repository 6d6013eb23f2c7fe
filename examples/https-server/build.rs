//! Embeds the site (`../http-server/htdocs`, the same one the plain server serves) and the
//! certificate store: `chain.pem` and `key.pem` from the directory named by
//! `MORGANA_TLS_CERTS` (absolute, as `cargo xtask cert` prints it), else from `certs/` (a
//! development certificate for localhost, 127.0.0.1, ::1, whose CA's key is kept there for
//! tests to sign more with). Nothing else from that directory goes into the image (`cargo
//! xtask cert` keeps its CA's key there).

use std::path::{Path, PathBuf};

/// The store's entries.
const ENTRIES: &[&str] = &["chain.pem", "key.pem"];

fn main() {
    if let Err(e) = morgana_kv::build::embed_dir("../http-server/htdocs", "htdocs.rs") {
        panic!("embedding the site: {e}");
    }
    println!("cargo:rerun-if-env-changed=MORGANA_TLS_CERTS");
    let source = std::env::var("MORGANA_TLS_CERTS").unwrap_or_else(|_| "certs".into());
    let source = Path::new(&source);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set for build.rs"));
    let store = out.join("cert-store");
    let _ = std::fs::remove_dir_all(&store);
    if let Err(e) = std::fs::create_dir_all(&store) {
        panic!("{}: {e}", store.display());
    }
    // A missing entry is left out here and refused at boot, with the rest of bad input.
    for entry in ENTRIES {
        let from = source.join(entry);
        println!("cargo:rerun-if-changed={}", from.display());
        if from.exists()
            && let Err(e) = std::fs::copy(&from, store.join(entry))
        {
            panic!("{}: {e}", from.display());
        }
    }
    if let Err(e) = morgana_kv::build::embed_dir(&store, "certs.rs") {
        panic!("embedding the certificate store: {e}");
    }
}
