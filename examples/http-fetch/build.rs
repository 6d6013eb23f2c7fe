//! Embeds the store of CA certificates that `--ca=NAME` names: every `*.pem` file of the
//! directory named by `MORGANA_TLS_CAS` (absolute) at build time, else one entry,
//! `dev-ca.pem`, the CA of the development certificates (`../https-server/certs/ca.pem`).

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=MORGANA_TLS_CAS");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set for build.rs"));
    let store = out.join("ca-store");
    let _ = std::fs::remove_dir_all(&store);
    if let Err(e) = std::fs::create_dir_all(&store) {
        panic!("{}: {e}", store.display());
    }
    let copy = |from: &Path, name: &str| {
        println!("cargo:rerun-if-changed={}", from.display());
        if let Err(e) = std::fs::copy(from, store.join(name)) {
            panic!("{}: {e}", from.display());
        }
    };
    match std::env::var("MORGANA_TLS_CAS") {
        Ok(dir) => {
            println!("cargo:rerun-if-changed={dir}");
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".pem") {
                    copy(&entry.path(), &name);
                }
            }
        }
        Err(_) => copy(Path::new("../https-server/certs/ca.pem"), "dev-ca.pem"),
    }
    if let Err(e) = morgana_kv::build::embed_dir(&store, "cas.rs") {
        panic!("embedding the CA store: {e}");
    }
}
