//! Debug and release images live side by side (`hvt-softfloat/debug/` and `.../release/`), and
//! `cargo xtask run` boots the one of the profile it was asked for. Each run is made with the
//! other profile's image overwritten by garbage: the run succeeds only if it booted its own,
//! and the garbage left in place shows it did not touch the other.

use std::path::Path;
use std::time::Duration;

use hvt_tests::workspace;
use morgana_build::{Profile, cargo, hvt};
use morgana_testkit::{Outcome, Prereq, require, run};

const GARBAGE: &[u8] = b"not an image: the other profile's run must not boot this";

fn xtask_run(release: bool) -> Outcome {
    let mut cmd = cargo();
    cmd.current_dir(workspace().root).args([
        "xtask",
        "run",
        "--target",
        "hvt",
        "--float=soft",
        "-p",
        "hello",
    ]);
    if release {
        cmd.arg("--release");
    }
    cmd.args(["--", "--mem=2"]);
    run(&mut cmd, Duration::from_secs(900))
}

fn hellos(out: &Outcome) -> String {
    out.stdout
        .lines()
        .filter(|l| !l.starts_with("Solo5: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn overwrite(path: &Path) {
    std::fs::write(path, GARBAGE).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[test]
fn debug_and_release_images_coexist_and_run_boots_the_one_it_built() {
    require!(Prereq::Kvm);
    let ws = workspace();
    let debug = hvt::build_soft(&ws, "hello", Profile::Debug).expect("debug image");
    let release = hvt::build_soft(&ws, "hello", Profile::Release).expect("release image");
    assert!(
        debug.ends_with("hvt-softfloat/debug/hello.hvt"),
        "{}",
        debug.display()
    );
    assert!(
        release.ends_with("hvt-softfloat/release/hello.hvt"),
        "{}",
        release.display()
    );
    let (d, r) = (
        std::fs::read(&debug).unwrap(),
        std::fs::read(&release).unwrap(),
    );
    assert!(
        d != r && d.len() > r.len(),
        "two different images, the debug one larger"
    );

    overwrite(&release);
    let out = xtask_run(false);
    assert_eq!(
        (hellos(&out), out.code),
        ("hello\n".repeat(4), Some(0)),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(&release).unwrap(),
        GARBAGE,
        "the release image untouched"
    );

    overwrite(&debug);
    let out = xtask_run(true);
    assert_eq!(
        (hellos(&out), out.code),
        ("hello\n".repeat(4), Some(0)),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(&debug).unwrap(),
        GARBAGE,
        "the debug image untouched"
    );

    // Leave a bootable debug image behind.
    hvt::build_soft(&ws, "hello", Profile::Debug).expect("debug image");
}
