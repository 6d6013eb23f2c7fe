//! A certificate store with a missing entry, malformed PEM, or a key that is not the
//! certificate's: https-server built with it (`MORGANA_TLS_CERTS`) stops at boot with one
//! `error:` line and status 1, before it touches the network.
//!
//! Each store needs its own build; they share a target directory of their own
//! (`target/https-bad-store`), so the test's binary and the other tests' are never rebuilt
//! under each other.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Netns, Prereq, require, run};

const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs");

/// Builds https-server with the store in `dir`; returns the binary.
fn build_with(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = root.join("target/https-bad-store");
    let out = run(
        Command::new(env!("CARGO"))
            .current_dir(&root)
            .env("MORGANA_TLS_CERTS", dir)
            .args([
                "build",
                "--quiet",
                "--package",
                "https-server",
                "--target-dir",
            ])
            .arg(&target),
        Duration::from_secs(1200),
    );
    assert_eq!(out.code, Some(0), "build failed: {}", out.stderr);
    target.join("debug/https-server")
}

fn store(name: &str, chain: Option<&[u8]>, key: Option<&[u8]>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("https-bad-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(c) = chain {
        std::fs::write(dir.join("chain.pem"), c).unwrap();
    }
    if let Some(k) = key {
        std::fs::write(dir.join("key.pem"), k).unwrap();
    }
    dir
}

#[test]
fn bad_stores_stop_the_server_at_boot_with_one_line() {
    require!(Prereq::Tap);
    let ns = Netns::new("httpsstore");
    ns.add_tap("tap0", 1500, Some("10.78.9.1/24"));
    let chain = std::fs::read(format!("{CERTS}/chain.pem")).unwrap();
    let key = std::fs::read(format!("{CERTS}/key.pem")).unwrap();
    let other = morgana_certs::Ca::new("another CA")
        .and_then(|ca| ca.server(&["localhost"], morgana_certs::Validity::Current))
        .unwrap();
    let truncated = &chain[..chain.len() - 40];
    for (name, chain, key, expected) in [
        (
            "missing",
            Some(&chain[..]),
            None,
            "error: certificate store: no entry 'key.pem'\n",
        ),
        (
            "malformed",
            Some(truncated),
            Some(&key[..]),
            "error: certificate chain: malformed PEM (no '-----END CERTIFICATE-----' line)\n",
        ),
        (
            "mismatched",
            Some(&chain[..]),
            Some(other.key_pem.as_bytes()),
            "error: certificate chain: its public key does not match the private key\n",
        ),
    ] {
        let dir = store(name, chain, key);
        let exe = build_with(&dir);
        let out = run(
            ns.command(&exe)
                .args(["--net:service=tap0", "--", "--ipv4=10.78.9.2/24"]),
            Duration::from_secs(30),
        );
        assert_eq!(
            (out.code, out.stderr.as_str(), out.stdout.as_str()),
            (Some(1), expected, ""),
            "{name}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
