//! An echo client shared by the tests over a tap and over the host's own TCP/IP.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// Sends `data`, half-closes, and reads until the server's FIN.
pub fn exchange(addr: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut w = s.try_clone().unwrap();
    let data = data.to_vec();
    let writer = std::thread::spawn(move || {
        for piece in data.chunks(1000) {
            w.write_all(piece).expect("write");
        }
        w.shutdown(Shutdown::Write).expect("shutdown");
    });
    let mut got = Vec::new();
    s.read_to_end(&mut got)
        .expect("read until the server's FIN");
    writer.join().unwrap();
    got
}

/// Fifty clients at once, 20 000 bytes each: how many got exactly their bytes back.
pub fn fifty_concurrent_exchanges(addr: SocketAddr) -> usize {
    let clients: Vec<_> = (0..50u8)
        .map(|i| {
            std::thread::spawn(move || {
                let data: Vec<u8> = (0..20_000u32)
                    .map(|b| (b as u8).wrapping_mul(i | 1))
                    .collect();
                exchange(addr, &data) == data
            })
        })
        .collect();
    clients
        .into_iter()
        .map(|c| c.join().unwrap())
        .filter(|ok| *ok)
        .count()
}

/// Bytes in the bulk transfers: large enough to fill every window many times over.
pub const BULK_BYTES: usize = 64 << 20;

/// Streams [`BULK_BYTES`] of a fixed pseudo-random sequence on one connection while reading
/// the echo back; `while_open` runs once the connection is up. Returns the hashes of what was
/// sent and what came back and the number of bytes that came back.
pub fn bulk_exchange(addr: SocketAddr, while_open: impl FnOnce()) -> (u64, u64, usize) {
    use std::hash::Hasher;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let mut hash = std::hash::DefaultHasher::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut piece = vec![0u8; 64 * 1024];
        for _ in 0..BULK_BYTES / piece.len() {
            for word in piece.chunks_exact_mut(8) {
                // xorshift64: every byte differs from its neighbours, so a lost, repeated or
                // reordered piece changes the hash.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                word.copy_from_slice(&state.to_le_bytes());
            }
            hash.write(&piece);
            w.write_all(&piece).expect("write");
        }
        w.shutdown(Shutdown::Write).expect("shutdown");
        hash.finish()
    });
    let reader = std::thread::spawn(move || {
        let mut hash = std::hash::DefaultHasher::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0;
        loop {
            let n = s.read(&mut buf).expect("read until the server's FIN");
            if n == 0 {
                break;
            }
            hash.write(&buf[..n]);
            total += n;
        }
        (hash.finish(), total)
    });
    while_open();
    let sent = writer.join().unwrap();
    let (got, total) = reader.join().unwrap();
    (sent, got, total)
}

/// The window scale factors `ss -ti` reports for the established connections to `peer`
/// (`wscale:SND,RCV`: the shift the server announced, then the client's own).
pub fn window_scales(ss: &mut std::process::Command, peer: &str) -> Vec<(u8, u8)> {
    let out = ss
        .args(["-tin", "state", "established", "dst", peer])
        .output()
        .expect("run ss");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|word| word.strip_prefix("wscale:"))
        .filter_map(|pair| {
            let (snd, rcv) = pair.split_once(',')?;
            Some((snd.parse().ok()?, rcv.parse().ok()?))
        })
        .collect()
}
