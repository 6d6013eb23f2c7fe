//! `cargo xtask bench tls`: `https-server` (a Linux process on a tap) against nginx with the
//! same certificate, in the namespaces of `bench net`, with wrk as the client.
//!
//! - full handshakes per second: wrk with `Connection: close`, so every request is a new TCP
//!   connection and a new TLS 1.3 handshake (nginx with session tickets and its session cache
//!   off, so neither side resumes);
//! - keep-alive requests per second over TLS 1.3.
//!
//! - on hvt (the soft-float image on the same tap): VM exits per full handshake (one request
//!   per connection) and per keep-alive request over TLS, counted by the tender's `--stats`.
//!
//! Both serve `examples/http-server/htdocs` with the development certificate (ECDSA P-256) of
//! `examples/https-server/certs`; nginx runs one worker. Each figure is the median of
//! [`RUNS`] runs, alternating the two servers.

use std::path::Path;
use std::process::ExitCode;

use std::process::Stdio;

use morgana_build::{Error, Profile, Result, Workspace, hvt, run_checked, unix};
use morgana_testkit::Netns;

use super::net::{
    HTTP_CONNECTIONS, HttpRun, Lab, RUNS, SECONDS, median_http, need_tool, nginx_conf, start,
    wait_listening, wrk_with,
};

fn print_row(name: &str, r: &HttpRun) {
    println!(
        "{name:<24} {:>10.0} {:>9.0} {:>9.0} {:>9.0}",
        r.rps, r.p50, r.p90, r.p99
    );
}

/// `cargo xtask bench tls`.
pub fn run(ws: &Workspace) -> Result<ExitCode> {
    need_tool("ip", "apt-get install iproute2")?;
    need_tool("wrk", "apt-get install wrk")?;
    need_tool("nginx", "apt-get install nginx-light")?;
    let https_server = unix::build(ws, "https-server", Profile::Release)?;
    let htdocs = ws.root.join("examples/http-server/htdocs");
    let certs = ws.root.join("examples/https-server/certs");
    let tmp = std::env::temp_dir().join(format!("morgana-bench-tls-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| Error::Other(format!("{}: {e}", tmp.display())))?;
    let lab = Lab::new()?;
    let uni_server = {
        let mut cmd = lab.client.command(&https_server);
        cmd.args(["--net:service=tap0", "--", "--ipv4=10.78.0.2/24"]);
        start(cmd)?
    };
    wait_listening(&lab.client, "10.78.0.2:443")?;
    let conf = nginx_conf(&tmp, &htdocs, Some(&certs))?;
    let nginx = {
        let mut cmd = lab.server.command("nginx");
        cmd.arg("-c").arg(&conf);
        start(cmd)?
    };
    wait_listening(&lab.client, "10.79.0.2:443")?;
    let close = ["-H", "Connection: close"];
    let (mut uni_hs, mut lin_hs, mut uni_ka, mut lin_ka) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        uni_hs.push(wrk_with(&lab, "https://10.78.0.2/", &close)?);
        lin_hs.push(wrk_with(&lab, "https://10.79.0.2/", &close)?);
        uni_ka.push(wrk_with(&lab, "https://10.78.0.2/", &[])?);
        lin_ka.push(wrk_with(&lab, "https://10.79.0.2/", &[])?);
    }
    drop((uni_server, nginx));
    let _ = std::fs::remove_dir_all(&tmp);
    let (uni_hs, lin_hs) = (median_http(&uni_hs), median_http(&lin_hs));
    let (uni_ka, lin_ka) = (median_http(&uni_ka), median_http(&lin_ka));
    println!("TLS benchmark: median of {RUNS} runs of {SECONDS} s each, TLS 1.3, ECDSA P-256");
    for (what, uni, lin) in [
        ("full handshakes (Connection: close)", uni_hs, lin_hs),
        ("keep-alive requests", uni_ka, lin_ka),
    ] {
        println!(
            "{what}, GET / ({HTTP_CONNECTIONS} connections, wrk -t2)\n{:<24} {:>10} {:>9} {:>9} {:>9}",
            "", "req/s", "p50 us", "p90 us", "p99 us"
        );
        print_row("https-server (unikernel)", &uni);
        print_row("nginx (Linux)", &lin);
        println!("ratio unikernel/nginx req/s: {:.2}", uni.rps / lin.rps);
    }
    if let Err(e) = hvt_exits(ws, &lab.client, &certs) {
        println!("hvt VM exits: not measured: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Full handshakes, and keep-alive requests on one connection, per hvt measurement.
const HANDSHAKES: usize = 5;
const KEEP_ALIVE_REQUESTS: usize = 20;

/// Prints VM exits per full handshake and per keep-alive request of the soft-float hvt
/// https-server on tap `tap0` of `ns`.
fn hvt_exits(ws: &Workspace, ns: &Netns, certs: &Path) -> Result<()> {
    let tender = hvt::tender(ws, Profile::Release)?;
    let image = hvt::build_soft(ws, "https-server", Profile::Release)?;
    let ca = certs.join("ca.pem");
    let curl = |urls: usize| {
        let mut cmd = ns.command("curl");
        cmd.args([
            "-s",
            "-m",
            "300",
            "--resolve",
            "localhost:443:10.78.0.2",
            "--cacert",
        ])
        .arg(&ca);
        for _ in 0..urls {
            cmd.args(["-o", "/dev/null", "https://localhost/"]);
        }
        run_checked(cmd.stdout(Stdio::null()))
    };
    let handshakes = || (0..HANDSHAKES).try_for_each(|_| curl(1));
    let keep_alive = || curl(KEEP_ALIVE_REQUESTS);
    let addr = "10.78.0.2:443";
    let idle = super::hvt_net::exits_with(ns, &tender, &image, 64, addr, &|| Ok(()))?;
    let hs = super::hvt_net::exits_with(ns, &tender, &image, 64, addr, &handshakes)?;
    let ka = super::hvt_net::exits_with(ns, &tender, &image, 64, addr, &keep_alive)?;
    let per_handshake = hs.saturating_sub(idle) as f64 / HANDSHAKES as f64;
    // The keep-alive run has one handshake too.
    let per_request =
        (ka.saturating_sub(idle) as f64 - per_handshake) / (KEEP_ALIVE_REQUESTS - 1) as f64;
    println!(
        "hvt VM exits (tender --stats, soft-float https-server)\n{per_handshake:.1} per full handshake with its request ({HANDSHAKES} connections: {hs} exits, {idle} without them)\n{per_request:.1} per keep-alive request ({KEEP_ALIVE_REQUESTS} on one connection: {ka} exits)"
    );
    Ok(())
}
