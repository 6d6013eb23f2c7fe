//! Shared by the tests in `tests/`: images built once per test binary by `morgana-build`,
//! booted on `/dev/kvm` by the Morgana tender, and their output. `tests/image.rs` reads built
//! images as the tender will; the other tests boot them, the network services with
//! [`boot_on_tap`].
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use morgana_build::{Profile, Workspace, hvt};
use morgana_testkit::{Netns, Outcome, Process, run};

/// The workspace these tests belong to.
pub fn workspace() -> Workspace {
    Workspace::current().expect("workspace")
}

/// The release tender, built once per test binary.
pub fn tender() -> &'static PathBuf {
    static TENDER: OnceLock<PathBuf> = OnceLock::new();
    TENDER.get_or_init(|| hvt::tender(&workspace(), Profile::Release).expect("tender builds"))
}

/// The release image of `package`, built once per test binary.
///
/// These tests boot on the host's `/dev/kvm`, which may be a KVM that cannot run SSE in a guest
/// (KVM-PVM), so they boot soft-float images; hard-float images are booted in the KVM lab
/// (`cargo xtask test` runs it), and `tests/image.rs` checks their layout.
pub fn image(package: &str) -> PathBuf {
    image_with(package, Profile::Release)
}

/// The image of `package` in `profile`, built once per test binary.
pub fn image_with(package: &str, profile: Profile) -> PathBuf {
    static IMAGES: Mutex<Vec<(String, Profile, PathBuf)>> = Mutex::new(Vec::new());
    let mut images = IMAGES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, _, p)) = images
        .iter()
        .find(|(n, pr, _)| n == package && *pr == profile)
    {
        return p.clone();
    }
    let path = hvt::build_soft(&workspace(), package, profile).expect("image builds");
    images.push((package.to_string(), profile, path.clone()));
    path
}

/// Boots `package` with tender options `opts` and guest arguments `args`.
pub fn boot(opts: &[&str], package: &str, args: &[&str]) -> Outcome {
    let mut cmd = Command::new(tender());
    cmd.args(opts).arg(image(package)).args(args);
    run(&mut cmd, Duration::from_secs(120))
}

/// The guest's own output: stdout without the `Solo5:` banner and log lines.
pub fn guest_output(out: &Outcome) -> String {
    out.stdout
        .lines()
        .filter(|l| !l.starts_with("Solo5: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Boots `package` as a network service: a new namespace `label` with tap `mgtap0` (host side
/// `host_cidr`) bound to the guest's device `service`, tender options `opts` before the image
/// and guest arguments `args` after it. Returns once the guest prints a line starting with
/// `ready` (panics after 120 s), with that line.
pub fn boot_on_tap(
    label: &str,
    host_cidr: &str,
    opts: &[&str],
    package: &str,
    args: &[&str],
    ready: &str,
) -> (Netns, Process, String) {
    let ns = Netns::new(label);
    ns.add_tap("mgtap0", 1500, Some(host_cidr));
    let mut guest = Process::start(
        ns.command(tender())
            .args(opts)
            .arg("--net:service=mgtap0")
            .arg(image(package))
            .args(args),
    );
    loop {
        let (_, line) = guest
            .next_line(Duration::from_secs(120))
            .expect("the guest starts");
        if line.starts_with(ready) {
            return (ns, guest, line);
        }
    }
}
