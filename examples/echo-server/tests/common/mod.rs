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
