//! `cargo xtask bench net`: the network unikernels against Linux over the same kind of path.
//!
//! Topology, made fresh for the run and deleted afterwards (root needed; the namespaces are
//! `morgana_testkit::Netns`):
//!
//! ```text
//!  namespace C (clients: wrk, echo client)          namespace S (Linux servers)
//!    tap0 10.78.0.1/24 ── unikernel 10.78.0.2        veth1 10.79.0.2/24: nginx :80,
//!    veth0 10.79.0.1/24 ─────────────────────────────           Linux echo :7
//! ```
//!
//! The unikernel (a Linux process reading and writing Ethernet frames on the tap) and the
//! Linux servers (in a second namespace behind a veth pair) are both one virtual Ethernet hop
//! away from the clients. The same unikernels on the host's own TCP/IP
//! (`--net:service=socket`) run in namespace S beside the Linux servers, on 10.79.0.2 ports
//! 8080 (http) and 7007 (echo), so they take the very path the Linux servers take. nginx
//! serves the same `htdocs/` directory in one process (`master_process off`: stopping it leaves
//! no worker behind).
//! Each figure is the median of [`RUNS`] runs ([`ECHO_RUNS`] for echo); the ratio is unikernel
//! / Linux.
//!
//! The echo client and the Linux echo server are this program itself (`bench __echo-client`,
//! `bench __echo-server`), started inside the namespaces with `ip netns exec`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::stats::median;
use morgana_build::{Error, Profile, Result, Workspace, run_captured, unix};
use morgana_testkit::{Netns, Prereq};

/// Runs per figure; the median is reported.
pub const RUNS: usize = 3;
/// Seconds per run.
pub const SECONDS: u64 = 5;
/// Concurrent HTTP connections (wrk `-c`) and echo connections.
pub const HTTP_CONNECTIONS: usize = 32;
/// Concurrent echo connections.
pub const ECHO_CONNECTIONS: usize = 4;
/// Runs per echo figure: more than [`RUNS`], as the echo rates on a shared machine swing
/// further from run to run than the HTTP rates; the median is reported.
pub const ECHO_RUNS: usize = 5;
/// Concurrent HTTP connections of the many-connections rows (wrk `-c`).
pub const MANY_CONNECTIONS: usize = 1000;

/// Entry point for `cargo xtask bench WHAT...`.
pub fn run(ws: &Workspace, args: &[String]) -> Result<ExitCode> {
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["net"] => net(ws, false),
        ["net", "--echo"] => net(ws, true),
        ["__echo-server", addr] => linux_echo_server(addr),
        ["__echo-client", addr, secs, conns] => {
            let secs = secs
                .parse()
                .map_err(|_| Error::Usage("bad seconds".into()))?;
            let conns = conns
                .parse()
                .map_err(|_| Error::Usage("bad connections".into()))?;
            let rate = echo_client(addr, Duration::from_secs(secs), conns)?;
            println!("{rate:.1}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(Error::Usage(
            "bench needs a benchmark name: net, boot or xen".into(),
        )),
    }
}

pub(crate) fn need_tool(tool: &str, hint: &str) -> Result<()> {
    match Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(Error::Missing(format!("{tool} is missing ({hint})"))),
    }
}

/// The two namespaces and their links; deleted on drop.
pub(crate) struct Lab {
    pub(crate) client: Netns,
    pub(crate) server: Netns,
}

impl Lab {
    pub(crate) fn new() -> Result<Lab> {
        if let Some(reason) = Prereq::Tap.missing() {
            return Err(Error::Missing(reason));
        }
        let (client, server) = (Netns::new("bench-c"), Netns::new("bench-s"));
        client.add_tap("tap0", 1500, Some("10.78.0.1/24"));
        client.link_veth(
            &server,
            ("veth0", "10.79.0.1/24"),
            ("veth1", "10.79.0.2/24"),
        );
        Ok(Lab { client, server })
    }
}

/// A started server; stopped by PID on drop: SIGTERM first, so that a server with worker
/// processes (nginx) stops them too, then SIGKILL after 5 s. (A worker left behind keeps
/// every file descriptor it inherited open, a lock held by the benchmark's caller included.)
pub(crate) struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start(mut cmd: Command) -> Result<Server> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().map_err(|source| Error::Spawn {
        program: morgana_build::describe(&cmd),
        source,
    })?;
    Ok(Server(child))
}

/// Waits until `addr` accepts a TCP connection from inside namespace `ns` (with curl's
/// `telnet://` or the echo client would be heavier: a one-shot bash `/dev/tcp` probe).
pub(crate) fn wait_listening(ns: &Netns, addr: &str) -> Result<()> {
    let (host, port) = addr.split_once(':').unwrap_or((addr, "80"));
    for _ in 0..100 {
        let ok = ns
            .command("bash")
            .arg("-c")
            .arg(format!("exec 3<>/dev/tcp/{host}/{port}"))
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(Error::Other(format!("nothing listens on {addr}")))
}

/// One wrk run: requests per second and the 50/90/99th latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HttpRun {
    pub(crate) rps: f64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
}

fn micros(s: &str) -> Option<f64> {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let v: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => v,
        "ms" => v * 1e3,
        "s" => v * 1e6,
        _ => return None,
    })
}

fn parse_wrk(out: &str) -> Option<HttpRun> {
    let mut run = HttpRun::default();
    for line in out.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(v)) => run.rps = v.parse().ok()?,
            (Some("50%"), Some(v)) => run.p50 = micros(v)?,
            (Some("90%"), Some(v)) => run.p90 = micros(v)?,
            (Some("99%"), Some(v)) => run.p99 = micros(v)?,
            _ => {}
        }
    }
    (run.rps > 0.0).then_some(run)
}

fn wrk(lab: &Lab, url: &str) -> Result<HttpRun> {
    wrk_with(lab, url, &[])
}

/// [`wrk`] with more wrk arguments (`extra`) before the URL.
pub(crate) fn wrk_with(lab: &Lab, url: &str, extra: &[&str]) -> Result<HttpRun> {
    wrk_connections(lab, url, HTTP_CONNECTIONS, extra)
}

/// [`wrk_with`] on `connections` connections.
fn wrk_connections(lab: &Lab, url: &str, connections: usize, extra: &[&str]) -> Result<HttpRun> {
    let out = run_captured(
        lab.client
            .command("wrk")
            .args([
                "-t2",
                &format!("-c{connections}"),
                &format!("-d{SECONDS}s"),
                "--latency",
            ])
            .args(extra)
            .arg(url),
    )?;
    if out.contains("Non-2xx") || out.contains("Socket errors") {
        return Err(Error::Other(format!(
            "wrk saw errors against {url}:\n{out}"
        )));
    }
    parse_wrk(&out).ok_or_else(|| Error::Other(format!("cannot read wrk's output:\n{out}")))
}

pub(crate) fn median_http(runs: &[HttpRun]) -> HttpRun {
    HttpRun {
        rps: median(&runs.iter().map(|r| r.rps).collect::<Vec<_>>()),
        p50: median(&runs.iter().map(|r| r.p50).collect::<Vec<_>>()),
        p90: median(&runs.iter().map(|r| r.p90).collect::<Vec<_>>()),
        p99: median(&runs.iter().map(|r| r.p99).collect::<Vec<_>>()),
    }
}

fn echo_rate(lab: &Lab, me: &Path, addr: &str) -> Result<f64> {
    let out = run_captured(lab.client.command(me).args([
        "bench",
        "__echo-client",
        addr,
        &SECONDS.to_string(),
        &ECHO_CONNECTIONS.to_string(),
    ]))?;
    out.trim()
        .parse()
        .map_err(|_| Error::Other(format!("echo client printed '{}'", out.trim())))
}

/// Writes nginx's configuration into `dir` and returns its path: `root` served on
/// 10.79.0.2:80, or, with `certs` (a directory holding `chain.pem` and `key.pem`), on port 443
/// over TLS 1.3 only, without session tickets or cache, so every connection is a full handshake.
pub(crate) fn nginx_conf(
    dir: &Path,
    root: &Path,
    certs: Option<&Path>,
) -> Result<std::path::PathBuf> {
    let (name, tls, server) = match certs {
        None => (
            "nginx",
            String::new(),
            format!(
                "server {{ listen 10.79.0.2:80; root {}; index index.html; }}",
                root.display()
            ),
        ),
        Some(certs) => (
            "nginx-tls",
            "ssl_protocols TLSv1.3;\n  ssl_session_tickets off;\n  ssl_session_cache off;\n"
                .to_string(),
            format!(
                "server {{ listen 10.79.0.2:443 ssl; ssl_certificate {}; \
                 ssl_certificate_key {}; root {}; index index.html; }}",
                certs.join("chain.pem").display(),
                certs.join("key.pem").display(),
                root.display()
            ),
        ),
    };
    let conf = dir.join(format!("{name}.conf"));
    let text = format!(
        "master_process off;\ndaemon off;\npid {pid};\nerror_log stderr error;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  keepalive_requests 1000000;\n\
         client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n  fastcgi_temp_path {tmp};\n\
         uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n\
         types {{ text/html html; text/css css; image/png png; }}\n\
         {tls}{server}\n}}\n",
        pid = dir.join(format!("{name}.pid")).display(),
        tmp = dir.display(),
    );
    std::fs::write(&conf, text).map_err(|e| Error::Other(format!("writing {name}.conf: {e}")))?;
    Ok(conf)
}

/// `cargo xtask bench net`; with `echo_only` (`bench net --echo`) only the echo throughput.
fn net(ws: &Workspace, echo_only: bool) -> Result<ExitCode> {
    need_tool("ip", "apt-get install iproute2")?;
    if echo_only {
        let echo_server = unix::build(ws, "echo-server", Profile::Release)?;
        let me = std::env::current_exe().map_err(|e| Error::Other(format!("own path: {e}")))?;
        let lab = Lab::new()?;
        print_echo(echo(&lab, &echo_server, &me)?);
        return Ok(ExitCode::SUCCESS);
    }
    need_tool("wrk", "apt-get install wrk")?;
    need_tool("nginx", "apt-get install nginx-light")?;
    // wrk, nginx and the unikernels inherit it: a thousand connections are a thousand files.
    morgana_testkit::clients::raise_descriptor_limit();
    let http_server = unix::build(ws, "http-server", Profile::Release)?;
    let echo_server = unix::build(ws, "echo-server", Profile::Release)?;
    let me = std::env::current_exe().map_err(|e| Error::Other(format!("own path: {e}")))?;
    let htdocs = ws.root.join("examples/http-server/htdocs");
    let tmp = std::env::temp_dir().join(format!("morgana-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| Error::Other(format!("{}: {e}", tmp.display())))?;
    let lab = Lab::new()?;

    // HTTP: the unikernel, then nginx, alternating runs so drift hits both alike.
    let uni_http = {
        let mut cmd = lab.client.command(&http_server);
        cmd.args(["--net:service=tap0", "--", "--ipv4=10.78.0.2/24"]);
        start(cmd)?
    };
    wait_listening(&lab.client, "10.78.0.2:80")?;
    let host_http = {
        let mut cmd = lab.server.command(&http_server);
        cmd.args([
            "--net:service=socket",
            "--",
            "--ipv4=10.79.0.2/24",
            "--port=8080",
        ]);
        start(cmd)?
    };
    wait_listening(&lab.client, "10.79.0.2:8080")?;
    let conf = nginx_conf(&tmp, &htdocs, None)?;
    let nginx = {
        let mut cmd = lab.server.command("nginx");
        cmd.arg("-c").arg(&conf);
        start(cmd)?
    };
    wait_listening(&lab.client, "10.79.0.2:80")?;
    let (mut uni, mut host, mut lin) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        uni.push(wrk(&lab, "http://10.78.0.2/")?);
        host.push(wrk(&lab, "http://10.79.0.2:8080/")?);
        lin.push(wrk(&lab, "http://10.79.0.2/")?);
    }
    let (uni, host, lin) = (median_http(&uni), median_http(&host), median_http(&lin));
    let many: Vec<HttpRun> = {
        let urls = [
            "http://10.78.0.2/",
            "http://10.79.0.2:8080/",
            "http://10.79.0.2/",
        ];
        let mut runs = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..RUNS {
            for (url, runs) in urls.iter().zip(&mut runs) {
                runs.push(wrk_connections(&lab, url, MANY_CONNECTIONS, &[])?);
            }
        }
        runs.iter().map(|r| median_http(r)).collect()
    };
    drop((uni_http, host_http, nginx));

    let echo_rates = echo(&lab, &echo_server, &me)?;
    let _ = std::fs::remove_dir_all(&tmp);
    // The same services as hvt guests on the same tap: exits, not times.
    let hvt_exits = super::hvt_net::report(ws, &lab.client);

    println!("network benchmark: median of {RUNS} runs of {SECONDS} s each");
    println!(
        "http  GET / ({HTTP_CONNECTIONS} connections, wrk -t2, keep-alive)\n\
         {:<22} {:>10} {:>9} {:>9} {:>9}",
        "", "req/s", "p50 us", "p90 us", "p99 us"
    );
    for (name, r) in [
        ("http-server (tap)", uni),
        ("http-server (host)", host),
        ("nginx (Linux)", lin),
    ] {
        println!(
            "{name:<22} {:>10.0} {:>9.0} {:>9.0} {:>9.0}",
            r.rps, r.p50, r.p90, r.p99
        );
    }
    println!(
        "ratio unikernel/nginx req/s: {:.2} (tap), {:.2} (host TCP/IP)",
        uni.rps / lin.rps,
        host.rps / lin.rps
    );
    println!(
        "http  GET / ({MANY_CONNECTIONS} connections, wrk -t2, keep-alive; no socket errors, all 200)"
    );
    for (name, r) in ["http-server (tap)", "http-server (host)", "nginx (Linux)"]
        .iter()
        .zip(&many)
    {
        println!(
            "{name:<22} {:>10.0} {:>9.0} {:>9.0} {:>9.0}",
            r.rps, r.p50, r.p90, r.p99
        );
    }
    println!(
        "ratio unikernel/nginx req/s: {:.2} (tap), {:.2} (host TCP/IP)",
        many[0].rps / many[2].rps,
        many[1].rps / many[2].rps
    );
    print_echo(echo_rates);
    if let Err(e) = hvt_exits {
        println!("hvt VM exits: not measured: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Echo throughput in MB/s, medians of [`ECHO_RUNS`]: echo-server on the tap, echo-server on the
/// host's TCP/IP, the Linux echo server; runs alternate between the three.
fn echo(lab: &Lab, echo_server: &Path, me: &Path) -> Result<(f64, f64, f64)> {
    let uni_echo = {
        let mut cmd = lab.client.command(echo_server);
        cmd.args(["--net:service=tap0", "--", "--ipv4=10.78.0.2/24"]);
        start(cmd)?
    };
    wait_listening(&lab.client, "10.78.0.2:7")?;
    let host_echo = {
        let mut cmd = lab.server.command(echo_server);
        cmd.args([
            "--net:service=socket",
            "--",
            "--ipv4=10.79.0.2/24",
            "--port=7007",
        ]);
        start(cmd)?
    };
    wait_listening(&lab.client, "10.79.0.2:7007")?;
    let linux_echo = {
        let mut cmd = lab.server.command(me);
        cmd.args(["bench", "__echo-server", "10.79.0.2:7"]);
        start(cmd)?
    };
    wait_listening(&lab.client, "10.79.0.2:7")?;
    let (mut uni_mb, mut host_mb, mut lin_mb) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ECHO_RUNS {
        uni_mb.push(echo_rate(lab, me, "10.78.0.2:7")?);
        host_mb.push(echo_rate(lab, me, "10.79.0.2:7007")?);
        lin_mb.push(echo_rate(lab, me, "10.79.0.2:7")?);
    }
    drop((uni_echo, host_echo, linux_echo));
    Ok((median(&uni_mb), median(&host_mb), median(&lin_mb)))
}

fn print_echo((uni_mb, host_mb, lin_mb): (f64, f64, f64)) {
    println!(
        "echo  ({ECHO_CONNECTIONS} connections, 64 KiB writes, MB/s echoed back, median of {ECHO_RUNS} runs of {SECONDS} s)\n\
         echo-server (tap)       {uni_mb:>8.1} MB/s\n\
         echo-server (host)      {host_mb:>8.1} MB/s\n\
         Linux socket echo       {lin_mb:>8.1} MB/s\n\
         ratio unikernel/Linux: {:.2} (tap), {:.2} (host TCP/IP)",
        uni_mb / lin_mb,
        host_mb / lin_mb
    );
}

/// A thread-per-connection echo server on Linux sockets.
fn linux_echo_server(addr: &str) -> Result<ExitCode> {
    let listener =
        TcpListener::bind(addr).map_err(|e| Error::Other(format!("bind {addr}: {e}")))?;
    for stream in listener.incoming() {
        let Ok(mut s) = stream else { continue };
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = s.shutdown(Shutdown::Write);
        });
    }
    Ok(ExitCode::SUCCESS)
}

/// Streams to `addr` on `conns` connections for `time`; returns MB/s (10^6 bytes) echoed back.
fn echo_client(addr: &str, time: Duration, conns: usize) -> Result<f64> {
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for _ in 0..conns {
        let s =
            TcpStream::connect(addr).map_err(|e| Error::Other(format!("connect {addr}: {e}")))?;
        let mut w = s.try_clone().map_err(|e| Error::Other(e.to_string()))?;
        let stop_w = stop.clone();
        threads.push(std::thread::spawn(move || {
            let block = vec![0x5au8; 64 * 1024];
            while !stop_w.load(Ordering::Relaxed) {
                if w.write_all(&block).is_err() {
                    break;
                }
            }
            let _ = w.shutdown(Shutdown::Write);
        }));
        let (mut r, received) = (s, received.clone());
        threads.push(std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        received.fetch_add(n as u64, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    let start = Instant::now();
    std::thread::sleep(time);
    let bytes = received.load(Ordering::Relaxed);
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    Ok(bytes as f64 / 1e6 / elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_configurations_plain_and_tls() {
        let dir = std::env::temp_dir().join(format!("nginx-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let common = |name: &str| {
            format!(
                "master_process off;\ndaemon off;\npid {d}/{name}.pid;\nerror_log stderr error;\n\
                 events {{ worker_connections 4096; }}\n\
                 http {{\n  access_log off;\n  keepalive_requests 1000000;\n\
                 client_body_temp_path {d};\n  proxy_temp_path {d};\n  fastcgi_temp_path {d};\n\
                 uwsgi_temp_path {d};\n  scgi_temp_path {d};\n\
                 types {{ text/html html; text/css css; image/png png; }}\n",
                d = dir.display()
            )
        };
        let plain = nginx_conf(&dir, Path::new("/site"), None).unwrap();
        assert_eq!(plain, dir.join("nginx.conf"));
        assert_eq!(
            std::fs::read_to_string(&plain).unwrap(),
            common("nginx") + "server { listen 10.79.0.2:80; root /site; index index.html; }\n}\n"
        );
        let tls = nginx_conf(&dir, Path::new("/site"), Some(Path::new("/certs"))).unwrap();
        assert_eq!(tls, dir.join("nginx-tls.conf"));
        assert_eq!(
            std::fs::read_to_string(&tls).unwrap(),
            common("nginx-tls")
                + "ssl_protocols TLSv1.3;\n  ssl_session_tickets off;\n  ssl_session_cache off;\n\
                   server { listen 10.79.0.2:443 ssl; ssl_certificate /certs/chain.pem; \
                   ssl_certificate_key /certs/key.pem; root /site; index index.html; }\n}\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_wrk_output() {
        let out = "Running 5s test @ http://10.78.0.2/\n  2 threads and 32 connections\n\
            Latency Distribution\n     50%  520.00us\n     75%  1.00ms\n     90%    1.50ms\n     99%   12.30ms\n\
            100000 requests in 5.00s, 30.00MB read\nRequests/sec:  20000.50\nTransfer/sec:      6.00MB\n";
        let r = parse_wrk(out).unwrap();
        assert_eq!(
            (r.rps, r.p50, r.p90, r.p99),
            (20000.5, 520.0, 1500.0, 12300.0)
        );
        assert!(parse_wrk("nothing").is_none());
    }
}
