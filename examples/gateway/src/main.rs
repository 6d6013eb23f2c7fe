//! One image serving two other unikernels' services: the static site of `morgana-http` and the
//! TCP echo of `morgana-echo`, on one network stack.
//!
//! ```text
//! gateway --net:service=TAP -- [--ipv4=ADDR/PREFIX ...] [--http-port=80] [--echo-port=7]
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use morgana::BootArgs;
use morgana::time::Duration;
use morgana_echo::EchoConfig;
use morgana_http::ServerConfig;
use morgana_kv::StaticKv;
use morgana_tcpip::Stack;
use rand_core::RngCore;

morgana::main!(app, devices: { SERVICE: net = "service" });

static SITE: StaticKv = include!(concat!(env!("OUT_DIR"), "/htdocs.rs"));

/// Connections each service serves at once, and waiting: two services share one heap.
const LIMITS: morgana_tcpip::ConnectionLimits = morgana_tcpip::ConnectionLimits {
    max_connections: 16,
    backlog: 4,
};

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let http = ServerConfig {
        port: args.with_default("http-port", 80)?,
        limits: LIMITS,
        ..ServerConfig::default()
    };
    let echo = EchoConfig {
        port: args.with_default("echo-port", 7)?,
        limits: LIMITS,
        ..EchoConfig::default()
    };
    let net = morgana::net::acquire(SERVICE)?;
    let seed = morgana::entropy::rng()?.next_u64();
    let stack = Stack::from_args(net, &mut args, spawner, seed)?;
    args.finish()?;
    if http.port == echo.port {
        return Err("--http-port and --echo-port must differ".into());
    }
    stack.wait_up(Duration::from_secs(30)).await?;
    morgana_http::server::spawn(&stack, spawner, &SITE, &http)?;
    morgana_echo::spawn(&stack, spawner, &echo)?;
    morgana::println!(
        "gateway: http on port {}, echo on port {}",
        http.port,
        echo.port
    );
    core::future::pending().await
}
