//! [`TlsStream`]: a TLS connection over any async byte stream, itself an async byte stream.
//!
//! The stream drives rustls's unbuffered connection by hand: records read from the transport
//! go into one buffer, are decrypted in place, and their plaintext waits in another until the
//! application reads it; records to send are encoded into a third and written at once.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use rustls::client::{ClientConnectionData, UnbufferedClientConnection};
use rustls::server::{ServerConnectionData, UnbufferedServerConnection};
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, UnbufferedStatus};

/// Largest TLS record on the wire: 16 KiB of plaintext plus the most expansion TLS 1.2 allows
/// (RFC 5246, section 6.2.3), plus the 5-byte header.
pub const MAX_RECORD: usize = 16 * 1024 + 2048 + 5;

/// Most plaintext put in one record.
const MAX_PLAINTEXT: usize = 16 * 1024;

/// Why a TLS stream failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TlsError {
    /// The TLS protocol failed: the peer's certificate, a bad record, an alert from the peer...
    #[error("{}", describe(.0))]
    Tls(rustls::Error),
    /// The transport failed.
    #[error("the connection failed ({0:?})")]
    Io(ErrorKind),
    /// The transport ended without a TLS close (in the handshake, or mid-record).
    #[error("the connection closed during the TLS handshake or a record")]
    UnexpectedEof,
    /// Data was written after the stream was closed, or the peer sent more than a record's
    /// worth of bytes that do not form a record.
    #[error("the TLS stream is closed")]
    Closed,
}

/// A rustls error in words, certificate problems as a person would put them.
pub fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::Expired | C::ExpiredContext { .. } => {
                "the server's certificate has expired".to_string()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (or the clock is wrong)".to_string()
            }
            C::NotValidForName => "the server's certificate is not valid for this name".to_string(),
            C::NotValidForNameContext { expected, .. } => {
                let name = match expected {
                    rustls::pki_types::ServerName::DnsName(d) => d.as_ref().to_string(),
                    rustls::pki_types::ServerName::IpAddress(ip) => match ip {
                        rustls::pki_types::IpAddr::V4(a) => {
                            format!("{}", core::net::Ipv4Addr::from(*a.as_ref()))
                        }
                        rustls::pki_types::IpAddr::V6(a) => {
                            format!("{}", core::net::Ipv6Addr::from(*a.as_ref()))
                        }
                    },
                    other => format!("{other:?}"),
                };
                format!("the server's certificate is not valid for {name}")
            }
            C::UnknownIssuer => {
                "the server's certificate is not signed by a trusted CA".to_string()
            }
            C::BadSignature => "the server's certificate has a bad signature".to_string(),
            C::Revoked => "the server's certificate is revoked".to_string(),
            other => format!("the server's certificate is refused ({other:?})"),
        },
        other => other.to_string(),
    }
}

impl embedded_io_async::Error for TlsError {
    fn kind(&self) -> ErrorKind {
        match self {
            TlsError::Io(kind) => *kind,
            TlsError::UnexpectedEof => ErrorKind::BrokenPipe,
            TlsError::Closed => ErrorKind::NotConnected,
            TlsError::Tls(_) => ErrorKind::InvalidData,
        }
    }
}

impl From<rustls::Error> for TlsError {
    fn from(e: rustls::Error) -> Self {
        TlsError::Tls(e)
    }
}

/// A rustls unbuffered connection, client or server.
pub trait Connection {
    /// `ClientConnectionData` or `ServerConnectionData`.
    type Data;
    /// rustls's `process_tls_records` for this side.
    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data>;
}

impl Connection for UnbufferedServerConnection {
    type Data = ServerConnectionData;
    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(incoming)
    }
}

impl Connection for UnbufferedClientConnection {
    type Data = ClientConnectionData;
    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(incoming)
    }
}

/// What the driver runs the connection until.
#[derive(Clone, Copy)]
enum Goal<'a> {
    /// The handshake is complete.
    Handshake,
    /// Plaintext is available, or the peer closed.
    Read,
    /// `data` (at most one record's worth) is encrypted and sent.
    Write(&'a [u8]),
    /// A close_notify alert is sent.
    Close,
}

/// What one step of the driver asks for next.
enum Next {
    Continue,
    ReadMore,
    Done,
}

/// A TLS connection over the byte stream `S`.
///
/// Reads return decrypted application data (`0` once the peer has sent close_notify); writes
/// encrypt and send at once (one record per write of up to 16 KiB). [`TlsStream::close`] sends
/// close_notify. Dropping the stream does not close the transport.
pub struct TlsStream<S, C> {
    io: S,
    conn: C,
    incoming: Vec<u8>,
    in_len: usize,
    outgoing: Vec<u8>,
    out_len: usize,
    plain: Vec<u8>,
    plain_pos: usize,
    peer_closed: bool,
    closed: bool,
    /// A protocol error happened: rustls must not be called again.
    dead: bool,
}

impl<S, C> core::fmt::Debug for TlsStream<S, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsStream")
            .field("peer_closed", &self.peer_closed)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

/// A server-side TLS stream.
pub type ServerStream<S> = TlsStream<S, UnbufferedServerConnection>;
/// A client-side TLS stream.
pub type ClientStream<S> = TlsStream<S, UnbufferedClientConnection>;

impl<S: Read + Write, C: Connection> TlsStream<S, C> {
    /// A stream for `conn` over `io`; no byte moves until [`handshake`](Self::handshake) or
    /// the first read or write.
    pub fn new(io: S, conn: C) -> Self {
        TlsStream {
            io,
            conn,
            incoming: vec![0; MAX_RECORD],
            in_len: 0,
            outgoing: Vec::new(),
            out_len: 0,
            plain: Vec::new(),
            plain_pos: 0,
            peer_closed: false,
            closed: false,
            dead: false,
        }
    }

    /// Runs the handshake to its end (for a server: until the client's Finished).
    pub async fn handshake(&mut self) -> Result<(), TlsError> {
        self.drive(Goal::Handshake).await
    }

    /// Sends close_notify (once); the transport stays open.
    pub async fn close(&mut self) -> Result<(), TlsError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.drive(Goal::Close).await
    }

    /// The transport, e.g. to close the socket after [`close`](Self::close).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The rustls connection, e.g. for the negotiated version and suite.
    pub fn connection(&self) -> &C {
        &self.conn
    }

    async fn send_out(io: &mut S, outgoing: &[u8]) -> Result<(), TlsError> {
        io.write_all(outgoing)
            .await
            .map_err(|e| TlsError::Io(embedded_io_async::Error::kind(&e)))?;
        io.flush()
            .await
            .map_err(|e| TlsError::Io(embedded_io_async::Error::kind(&e)))
    }

    /// Runs rustls until `goal` is met, moving records both ways as it asks.
    async fn drive(&mut self, goal: Goal<'_>) -> Result<(), TlsError> {
        if self.dead {
            return Err(TlsError::Closed);
        }
        loop {
            let status = self.conn.process(&mut self.incoming[..self.in_len]);
            let mut discard = status.discard;
            let state = match status.state {
                Ok(state) => state,
                Err(e) => {
                    Self::discard(&mut self.incoming, &mut self.in_len, discard);
                    self.send_alert().await;
                    return Err(e.into());
                }
            };
            let next = match state {
                ConnectionState::ReadTraffic(mut traffic) => {
                    while let Some(record) = traffic.next_record() {
                        let record = record?;
                        discard += record.discard;
                        if self.plain_pos == self.plain.len() {
                            self.plain.clear();
                            self.plain_pos = 0;
                        }
                        self.plain.extend_from_slice(record.payload);
                    }
                    Next::Continue
                }
                // Early data is never enabled (rustls's default), so this does not happen.
                ConnectionState::ReadEarlyData(_) => return Err(TlsError::Closed),
                ConnectionState::EncodeTlsData(mut encode) => {
                    loop {
                        match encode.encode(&mut self.outgoing[self.out_len..]) {
                            Ok(n) => {
                                self.out_len += n;
                                break;
                            }
                            Err(EncodeError::InsufficientSize(e)) => {
                                let want = self.out_len + e.required_size;
                                self.outgoing.resize(want, 0);
                            }
                            Err(EncodeError::AlreadyEncoded) => break,
                        }
                    }
                    Next::Continue
                }
                ConnectionState::TransmitTlsData(transmit) => {
                    let sent = Self::send_out(&mut self.io, &self.outgoing[..self.out_len]).await;
                    self.out_len = 0;
                    sent?;
                    transmit.done();
                    Next::Continue
                }
                ConnectionState::BlockedHandshake => Next::ReadMore,
                ConnectionState::WriteTraffic(mut traffic) => match goal {
                    Goal::Handshake => Next::Done,
                    Goal::Read if self.plain_pos < self.plain.len() || self.peer_closed => {
                        Next::Done
                    }
                    Goal::Read => Next::ReadMore,
                    Goal::Write(data) => {
                        let n = loop {
                            match traffic.encrypt(data, &mut self.outgoing[self.out_len..]) {
                                Ok(n) => break n,
                                Err(EncryptError::InsufficientSize(e)) => {
                                    let want = self.out_len + e.required_size;
                                    self.outgoing.resize(want, 0);
                                }
                                // The key has encrypted as much as it safely may.
                                Err(EncryptError::EncryptExhausted) => {
                                    return Err(TlsError::Closed);
                                }
                            }
                        };
                        self.out_len += n;
                        let sent =
                            Self::send_out(&mut self.io, &self.outgoing[..self.out_len]).await;
                        self.out_len = 0;
                        sent?;
                        Next::Done
                    }
                    Goal::Close => {
                        let n = loop {
                            match traffic.queue_close_notify(&mut self.outgoing[self.out_len..]) {
                                Ok(n) => break n,
                                Err(EncryptError::InsufficientSize(e)) => {
                                    let want = self.out_len + e.required_size;
                                    self.outgoing.resize(want, 0);
                                }
                                Err(_) => return Ok(()),
                            }
                        };
                        self.out_len += n;
                        let sent =
                            Self::send_out(&mut self.io, &self.outgoing[..self.out_len]).await;
                        self.out_len = 0;
                        sent?;
                        Next::Done
                    }
                },
                // The peer's close_notify (reported once): reads are over, but this side may
                // still write and must still send its own close_notify.
                ConnectionState::PeerClosed => {
                    self.peer_closed = true;
                    match goal {
                        Goal::Read => Next::Done,
                        Goal::Close | Goal::Write(_) => Next::Continue,
                        Goal::Handshake => return Err(TlsError::Closed),
                    }
                }
                ConnectionState::Closed => {
                    self.peer_closed = true;
                    match goal {
                        Goal::Read | Goal::Close => Next::Done,
                        Goal::Handshake | Goal::Write(_) => return Err(TlsError::Closed),
                    }
                }
                _ => return Err(TlsError::Closed),
            };
            Self::discard(&mut self.incoming, &mut self.in_len, discard);
            match next {
                Next::Continue => {}
                Next::Done => return Ok(()),
                Next::ReadMore => {
                    if self.in_len == self.incoming.len() {
                        // A full record's worth of bytes that rustls did not take.
                        return Err(TlsError::Closed);
                    }
                    let n = self
                        .io
                        .read(&mut self.incoming[self.in_len..])
                        .await
                        .map_err(|e| TlsError::Io(embedded_io_async::Error::kind(&e)))?;
                    if n == 0 {
                        return Err(TlsError::UnexpectedEof);
                    }
                    self.in_len += n;
                }
            }
        }
    }

    fn discard(incoming: &mut [u8], in_len: &mut usize, n: usize) {
        if n > 0 {
            incoming.copy_within(n..*in_len, 0);
            *in_len -= n;
        }
    }

    /// After a protocol error, sends the alert rustls queued for the peer, if any (best
    /// effort: the connection is failing anyway). Exactly one more call into rustls: it hands
    /// out a queued alert before it looks at the input again, and must not process the bad
    /// input twice.
    async fn send_alert(&mut self) {
        let status = self.conn.process(&mut self.incoming[..self.in_len]);
        if let Ok(ConnectionState::EncodeTlsData(mut encode)) = status.state {
            let mut buf = [0u8; 64];
            if let Ok(n) = encode.encode(&mut buf) {
                let _ = Self::send_out(&mut self.io, &buf[..n]).await;
            }
        }
        // The connection is dead: later calls fail without touching rustls.
        self.dead = true;
    }
}

impl<S, C> ErrorType for TlsStream<S, C> {
    type Error = TlsError;
}

impl<S: Read + Write, C: Connection> Read for TlsStream<S, C> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.plain_pos == self.plain.len() && !self.peer_closed {
            self.drive(Goal::Read).await?;
        }
        let avail = &self.plain[self.plain_pos..];
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.plain_pos += n;
        Ok(n)
    }
}

impl<S: Read + Write, C: Connection> Write for TlsStream<S, C> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        if self.closed {
            return Err(TlsError::Closed);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = buf.len().min(MAX_PLAINTEXT);
        self.drive(Goal::Write(&buf[..n])).await?;
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), TlsError> {
        // Every write is sent before it returns.
        Ok(())
    }
}
