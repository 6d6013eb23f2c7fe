//! The HTTP side: requests parsed with `httparse` (as `morgana-http` does), mapped onto the
//! store.
//!
//! | request | answer |
//! |---|---|
//! | `GET /kv/KEY` | `200` with the value; a dictionary gets its listing |
//! | `GET /kv/` | `200`, the root's listing: one name a line, dictionaries with a final `/` |
//! | `PUT /kv/KEY` (with `Content-Length`) | `201` when new, `204` when replaced, once durable |
//! | `DELETE /kv/KEY` | `204`, or `404` when there was nothing |
//! | a missing key | `404` |
//! | a key that is not a valid path | `400` |
//! | a value where a dictionary is, or under a value | `409` |
//! | a value larger than the free space | `507` (the old value stays) |
//! | a body over [`MAX_VALUE`] bytes, or without `Content-Length` | `413` / `411`, then close |
//! | another path | `404`; another method: `405` |
//!
//! Error answers carry the error's one line as a text body.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::mutex::Mutex;
use morgana::time::{Duration, with_timeout};
use morgana_kv::{Kind, KvError, KvWrite};
use morgana_tcpip::TcpStream;
use morgana_tcpip::embedded_io_async::{Read, Write};

/// Largest value a `PUT` may carry, in bytes.
pub const MAX_VALUE: usize = 1 << 20;

/// Largest request head, in bytes.
const MAX_HEAD: usize = 8 * 1024;

/// A connection silent for this long is closed.
const IDLE: Duration = Duration::from_secs(30);

struct Response {
    status: &'static str,
    body: Vec<u8>,
    close: bool,
}

fn answer(status: &'static str, body: impl Into<Vec<u8>>) -> Response {
    Response {
        status,
        body: body.into(),
        close: false,
    }
}

fn failure(e: &KvError) -> Response {
    let status = match e {
        KvError::NotFound(_) => "404 Not Found",
        KvError::InvalidKey { .. } | KvError::RenameIntoItself { .. } => "400 Bad Request",
        KvError::ValueExpected(_) | KvError::DictionaryExpected(_) => "409 Conflict",
        KvError::NoSpace(_) => "507 Insufficient Storage",
        KvError::ReadOnly(_) => "403 Forbidden",
        KvError::Store { .. } => "500 Internal Server Error",
    };
    answer(status, format!("{e}\n"))
}

/// `%XX`-decodes a path; `None` when it is not UTF-8 or an escape is malformed.
fn decode(path: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(path.len());
    let mut it = path.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let h = (it.next()? as char).to_digit(16)?;
            let l = (it.next()? as char).to_digit(16)?;
            bytes.push((h * 16 + l) as u8);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

async fn listing<S: KvWrite>(store: &mut S, key: &str) -> Response {
    match store.list(key).await {
        Ok(entries) => {
            let mut body = String::new();
            for (name, kind) in entries {
                body.push_str(&name);
                if kind == Kind::Dictionary {
                    body.push('/');
                }
                body.push('\n');
            }
            answer("200 OK", body)
        }
        Err(e) => failure(&e),
    }
}

async fn handle<S: KvWrite>(store: &mut S, method: &str, target: &str, body: &[u8]) -> Response {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let Some(key) = path
        .strip_prefix("/kv/")
        .or(path.strip_prefix("/kv").filter(|r| r.is_empty()))
    else {
        return answer("404 Not Found", "404 Not Found\n");
    };
    let Some(key) = decode(key) else {
        return answer(
            "400 Bad Request",
            format!("invalid key '{key}': bad %-escape\n"),
        );
    };
    let key = key.trim_end_matches('/');
    match method {
        "GET" => match store.exists(key).await {
            Ok(Some(Kind::Dictionary)) => listing(store, key).await,
            Ok(_) => match store.get(key).await {
                Ok(value) => answer("200 OK", value),
                Err(e) => failure(&e),
            },
            Err(e) => failure(&e),
        },
        "PUT" => {
            let existed = match store.exists(key).await {
                Ok(kind) => kind.is_some(),
                Err(e) => return failure(&e),
            };
            match store.set(key, body).await {
                Ok(()) if existed => answer("204 No Content", ""),
                Ok(()) => answer("201 Created", ""),
                Err(e) => failure(&e),
            }
        }
        "DELETE" => match store.exists(key).await {
            Ok(None) => failure(&KvError::NotFound(key.into())),
            Ok(Some(_)) => match store.remove(key).await {
                Ok(()) => answer("204 No Content", ""),
                Err(e) => failure(&e),
            },
            Err(e) => failure(&e),
        },
        _ => answer("405 Method Not Allowed", "405 Method Not Allowed\n"),
    }
}

async fn send(socket: &mut TcpStream<'_>, r: &Response) -> bool {
    let mut out = format!(
        "HTTP/1.1 {}\r\nServer: morgana\r\nContent-Length: {}\r\n",
        r.status,
        r.body.len()
    )
    .into_bytes();
    if r.status.starts_with('2') && !r.body.is_empty() {
        out.extend_from_slice(b"Content-Type: application/octet-stream\r\n");
    } else if !r.body.is_empty() {
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    }
    if r.status.starts_with("405") {
        out.extend_from_slice(b"Allow: GET, PUT, DELETE\r\n");
    }
    if r.close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&r.body);
    socket.write_all(&out).await.is_ok()
}

/// What a parsed head asks for.
struct Head {
    method: String,
    target: String,
    body_len: usize,
    close: bool,
    head_len: usize,
}

/// Parses a request head; `Ok(None)` when more bytes are needed.
fn parse(buf: &[u8]) -> Result<Option<Head>, Response> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => {
            return Err(Response {
                close: true,
                ..answer("400 Bad Request", "400 Bad Request\n")
            });
        }
    };
    let mut body_len = 0;
    let mut close = req.version == Some(0);
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let len = core::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok());
            body_len = match len {
                Some(n) if n <= MAX_VALUE => n,
                Some(_) => {
                    return Err(Response {
                        close: true,
                        ..answer(
                            "413 Content Too Large",
                            format!("a value may have at most {MAX_VALUE} bytes\n"),
                        )
                    });
                }
                None => {
                    return Err(Response {
                        close: true,
                        ..answer("400 Bad Request", "bad Content-Length\n")
                    });
                }
            };
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Response {
                close: true,
                ..answer(
                    "411 Length Required",
                    "send the value with a Content-Length\n",
                )
            });
        } else if h.name.eq_ignore_ascii_case("connection")
            && h.value.eq_ignore_ascii_case(b"close")
        {
            close = true;
        }
    }
    Ok(Some(Head {
        method: req.method.unwrap_or("").into(),
        target: req.path.unwrap_or("").into(),
        body_len,
        close,
        head_len,
    }))
}

/// Answers requests on an accepted connection until it ends, then closes it. Each request
/// holds the store for its whole handling, so requests from different connections never
/// interleave.
pub async fn serve_connection<S: KvWrite>(
    socket: &mut TcpStream<'_>,
    store: &Mutex<NoopRawMutex, S>,
) {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut filled = 0;
    'conn: loop {
        while filled > 0 {
            let head = match parse(&buf[..filled]) {
                Ok(Some(head)) => head,
                Ok(None) if filled < buf.len() => break,
                Ok(None) => {
                    let r = answer("431 Request Header Fields Too Large", "head too large\n");
                    let _ = send(socket, &Response { close: true, ..r }).await;
                    break 'conn;
                }
                Err(r) => {
                    let _ = send(socket, &r).await;
                    break 'conn;
                }
            };
            // The body: what is buffered after the head, then the rest from the socket.
            let mut body = Vec::with_capacity(head.body_len);
            let have = (filled - head.head_len).min(head.body_len);
            body.extend_from_slice(&buf[head.head_len..head.head_len + have]);
            buf.copy_within(head.head_len + have..filled, 0);
            filled -= head.head_len + have;
            while body.len() < head.body_len {
                let want = (head.body_len - body.len()).min(buf.len());
                match with_timeout(IDLE, socket.read(&mut buf[..want])).await {
                    Ok(Ok(n)) if n > 0 => body.extend_from_slice(&buf[..n]),
                    _ => break 'conn,
                }
            }
            let mut r = handle(&mut *store.lock().await, &head.method, &head.target, &body).await;
            r.close |= head.close;
            if !send(socket, &r).await || r.close {
                break 'conn;
            }
        }
        match with_timeout(IDLE, socket.read(&mut buf[filled..])).await {
            Ok(Ok(n)) if n > 0 => filled += n,
            _ => break,
        }
    }
    socket.close_gracefully(Duration::from_secs(5)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_decode() {
        assert_eq!(decode("a%20b/c").as_deref(), Some("a b/c"));
        assert_eq!(decode("a%2"), None);
        assert_eq!(decode("%ff"), None);
    }
}
