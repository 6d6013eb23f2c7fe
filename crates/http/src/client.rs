//! Fetching one `http://` URL: status, body length and CRC-32 of the body.
//!
//! [`fetch`] does it all over the stack; [`open`], [`fetch_over`] and [`close`] are its parts,
//! for a caller that puts a layer (TLS) between the socket and the request.
//!
//! The request is `GET` with `Connection: close`. The body is framed by `Content-Length`,
//! `Transfer-Encoding: chunked` (decoded) or the end of the connection. The checksum is
//! CRC-32/ISO-HDLC (the one of zlib, `gzip` and Python's `zlib.crc32`), computed with
//! `crc32fast`.

use alloc::string::{String, ToString};
use alloc::vec;
use core::str::FromStr;

use embassy_time::{Duration, with_timeout};
use morgana_tcpip::embedded_io_async::{Read, Write};
use morgana_tcpip::{SocketBuffers, Stack, TcpStream};

/// Largest response head (status line and headers) accepted, in bytes.
pub const MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// An `http://HOST[:PORT]/PATH` or `https://HOST[:PORT]/PATH` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `https://` (the caller adds the TLS layer).
    pub https: bool,
    /// Host name or IPv4 literal.
    pub host: String,
    /// TCP port (80, or 443 for https, when not given).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

/// Why a URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not `http://` or `https://`.
    #[error("expected http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH")]
    Scheme,
    /// Empty or malformed host.
    #[error("the host is empty or malformed")]
    Host,
    /// Port not a number from 1 to 65535.
    #[error("the port must be a number from 1 to 65535")]
    Port,
}

impl FromStr for Url {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Self, UrlError> {
        let (https, rest) = match (s.strip_prefix("http://"), s.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (None, Some(rest)) => (true, rest),
            (None, None) => return Err(UrlError::Scheme),
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], &rest[i..]),
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => {
                let port: u16 = p.parse().map_err(|_| UrlError::Port)?;
                if port == 0 {
                    return Err(UrlError::Port);
                }
                (h, port)
            }
            None => (authority, if https { 443 } else { 80 }),
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
        if host.is_empty() || !host.chars().all(valid) {
            return Err(UrlError::Host);
        }
        let path = if path.starts_with('?') {
            alloc::format!("/{path}")
        } else {
            path.to_string()
        };
        if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(UrlError::Host);
        }
        Ok(Url {
            https,
            host: host.to_string(),
            port,
            path,
        })
    }
}

/// A summary of a fetched response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// `HTTP/1.x` minor version.
    pub version: u8,
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Body length in bytes (after chunked decoding).
    pub body_len: u64,
    /// CRC-32/ISO-HDLC of the body.
    pub crc32: u32,
}

impl Fetched {
    /// The status line as received, e.g. `HTTP/1.1 200 OK`.
    pub fn status_line(&self) -> String {
        alloc::format!("HTTP/1.{} {} {}", self.version, self.status, self.reason)
    }

    /// True for a `2xx` status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The host did not resolve.
    #[error("cannot resolve the host: {0}")]
    Resolve(morgana_tcpip::Error),
    /// The connection was refused or could not be made.
    #[error("cannot connect")]
    Connect,
    /// No progress for the timeout.
    #[error("timed out")]
    Timeout,
    /// The connection failed midway.
    #[error("the connection failed")]
    Connection,
    /// The response is not HTTP/1.x as `httparse` reads it, or its framing is broken.
    #[error("bad response: {0}")]
    BadResponse(&'static str),
    /// The response ended before its `Content-Length` or last chunk.
    #[error("the response ended early")]
    Truncated,
}

/// The response read so far, with bytes buffered past what was consumed.
struct Reader<'s, 'b, S> {
    socket: &'s mut S,
    buf: &'b mut [u8],
    start: usize,
    end: usize,
    timeout: Duration,
}

impl<S: Read> Reader<'_, '_, S> {
    /// Reads more into the buffer (compacting it first); false at the end of the stream.
    async fn fill(&mut self) -> Result<bool, FetchError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return Err(FetchError::BadResponse("response head too large"));
        }
        match with_timeout(self.timeout, self.socket.read(&mut self.buf[self.end..])).await {
            Err(_) => Err(FetchError::Timeout),
            Ok(Err(_)) => Err(FetchError::Connection),
            Ok(Ok(0)) => Ok(false),
            Ok(Ok(n)) => {
                self.end += n;
                Ok(true)
            }
        }
    }

    /// Feeds up to `limit` body bytes (all until the end of stream when `None`) to `sink`.
    async fn body(
        &mut self,
        limit: Option<u64>,
        sink: &mut impl FnMut(&[u8]),
    ) -> Result<(), FetchError> {
        let mut left = limit;
        loop {
            let avail = self.end - self.start;
            let take = left.map_or(avail, |l| avail.min(usize::try_from(l).unwrap_or(avail)));
            sink(&self.buf[self.start..self.start + take]);
            self.start += take;
            if let Some(l) = left.as_mut() {
                *l -= take as u64;
                if *l == 0 {
                    return Ok(());
                }
            }
            if !self.fill().await? {
                return match left {
                    None => Ok(()),
                    Some(_) => Err(FetchError::Truncated),
                };
            }
        }
    }

    /// Decodes a chunked body into `sink`.
    async fn chunked(&mut self, sink: &mut impl FnMut(&[u8])) -> Result<(), FetchError> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buf[self.start..self.end]) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.start += used;
                        break size;
                    }
                    Ok(httparse::Status::Partial) => {
                        if !self.fill().await? {
                            return Err(FetchError::Truncated);
                        }
                    }
                    Err(_) => return Err(FetchError::BadResponse("bad chunk size")),
                }
            };
            if size == 0 {
                // Trailers may follow; the connection closes after them, so stop here.
                return Ok(());
            }
            self.body(Some(size), sink).await?;
            let mut crlf = [0u8; 2];
            let mut got = 0;
            self.body(Some(2), &mut |b: &[u8]| {
                crlf[got..got + b.len()].copy_from_slice(b);
                got += b.len();
            })
            .await?;
            if &crlf != b"\r\n" {
                return Err(FetchError::BadResponse("chunk not followed by CRLF"));
            }
        }
    }
}

/// Fetches `url` over `stack`; `timeout` bounds every step (connect, each read).
pub async fn fetch(stack: &Stack, url: &Url, timeout: Duration) -> Result<Fetched, FetchError> {
    let mut buffers = SocketBuffers::new(8192, 2048);
    let mut socket = open(stack, url, timeout, &mut buffers).await?;
    let fetched = fetch_over(&mut socket, url, timeout).await;
    close(&mut socket, timeout).await;
    fetched
}

/// Resolves `url`'s host and connects to it; the direct stack uses `buffers` for the
/// connection.
pub async fn open<'b>(
    stack: &Stack,
    url: &Url,
    timeout: Duration,
    buffers: &'b mut SocketBuffers,
) -> Result<TcpStream<'b>, FetchError> {
    let addr = stack
        .resolve(&url.host)
        .await
        .map_err(FetchError::Resolve)?;
    match with_timeout(timeout, stack.connect((addr, url.port), buffers)).await {
        Err(_) => Err(FetchError::Timeout),
        Ok(Err(_)) => Err(FetchError::Connect),
        Ok(Ok(socket)) => Ok(socket),
    }
}

/// Closes a socket from [`open`], waiting at most `timeout` for the FIN to leave.
pub async fn close(socket: &mut TcpStream<'_>, timeout: Duration) {
    socket.close();
    let _ = with_timeout(timeout, socket.flush()).await;
}

/// Sends the request for `url` over `stream` (connected to its host) and reads the response.
pub async fn fetch_over<S: Read + Write>(
    stream: &mut S,
    url: &Url,
    timeout: Duration,
) -> Result<Fetched, FetchError> {
    let default_port = if url.https { 443 } else { 80 };
    let host = if url.port == default_port {
        url.host.clone()
    } else {
        alloc::format!("{}:{}", url.host, url.port)
    };
    let request = alloc::format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: morgana-http-fetch\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path
    );
    match with_timeout(timeout, stream.write_all(request.as_bytes())).await {
        Err(_) => return Err(FetchError::Timeout),
        Ok(Err(_)) => return Err(FetchError::Connection),
        Ok(Ok(())) => {}
    }
    let mut buf = vec![0u8; MAX_RESPONSE_HEAD];
    let mut reader = Reader {
        socket: stream,
        buf: &mut buf,
        start: 0,
        end: 0,
        timeout,
    };
    let (mut fetched, framing) = loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&reader.buf[..reader.end]) {
            Ok(httparse::Status::Complete(len)) => {
                let status = resp.code.unwrap_or(0);
                if (100..200).contains(&status) {
                    // An interim response: drop it and read the final one.
                    reader.start = len;
                    reader.fill().await?;
                    continue;
                }
                let mut framing = Framing::UntilClose;
                for h in resp.headers.iter() {
                    if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        let chunked = h.value.len() >= 7
                            && h.value[h.value.len() - 7..].eq_ignore_ascii_case(b"chunked");
                        framing = if chunked {
                            Framing::Chunked
                        } else {
                            return Err(FetchError::BadResponse("unknown transfer coding"));
                        };
                        break;
                    } else if h.name.eq_ignore_ascii_case("content-length") {
                        let len = core::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.trim().parse::<u64>().ok())
                            .ok_or(FetchError::BadResponse("bad Content-Length"))?;
                        framing = Framing::Length(len);
                    }
                }
                if status == 204 || status == 304 {
                    framing = Framing::Length(0);
                }
                let fetched = Fetched {
                    version: resp.version.unwrap_or(1),
                    status,
                    reason: resp.reason.unwrap_or("").to_string(),
                    body_len: 0,
                    crc32: 0,
                };
                reader.start = len;
                break (fetched, framing);
            }
            Ok(httparse::Status::Partial) => {
                if !reader.fill().await? {
                    return Err(FetchError::BadResponse(
                        "connection closed in the response head",
                    ));
                }
            }
            Err(_) => return Err(FetchError::BadResponse("not an HTTP/1.x response")),
        }
    };
    let mut crc = crc32fast::Hasher::new();
    let mut len = 0u64;
    let mut sink = |b: &[u8]| {
        crc.update(b);
        len += b.len() as u64;
    };
    match framing {
        Framing::Length(0) => {}
        Framing::Length(n) => reader.body(Some(n), &mut sink).await?,
        Framing::UntilClose => reader.body(None, &mut sink).await?,
        Framing::Chunked => reader.chunked(&mut sink).await?,
    }
    fetched.body_len = len;
    fetched.crc32 = crc.finalize();
    Ok(fetched)
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_bad_ones_are_named() {
        let u: Url = "http://example.org/a/b?c=d".parse().unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("example.org", 80, "/a/b?c=d")
        );
        let u: Url = "http://10.0.0.2:8080".parse().unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("10.0.0.2", 8080, "/")
        );
        let err = |s: &str| s.parse::<Url>().unwrap_err();
        let u: Url = "https://example.org/x".parse().unwrap();
        assert_eq!((u.https, u.port), (true, 443));
        let u: Url = "https://10.0.0.2:8443".parse().unwrap();
        assert_eq!((u.https, u.port, u.path.as_str()), (true, 8443, "/"));
        assert_eq!(err("ftp://x/"), UrlError::Scheme);
        assert_eq!(err("http:///x"), UrlError::Host);
        assert_eq!(err("http://a b/"), UrlError::Host);
        assert_eq!(err("http://h:0/"), UrlError::Port);
        assert_eq!(err("http://h:99999/"), UrlError::Port);
        assert_eq!(err("http://h:x/"), UrlError::Port);
    }
}
