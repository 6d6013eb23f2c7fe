//! The static website over HTTPS (TLS 1.3 and 1.2), with the certificate chain and key from a
//! store: embedded at build time (default), or on block device `certs`, a littlefs disk
//! (feature `littlefs`) or a tar archive (feature `tar`) — the plain site's choice of sources.
//!
//! ```text
//! https-server --net:service=TAP [--block:certs=FILE] -- [--ipv4=ADDR/PREFIX ...] [--port=443]
//!              [--idle-timeout=30] [--redirect-port=80]
//! ```
//!
//! With `--redirect-port=PORT` (off by default) the server also answers plain HTTP on PORT:
//! every request gets `301 Moved Permanently` with `Location: https://HOST[:PORT]/path`, HOST
//! from its `Host` header (a request without one gets `400`); see `morgana_http::redirect`.
//!
//! The store holds `chain.pem` (the server certificate first, then intermediates) and
//! `key.pem` (PKCS#8 or SEC1; ECDSA P-256 or Ed25519). Embedded, it is the directory named by
//! `MORGANA_TLS_CERTS` at build time (`cargo xtask cert` makes one), else `certs/`, a
//! development certificate for localhost, 127.0.0.1 and ::1 signed by `certs/ca.pem`; on a
//! disk, `cargo xtask disk create --from DIR` makes one. A missing entry, bad PEM, or a key that
//! is not the certificate's stops the server at boot with one `error:` line. Requests are
//! answered as by `http-server` (see `morgana_http::server`), with keep-alive.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::sync::Arc;

use morgana::BootArgs;
use morgana::time::{Duration, with_timeout};
use morgana_http::ServerConfig;
use morgana_kv::StaticKv;
use morgana_tcpip::Stack;
use morgana_tcpip::serve::ConnectionLimits;
use morgana_tcpip::{SocketBuffers, TcpListener};
use morgana_tls::{WallClock, rustls};
use rand_core::RngCore;

#[cfg(all(feature = "tar", feature = "littlefs"))]
compile_error!("choose one certificate store: feature `tar` or feature `littlefs`");

#[cfg(not(any(feature = "tar", feature = "littlefs")))]
morgana::main!(app, devices: { SERVICE: net = "service" });
#[cfg(any(feature = "tar", feature = "littlefs"))]
morgana::main!(app, devices: { SERVICE: net = "service", CERTS_DISK: block = "certs" });

static SITE: StaticKv = include!(concat!(env!("OUT_DIR"), "/htdocs.rs"));
#[cfg(any(test, not(any(feature = "tar", feature = "littlefs"))))]
static CERTS: StaticKv = include!(concat!(env!("OUT_DIR"), "/certs.rs"));

/// Connections the port-80 redirect answers at once (each answer is one short response).
const REDIRECT_CONNECTIONS: usize = 8;

/// `--redirect-port` names the port HTTPS is served on.
#[derive(Debug, thiserror::Error)]
#[error("--redirect-port={0} is the port HTTPS is served on; choose another (e.g. 80)")]
struct RedirectToItself(u16);

/// A certificate store entry is missing.
#[derive(Debug, thiserror::Error)]
#[error("certificate store: no entry '{0}'")]
struct MissingEntry(&'static str);

/// The TLS configuration from the embedded store's `chain.pem` and `key.pem`.
#[cfg_attr(any(feature = "tar", feature = "littlefs"), allow(dead_code))]
fn tls_config(store: &StaticKv) -> Result<Arc<rustls::ServerConfig>, morgana::Error> {
    let chain = store.get("chain.pem").ok_or(MissingEntry("chain.pem"))?;
    let key = store.get("key.pem").ok_or(MissingEntry("key.pem"))?;
    tls_config_from(chain, key)
}

fn tls_config_from(chain: &[u8], key: &[u8]) -> Result<Arc<rustls::ServerConfig>, morgana::Error> {
    Ok(morgana_tls::server_config(
        chain,
        key,
        WallClock(morgana::clock::wall_ns),
    )?)
}

/// The TLS configuration from the store built into the image.
#[cfg(not(any(feature = "tar", feature = "littlefs")))]
async fn certificates() -> Result<Arc<rustls::ServerConfig>, morgana::Error> {
    tls_config(&CERTS)
}

/// The TLS configuration from the store on block device `certs`.
#[cfg(any(feature = "tar", feature = "littlefs"))]
async fn certificates() -> Result<Arc<rustls::ServerConfig>, morgana::Error> {
    let disk = morgana::block::acquire(CERTS_DISK)?;
    #[cfg(feature = "tar")]
    let mut store = morgana_tar::TarKv::open(disk, CERTS_DISK.name).await?;
    #[cfg(feature = "littlefs")]
    let mut store =
        morgana_littlefs::LittleFs::mount(disk, CERTS_DISK.name, morgana::clock::wall_ns)?;
    let chain = disk_entry(&mut store, "chain.pem").await?;
    let key = disk_entry(&mut store, "key.pem").await?;
    tls_config_from(&chain, &key)
}

/// Entry `name` of a store on a disk; a missing one is named as in the embedded store.
#[cfg(any(feature = "tar", feature = "littlefs"))]
async fn disk_entry(
    store: &mut impl morgana_kv::KvRead,
    name: &'static str,
) -> Result<alloc::vec::Vec<u8>, morgana::Error> {
    match store.get(name).await {
        Ok(value) => Ok(value),
        Err(morgana_kv::KvError::NotFound(_)) => Err(MissingEntry(name).into()),
        Err(e) => Err(e.into()),
    }
}

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let port: u16 = args.with_default("port", 443)?;
    let redirect_port: Option<u16> = args.optional("redirect-port")?;
    let mut config = ServerConfig::from_args(&mut args)?;
    config.port = port;
    if redirect_port == Some(port) {
        return Err(RedirectToItself(port).into());
    }
    let tls = certificates().await?;
    let net = morgana::net::acquire(SERVICE)?;
    let seed = morgana::entropy::rng()?.next_u64();
    let stack = Stack::from_args(net, &mut args, spawner, seed)?;
    args.finish()?;
    stack.wait_up(Duration::from_secs(30)).await?;
    let listener = stack.listen(config.port)?;
    // A pool of its own (TLS state per task): at most 64, fewer with `--max-connections`.
    for _ in 0..config.limits.max_connections.min(64) {
        morgana::spawn(
            spawner,
            serve(listener.clone(), tls.clone(), config.clone()),
        )?;
    }
    match redirect_port {
        Some(plain) => {
            let redirect = ServerConfig {
                port: plain,
                limits: ConnectionLimits {
                    max_connections: REDIRECT_CONNECTIONS,
                    backlog: REDIRECT_CONNECTIONS,
                },
                buffer_size: 2048,
                ..config.clone()
            };
            morgana_http::redirect::spawn(&stack, spawner, config.port, &redirect)?;
            morgana::println!(
                "https-server: {} files, port {}, redirect from port {plain}",
                SITE.len(),
                config.port
            );
        }
        None => morgana::println!("https-server: {} files, port {}", SITE.len(), config.port),
    }
    core::future::pending().await
}

/// One task of the pool: accept, handshake, serve, close, forever.
async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, config: ServerConfig) {
    // Room for a whole TLS record each way, so the stack is never the bottleneck of one.
    let size = config.buffer_size.max(morgana_tls::stream::MAX_RECORD);
    let mut buffers = SocketBuffers::new(size, size);
    loop {
        let mut socket = match listener.accept(&mut buffers).await {
            Ok(socket) => socket,
            Err(e) => {
                log::warn!("https: accept failed: {e}");
                continue;
            }
        };
        socket.set_nagle_enabled(false);
        match with_timeout(config.idle_timeout, morgana_tls::accept(&mut socket, &tls)).await {
            Ok(Ok(mut stream)) => {
                let ending =
                    morgana_http::server::serve_connection(&mut stream, &SITE, &config).await;
                log::debug!("https: connection {ending:?}");
                let _ = with_timeout(morgana_http::server::CLOSE_TIMEOUT, stream.close()).await;
            }
            Ok(Err(e)) => log::debug!("https: handshake failed: {e}"),
            Err(_) => log::debug!("https: handshake timed out"),
        }
        socket
            .close_gracefully(morgana_http::server::CLOSE_TIMEOUT)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boot error (as the runtime prints it after `error: `) for a store of `entries`.
    fn boot_error(entries: &'static [(&'static str, &'static [u8])]) -> String {
        match tls_config(&StaticKv::new(entries)) {
            Ok(_) => panic!("the store was accepted"),
            Err(e) => e.to_string(),
        }
    }

    const CHAIN: &[u8] = include_bytes!("../certs/chain.pem");
    const KEY: &[u8] = include_bytes!("../certs/key.pem");

    #[test]
    fn the_development_store_loads() {
        assert!(tls_config(&CERTS).is_ok());
        assert!(tls_config(&StaticKv::new(&[("chain.pem", CHAIN), ("key.pem", KEY)])).is_ok());
    }

    #[test]
    fn bad_stores_are_named_in_one_line() {
        assert_eq!(
            boot_error(&[("key.pem", KEY)]),
            "certificate store: no entry 'chain.pem'"
        );
        assert_eq!(
            boot_error(&[("chain.pem", CHAIN)]),
            "certificate store: no entry 'key.pem'"
        );
        assert_eq!(
            boot_error(&[
                ("chain.pem", b"-----BEGIN CERTIFICATE-----\nnot base64!\n"),
                ("key.pem", KEY)
            ]),
            "certificate chain: malformed PEM (no '-----END CERTIFICATE-----' line)"
        );
        let other = morgana_certs::Ca::new("another CA")
            .and_then(|ca| ca.server(&["localhost"], morgana_certs::Validity::Current))
            .unwrap();
        let other_key: &'static [u8] = Vec::leak(other.key_pem.into_bytes());
        let entries = Vec::leak(vec![("chain.pem", CHAIN), ("key.pem", other_key)]);
        assert_eq!(
            boot_error(entries),
            "certificate chain: its public key does not match the private key"
        );
    }
}
