//! TLS for Morgana unikernels: rustls over any async byte stream, with a pure-Rust crypto
//! provider that gives the same answers in hard- and soft-float images.
//!
//! - [`provider`]: the rustls `CryptoProvider` (RustCrypto crates), randomness from the
//!   platform's entropy, certificate time from a wall clock ([`WallClock`]).
//! - [`config`]: server configurations from a PEM chain and key, client configurations from
//!   bundled or PEM roots, with one-line errors for bad input.
//! - [`stream`]: [`TlsStream`], TLS 1.3 and 1.2 over any `embedded_io_async::Read + Write`
//!   stream (a TCP socket), itself `Read + Write`.
//!
//! ```ignore
//! let config = morgana_tls::server_config(CHAIN, KEY, WallClock(morgana::clock::wall_ns))?;
//! let mut tls = morgana_tls::accept(socket, &config).await?;
//! tls.write_all(b"hello").await?;
//! ```
#![forbid(unsafe_code)]
#![no_std]

extern crate alloc;

pub mod config;
pub mod provider;
pub mod stream;

pub use config::{ConfigError, Roots, client_config, server_config};
pub use provider::WallClock;
pub use rustls;
pub use stream::{ClientStream, ServerStream, TlsError, TlsStream};

use alloc::string::String;
use alloc::sync::Arc;
use embedded_io_async::{Read, Write};
use rustls::pki_types::ServerName;

/// Runs the server side of a handshake over `io`.
pub async fn accept<S: Read + Write>(
    io: S,
    config: &Arc<rustls::ServerConfig>,
) -> Result<ServerStream<S>, TlsError> {
    let conn = rustls::server::UnbufferedServerConnection::new(config.clone())?;
    let mut stream = TlsStream::new(io, conn);
    stream.handshake().await?;
    Ok(stream)
}

/// Why a client could not start a handshake.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectError {
    /// The server name is neither a DNS name nor an IP address.
    #[error("not a valid server name: {0}")]
    BadName(String),
    /// The handshake failed (certificate refused, protocol error, connection lost).
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Runs the client side of a handshake over `io` with server `name` (a DNS name, sent as SNI,
/// or an IP address); the server's certificate must be valid for that name.
pub async fn connect<S: Read + Write>(
    io: S,
    config: &Arc<rustls::ClientConfig>,
    name: &str,
) -> Result<ClientStream<S>, ConnectError> {
    let server_name = ServerName::try_from(String::from(name))
        .map_err(|_| ConnectError::BadName(String::from(name)))?;
    let conn = rustls::client::UnbufferedClientConnection::new(config.clone(), server_name)
        .map_err(TlsError::from)?;
    let mut stream = TlsStream::new(io, conn);
    stream.handshake().await?;
    Ok(stream)
}
