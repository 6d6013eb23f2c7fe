//! A thousand keep-alive connections held at once on hvt, under a KVM with hardware semantics
//! (this host's KVM-PVM emulates every guest instruction, which makes the same check take
//! half an hour there).
//!
//! Each service boots with its default limits (1,024 connections, 16 waiting) in the `--mem`
//! `docs/benchmarks.md` gives for a thousand connections. L1 runs the test kit's client,
//! `morgana-hold` ([`super::tools::hold_client`]): it opens 1,000 connections from 8 threads,
//! then makes two exchanges on each while all the others stay open, and prints one line that
//! the case compares exactly.

use super::State;
use super::suite::{BASE, Case, Expect, TAP_DOWN, TAP_UP};

/// What `morgana-hold` prints when every connection was answered both times.
const ALL_ANSWERED: &[&str] = &["held 1000 connections at once, 1000 answered twice"];

/// `http-server --mem=48`: `GET /` twice on each connection, the exact `index.html` each time.
pub const HTTP_SERVER: Case = Case {
    name: "http-server-1000-connections",
    package: "http-server",
    options: &["--mem=48", "--net:service=tap0"],
    args: &["--ipv4=10.0.0.2/24"],
    setup: Some(TAP_UP),
    during: Some(
        "morgana-hold http 10.0.0.2:80 1000 /htdocs/index.html; \
         touch /tmp/stopped; kill $GUEST_PID\n",
    ),
    after: Some(TAP_DOWN),
    files: &[(
        "htdocs/index.html",
        "examples/http-server/htdocs/index.html",
    )],
    hold_client: true,
    timeout_s: 600,
    end: State::Stopped,
    expect: &[Expect::L1(ALL_ANSWERED)],
    ..BASE
};

/// `echo-server --mem=64`: a line naming the connection echoed back exactly, twice on each.
pub const ECHO_SERVER: Case = Case {
    name: "echo-server-1000-connections",
    package: "echo-server",
    options: &["--mem=64", "--net:service=tap0"],
    args: &["--ipv4=10.0.0.2/24"],
    setup: Some(TAP_UP),
    during: Some("morgana-hold echo 10.0.0.2:7 1000; touch /tmp/stopped; kill $GUEST_PID\n"),
    after: Some(TAP_DOWN),
    hold_client: true,
    timeout_s: 600,
    end: State::Stopped,
    expect: &[Expect::L1(ALL_ANSWERED)],
    ..BASE
};
