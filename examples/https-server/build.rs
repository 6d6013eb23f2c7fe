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
    if let Err(e) = std::fs::create_dir_all(&store) {
        panic!("{}: {e}", store.display());
    }
    // The copy is kept and a file rewritten only when its bytes change: cargo watches the copy
    // too (`embed_dir`'s rerun lines), and a fresh copy at every run would make every build of
    // the package run this script and compile the server again.
    for entry in ENTRIES {
        let from = source.join(entry);
        let to = store.join(entry);
        println!("cargo:rerun-if-changed={}", from.display());
        let have = std::fs::read(&to).ok();
        // A missing entry is left out here and refused at boot, with the rest of bad input.
        let want = from
            .exists()
            .then(|| std::fs::read(&from).unwrap_or_else(|e| panic!("{}: {e}", from.display())));
        let outcome = match (want, have) {
            (Some(want), have) if have.as_ref() != Some(&want) => std::fs::write(&to, want),
            (None, Some(_)) => std::fs::remove_file(&to),
            _ => Ok(()),
        };
        if let Err(e) = outcome {
            panic!("{}: {e}", to.display());
        }
    }
    if let Err(e) = morgana_kv::build::embed_dir(&store, "certs.rs") {
        panic!("embedding the certificate store: {e}");
    }
}
