//! http-server as a Linux process on a real tap device inside a network namespace made by the
//! test, driven with `curl` from inside the namespace; then bad frames written on the tap's
//! host side must not stop it from serving.

use std::time::Duration;

use morgana_testkit::{Netns, Prereq, Process, require, run};

mod common;
use common::htdocs;

const EXE: &str = env!("CARGO_BIN_EXE_http-server");
const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x77, 0x00, 0x02];
const BASE: &str = "http://10.77.0.2";

fn start(ns: &Netns) -> Process {
    start_with(ns, &[])
}

/// [`start`] with more arguments for the server.
fn start_with(ns: &Netns, args: &[&str]) -> Process {
    ns.add_tap("tap0", 1500, Some("10.77.0.1/24"));
    let mut p = Process::start(
        ns.command(EXE)
            .args([
                "--net:service=tap0",
                "--net-mac:service=02:00:00:77:00:02",
                "--",
                "--ipv4=10.77.0.2/24",
                "--idle-timeout=5",
            ])
            .args(args),
    );
    let line = p.wait_for_line("http-server:", Duration::from_secs(10));
    assert_eq!(line, "http-server: 3 files, port 80");
    p
}

/// One `GET /` on a new connection from inside `ns`, connected within `patience`: true for a
/// 200 with index.html.
fn get_index(ns: &Netns, patience: Duration) -> std::io::Result<bool> {
    let index = htdocs("index.html");
    ns.enter(move || {
        let addr = std::net::SocketAddr::from(([10, 77, 0, 2], 80));
        let mut s = std::net::TcpStream::connect_timeout(&addr, patience)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        morgana_testkit::clients::http_get(&mut s, "/", &index)
    })
}

/// Runs curl inside the namespace; returns (exit status, stdout).
fn curl(ns: &Netns, args: &[&str]) -> (i32, Vec<u8>) {
    let mut full = vec!["-s", "-m", "10"];
    full.extend_from_slice(args);
    let out = run(ns.command("curl").args(&full), Duration::from_secs(20));
    (out.code.unwrap_or(-1), out.stdout_bytes)
}

#[test]
fn curl_gets_exact_files_types_404_405_and_reuses_one_connection() {
    require!(Prereq::Tap, Prereq::Tool("curl"));
    let ns = Netns::new("httpd");
    let mut server = start(&ns);

    common::check_site(&|args| curl(&ns, args), BASE);
    assert!(server.is_running());
}

fn frame(dst: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let src = [0x02, 0x00, 0x00, 0x77, 0x00, 0xee];
    [&dst[..], &src[..], &ethertype.to_be_bytes(), payload].concat()
}

/// An IPv4 header (valid checksum) for `proto` from 10.77.0.1 to 10.77.0.2, claiming
/// `total_len`, followed by `rest`.
fn ipv4(proto: u8, total_len: u16, rest: &[u8]) -> Vec<u8> {
    let mut h = vec![
        0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2,
    ];
    h[2..4].copy_from_slice(&total_len.to_be_bytes());
    let sum: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    let folded = !(((sum & 0xffff) + (sum >> 16)) as u16);
    h[10..12].copy_from_slice(&folded.to_be_bytes());
    [&h[..], rest].concat()
}

#[test]
fn truncated_oversized_and_garbage_frames_do_not_stop_the_server() {
    require!(Prereq::Tap, Prereq::Tool("curl"));
    let ns = Netns::new("httpbad");
    let mut server = start(&ns);
    let (code, _) = curl(&ns, &[&format!("{BASE}/")]);
    assert_eq!(code, 0, "served before the garbage");

    // A deterministic pseudo-random stream (xorshift) for garbage payloads.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    };
    let bcast = [0xff; 6];
    let mut frames = vec![
        frame(MAC, 0x0800, &[]),                                   // header only
        frame(MAC, 0x0800, &[0x45, 0x00]),                         // truncated IPv4 header
        frame(MAC, 0x0800, &ipv4(6, 1500, &[0, 80])),              // claims more than it has
        frame(MAC, 0x0800, &ipv4(6, 25, &[0x1f, 0x90, 0, 80, 1])), // truncated TCP header
        frame(MAC, 0x0800, &ipv4(17, 28, &[0, 53, 0, 53, 0, 200, 0, 0])), // UDP length lies
        frame(MAC, 0x0800, &ipv4(1, 21, &[8])),                    // truncated ICMP
        frame(bcast, 0x0806, &[0, 1, 8, 0, 6, 4, 0]),              // truncated ARP
        frame(MAC, 0x86dd, &[0x60, 0, 0, 0, 0xff, 0xff, 58]),      // truncated IPv6
        frame(MAC, 0x0800, &ipv4(6, 20 + 60, &noise(60))),         // TCP with garbage inside
    ];
    for ethertype in [0x0800u16, 0x86dd, 0x0806, 0x1234] {
        for len in [1usize, 20, 60, 400, 1486] {
            frames.push(frame(MAC, ethertype, &noise(len)));
            frames.push(frame(bcast, ethertype, &noise(len)));
        }
    }
    let results = ns.send_frames("tap0", frames);
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    // Frames over the MTU: a packet socket refuses them (EMSGSIZE) while the host side has
    // the unikernel's MTU...
    let oversized = vec![
        frame(MAC, 0x0800, &noise(1500 + 200)),
        frame(MAC, 0x0800, &noise(8000)),
    ];
    let refused = ns.send_frames("tap0", oversized.clone());
    for r in &refused {
        assert_eq!(
            r.as_ref().err().map(String::as_str),
            Some("EMSGSIZE: Message too long")
        );
    }
    // ...so raise the host side's MTU: the unikernel (which read 1500 at boot) now gets frames
    // longer than its receive buffer, which the tap truncates.
    ns.ip(&["link", "set", "tap0", "mtu", "9000"]);
    let results = ns.send_frames("tap0", oversized);
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    std::thread::sleep(Duration::from_millis(200));
    assert!(server.is_running(), "the unikernel died of the frames");
    let (code, body) = curl(&ns, &[&format!("{BASE}/css/site.css")]);
    assert_eq!(
        (code, body),
        (0, htdocs("css/site.css")),
        "served after the garbage"
    );
}

#[test]
fn a_thousand_keep_alive_connections_over_a_tap_are_held_at_once_and_answered() {
    require!(Prereq::Tap);
    let ns = Netns::new("http1k");
    let mut server = start(&ns);
    let index = htdocs("index.html");
    let ok = ns.enter(move || {
        let addr: std::net::SocketAddr = "10.77.0.2:80".parse().unwrap();
        morgana_testkit::clients::hold_and_exchange(addr, 1000, |s, _| {
            morgana_testkit::clients::http_get(s, "/", &index)
        })
    });
    assert_eq!(
        ok, 1000,
        "connections answered 200 with index.html, twice each"
    );
    assert!(server.is_running());
}

#[test]
fn a_burst_of_64_connections_is_answered_without_any_syn_sent_again() {
    require!(Prereq::Tap);
    let ns = Netns::new("httpsyn");
    let mut server = start(&ns);
    let index = htdocs("index.html");
    let addr: std::net::SocketAddr = "10.77.0.2:80".parse().unwrap();
    // One request first: the first SYN-ACK may wait while the stack resolves our address.
    let warmed = get_index(&ns, Duration::from_secs(10));
    assert!(matches!(warmed, Ok(true)), "{warmed:?}");
    let before = ns.stack_counter("TcpExtTCPSynRetrans");
    // 64 at once against 16 listening sockets: the SYNs beyond them are held until listeners
    // start, not dropped to come again a second later.
    let ok = ns.enter(move || {
        morgana_testkit::clients::burst(addr, 64, move |s, _| {
            morgana_testkit::clients::http_get(s, "/", &index)
        })
    });
    let after = ns.stack_counter("TcpExtTCPSynRetrans");
    assert_eq!(ok, 64, "connections answered 200 with index.html");
    assert_eq!(after - before, 0, "SYNs the clients had to send again");
    assert!(server.is_running());
}

/// A client that resets a connection in the middle of its handshake (its kernel answers the
/// SYN-ACK with an RST, as with a SYN scanner or an abandoned connect) leaves the socket that
/// took its SYN listening again, and the server must count it so. Before, each such reset hid
/// one listening socket from the server's SYN gate for good: with one connection and one
/// waiting allowed (two sockets), two of them left it holding every later SYN until it expired,
/// and it served no one again.
#[test]
fn handshakes_reset_by_their_clients_leave_the_server_serving() {
    require!(Prereq::Tap);
    let ns = Netns::new("httprst");
    let mut server = start_with(&ns, &["--max-connections=1", "--backlog=1"]);
    // One request first: the first SYN-ACK may wait while the stack resolves our address.
    let warmed = get_index(&ns, Duration::from_secs(10));
    assert!(matches!(warmed, Ok(true)), "{warmed:?}");

    let resets = ns.stack_counter("TcpOutRsts");
    for i in 0..4u16 {
        let to = std::net::SocketAddrV4::new([10, 77, 0, 2].into(), 80);
        let sent = ns.enter(move || {
            morgana_testkit::clients::syn_without_socket(
                [10, 77, 0, 1].into(),
                41000 + i,
                0x1000_0000 * u32::from(i + 1),
                to,
            )
        });
        assert!(sent.is_ok(), "raw SYN {i}: {sent:?}");
        // The kernel's RST to the server's SYN-ACK.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while ns.stack_counter("TcpOutRsts") < resets + u64::from(i) + 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "no RST for handshake {i}: the server sent no SYN-ACK to answer"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    let retries = ns.stack_counter("TcpExtTCPSynRetrans");
    let served = get_index(&ns, Duration::from_secs(10));
    assert!(
        matches!(served, Ok(true)),
        "after 4 reset handshakes: {served:?}"
    );
    assert_eq!(
        ns.stack_counter("TcpExtTCPSynRetrans") - retries,
        0,
        "SYNs the client had to send again"
    );
    assert!(server.is_running());
}

/// SYNs from forged addresses (a SYN flood) leave handshakes that nobody completes. Each held
/// a socket in SYN-RECEIVED for good: two of them left `--max-connections=1 --backlog=1` (two
/// sockets) unable to serve anyone again. The server now gives a handshake up after
/// `HANDSHAKE_TIMEOUT` (20 s) and serves the client that was waiting.
#[test]
fn half_open_handshakes_from_forged_addresses_are_given_up_and_the_waiting_client_served() {
    require!(Prereq::Tap);
    let ns = Netns::new("httpflood");
    let mut server = start_with(&ns, &["--max-connections=1", "--backlog=1"]);
    let warmed = get_index(&ns, Duration::from_secs(10));
    assert!(matches!(warmed, Ok(true)), "{warmed:?}");

    // Two SYNs from addresses of the tap's network that no host has: nothing answers the
    // SYN-ACKs, and both sockets wait in SYN-RECEIVED.
    for i in 0..2u8 {
        let to = std::net::SocketAddrV4::new([10, 77, 0, 2].into(), 80);
        let sent = ns.enter(move || {
            morgana_testkit::clients::syn_without_socket([10, 77, 0, 50 + i].into(), 42000, 7, to)
        });
        assert!(sent.is_ok(), "forged SYN {i}: {sent:?}");
    }
    // Both sockets are taken: a client now waits (this proves the two handshakes hold them).
    let refused = get_index(&ns, Duration::from_secs(3));
    assert!(
        matches!(&refused, Err(e) if e.kind() == std::io::ErrorKind::TimedOut),
        "a connection while both sockets wait for their handshakes: {refused:?}"
    );
    // Within 20 s of the forged SYNs the handshakes are given up, and a client that keeps
    // trying (its SYN sent again 1, 3, 7, 15 and 31 s after the first) is served.
    let served = get_index(&ns, morgana_testkit::clients::PATIENCE);
    assert!(
        matches!(served, Ok(true)),
        "after the handshakes' timeout: {served:?}"
    );
    assert!(server.is_running());
}
