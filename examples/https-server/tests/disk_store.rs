//! The certificate store on a littlefs disk (feature `littlefs`) made by `cargo xtask disk`: the
//! server answers `curl --cacert` with the exact page, on the host's own TCP/IP (no tap, no
//! root); a disk without the key stops it at boot with one `error:` line and status 1.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use morgana_testkit::workspace::{build_with_features, littlefs_disk};
use morgana_testkit::{Prereq, Process, require, run};

const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs");
/// A loopback port no other test of the workspace uses.
const PORT: u16 = 24_943;

/// A littlefs disk image holding `entries` of the development store, made by the disk tool.
fn disk(tmp: &Path, name: &str, entries: &[&str]) -> PathBuf {
    let from = tmp.join(name);
    std::fs::create_dir_all(&from).unwrap();
    for entry in entries {
        std::fs::copy(format!("{CERTS}/{entry}"), from.join(entry)).unwrap();
    }
    let image = tmp.join(format!("{name}.img"));
    littlefs_disk(&from, "256K", &image);
    image
}

#[test]
fn certificates_from_a_littlefs_disk() {
    require!(Prereq::Tool("curl"));
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("https-disk-store-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let exe = build_with_features(
        "https-server",
        "littlefs",
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("https-server-disk-store"),
    );

    let good = disk(&tmp, "good", &["chain.pem", "key.pem"]);
    let mut server = Process::start(Command::new(&exe).args([
        "--net:service=socket".to_string(),
        format!("--block:certs={}", good.display()),
        "--".into(),
        format!("--port={PORT}"),
    ]));
    let line = server.wait_for_line("https-server:", Duration::from_secs(30));
    assert_eq!(line, format!("https-server: 3 files, port {PORT}"));
    let out = run(
        Command::new("curl").args([
            "-s",
            "-m",
            "20",
            "--cacert",
            &format!("{CERTS}/ca.pem"),
            &format!("https://localhost:{PORT}/"),
        ]),
        Duration::from_secs(30),
    );
    let page = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../http-server/htdocs/index.html"
    ))
    .unwrap();
    assert_eq!(
        (out.code, out.stdout_bytes),
        (Some(0), page),
        "{}",
        out.stderr
    );
    drop(server);

    let keyless = disk(&tmp, "keyless", &["chain.pem"]);
    let out = run(
        Command::new(&exe).args([
            "--net:service=socket".to_string(),
            format!("--block:certs={}", keyless.display()),
            "--".into(),
            format!("--port={PORT}"),
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(
        (out.code, out.stderr.as_str(), out.stdout.as_str()),
        (
            Some(1),
            "error: certificate store: no entry 'key.pem'\n",
            ""
        )
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}
