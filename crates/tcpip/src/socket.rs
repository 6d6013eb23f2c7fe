//! One TCP socket API over both stacks: the direct one (embassy-net over a net device) and the
//! host's own TCP/IP (the unix backend's `--net:NAME=socket`).
//!
//! Services are written once against [`Stack::listen`], [`TcpListener::accept`],
//! [`Stack::connect`] and [`TcpStream`], which speaks [`embedded_io_async`]'s `Read` and
//! `Write`, so HTTP, TLS and other protocol crates take it (or anything else that speaks those
//! traits) unchanged.
//!
//! The direct stack keeps each connection's receive and transmit buffers outside the socket, in
//! a [`SocketBuffers`] the caller owns and reuses from one connection to the next; the host
//! stack leaves buffering to the host and ignores them.
//!
//! ```ignore
//! let listener = stack.listen(7)?;
//! let mut buffers = SocketBuffers::new(4096, 4096);
//! loop {
//!     let mut conn = listener.accept(&mut buffers).await?;
//!     let n = conn.read(&mut buf).await?;
//!     conn.write_all(&buf[..n]).await?;
//!     conn.close_gracefully(Duration::from_secs(5)).await;
//! }
//! ```

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use embassy_net::IpEndpoint;
use embassy_net::tcp::{self, TcpSocket};
use embassy_time::{Duration, with_timeout};
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};

use crate::{Error, Inner, Stack};

/// Why a socket operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocketError {
    /// The connection was reset (an RST, or the stack's own timeout).
    #[error("the connection was reset")]
    Reset,
    /// The peer refused the connection.
    #[error("the connection was refused")]
    Refused,
    /// The connection attempt timed out.
    #[error("the connection timed out")]
    TimedOut,
    /// No route to the peer.
    #[error("no route to the host")]
    NoRoute,
    /// The socket was in no state for the operation (a programming error).
    #[error("the socket is in the wrong state for this operation")]
    InvalidState,
    /// Another failure the host reported, in its words.
    #[error("{0}")]
    Host(String),
}

impl embedded_io_async::Error for SocketError {
    fn kind(&self) -> ErrorKind {
        match self {
            SocketError::Reset => ErrorKind::ConnectionReset,
            SocketError::Refused => ErrorKind::ConnectionRefused,
            SocketError::TimedOut => ErrorKind::TimedOut,
            SocketError::NoRoute => ErrorKind::AddrNotAvailable,
            SocketError::InvalidState => ErrorKind::InvalidInput,
            SocketError::Host(_) => ErrorKind::Other,
        }
    }
}

impl From<tcp::Error> for SocketError {
    fn from(_: tcp::Error) -> Self {
        SocketError::Reset
    }
}

/// A size for each of a connection's two buffers that lets bulk transfers run at the speed of
/// the path, in bytes: 64 KiB (a receive buffer of more than 64 KiB - 1 makes the stack
/// negotiate window scaling) on the unix backend, where the process's allocator maps large
/// zeroed blocks lazily, so a connection's memory grows only with what it has in flight;
/// 16 KiB on the bare-metal targets, where every buffer byte is guest memory from the start
/// (64 connections then fit in `--mem=4`). Smaller buffers mean a smaller window: over the
/// unix backend's tap, 16 KiB moves a third of what 64 KiB does.
#[cfg(morgana_hosted)]
pub const BULK_BUFFER_SIZE: usize = 64 * 1024;
/// See the hosted definition.
#[cfg(not(morgana_hosted))]
pub const BULK_BUFFER_SIZE: usize = 16 * 1024;

/// A connection's receive and transmit buffers, for the direct stack (sizes in bytes).
#[derive(Debug, Clone)]
pub struct SocketBuffers {
    rx: Vec<u8>,
    tx: Vec<u8>,
}

impl SocketBuffers {
    /// Buffers of `rx` and `tx` bytes; the receive buffer bounds the advertised window.
    pub fn new(rx: usize, tx: usize) -> Self {
        SocketBuffers {
            rx: vec![0; rx],
            tx: vec![0; tx],
        }
    }
}

/// How long a connection's handshake may take on the direct stack, from the client's SYN to its
/// last ACK, before the socket gives it up: [`TcpListener::accept`] then returns
/// [`SocketError::Reset`] and the socket can listen again.
///
/// smoltcp sets no limit of its own, so a SYN whose client was gone (it gave up, or never
/// existed: a flood with forged source addresses) kept its socket in SYN-RECEIVED for good,
/// one listener fewer each time. A client that is there answers the SYN-ACK within a round
/// trip; if the SYN-ACK is lost it sends its SYN again (Linux: 1, 3, 7 and 15 s after the
/// first), and a SYN after this time is taken as a new connection.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

/// A TCP port being listened on. Clones share it: a pool of tasks accepts on one listener.
#[derive(Clone)]
pub struct TcpListener {
    inner: ListenerInner,
    port: u16,
}

impl core::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpListener")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
enum ListenerInner {
    Direct(embassy_net::Stack<'static>),
    #[cfg(morgana_hosted)]
    Host(morgana_backend_unix::sockets::HostListener),
}

impl TcpListener {
    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits for the next connection. The direct stack uses `buffers` for it; a handshake
    /// that does not end within [`HANDSHAKE_TIMEOUT`] there is [`SocketError::Reset`].
    pub async fn accept<'b>(
        &self,
        buffers: &'b mut SocketBuffers,
    ) -> Result<TcpStream<'b>, SocketError> {
        match &self.inner {
            ListenerInner::Direct(net) => {
                let mut socket = TcpSocket::new(*net, &mut buffers.rx, &mut buffers.tx);
                // smoltcp's timeout counts from the peer's last segment, and only once there is
                // a peer: not while the socket listens.
                socket.set_timeout(Some(HANDSHAKE_TIMEOUT));
                socket.accept(self.port).await.map_err(|e| match e {
                    tcp::AcceptError::ConnectionReset => SocketError::Reset,
                    tcp::AcceptError::InvalidState | tcp::AcceptError::InvalidPort => {
                        SocketError::InvalidState
                    }
                })?;
                // Closed: the handshake timed out (or the connection was reset before this
                // task ran); nothing to serve.
                if socket.state() == tcp::State::Closed {
                    return Err(SocketError::Reset);
                }
                // From here the application decides how long a connection may stay quiet.
                socket.set_timeout(None);
                Ok(TcpStream {
                    inner: StreamInner::Direct(socket),
                })
            }
            #[cfg(morgana_hosted)]
            ListenerInner::Host(listener) => {
                let stream = match listener.accept().await {
                    Ok(stream) => stream,
                    Err(e) => {
                        // Out of descriptors or memory, the pending connection stays readable:
                        // pause so that a pool accepting in a loop does not spin.
                        embassy_time::Timer::after_millis(100).await;
                        return Err(host_error(e));
                    }
                };
                Ok(TcpStream {
                    inner: StreamInner::Host(stream),
                })
            }
        }
    }
}

/// One TCP connection; reads and writes through [`embedded_io_async`].
pub struct TcpStream<'b> {
    inner: StreamInner<'b>,
}

enum StreamInner<'b> {
    Direct(TcpSocket<'b>),
    #[cfg(morgana_hosted)]
    Host(morgana_backend_unix::sockets::HostStream),
}

impl core::fmt::Debug for TcpStream<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TcpStream")
            .field("remote", &self.remote_endpoint())
            .finish()
    }
}

impl TcpStream<'_> {
    /// The peer's address and port.
    pub fn remote_endpoint(&self) -> Option<IpEndpoint> {
        match &self.inner {
            StreamInner::Direct(s) => s.remote_endpoint(),
            #[cfg(morgana_hosted)]
            StreamInner::Host(s) => Some(endpoint(s.peer_addr())),
        }
    }

    /// Turns Nagle's algorithm on (the default) or off.
    pub fn set_nagle_enabled(&mut self, enabled: bool) {
        match &mut self.inner {
            StreamInner::Direct(s) => s.set_nagle_enabled(enabled),
            #[cfg(morgana_hosted)]
            StreamInner::Host(s) => {
                // Only a performance setting: a connection that refuses it still works.
                let _ = s.set_nagle_enabled(enabled);
            }
        }
    }

    /// Sends FIN after what was written; reading goes on until the peer's FIN.
    pub fn close(&mut self) {
        match &mut self.inner {
            StreamInner::Direct(s) => s.close(),
            #[cfg(morgana_hosted)]
            StreamInner::Host(s) => s.close(),
        }
    }

    /// Resets the connection (RST) at once, dropping what was not sent.
    pub fn abort(&mut self) {
        match &mut self.inner {
            StreamInner::Direct(s) => s.abort(),
            #[cfg(morgana_hosted)]
            StreamInner::Host(s) => s.abort(),
        }
    }

    /// Closes the connection (FIN) and waits up to `timeout` for the peer to acknowledge
    /// everything; resets it if it does not.
    ///
    /// On the host stack the host finishes the close after the process lets go of the socket.
    pub async fn close_gracefully(&mut self, timeout: Duration) {
        self.close();
        if !matches!(with_timeout(timeout, self.flush()).await, Ok(Ok(()))) {
            self.abort();
            let _ = with_timeout(timeout, self.flush()).await;
        }
    }
}

impl ErrorType for TcpStream<'_> {
    type Error = SocketError;
}

impl Read for TcpStream<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, SocketError> {
        match &mut self.inner {
            StreamInner::Direct(s) => Ok(s.read(buf).await?),
            #[cfg(morgana_hosted)]
            StreamInner::Host(s) => core::future::poll_fn(|cx| s.poll_read(cx, buf))
                .await
                .map_err(host_error),
        }
    }
}

impl Write for TcpStream<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, SocketError> {
        match &mut self.inner {
            StreamInner::Direct(s) => Ok(s.write(buf).await?),
            #[cfg(morgana_hosted)]
            StreamInner::Host(s) => core::future::poll_fn(|cx| s.poll_write(cx, buf))
                .await
                .map_err(host_error),
        }
    }

    /// Waits until everything written has been acknowledged (direct stack); the host's
    /// sockets take written bytes into the host's own buffer, so there it returns at once.
    async fn flush(&mut self) -> Result<(), SocketError> {
        match &mut self.inner {
            StreamInner::Direct(s) => Ok(s.flush().await?),
            #[cfg(morgana_hosted)]
            StreamInner::Host(_) => Ok(()),
        }
    }
}

impl Stack {
    /// Listens on TCP `port`. On the host stack the port is bound now, so a port in use or
    /// not allowed is an error here rather than at the first accept.
    pub fn listen(&self, port: u16) -> Result<TcpListener, Error> {
        if port == 0 {
            return Err(Error::Listen {
                port,
                reason: "port 0 cannot be listened on".to_string(),
            });
        }
        let inner =
            match &self.inner {
                Inner::Direct(net, _) => ListenerInner::Direct(*net),
                #[cfg(morgana_hosted)]
                Inner::Host(host) => {
                    let addr = core::net::SocketAddr::new(host.listen_ip, port);
                    let listener = morgana_backend_unix::sockets::HostListener::bind(addr)
                        .map_err(|e| Error::Listen {
                            port,
                            reason: alloc::format!("{e}"),
                        })?;
                    ListenerInner::Host(listener)
                }
            };
        Ok(TcpListener { inner, port })
    }

    /// Connects to `remote`. The direct stack uses `buffers` for the connection.
    pub async fn connect<'b>(
        &self,
        remote: impl Into<IpEndpoint>,
        buffers: &'b mut SocketBuffers,
    ) -> Result<TcpStream<'b>, SocketError> {
        let remote = remote.into();
        match &self.inner {
            Inner::Direct(net, _) => {
                let mut socket = TcpSocket::new(*net, &mut buffers.rx, &mut buffers.tx);
                socket.connect(remote).await.map_err(|e| match e {
                    tcp::ConnectError::ConnectionReset => SocketError::Refused,
                    tcp::ConnectError::TimedOut => SocketError::TimedOut,
                    tcp::ConnectError::NoRoute => SocketError::NoRoute,
                    tcp::ConnectError::InvalidState => SocketError::InvalidState,
                })?;
                Ok(TcpStream {
                    inner: StreamInner::Direct(socket),
                })
            }
            #[cfg(morgana_hosted)]
            Inner::Host(_) => {
                let addr = core::net::SocketAddr::new(remote.addr.into(), remote.port);
                let stream = morgana_backend_unix::sockets::HostStream::connect(addr)
                    .await
                    .map_err(host_error)?;
                Ok(TcpStream {
                    inner: StreamInner::Host(stream),
                })
            }
        }
    }
}

#[cfg(morgana_hosted)]
fn endpoint(addr: core::net::SocketAddr) -> IpEndpoint {
    IpEndpoint::new(addr.ip().into(), addr.port())
}

#[cfg(morgana_hosted)]
fn host_error(e: std::io::Error) -> SocketError {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => SocketError::Reset,
        K::ConnectionRefused => SocketError::Refused,
        K::TimedOut => SocketError::TimedOut,
        K::HostUnreachable | K::NetworkUnreachable => SocketError::NoRoute,
        _ => SocketError::Host(alloc::format!("{e}")),
    }
}
