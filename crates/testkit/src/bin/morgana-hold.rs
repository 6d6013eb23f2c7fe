//! `morgana-hold`: holds many keep-alive connections to a server at once and makes two
//! exchanges on each, from a machine that has no test harness (the KVM lab's L1 runs it).
//!
//! ```text
//! morgana-hold http ADDR:PORT N FILE   # GET / on each, the body must be FILE's bytes
//! morgana-hold echo ADDR:PORT N        # a line on each, echoed back exactly
//! ```
//!
//! It first waits (up to [`PATIENCE`] per attempt, ten attempts) for the server to take one
//! connection, then opens all `n` with [`clients::hold_and_exchange`]. It prints one line,
//! `held N connections at once, M answered twice`, and exits 0 when every connection was
//! answered both times, 1 when not; a connection that fails ends it with the error and a
//! non-zero status; bad arguments give one line and status 2.

use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;

use morgana_testkit::clients::{self, PATIENCE};

const USAGE: &str = "usage: morgana-hold http ADDR:PORT N FILE | morgana-hold echo ADDR:PORT N";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("morgana-hold: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command `args`; `Ok(true)` when every connection was answered twice.
fn run(args: &[String]) -> Result<bool, String> {
    let (addr, n, file) = match args {
        [kind, addr, n] if kind == "echo" => (addr, n, None),
        [kind, addr, n, file] if kind == "http" => (addr, n, Some(file)),
        _ => return Err(USAGE.into()),
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("'{addr}' is not an ADDR:PORT"))?;
    let n: usize = match n.parse() {
        Ok(n) if n > 0 => n,
        _ => return Err(format!("'{n}' is not a number of connections")),
    };
    let body = match file {
        Some(file) => Some(std::fs::read(file).map_err(|e| format!("{file}: {e}"))?),
        None => None,
    };
    wait_until_listening(addr)?;
    let answered = match body {
        Some(body) => {
            clients::hold_and_exchange(addr, n, move |s, _| clients::http_get(s, "/", &body))
        }
        None => clients::hold_and_exchange(addr, n, clients::echo_line),
    };
    println!("held {n} connections at once, {answered} answered twice");
    Ok(answered == n)
}

/// Connects once and closes: the server is up and listening.
fn wait_until_listening(addr: SocketAddr) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..10 {
        match TcpStream::connect_timeout(&addr, PATIENCE) {
            Ok(_) => return Ok(()),
            Err(e) => {
                last = e.to_string();
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    }
    Err(format!("{addr} took no connection: {last}"))
}
