//! A static-site HTTP/1.1 server over a read-only KV store.
//!
//! Connections are served by [`morgana_tcpip::serve`]: a task per connection, at most
//! [`ServerConfig::limits`] at once (`--max-connections`, `--backlog`), each answering requests
//! until the client closes, asks to close, or stays silent for [`ServerConfig::idle_timeout`].
//!
//! | request                                   | answer                                  |
//! |-------------------------------------------|-----------------------------------------|
//! | `GET`/`HEAD` of a key (`/` → `index.html`) | `200` with `Content-Type`, `Content-Length` |
//! | a missing key                             | `404`                                    |
//! | another method                            | `405` with `Allow: GET, HEAD`, then close |
//! | headers over [`ServerConfig::max_header_bytes`] | `431`, then close                   |
//! | anything `httparse` rejects, a bad path   | `400`, then close                        |
//!
//! A request with a body is answered, then the connection is closed (this server reads no
//! bodies). Pipelined requests are answered in order.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;

use embassy_executor::Spawner;
use embassy_time::{Duration, with_timeout};
use morgana_kv::KvRo;
use morgana_rt::args::{ArgError, BootArgs, Seconds};
use morgana_tcpip::embedded_io_async::{Read, Write};
use morgana_tcpip::serve::ConnectionLimits;
use morgana_tcpip::{Service, Stack, TcpStream};

/// How long a closing connection may take to get its FIN acknowledged before it is reset.
pub const CLOSE_TIMEOUT: Duration = morgana_tcpip::serve::CLOSE_TIMEOUT;

/// Most header lines a request may have.
pub const MAX_HEADERS: usize = 64;

/// The server's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// TCP port to listen on.
    pub port: u16,
    /// Connections served at once, and waiting for a slot.
    pub limits: ConnectionLimits,
    /// A connection with no request (or no progress on one) for this long is closed.
    pub idle_timeout: Duration,
    /// Largest request head (request line and headers) in bytes; larger gets `431`.
    pub max_header_bytes: usize,
    /// Receive and transmit buffer size per connection, in bytes.
    pub buffer_size: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            port: 80,
            limits: ConnectionLimits {
                max_connections: morgana_tcpip::serve::DEFAULT_MAX_CONNECTIONS,
                backlog: morgana_tcpip::serve::DEFAULT_BACKLOG,
            },
            idle_timeout: Duration::from_secs(30),
            max_header_bytes: 8 * 1024,
            buffer_size: 8 * 1024,
        }
    }
}

impl ServerConfig {
    /// Reads `--port=PORT` (default 80), `--idle-timeout=SECONDS` (default 30),
    /// `--max-connections=N` and `--backlog=K` (see [`ConnectionLimits::from_args`]) from `args`.
    pub fn from_args(args: &mut BootArgs<'_>) -> Result<Self, ArgError> {
        let mut config = ServerConfig::default();
        config.port = args.with_default("port", config.port)?;
        if let Some(Seconds(s)) = args.optional("idle-timeout")? {
            config.idle_timeout = Duration::from_secs(u64::from(s));
        }
        config.limits = ConnectionLimits::from_args(args, config.bytes_per_connection())?;
        Ok(config)
    }

    /// Heap one open connection takes, in bytes: the socket's buffers (direct stack), the
    /// request and response buffers, and the connection's task state (measured: see
    /// docs/benchmarks.md).
    pub fn bytes_per_connection(&self) -> usize {
        2 * self.buffer_size + self.max_header_bytes + self.buffer_size + 256 + CONNECTION_STATE
    }
}

/// Heap a connection takes beside its buffers: its boxed serving future (with its header
/// table) and the allocator's overhead, in bytes.
const CONNECTION_STATE: usize = 4 * 1024;

/// The `Content-Type` for a key, from its extension.
pub fn content_type(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "woff2" => "font/woff2",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Why a path cannot name a key.
#[derive(Debug, PartialEq, Eq)]
struct BadPath;

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The store key for a request target: origin form only, query dropped, `%XX` decoded,
/// `index.html` appended to directories; `.`/`..` segments and NUL are refused.
fn key_for(target: &str) -> Result<String, BadPath> {
    let path = target.strip_prefix('/').ok_or(BadPath)?;
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut bytes = Vec::with_capacity(path.len() + 10);
    let mut it = path.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let (h, l) = (it.next().and_then(hex), it.next().and_then(hex));
            match (h, l) {
                (Some(h), Some(l)) => bytes.push(h << 4 | l),
                _ => return Err(BadPath),
            }
        } else {
            bytes.push(b);
        }
    }
    let mut key = String::from_utf8(bytes).map_err(|_| BadPath)?;
    if key.contains('\0') || key.split('/').any(|s| s == "." || s == "..") {
        return Err(BadPath);
    }
    if key.is_empty() || key.ends_with('/') {
        key.push_str("index.html");
    }
    Ok(key)
}

/// What the connection does after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    KeepAlive,
    Close,
}

/// A response head with an optional text body for errors.
fn head(out: &mut Vec<u8>, status: &str, ctype: &str, len: u64, after: After, extra: &str) {
    out.clear();
    let mut s = String::with_capacity(160);
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nServer: morgana\r\nContent-Type: {ctype}\r\nContent-Length: {len}\r\n{extra}"
    );
    if after == After::Close {
        s.push_str("Connection: close\r\n");
    }
    s.push_str("\r\n");
    out.extend_from_slice(s.as_bytes());
}

/// Writes an error response with a one-line text body.
pub(crate) async fn error<S: Write>(
    socket: &mut S,
    out: &mut Vec<u8>,
    status: &str,
    after: After,
    head_only: bool,
    extra: &str,
) -> bool {
    let body_len = status.len() as u64 + 1;
    head(
        out,
        status,
        "text/plain; charset=utf-8",
        body_len,
        after,
        extra,
    );
    if !head_only {
        out.extend_from_slice(status.as_bytes());
        out.push(b'\n');
    }
    socket.write_all(out).await.is_ok()
}

/// Answers one parsed request; returns whether the connection may go on.
async fn respond<K: KvRo, S: Write>(
    socket: &mut S,
    site: &K,
    req: &httparse::Request<'_, '_>,
    out: &mut Vec<u8>,
    chunk: usize,
) -> After {
    let version = req.version.unwrap_or(1);
    let mut after = if version == 1 {
        After::KeepAlive
    } else {
        After::Close
    };
    let mut has_body = false;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("connection") {
            let v = h.value;
            if v.eq_ignore_ascii_case(b"close") {
                after = After::Close;
            } else if v.eq_ignore_ascii_case(b"keep-alive") && version == 0 {
                after = After::KeepAlive;
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding")
            || (h.name.eq_ignore_ascii_case("content-length") && h.value != b"0")
        {
            has_body = true;
        }
    }
    if has_body {
        after = After::Close;
    }
    let method = req.method.unwrap_or("");
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        let ok = error(
            socket,
            out,
            "405 Method Not Allowed",
            After::Close,
            false,
            "Allow: GET, HEAD\r\n",
        )
        .await;
        let _ = ok;
        return After::Close;
    }
    let Ok(key) = key_for(req.path.unwrap_or("")) else {
        let _ = error(socket, out, "400 Bad Request", After::Close, head_only, "").await;
        return After::Close;
    };
    let size = match site.size(&key).await {
        Ok(Some(size)) => size,
        Ok(None) => {
            return match error(socket, out, "404 Not Found", after, head_only, "").await {
                true => after,
                false => After::Close,
            };
        }
        Err(e) => {
            log::warn!("http: reading {key}: {e}");
            let _ = error(
                socket,
                out,
                "500 Internal Server Error",
                After::Close,
                head_only,
                "",
            )
            .await;
            return After::Close;
        }
    };
    head(out, "200 OK", content_type(&key), size, after, "");
    if head_only {
        return if socket.write_all(out).await.is_ok() {
            after
        } else {
            After::Close
        };
    }
    // The head and the first piece of the body leave in one write.
    let mut offset = 0u64;
    loop {
        let start = out.len();
        out.resize(start + chunk, 0);
        let n = match site.read(&key, offset, &mut out[start..]).await {
            Ok(Some(n)) => n,
            Ok(None) | Err(_) => return After::Close,
        };
        out.truncate(start + n);
        offset += n as u64;
        if socket.write_all(out).await.is_err() {
            return After::Close;
        }
        out.clear();
        if n == 0 || offset >= size {
            break;
        }
    }
    if offset != size {
        // The value changed size under us: the response is broken, so is the connection.
        return After::Close;
    }
    after
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client closed, or a response said `Connection: close`.
    Closed,
    /// Nothing arrived for the idle timeout.
    Idle,
    /// The connection failed.
    Reset,
}

/// Answers requests on a connection (a TCP stream, a TLS stream: any byte stream) until the
/// client closes, asks to close, fails or stays idle; leaves closing the stream to the caller.
pub async fn serve_connection<K: KvRo, S: Read + Write>(
    socket: &mut S,
    site: &K,
    config: &ServerConfig,
) -> Ending {
    let mut buf = vec![0u8; config.max_header_bytes];
    let mut out = Vec::with_capacity(config.buffer_size + 256);
    let mut filled = 0;
    'conn: loop {
        // Answer every complete request already buffered (pipelining).
        while filled > 0 {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&buf[..filled]) {
                Ok(httparse::Status::Complete(len)) => {
                    let after = respond(socket, site, &req, &mut out, config.buffer_size).await;
                    buf.copy_within(len..filled, 0);
                    filled -= len;
                    if after == After::Close {
                        break 'conn Ending::Closed;
                    }
                }
                Ok(httparse::Status::Partial) if filled < buf.len() => break,
                Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
                    let _ = error(
                        socket,
                        &mut out,
                        "431 Request Header Fields Too Large",
                        After::Close,
                        false,
                        "",
                    )
                    .await;
                    break 'conn Ending::Closed;
                }
                Err(_) => {
                    let _ =
                        error(socket, &mut out, "400 Bad Request", After::Close, false, "").await;
                    break 'conn Ending::Closed;
                }
            }
        }
        match with_timeout(config.idle_timeout, socket.read(&mut buf[filled..])).await {
            Err(_) => break Ending::Idle,
            Ok(Err(_)) => break Ending::Reset,
            Ok(Ok(0)) => break Ending::Closed,
            Ok(Ok(n)) => filled += n,
        }
    }
}

/// The site served on every connection.
struct Site<K: 'static> {
    site: &'static K,
    config: ServerConfig,
}

impl<K: KvRo + 'static> Service for Site<K> {
    async fn serve(&self, stream: &mut TcpStream<'_>) {
        stream.set_nagle_enabled(false);
        let ending = serve_connection(stream, self.site, &self.config).await;
        log::debug!("http: connection {ending:?}");
    }
}

/// Listens on [`ServerConfig::port`] and serves `site` there, a task per connection within
/// [`ServerConfig::limits`]. A direct `stack` needs [`ConnectionLimits::sockets`] TCP sockets.
pub fn spawn<K: KvRo + 'static>(
    stack: &Stack,
    spawner: Spawner,
    site: &'static K,
    config: &ServerConfig,
) -> Result<(), morgana_tcpip::Error> {
    let service = Site {
        site,
        config: config.clone(),
    };
    let buffers = (config.buffer_size, config.buffer_size);
    morgana_tcpip::serve::serve(stack, spawner, config.port, config.limits, buffers, service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_targets() {
        assert_eq!(key_for("/").unwrap(), "index.html");
        assert_eq!(key_for("/css/site.css?v=2").unwrap(), "css/site.css");
        assert_eq!(key_for("/docs/").unwrap(), "docs/index.html");
        assert_eq!(key_for("/a%20b.txt").unwrap(), "a b.txt");
        for bad in [
            "x",
            "http://h/",
            "/../etc",
            "/a/./b",
            "/%zz",
            "/%2",
            "/%00",
            "/%ff",
        ] {
            assert_eq!(key_for(bad), Err(BadPath), "{bad}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("a/B.PNG"), "image/png");
        assert_eq!(content_type("blob"), "application/octet-stream");
    }
}
