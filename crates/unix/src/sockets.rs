//! The host's own TCP/IP: TCP connections as non-blocking host sockets.
//!
//! A net device bound with `--net:NAME=socket` moves no frames; a TCP/IP stack given one
//! (`morgana-tcpip`) serves its TCP listeners and connections from here. Every operation is
//! non-blocking: one that would block registers its task's waker with [`crate::wait`], so the
//! process sleeps in `ppoll(2)` with the timers until a socket is ready, as it does for TAP
//! devices.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::task::{Context, Poll};

use nix::sys::socket::{self as nix_socket, AddressFamily, SockFlag, SockType, SockaddrStorage};

use crate::wait::{self, Interest};

/// Runs `op` until it stops failing with `EINTR`; on `WouldBlock` registers the task's waker
/// for `fd` and `interest` and returns `Pending`.
fn poll_io<T>(
    cx: &mut Context<'_>,
    fd: i32,
    interest: Interest,
    mut op: impl FnMut() -> io::Result<T>,
) -> Poll<io::Result<T>> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait::register(fd, interest, cx.waker());
                return Poll::Pending;
            }
            other => return Poll::Ready(other),
        }
    }
}

/// A listening TCP socket; clones share it, and several tasks may accept on it at once.
#[derive(Debug, Clone)]
pub struct HostListener {
    socket: Arc<TcpListener>,
}

impl HostListener {
    /// Listens on `addr` (`SO_REUSEADDR`, as `std` sets it), with the host's largest listen
    /// backlog (`SOMAXCONN`): connections beyond what the service serves wait there.
    ///
    /// Also raises the process's descriptor limit to its hard limit, once: every connection
    /// is a descriptor, and the usual soft limit (1024) is below a thousand connections.
    pub fn bind(addr: SocketAddr) -> io::Result<HostListener> {
        raise_descriptor_limit();
        let socket = TcpListener::bind(addr)?;
        nix_socket::listen(&socket, nix_socket::Backlog::MAXCONN)?;
        socket.set_nonblocking(true)?;
        Ok(HostListener {
            socket: Arc::new(socket),
        })
    }

    /// The address it listens on (with the port the host chose for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<HostStream> {
        let fd = self.socket.as_raw_fd();
        loop {
            let accepted =
                poll_fn(|cx| poll_io(cx, fd, Interest::Read, || self.socket.accept())).await;
            match accepted {
                Ok((stream, peer)) => return HostStream::new(stream, peer),
                // The peer gave up before we took the connection: wait for the next one.
                Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Raises `RLIMIT_NOFILE`'s soft limit to its hard limit (a failure leaves it as it was).
fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the call's duration.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid `rlimit`; raising the soft limit up to the hard one is
        // always allowed and changes nothing but the limit.
        let _ = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
}

impl Drop for HostListener {
    fn drop(&mut self) {
        if Arc::strong_count(&self.socket) == 1 {
            wait::forget(self.socket.as_raw_fd());
        }
    }
}

/// One TCP connection.
#[derive(Debug)]
pub struct HostStream {
    socket: TcpStream,
    peer: SocketAddr,
}

impl HostStream {
    fn new(socket: TcpStream, peer: SocketAddr) -> io::Result<HostStream> {
        socket.set_nonblocking(true)?;
        Ok(HostStream { socket, peer })
    }

    /// Connects to `addr` without blocking the process.
    pub async fn connect(addr: SocketAddr) -> io::Result<HostStream> {
        let family = match addr {
            SocketAddr::V4(_) => AddressFamily::Inet,
            SocketAddr::V6(_) => AddressFamily::Inet6,
        };
        let fd: OwnedFd = nix_socket::socket(
            family,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        match nix_socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
            Ok(()) => {}
            Err(nix::errno::Errno::EINPROGRESS) => {
                let raw = fd.as_raw_fd();
                // Writable means the handshake ended; SO_ERROR says how.
                poll_fn(|cx| {
                    poll_io(cx, raw, Interest::Write, || {
                        let err = nix_socket::getsockopt(&fd, nix_socket::sockopt::SocketError)?;
                        match err {
                            0 => Ok(()),
                            libc::EINPROGRESS | libc::EALREADY => {
                                Err(io::ErrorKind::WouldBlock.into())
                            }
                            e => Err(io::Error::from_raw_os_error(e)),
                        }
                    })
                })
                .await?;
                wait::forget(raw);
            }
            Err(e) => return Err(e.into()),
        }
        HostStream::new(TcpStream::from(fd), addr)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Turns Nagle's algorithm on or off (`TCP_NODELAY` is its opposite).
    pub fn set_nagle_enabled(&self, enabled: bool) -> io::Result<()> {
        self.socket.set_nodelay(!enabled)
    }

    /// Reads what has arrived into `buf`, waiting for at least one byte; 0 at the peer's FIN.
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        poll_io(cx, fd, Interest::Read, || self.socket.read(buf))
    }

    /// Writes some of `buf` into the host's send buffer, waiting until it has room.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let fd = self.socket.as_raw_fd();
        poll_io(cx, fd, Interest::Write, || self.socket.write(buf))
    }

    /// Sends FIN after what was written; reading goes on until the peer's FIN.
    pub fn close(&self) {
        // Fails only when the connection is already gone, which is what closing wants.
        let _ = self.socket.shutdown(Shutdown::Write);
    }

    /// Resets the connection (RST) when it is dropped, instead of closing it gracefully.
    pub fn abort(&self) {
        let _ = nix_socket::setsockopt(
            &self.socket,
            nix_socket::sockopt::Linger,
            &libc::linger {
                l_onoff: 1,
                l_linger: 0,
            },
        );
    }
}

impl Drop for HostStream {
    fn drop(&mut self) {
        wait::forget(self.socket.as_raw_fd());
    }
}

/// An address the host's resolver gives for `name`, IPv4 first as the direct stack's `A`
/// lookups (`getaddrinfo(3)`, which blocks the process while it asks).
pub fn resolve(name: &str) -> io::Result<std::net::IpAddr> {
    use std::net::ToSocketAddrs;
    let addrs: Vec<std::net::IpAddr> = (name, 0).to_socket_addrs()?.map(|a| a.ip()).collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn accept_connect_echo_close_on_loopback() {
        crate::block_on(|_| async {
            let listener = HostListener::bind((Ipv4Addr::LOCALHOST, 0).into()).unwrap();
            let addr = listener.local_addr().unwrap();
            let accept = listener.accept();
            let connect = HostStream::connect(addr);
            let (server, client) = embassy_futures::join::join(accept, connect).await;
            let (mut server, mut client) = (server.unwrap(), client.unwrap());
            assert_eq!(server.peer_addr(), client.socket.local_addr().unwrap());
            poll_fn(|cx| client.poll_write(cx, b"ping")).await.unwrap();
            client.close();
            let mut buf = [0u8; 16];
            let mut got = Vec::new();
            loop {
                let n = poll_fn(|cx| server.poll_read(cx, &mut buf)).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"ping");
        });
    }

    #[test]
    fn refused_connection_is_an_error() {
        crate::block_on(|_| async {
            // Bound but not listening: connecting to it is refused.
            let port = {
                let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
                l.local_addr().unwrap().port()
            };
            let err = HostStream::connect((Ipv4Addr::LOCALHOST, port).into())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        });
    }
}
