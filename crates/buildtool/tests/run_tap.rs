//! `cargo xtask run --tap`: a tap with a host address is made, the unikernel boots bound to it
//! with the matching address, the printed address answers, and the tap is gone after an
//! interrupt. Run inside a network namespace the test makes, for unix and (with KVM) hvt;
//! without root the command says what to run instead.

use std::path::PathBuf;
use std::time::Duration;

use morgana_build::{Workspace, cargo, run_checked};
use morgana_testkit::{Netns, Prereq, Process, Unprivileged, require, run};

const LINE: &str = "morgana: the unikernel is at 10.77.0.2 (tap mgtap0, this host 10.77.0.1/24)";

fn workspace() -> Workspace {
    Workspace::current().expect("workspace")
}

/// The run, leader of its own process group, which is killed whole if the test fails before
/// it ends, so that no unikernel outlives the test.
struct Run(Process);

impl Drop for Run {
    fn drop(&mut self) {
        // Whether or not the leader still runs: the group outlives a leader that ended first
        // (as cargo may on SIGINT) while its unikernel runs on, and the id of a group is not
        // given to another while the group has members.
        let group = format!("-{}", self.0.pid());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .output();
    }
}

fn index_html() -> Vec<u8> {
    let path = workspace()
        .root
        .join("examples/http-server/htdocs/index.html");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `cargo xtask run ARGS --tap -- -- --port=8080` in `ns`, checks the line and the page,
/// interrupts it as Ctrl-C would (SIGINT to every process of the namespace), checks that the
/// run ends with `interrupted_status` (the unikernel's, passed on) and that the tap went.
fn serve_on_tap(ns: &Netns, args: &[&str], boot_limit: Duration, interrupted_status: i32) {
    // With SIGINT at its default action, as Ctrl-C finds it in a terminal, even when the tests
    // were started in the background by a script (which makes them inherit SIGINT ignored).
    let mut cmd = ns.command("env");
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.current_dir(workspace().root)
        .arg("--default-signal=INT")
        .arg(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["xtask", "run"])
        .args(args)
        .args(["--tap", "--", "--", "--port=8080"]);
    let mut guard = Run(Process::start(&mut cmd));
    let xtask = &mut guard.0;
    assert_eq!(
        xtask.wait_for_line("morgana:", Duration::from_secs(900)),
        LINE
    );
    assert_eq!(
        xtask.wait_for_line("http-server:", boot_limit),
        "http-server: 3 files, port 8080"
    );
    let page = run(
        ns.command("curl")
            .args(["-s", "-m", "60", "http://10.77.0.2:8080/"]),
        Duration::from_secs(90),
    );
    assert_eq!((page.code, page.stdout_bytes), (Some(0), index_html()));

    let pids = run(
        std::process::Command::new("ip").args(["netns", "pids", ns.name()]),
        Duration::from_secs(10),
    );
    for pid in pids.stdout.split_whitespace() {
        let _ = run(
            std::process::Command::new("kill").args(["-INT", pid]),
            Duration::from_secs(10),
        );
    }
    let status = xtask.wait(Duration::from_secs(30)).expect("the run ends");
    assert_eq!(status.code(), Some(interrupted_status));
    let link = run(
        ns.command("ip").args(["link", "show", "mgtap0"]),
        Duration::from_secs(10),
    );
    assert_ne!(link.code, Some(0), "the tap is gone: {}", link.stdout);
}

#[test]
fn unix_on_a_made_tap_answers_at_the_printed_address_and_the_tap_goes() {
    require!(Prereq::Tap, Prereq::Tool("curl"));
    let ns = Netns::new("devtapu");
    // 128 + SIGINT, as a shell reports a process a signal ended.
    serve_on_tap(
        &ns,
        &["--target", "unix", "-p", "http-server"],
        Duration::from_secs(30),
        130,
    );
}

#[test]
fn hvt_on_a_made_tap_answers_at_the_printed_address_and_the_tap_goes() {
    require!(Prereq::Tap, Prereq::Kvm, Prereq::Tool("curl"));
    let ns = Netns::new("devtaph");
    serve_on_tap(
        &ns,
        &[
            "--target",
            "hvt",
            "--float=soft",
            "--release",
            "-p",
            "http-server",
        ],
        Duration::from_secs(120),
        // The tender's own status for "Exiting on signal 2", as Solo5's.
        1,
    );
}

/// The xtask binary of this workspace, built.
fn xtask_binary() -> PathBuf {
    let ws = workspace();
    run_checked(
        cargo()
            .current_dir(&ws.root)
            .args(["build", "--quiet", "-p", "xtask"]),
    )
    .expect("xtask builds");
    ws.target_dir().join("debug/xtask")
}

#[test]
fn without_root_it_says_what_to_run_instead() {
    if Prereq::Root.missing().is_none() {
        require!(Prereq::Tool("setpriv"));
    }
    let program = Unprivileged::new(xtask_binary());
    let out = run(
        program
            .command()
            .args(["run", "--target", "unix", "-p", "http-server", "--tap"]),
        Duration::from_secs(60),
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(1),
            "",
            "error: --tap creates a tap device, which needs root: run as root, or once as root \
             `ip tuntap add mgtap0 mode tap user $USER && ip addr add 10.77.0.1/24 dev mgtap0 && \
             ip link set mgtap0 up`, then run with `-- --net:service=mgtap0 -- \
             --ipv4=10.77.0.2/24` (on unix, `-- --net:service=socket` uses the host's own \
             TCP/IP and needs no tap)\n"
        )
    );
}
