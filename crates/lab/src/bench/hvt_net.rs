//! The hvt part of `cargo xtask bench net`: VM exits per HTTP request and per echoed KiB,
//! counted by the tender's `--stats`. Exits do not depend on how fast the machine is, unlike
//! times under our KVM-PVM.
//!
//! Each service is booted several times on the same tap: once stopped (SIGTERM) right after it
//! listens, once after a fixed amount of work; the difference in exits over the work is the
//! figure. For HTTP also the steady state: one connection with 1 request against one with
//! 1 + [`REQUESTS`], which leaves out the connection's own frames (handshake, close).
//!
//! `cargo xtask bench exits` runs only this part, on a tap of its own.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use morgana_build::{Error, Profile, Result, Workspace, hvt, run_checked};
use morgana_testkit::Netns;

/// HTTP requests per measured run, all on one keep-alive connection.
const REQUESTS: usize = 20;
/// KiB echoed per measured run, on one connection.
const ECHO_KIB: usize = 64;

/// VM exits of one boot of `image` in namespace `ns` on tap `tap0` with `mem` MiB, doing
/// `work` once the service at `addr` listens.
pub(crate) fn exits_with(
    ns: &Netns,
    tender: &Path,
    image: &Path,
    mem: u32,
    addr: &str,
    work: &dyn Fn() -> Result<()>,
) -> Result<u64> {
    let mut child = ns
        .command(tender)
        .args(["--stats", &format!("--mem={mem}"), "--net:service=tap0"])
        .arg(image)
        .arg("--ipv4=10.78.0.2/24")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: tender.display().to_string(),
            source,
        })?;
    let outcome = super::net::wait_listening(ns, addr).and_then(|()| work());
    // `ip netns exec` execs the tender, so this PID is the tender's own.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let _ = child.wait();
    outcome?;
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("vm exits: "))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| Error::Other(format!("no exit count in the tender's report: {stderr}")))
}

/// Frames that crossed tap `tap0` of `ns` so far, both ways (the kernel's interface counters,
/// read inside the namespace).
fn tap_frames(ns: &Netns) -> Result<u64> {
    let mut total = 0;
    for counter in ["rx_packets", "tx_packets"] {
        let path = format!("/sys/class/net/tap0/statistics/{counter}");
        let out = ns
            .command("cat")
            .arg(&path)
            .output()
            .map_err(|source| Error::Spawn {
                program: "cat".into(),
                source,
            })?;
        total += String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u64>()
            .map_err(|_| Error::Other(format!("no frame count in {path}")))?;
    }
    Ok(total)
}

/// [`exits_with`], and the frames on the tap during the run.
fn exits_and_frames(
    ns: &Netns,
    tender: &Path,
    image: &Path,
    addr: &str,
    work: &dyn Fn() -> Result<()>,
) -> Result<(u64, u64)> {
    let before = tap_frames(ns)?;
    let exits = exits_with(ns, tender, image, 32, addr, work)?;
    Ok((exits, tap_frames(ns)? - before))
}

/// `cargo xtask bench exits`: [`report`] on a tap `tap0` (10.78.0.1/24) in a namespace of its
/// own (root).
pub fn run(ws: &Workspace) -> Result<()> {
    let ns = Netns::new("bench-x");
    ns.add_tap("tap0", 1500, Some("10.78.0.1/24"));
    report(ws, &ns)
}

/// Prints VM exits per HTTP request and per echoed KiB for the hvt images, using tap `tap0` in
/// namespace `ns` (host side 10.78.0.1/24).
pub fn report(ws: &Workspace, ns: &Netns) -> Result<()> {
    let tender = hvt::tender(ws, Profile::Release)?;
    let http = hvt::build_soft(ws, "http-server", Profile::Release)?;
    let echo = hvt::build_soft(ws, "echo-server", Profile::Release)?;
    let curl = |n: usize| {
        let urls = vec!["http://10.78.0.2/"; n];
        run_checked(
            ns.command("curl")
                .args(["-s", "-o", "/dev/null"])
                .args(urls)
                .stdout(Stdio::null()),
        )
    };
    let echo_client = || {
        let script = format!(
            "import socket\ns=socket.create_connection(('10.78.0.2',7),timeout=120)\nd=bytes({n})\n\
             s.sendall(d)\ns.shutdown(socket.SHUT_WR)\ngot=0\nwhile True:\n    b=s.recv(65536)\n\
             \x20   if not b: break\n    got+=len(b)\nassert got=={n}, got",
            n = ECHO_KIB * 1024
        );
        run_checked(ns.command("python3").args(["-c", &script]))
    };
    let idle = || Ok(());
    let http_idle = exits_with(ns, &tender, &http, 32, "10.78.0.2:80", &idle)?;
    let http_busy = exits_with(ns, &tender, &http, 32, "10.78.0.2:80", &|| curl(REQUESTS))?;
    let (http_one, frames_one) = exits_and_frames(ns, &tender, &http, "10.78.0.2:80", &|| curl(1))?;
    let (http_more, frames_more) =
        exits_and_frames(ns, &tender, &http, "10.78.0.2:80", &|| curl(1 + REQUESTS))?;
    let echo_idle = exits_with(ns, &tender, &echo, 32, "10.78.0.2:7", &idle)?;
    let echo_busy = exits_with(ns, &tender, &echo, 32, "10.78.0.2:7", &echo_client)?;
    println!(
        "hvt VM exits (tender --stats)\nhttp-server: {:.1} exits per request ({REQUESTS} requests on one connection: {http_busy} exits, {http_idle} without them)\n\
         http-server steady state: {:.2} exits per request ({} requests on one connection: {http_more} exits, 1 request: {http_one}); \
         {:.2} frames per request on the tap ({frames_more} and {frames_one})\n\
         echo-server: {:.1} exits per echoed KiB ({ECHO_KIB} KiB on one connection: {echo_busy} exits, {echo_idle} without them)",
        http_busy.saturating_sub(http_idle) as f64 / REQUESTS as f64,
        http_more.saturating_sub(http_one) as f64 / REQUESTS as f64,
        1 + REQUESTS,
        frames_more.saturating_sub(frames_one) as f64 / REQUESTS as f64,
        echo_busy.saturating_sub(echo_idle) as f64 / ECHO_KIB as f64,
    );
    Ok(())
}
