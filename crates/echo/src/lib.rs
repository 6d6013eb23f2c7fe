//! A TCP echo service (RFC 862) over a [`morgana_tcpip::Stack`], direct or the host's.
//!
//! [`spawn`] listens on the port and echoes each connection in a task of its own (see
//! [`morgana_tcpip::serve`]: at most [`EchoConfig::limits`] at once, further ones wait in a
//! backlog) until the peer closes its side, then closes its own (FIN after the peer's FIN). A
//! connection that sends nothing for [`EchoConfig::idle_timeout`], or does not take its echo
//! for as long, is closed.
#![forbid(unsafe_code)]
#![no_std]

extern crate alloc;

use core::fmt;

use embassy_executor::Spawner;
use embassy_time::{Duration, with_timeout};
use morgana_rt::args::{ArgError, BootArgs, Seconds};
use morgana_tcpip::embedded_io_async::{Read, Write};
use morgana_tcpip::serve::ConnectionLimits;
use morgana_tcpip::{BULK_BUFFER_SIZE, Service, Stack, TcpStream};

/// How long a closing connection may take to get its FIN acknowledged before it is reset.
pub const CLOSE_TIMEOUT: Duration = morgana_tcpip::serve::CLOSE_TIMEOUT;

/// The most bytes read and written back at a time: each piece is a pair of system calls on
/// the host's TCP/IP, which does best with the 64 KiB pieces Linux's own echo uses. On the
/// direct stack a piece is at most what the receive buffer holds, so connections use
/// the smaller of this and [`EchoConfig::buffer_size`].
pub const ECHO_CHUNK: usize = 64 * 1024;

/// The service's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoConfig {
    /// TCP port to listen on.
    pub port: u16,
    /// A connection idle this long (nothing received, or its echo not taken) is closed.
    pub idle_timeout: Duration,
    /// Connections served at once, and waiting for a slot.
    pub limits: ConnectionLimits,
    /// Receive and transmit buffer size per connection, in bytes (direct stack only; the
    /// host's TCP/IP sizes its own).
    pub buffer_size: usize,
}

impl Default for EchoConfig {
    fn default() -> Self {
        EchoConfig {
            port: 7,
            idle_timeout: Duration::from_secs(60),
            limits: ConnectionLimits {
                max_connections: morgana_tcpip::serve::DEFAULT_MAX_CONNECTIONS,
                backlog: morgana_tcpip::serve::DEFAULT_BACKLOG,
            },
            buffer_size: BULK_BUFFER_SIZE,
        }
    }
}

impl EchoConfig {
    /// Reads `--port=PORT` (default 7), `--idle-timeout=SECONDS` (default 60),
    /// `--buffer-size=BYTES` (default [`BULK_BUFFER_SIZE`]), `--max-connections=N` and
    /// `--backlog=K` (see [`ConnectionLimits::from_args`]) from `args`.
    pub fn from_args(args: &mut BootArgs<'_>) -> Result<Self, ArgError> {
        let mut config = EchoConfig::default();
        config.port = args.with_default("port", config.port)?;
        if let Some(Seconds(s)) = args.optional("idle-timeout")? {
            config.idle_timeout = Duration::from_secs(u64::from(s));
        }
        if let Some(BufferSize(n)) = args.optional("buffer-size")? {
            config.buffer_size = n;
        }
        config.limits = ConnectionLimits::from_args(args, config.bytes_per_connection())?;
        Ok(config)
    }

    /// Heap one open connection takes, in bytes: the socket's buffers (direct stack), the
    /// echo chunk and the connection's task state (measured: see docs/benchmarks.md).
    pub fn bytes_per_connection(&self) -> usize {
        2 * self.buffer_size + self.chunk() + 1024
    }

    /// Bytes read and written back at a time: [`ECHO_CHUNK`], or less when the receive
    /// buffer is smaller (a bigger piece would never fill).
    pub fn chunk(&self) -> usize {
        ECHO_CHUNK.min(self.buffer_size)
    }
}

/// A boot argument value that is a socket buffer size in bytes, 1 KiB to 16 MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BufferSize(usize);

impl core::str::FromStr for BufferSize {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<usize>() {
            Ok(n) if (1024..=16 << 20).contains(&n) => Ok(BufferSize(n)),
            _ => Err("expected a buffer size in bytes, from 1024 to 16777216"),
        }
    }
}

/// How one echoed connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The peer closed its side; we closed ours after echoing everything.
    Closed,
    /// Nothing happened for the idle timeout; we closed the connection.
    Idle,
    /// The connection was reset or failed.
    Reset,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ending::Closed => "closed",
            Ending::Idle => "idle timeout",
            Ending::Reset => "reset",
        })
    }
}

/// Echoes a connection until it ends, `chunk` bytes at a time at most; returns how, and the
/// bytes echoed. The caller closes it.
pub async fn echo<S: Read + Write>(socket: &mut S, idle: Duration, chunk: usize) -> (Ending, u64) {
    // Large reads and writes: each one is a system call on the host's TCP/IP, so 2 KiB pieces
    // cost a third of the throughput. Allocated per connection, so idle tasks hold none.
    let mut buf = alloc::vec![0u8; chunk.max(1)];
    let mut total = 0u64;
    let ending = loop {
        let n = match with_timeout(idle, socket.read(&mut buf)).await {
            Err(_) => break Ending::Idle,
            Ok(Err(_)) => break Ending::Reset,
            Ok(Ok(0)) => break Ending::Closed,
            Ok(Ok(n)) => n,
        };
        match with_timeout(idle, socket.write_all(&buf[..n])).await {
            Err(_) => break Ending::Idle,
            Ok(Err(_)) => break Ending::Reset,
            Ok(Ok(())) => total += n as u64,
        }
    };
    (ending, total)
}

/// Echo on every connection.
struct Echo {
    idle_timeout: Duration,
    chunk: usize,
}

impl Service for Echo {
    async fn serve(&self, stream: &mut TcpStream<'_>) {
        let peer = stream.remote_endpoint();
        let (ending, bytes) = echo(stream, self.idle_timeout, self.chunk).await;
        log::debug!("echo: {peer:?}: {bytes} bytes, {ending}");
    }
}

/// Listens on [`EchoConfig::port`] and echoes there, a task per connection within
/// [`EchoConfig::limits`]. A direct `stack` needs [`ConnectionLimits::sockets`] TCP sockets.
pub fn spawn(
    stack: &Stack,
    spawner: Spawner,
    config: &EchoConfig,
) -> Result<(), morgana_tcpip::Error> {
    let service = Echo {
        idle_timeout: config.idle_timeout,
        chunk: config.chunk(),
    };
    let buffers = (config.buffer_size, config.buffer_size);
    morgana_tcpip::serve::serve(stack, spawner, config.port, config.limits, buffers, service)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn arguments_and_defaults() {
        let mut p = BootArgs::parse(["--port=7007", "--idle-timeout=3", "--buffer-size=131072"]);
        let c = EchoConfig::from_args(&mut p).unwrap();
        p.finish().unwrap();
        assert_eq!(
            (c.port, c.idle_timeout, c.buffer_size),
            (7007, Duration::from_secs(3), 131_072)
        );
        let c = EchoConfig::from_args(&mut BootArgs::parse::<[&str; 0]>([])).unwrap();
        assert_eq!(c, EchoConfig::default());
        let err = EchoConfig::from_args(&mut BootArgs::parse(["--idle-timeout=0"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed boot argument --idle-timeout=0: expected a whole number of seconds, at least 1"
        );
        for bad in [
            "--buffer-size=1023",
            "--buffer-size=16777217",
            "--buffer-size=64k",
        ] {
            let err = EchoConfig::from_args(&mut BootArgs::parse([bad])).unwrap_err();
            assert_eq!(
                err.to_string(),
                alloc::format!(
                    "malformed boot argument {bad}: expected a buffer size in bytes, from 1024 to 16777216"
                )
            );
        }
    }
}
