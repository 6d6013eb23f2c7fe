//! Host programs in L1: real clients (curl, openssl) on the other side of a guest's network.
//!
//! L1 runs busybox only. A guest that needs another program names it in [`super::Guest::tools`];
//! the lab then copies the host's binary (Debian's, which `scripts/setup-host` installs) to
//! `/usr/bin/NAME` in L1 and every shared library `ldd` names for it at the same path as on the
//! host, where L1's dynamic loader looks for it. The host and the lab's packages are the same
//! Debian release, and L1's kernel runs any x86-64 user space, so nothing else is needed.
//!
//! The lab's own client, `morgana-hold` (a thousand connections held at once), is built from
//! the test kit as a static binary instead ([`hold_client`]), like the tender.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use morgana_build::{Error, Profile, Result, Workspace, hvt};

/// Where programs go inside L1 (on `/init`'s `PATH`).
pub const BIN_DIR: &str = "usr/bin";

/// Where [`hold_client`] goes inside L1.
pub const HOLD_CLIENT: &str = "usr/bin/morgana-hold";

/// Builds the test kit's `morgana-hold` (release, statically linked, so it needs no library
/// in L1) into `target/lab-clients`; returns the binary.
pub fn hold_client(ws: &Workspace) -> Result<PathBuf> {
    let args = ["--bin", "morgana-hold"];
    let manifest = "crates/testkit/Cargo.toml";
    let dir = hvt::static_host_build(ws, manifest, &args, "lab-clients", Profile::Release)?;
    Ok(dir.join("morgana-hold"))
}

/// The host binary `name` as found on `PATH`.
pub fn host_program(name: &str) -> Result<PathBuf> {
    if name.is_empty() || name.contains('/') {
        return Err(Error::Usage(format!("'{name}' is not a program name")));
    }
    morgana_testkit::prereq::find_program(name).ok_or_else(|| {
        Error::Missing(format!(
            "{name} is not installed on this machine (scripts/setup-host installs it); \
             the KVM lab copies it into L1"
        ))
    })
}

/// The files that put `names` into L1, as (path inside L1, host file): each binary at
/// `usr/bin/NAME` and its libraries (found with `ldd`, preferring the unpacked packages in
/// `root`), each library once.
pub fn entries<'a>(
    root: &Path,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<(String, PathBuf)>> {
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for name in names {
        let binary = host_program(name)?;
        files.insert(format!("{BIN_DIR}/{name}"), binary.clone());
        for (inside, file) in crate::debian::libraries(root, &binary)? {
            files.entry(inside).or_insert(file);
        }
    }
    Ok(files.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_looked_up() {
        assert!(matches!(host_program("../sh"), Err(Error::Usage(_))));
        assert!(matches!(host_program(""), Err(Error::Usage(_))));
        assert!(matches!(
            host_program("morgana-no-such-program"),
            Err(Error::Missing(_))
        ));
    }

    #[test]
    fn a_program_comes_with_its_loader_and_c_library() {
        let sh = host_program("sh").unwrap();
        let files = entries(Path::new("/nonexistent"), ["sh"]).unwrap();
        assert_eq!(files.iter().filter(|f| f.0 == "usr/bin/sh").count(), 1);
        assert_eq!(files.iter().find(|f| f.0 == "usr/bin/sh").unwrap().1, sh);
        // A dynamically linked shell needs the C library; names are relative and unique.
        assert!(files.iter().any(|f| f.0.contains("libc.so")));
        assert!(files.iter().all(|f| !f.0.starts_with('/')));
    }
}
