//! A static website: embedded at build time from `htdocs/` (default), or read from a tar
//! archive (feature `tar`) or a littlefs disk (feature `littlefs`) on block device `site`.
//!
//! ```text
//! http-server --net:service=TAP [--block:site=FILE] -- [--ipv4=ADDR/PREFIX ...] [--port=80]
//!             [--idle-timeout=30] [--max-connections=N] [--backlog=K]
//! ```
//!
//! HTTP/1.1 with keep-alive; see `morgana_http::server` for what is answered how. The service
//! is the same whatever the site's source; only [`site`] differs.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

#[cfg(all(feature = "tar", feature = "littlefs"))]
compile_error!("choose one site source: feature `tar` or feature `littlefs`");

extern crate alloc;

use morgana::BootArgs;
use morgana::time::Duration;
use morgana_http::ServerConfig;
use morgana_kv::KvRo;
use morgana_tcpip::Stack;
use rand_core::RngCore;

#[cfg(not(any(feature = "tar", feature = "littlefs")))]
morgana::main!(app, devices: { SERVICE: net = "service" });
#[cfg(any(feature = "tar", feature = "littlefs"))]
morgana::main!(app, devices: { SERVICE: net = "service", SITE: block = "site" });

/// The site embedded at build time, and the number of files in it.
#[cfg(not(any(feature = "tar", feature = "littlefs")))]
async fn site() -> Result<(&'static impl KvRo, usize), morgana::Error> {
    static SITE: morgana_kv::StaticKv = include!(concat!(env!("OUT_DIR"), "/htdocs.rs"));
    Ok((&SITE, SITE.len()))
}

/// The site in the tar archive on block device `site`, and the number of files in it.
#[cfg(feature = "tar")]
async fn site() -> Result<(&'static impl KvRo, usize), morgana::Error> {
    let disk = morgana::block::acquire(SITE)?;
    let archive = morgana_tar::TarKv::open(disk, SITE.name).await?;
    let files = archive.len();
    let shared =
        alloc::boxed::Box::leak(alloc::boxed::Box::new(morgana_kv::SharedKv::new(archive)));
    Ok((&*shared, files))
}

/// The site on the littlefs disk on block device `site`, and the number of files in it.
#[cfg(feature = "littlefs")]
async fn site() -> Result<(&'static impl KvRo, usize), morgana::Error> {
    let disk = morgana::block::acquire(SITE)?;
    let mut store = morgana_littlefs::LittleFs::mount(disk, SITE.name, morgana::clock::wall_ns)?;
    let files = morgana_kv::count_values(&mut store).await?;
    let shared = alloc::boxed::Box::leak(alloc::boxed::Box::new(morgana_kv::SharedKv::new(store)));
    Ok((&*shared, files))
}

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let config = ServerConfig::from_args(&mut args)?;
    let net = morgana::net::acquire(SERVICE)?;
    let seed = morgana::entropy::rng()?.next_u64();
    let sockets = config.limits.sockets();
    let stack = Stack::from_args_with_tcp_sockets(net, &mut args, spawner, seed, sockets)?;
    args.finish()?;
    let (site, files) = site().await?;
    stack.wait_up(Duration::from_secs(30)).await?;
    morgana_http::server::spawn(&stack, spawner, site, &config)?;
    morgana::println!("http-server: {files} files, port {}", config.port);
    core::future::pending().await
}
