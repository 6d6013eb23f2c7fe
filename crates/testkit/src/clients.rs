//! Many TCP clients at once: open `n` connections, hold them all, and run an exchange on each
//! while all the others stay open, for the tests of how many connections a server holds; or
//! open them all in one burst. And a half-open handshake, as a SYN scanner makes one.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::time::Duration;

use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn, sendto, socket,
};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber,
};
use std::os::fd::AsRawFd;

/// How long one connection attempt, or one read, may take: long enough for SYNs a server's
/// listen backlog dropped to be sent again several times (1 s, 2 s, 4 s, ... apart).
pub const PATIENCE: Duration = Duration::from_secs(40);

/// Raises this process's descriptor limit (`RLIMIT_NOFILE`) to its hard limit, so that a test
/// can hold a thousand connections; returns the soft limit now in force.
pub fn raise_descriptor_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the call's duration.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid `rlimit`; raising the soft limit to the hard one is
        // always allowed and changes nothing else.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return raised.rlim_cur;
        }
    }
    limit.rlim_cur
}

/// Opens `n` connections to `addr` (from 8 threads at once, so that they arrive in bursts),
/// then, with all of them open, runs `exchange` on each in turn, twice (so each is kept alive
/// across a round of all the others); returns how many connections had both exchanges succeed.
///
/// A connection that cannot be opened, or was reset, fails the test with its error.
pub fn hold_and_exchange(
    addr: SocketAddr,
    n: usize,
    exchange: impl Fn(&mut TcpStream, usize) -> io::Result<bool>,
) -> usize {
    let limit = raise_descriptor_limit();
    assert!(
        limit >= n as u64 + 64,
        "the descriptor limit ({limit}) is too low for {n} connections"
    );
    const THREADS: usize = 8;
    let openers: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                (t..n)
                    .step_by(THREADS)
                    .map(|i| {
                        let s = TcpStream::connect_timeout(&addr, PATIENCE)
                            .unwrap_or_else(|e| panic!("connection {i}: connect: {e}"));
                        s.set_read_timeout(Some(PATIENCE))
                            .expect("set a read timeout");
                        s.set_nodelay(true).expect("set TCP_NODELAY");
                        (i, s)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut streams: Vec<(usize, TcpStream)> = openers
        .into_iter()
        .flat_map(|t| t.join().expect("an opening thread panicked"))
        .collect();
    streams.sort_by_key(|(i, _)| *i);
    let mut ok = vec![true; n];
    for _round in 0..2 {
        for (i, s) in streams.iter_mut() {
            let good = exchange(s, *i)
                .unwrap_or_else(|e| panic!("connection {i} failed with all {n} open: {e}"));
            ok[*i] &= good;
        }
    }
    ok.iter().filter(|g| **g).count()
}

/// Opens `n` connections to `addr` all at once (a thread each, released together), runs
/// `exchange` on each, and keeps every connection open until all exchanges are done; returns
/// how many succeeded. A burst larger than the sockets a server listens with.
///
/// A connection that cannot be opened, or fails, fails the test with its error.
pub fn burst(
    addr: SocketAddr,
    n: usize,
    exchange: impl Fn(&mut TcpStream, usize) -> io::Result<bool> + Send + Sync + 'static,
) -> usize {
    let limit = raise_descriptor_limit();
    assert!(
        limit >= n as u64 + 64,
        "the descriptor limit ({limit}) is too low for {n} connections"
    );
    let exchange = std::sync::Arc::new(exchange);
    let start = std::sync::Arc::new(std::sync::Barrier::new(n));
    let done = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (exchange, start, done) = (exchange.clone(), start.clone(), done.clone());
            std::thread::spawn(move || {
                start.wait();
                let result = TcpStream::connect_timeout(&addr, PATIENCE).and_then(|mut s| {
                    s.set_read_timeout(Some(PATIENCE))?;
                    s.set_nodelay(true)?;
                    let good = exchange(&mut s, i)?;
                    Ok((good, s))
                });
                // Every thread gets here, even after an error, so that none waits forever.
                done.wait();
                result.map(|(good, _open_until_now)| good)
            })
        })
        .collect();
    threads
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            t.join()
                .expect("a connecting thread panicked")
                .unwrap_or_else(|e| panic!("connection {i} of the burst of {n}: {e}"))
        })
        .filter(|good| *good)
        .count()
}

/// An echo exchange: sends a line naming the connection, reads exactly that line back.
pub fn echo_line(s: &mut TcpStream, i: usize) -> io::Result<bool> {
    let line = format!("connection {i}\n");
    s.write_all(line.as_bytes())?;
    let mut back = vec![0u8; line.len()];
    s.read_exact(&mut back)?;
    Ok(back == line.as_bytes())
}

/// An HTTP/1.1 keep-alive exchange: `GET path`, then reads the response head and its
/// `Content-Length` body; true for a `200` whose body is `expected`.
pub fn http_get(s: &mut TcpStream, path: &str, expected: &[u8]) -> io::Result<bool> {
    write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte)?;
        head.push(byte[0]);
        if head.len() > 16 * 1024 {
            return Ok(false);
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body)?;
    Ok(head.starts_with("HTTP/1.1 200 OK\r\n") && body == expected)
}

/// Sends one TCP SYN from `from`, port `sport`, initial sequence number `isn`, to `to`, through
/// a raw socket that writes the IPv4 header too (root only), as a SYN scanner or a flood
/// does.
///
/// - With `from` an address of this host, no socket here owns the connection, so when the
///   server's SYN-ACK comes the kernel answers it with an RST whose sequence number is
///   `isn + 1`: the server sees a client reset the connection in the middle of its handshake.
/// - With `from` an address no host has (a forged source), nothing ever answers the server:
///   the handshake stays half open until the server gives it up.
pub fn syn_without_socket(
    from: Ipv4Addr,
    sport: u16,
    isn: u32,
    to: SocketAddrV4,
) -> io::Result<()> {
    let tcp = TcpRepr {
        src_port: sport,
        dst_port: to.port(),
        control: TcpControl::Syn,
        // The sequence number's bits, as smoltcp keeps them.
        seq_number: TcpSeqNumber(isn as i32),
        ack_number: None,
        window_len: 64240,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None; 3],
        timestamp: None,
        payload: &[],
    };
    let ip = Ipv4Repr {
        src_addr: from,
        dst_addr: *to.ip(),
        next_header: IpProtocol::Tcp,
        payload_len: tcp.buffer_len(),
        hop_limit: 64,
    };
    // Both headers and their checksums written by smoltcp, the stack under test's own
    // definition of them.
    let checksums = ChecksumCapabilities::default();
    let mut packet = vec![0u8; ip.buffer_len() + tcp.buffer_len()];
    let (ip_bytes, tcp_bytes) = packet.split_at_mut(ip.buffer_len());
    ip.emit(&mut Ipv4Packet::new_unchecked(ip_bytes), &checksums);
    tcp.emit(
        &mut TcpPacket::new_unchecked(tcp_bytes),
        &IpAddress::Ipv4(from),
        &IpAddress::Ipv4(*to.ip()),
        &checksums,
    );
    let fd = socket(
        AddressFamily::Inet,
        SockType::Raw,
        SockFlag::empty(),
        SockProtocol::Raw,
    )?;
    sendto(
        fd.as_raw_fd(),
        &packet,
        &SockaddrIn::from(to),
        MsgFlags::empty(),
    )?;
    Ok(())
}
