//! A static website from files embedded in the image at build time (`htdocs/`).
//!
//! ```text
//! http-server --net:service=TAP -- [--ipv4=ADDR/PREFIX ...] [--port=80] [--idle-timeout=30]
//! ```
//!
//! HTTP/1.1 with keep-alive; see `morgana_http::server` for what is answered how.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use morgana::BootArgs;
use morgana::time::Duration;
use morgana_http::ServerConfig;
use morgana_kv::StaticKv;
use morgana_tcpip::Stack;
use rand_core::RngCore;

morgana::main!(app, devices: { SERVICE: net = "service" });

static SITE: StaticKv = include!(concat!(env!("OUT_DIR"), "/htdocs.rs"));

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let config = ServerConfig::from_args(&mut args)?;
    let net = morgana::net::acquire(SERVICE)?;
    let seed = morgana::entropy::rng()?.next_u64();
    let stack = Stack::from_args(net, &mut args, spawner, seed)?;
    args.finish()?;
    stack.wait_up(Duration::from_secs(30)).await?;
    morgana_http::server::spawn(&stack, spawner, &SITE, &config)?;
    morgana::println!("http-server: {} files, port {}", SITE.len(), config.port);
    core::future::pending().await
}
