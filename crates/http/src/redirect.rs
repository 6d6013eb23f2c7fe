//! Plain HTTP redirected to HTTPS: the port-80 side of an HTTPS site.
//!
//! Each connection gets one answer, then is closed:
//!
//! | request                                          | answer                          |
//! |--------------------------------------------------|---------------------------------|
//! | a target in origin form (`/path?query`) and one valid `Host` | `301 Moved Permanently` with `Location: https://HOST[:PORT]/path?query` |
//! | no `Host` (HTTP/1.0 too), several, or one that is not `host[:port]` | `400`       |
//! | another form of target (`*`, `http://...`)        | `400`                           |
//! | headers over [`ServerConfig::max_header_bytes`]  | `431`                           |
//! | anything `httparse` rejects                      | `400`                           |
//!
//! HOST is the `Host` header's host (a name, an IPv4 address or a bracketed IPv6 address),
//! its port dropped; `:PORT` is the HTTPS port, left out when it is 443. Any method is
//! redirected; `HEAD` gets the head only. Hosts are checked against RFC 3986's characters, so
//! nothing a client sends can add a header or turn the `Location` into another URL's.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use embassy_executor::Spawner;
use embassy_time::with_timeout;
use morgana_tcpip::embedded_io_async::{Read, Write};
use morgana_tcpip::{Service, Stack, TcpStream};

use crate::server::{After, Ending, MAX_HEADERS, ServerConfig, error};

/// The port HTTPS URLs leave out.
pub const HTTPS_DEFAULT_PORT: u16 = 443;

/// `https://HOST[:PORT]TARGET` for a request with `Host` header `host` and request target
/// `target`, redirected to HTTPS on `https_port`; `None` when the host or target is not one a
/// redirect may be built from (the request gets `400`).
pub fn location(host: &[u8], target: &str, https_port: u16) -> Option<String> {
    let host = core::str::from_utf8(host).ok()?.trim_matches([' ', '\t']);
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let literal = !inside.is_empty()
            && inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !literal {
            return None;
        }
        (&host[..inside.len() + 2], after)
    } else {
        let end = host.find(':').unwrap_or(host.len());
        (&host[..end], &host[end..])
    };
    let port_ok = match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => digits.is_empty() || digits.parse::<u16>().is_ok(),
    };
    let name_ok = !name.is_empty()
        && (name.starts_with('[')
            || name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b)));
    if !port_ok || !name_ok || !target.starts_with('/') {
        return None;
    }
    Some(if https_port == HTTPS_DEFAULT_PORT {
        format!("https://{name}{target}")
    } else {
        format!("https://{name}:{https_port}{target}")
    })
}

/// Writes the answer to one parsed request.
async fn answer<S: Write>(
    socket: &mut S,
    req: &httparse::Request<'_, '_>,
    https_port: u16,
    out: &mut Vec<u8>,
) {
    let head_only = req.method == Some("HEAD");
    let mut hosts = req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("host"));
    let target = match (hosts.next(), hosts.next()) {
        (Some(host), None) => location(host.value, req.path.unwrap_or(""), https_port),
        _ => None,
    };
    let _ = match target {
        Some(url) => {
            let extra = format!("Location: {url}\r\n");
            let status = "301 Moved Permanently";
            error(socket, out, status, After::Close, head_only, &extra).await
        }
        None => error(socket, out, "400 Bad Request", After::Close, head_only, "").await,
    };
}

/// Reads one request head from `socket` and answers it with a redirect to HTTPS on
/// `https_port` (or an error, see the module's table); leaves closing the stream to the
/// caller. Uses `config`'s header limit and idle timeout.
pub async fn redirect_connection<S: Read + Write>(
    socket: &mut S,
    https_port: u16,
    config: &ServerConfig,
) -> Ending {
    let mut buf = vec![0u8; config.max_header_bytes];
    let mut out = Vec::with_capacity(256);
    let mut filled = 0;
    loop {
        match with_timeout(config.idle_timeout, socket.read(&mut buf[filled..])).await {
            Err(_) => return Ending::Idle,
            Ok(Err(_)) => return Ending::Reset,
            Ok(Ok(0)) => return Ending::Closed,
            Ok(Ok(n)) => filled += n,
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let status = match req.parse(&buf[..filled]) {
            Ok(httparse::Status::Complete(_)) => {
                answer(socket, &req, https_port, &mut out).await;
                return Ending::Closed;
            }
            Ok(httparse::Status::Partial) if filled < buf.len() => continue,
            Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
                "431 Request Header Fields Too Large"
            }
            Err(_) => "400 Bad Request",
        };
        let _ = error(socket, &mut out, status, After::Close, false, "").await;
        return Ending::Closed;
    }
}

/// The redirect answered on every connection.
struct Redirect {
    https_port: u16,
    config: ServerConfig,
}

impl Service for Redirect {
    async fn serve(&self, stream: &mut TcpStream<'_>) {
        stream.set_nagle_enabled(false);
        let ending = redirect_connection(stream, self.https_port, &self.config).await;
        log::debug!("http redirect: connection {ending:?}");
    }
}

/// Listens on [`ServerConfig::port`] and redirects every request there to HTTPS on
/// `https_port`, a task per connection within [`ServerConfig::limits`] (see
/// [`morgana_tcpip::serve`]). A direct `stack` needs [`ConnectionLimits::sockets`] TCP sockets.
///
/// [`ConnectionLimits::sockets`]: morgana_tcpip::serve::ConnectionLimits::sockets
pub fn spawn(
    stack: &Stack,
    spawner: Spawner,
    https_port: u16,
    config: &ServerConfig,
) -> Result<(), morgana_tcpip::Error> {
    let service = Redirect {
        https_port,
        config: config.clone(),
    };
    let buffers = (config.buffer_size, config.buffer_size);
    morgana_tcpip::serve::serve(stack, spawner, config.port, config.limits, buffers, service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_keep_the_host_and_target_and_name_the_https_port() {
        let l = |host: &str, target: &str, port| location(host.as_bytes(), target, port);
        assert_eq!(
            l("example.test", "/a/b?c=d", 443).as_deref(),
            Some("https://example.test/a/b?c=d")
        );
        assert_eq!(
            l("example.test:80", "/", 8443).as_deref(),
            Some("https://example.test:8443/")
        );
        assert_eq!(
            l("10.0.0.2:8080", "/x", 443).as_deref(),
            Some("https://10.0.0.2/x")
        );
        assert_eq!(
            l("[::1]:80", "/", 4443).as_deref(),
            Some("https://[::1]:4443/")
        );
        assert_eq!(l("[::1]", "/", 443).as_deref(), Some("https://[::1]/"));
        // An empty port is allowed (RFC 3986).
        assert_eq!(l("h:", "/", 443).as_deref(), Some("https://h/"));
        assert_eq!(l("[::1]:", "/", 443).as_deref(), Some("https://[::1]/"));
    }

    #[test]
    fn hosts_and_targets_a_redirect_cannot_be_built_from_are_refused() {
        for host in [
            "",
            ":80",
            "a/b",
            "evil.test@x",
            "a b",
            "h:80:81",
            "h:99999",
            "h:8x",
            "[]",
            "[::1",
            "[::1]x",
            "[zz]",
            "h\\x",
        ] {
            assert_eq!(location(host.as_bytes(), "/", 443), None, "{host:?}");
        }
        assert_eq!(location(&[0xff, b'a'], "/", 443), None);
        for target in ["*", "http://h/x", ""] {
            assert_eq!(location(b"h", target, 443), None, "{target:?}");
        }
    }
}
