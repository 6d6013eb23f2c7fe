//! The same service with its site on a block device: a GNU tar archive (feature `tar`) and a
//! littlefs disk made by `cargo xtask disk` (feature `littlefs`), each served over a real tap
//! with the exact bytes of `htdocs/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use morgana_testkit::workspace::{build_with_features, littlefs_disk};
use morgana_testkit::{Netns, Prereq, Process, require, run};

const BASE: &str = "http://10.76.0.2";

fn htdocs(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/htdocs/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Builds http-server with `feature` (see [`build_with_features`]).
fn build(feature: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("http-server-sources");
    build_with_features("http-server", feature, &dir)
}

fn serve_and_check(exe: &Path, disk: &Path, label: &str) {
    let ns = Netns::new(label);
    ns.add_tap("tap0", 1500, Some("10.76.0.1/24"));
    let mut server = Process::start(ns.command(exe).args([
        "--net:service=tap0".to_string(),
        format!("--block:site={}", disk.display()),
        "--".into(),
        "--ipv4=10.76.0.2/24".into(),
    ]));
    let line = server.wait_for_line("http-server:", Duration::from_secs(30));
    assert_eq!(line, "http-server: 3 files, port 80");
    for (path, file) in [
        ("/", "index.html"),
        ("/css/site.css", "css/site.css"),
        ("/img/logo.png", "img/logo.png"),
    ] {
        let out = run(
            ns.command("curl")
                .args(["-s", "-m", "10", &format!("{BASE}{path}")]),
            Duration::from_secs(20),
        );
        assert_eq!(out.stdout_bytes, htdocs(file), "{label} {path}");
    }
    let out = run(
        ns.command("curl").args([
            "-s",
            "-m",
            "10",
            "-w",
            "%{http_code}",
            &format!("{BASE}/css/"),
        ]),
        Duration::from_secs(20),
    );
    assert_eq!(out.stdout, "404 Not Found\n404");
}

#[test]
fn the_site_from_a_tar_archive_and_from_a_littlefs_disk() {
    require!(Prereq::Tap, Prereq::Tool("curl"), Prereq::Tool("tar"));
    let root = env!("CARGO_MANIFEST_DIR");
    let tmp =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sources-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();

    let archive = tmp.join("site.tar");
    let out = run(
        Command::new("tar")
            .arg("-cf")
            .arg(&archive)
            .args(["-C", &format!("{root}/htdocs"), "."]),
        Duration::from_secs(30),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    serve_and_check(&build("tar"), &archive, "site-tar");

    let disk = tmp.join("site.img");
    littlefs_disk(Path::new(&format!("{root}/htdocs")), "1M", &disk);
    serve_and_check(&build("littlefs"), &disk, "site-lfs");
    std::fs::remove_dir_all(&tmp).unwrap();
}
