//! Fetches one URL and prints its status line, body length and CRC-32.
//!
//! ```text
//! http-fetch --net:service=TAP -- --url=http[s]://HOST[:PORT]/PATH [--ipv4=... --dns=...]
//!            [--timeout=SECONDS] [--ca=NAME]
//! ```
//!
//! Prints `HTTP/1.1 200 OK` then `body: N bytes, crc32 XXXXXXXX` (CRC-32/ISO-HDLC, as zlib).
//! HOST is resolved through the DNS resolver unless it is an IP literal. Exits 0 for a `2xx`
//! status, 1 otherwise or on any error.
//!
//! `https://` URLs are fetched over TLS 1.3 or 1.2 (`morgana-tls`), with HOST sent as SNI when
//! it is a name. The server's certificate must be valid now (the wall clock), for HOST, and
//! chain to a trusted root: the Mozilla roots bundled in the image, or with `--ca=NAME` only
//! the CA certificates of entry NAME of the image's CA store (see `build.rs`; by default it
//! holds `dev-ca.pem`, the CA of the development certificates). A refused certificate is one
//! `error:` line saying why, and status 1.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use morgana::BootArgs;
use morgana::time::{Duration, with_timeout};
use morgana_http::{Fetched, Url};
use morgana_kv::StaticKv;
use morgana_tcpip::Stack;
use morgana_tls::{Roots, WallClock};
use rand_core::RngCore;

morgana::main!(app, devices: { SERVICE: net = "service" });

static CAS: StaticKv = include!(concat!(env!("OUT_DIR"), "/cas.rs"));

/// The response was not `2xx`.
#[derive(Debug, thiserror::Error)]
#[error("the server answered {0}")]
struct NotSuccess(u16);

/// `--ca=NAME` names no entry of the CA store.
#[derive(Debug, thiserror::Error)]
#[error("CA store: no entry '{name}' (entries: {known})")]
struct NoSuchCa {
    name: String,
    known: String,
}

/// The TLS handshake failed.
#[derive(Debug, thiserror::Error)]
#[error("TLS with {host}: {error}")]
struct TlsFailed {
    host: String,
    error: morgana_tls::ConnectError,
}

/// The trust anchors: the store entry `ca` names, else the bundled roots.
fn roots(ca: Option<&str>) -> Result<Roots<'static>, NoSuchCa> {
    let Some(name) = ca else {
        return Ok(Roots::Bundled);
    };
    CAS.get(name).map(Roots::Pem).ok_or_else(|| NoSuchCa {
        name: name.into(),
        known: CAS.keys().collect::<Vec<_>>().join(", "),
    })
}

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let url: Url = args.required("url", "http[s]://HOST[:PORT]/PATH")?;
    let timeout: u32 = args.with_default("timeout", 10)?;
    let ca: Option<String> = args.optional("ca")?;
    let tls = if url.https {
        let roots = roots(ca.as_deref())?;
        Some(morgana_tls::client_config(
            roots,
            WallClock(morgana::clock::wall_ns),
        )?)
    } else {
        None
    };
    let net = morgana::net::acquire(SERVICE)?;
    let seed = morgana::entropy::rng()?.next_u64();
    let stack = Stack::from_args(net, &mut args, spawner, seed)?;
    args.finish()?;
    let timeout = Duration::from_secs(u64::from(timeout.max(1)));
    stack.wait_up(Duration::from_secs(30)).await?;
    let fetched = match tls {
        None => morgana_http::fetch(&stack, &url, timeout).await?,
        Some(config) => fetch_https(&stack, &url, &config, timeout).await?,
    };
    morgana::println!("{}", fetched.status_line());
    morgana::println!(
        "body: {} bytes, crc32 {:08x}",
        fetched.body_len,
        fetched.crc32
    );
    if fetched.is_success() {
        Ok(())
    } else {
        Err(Box::new(NotSuccess(fetched.status)))
    }
}

/// Fetches an `https://` URL: TCP, then the TLS handshake, then the request over TLS.
async fn fetch_https(
    stack: &Stack,
    url: &Url,
    config: &alloc::sync::Arc<morgana_tls::rustls::ClientConfig>,
    timeout: Duration,
) -> Result<Fetched, morgana::Error> {
    // Room for a whole TLS record from the server.
    let mut buffers = morgana_tcpip::SocketBuffers::new(morgana_tls::stream::MAX_RECORD, 4096);
    let mut socket = morgana_http::client::open(stack, url, timeout, &mut buffers).await?;
    let handshake = with_timeout(
        timeout,
        morgana_tls::connect(&mut socket, config, &url.host),
    );
    let fetched = match handshake.await {
        Err(_) => Err(Box::new(morgana_http::FetchError::Timeout) as morgana::Error),
        Ok(Err(error)) => Err(Box::new(TlsFailed {
            host: url.host.clone(),
            error,
        }) as morgana::Error),
        Ok(Ok(mut stream)) => {
            let fetched = morgana_http::client::fetch_over(&mut stream, url, timeout).await;
            let _ = with_timeout(timeout, stream.close()).await;
            fetched.map_err(|e| Box::new(e) as morgana::Error)
        }
    };
    morgana_http::client::close(&mut socket, timeout).await;
    fetched
}
