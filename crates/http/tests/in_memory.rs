//! The fetch client against the static-site server, two stacks joined by the in-memory switch.

use morgana::time::{Duration, with_timeout};
use morgana_http::server::{self, ServerConfig};
use morgana_http::{Fetched, Url, fetch};
use morgana_kv::StaticKv;
use morgana_net::MacAddress;
use morgana_tcpip::SocketBuffers;
use morgana_tcpip::embedded_io_async::Read;
use morgana_tcpip::embedded_io_async::Write;
use morgana_tcpip::{Ipv4Address, Ipv4Cidr, NetConfig, Stack};
use morgana_vnet::Switch;

const SERVER: Ipv4Address = Ipv4Address::new(10, 7, 0, 2);
const CLIENT: Ipv4Address = Ipv4Address::new(10, 7, 0, 3);
const INDEX: &[u8] = b"<!doctype html><title>t</title><p>hello</p>\n";

static SITE: StaticKv = StaticKv::new(&[
    ("big.bin", &[0x5a; 100_000]),
    ("index.html", INDEX),
    ("style.css", b"p { color: red }\n"),
]);

fn start(spawner: morgana::Spawner) -> Stack {
    let switch = Switch::new();
    let s = switch.port(MacAddress([2, 0, 0, 0, 7, 2]));
    let c = switch.port(MacAddress([2, 0, 0, 0, 7, 3]));
    let server = Stack::new(
        s,
        NetConfig::ipv4_static(Ipv4Cidr::new(SERVER, 24)),
        spawner,
        3,
    )
    .unwrap();
    let client = Stack::new(
        c,
        NetConfig::ipv4_static(Ipv4Cidr::new(CLIENT, 24)),
        spawner,
        4,
    )
    .unwrap();
    let config = ServerConfig {
        limits: morgana_tcpip::ConnectionLimits {
            max_connections: 4,
            backlog: 2,
        },
        idle_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    };
    server::spawn(&server, spawner, &SITE, &config).unwrap();
    client
}

fn crc(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

#[test]
fn fetch_gets_pages_binary_files_and_404s() {
    let results: Vec<Fetched> = morgana::block_on(|spawner| async move {
        let client = start(spawner);
        let mut out = Vec::new();
        for path in ["/", "/style.css", "/big.bin", "/missing.html"] {
            let url: Url = format!("http://10.7.0.2{path}").parse().unwrap();
            let f = with_timeout(
                Duration::from_secs(20),
                fetch(&client, &url, Duration::from_secs(5)),
            )
            .await
            .expect("fetch took over 20 s")
            .unwrap();
            out.push(f);
        }
        out
    });
    let summary: Vec<(String, u64, u32)> = results
        .iter()
        .map(|f| (f.status_line(), f.body_len, f.crc32))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "HTTP/1.1 200 OK".to_string(),
                INDEX.len() as u64,
                crc(INDEX)
            ),
            (
                "HTTP/1.1 200 OK".to_string(),
                17,
                crc(b"p { color: red }\n")
            ),
            (
                "HTTP/1.1 200 OK".to_string(),
                100_000,
                crc(&[0x5a; 100_000])
            ),
            (
                "HTTP/1.1 404 Not Found".to_string(),
                14,
                crc(b"404 Not Found\n")
            ),
        ]
    );
    assert!(results[0].is_success() && !results[3].is_success());
}

/// Sends raw bytes on one connection and returns everything until the server closes.
async fn raw(client: &Stack, request: &[u8]) -> String {
    let mut buffers = SocketBuffers::new(16384, 16384);
    let mut socket = match client.connect((SERVER, 80), &mut buffers).await {
        Ok(socket) => socket,
        Err(e) => return format!("connect failed: {e:?}"),
    };
    if let Err(e) = socket.write_all(request).await {
        return format!("write failed: {e:?}");
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    // Acknowledge the server's FIN before the socket goes away.
    socket.close();
    let _ = socket.flush().await;
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn keep_alive_pipelining_and_errors_on_raw_connections() {
    let answers = morgana::block_on(|spawner| async move {
        let client = start(spawner);
        let cases: [Vec<u8>; 5] = [
            // Two pipelined requests, then close: both answered on one connection.
            b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
            b"GET / HTTP/1.1\r\nHo st: x\r\n\r\n".to_vec(),
            [&b"GET / HTTP/1.1\r\nX: "[..], &[b'a'; 9000], b"\r\n\r\n"].concat(),
            b"GET /../x HTTP/1.1\r\n\r\n".to_vec(),
        ];
        let mut out = Vec::new();
        for c in &cases {
            out.push(
                with_timeout(Duration::from_secs(20), raw(&client, c))
                    .await
                    .expect("raw exchange took over 20 s"),
            );
        }
        out
    });
    let css = "HTTP/1.1 200 OK\r\nServer: morgana\r\nContent-Type: text/css; charset=utf-8\r\nContent-Length: 17\r\n\r\np { color: red }\n";
    let head = format!(
        "HTTP/1.1 200 OK\r\nServer: morgana\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        INDEX.len()
    );
    assert_eq!(answers[0], format!("{css}{head}"));
    let error = |status: &str, extra: &str| {
        format!(
            "HTTP/1.1 {status}\r\nServer: morgana\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{status}\n",
            status.len() + 1
        )
    };
    assert_eq!(
        answers[1],
        error("405 Method Not Allowed", "Allow: GET, HEAD\r\n")
    );
    assert_eq!(answers[2], error("400 Bad Request", ""));
    assert_eq!(answers[3], error("431 Request Header Fields Too Large", ""));
    assert_eq!(answers[4], error("400 Bad Request", ""));
}
