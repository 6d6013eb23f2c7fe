//! TCP echo (RFC 862) on `--port` (default 7) for many clients at once.
//!
//! ```text
//! echo-server --net:service=TAP -- [--ipv4=ADDR/PREFIX ...] [--port=7] [--idle-timeout=60]
//!             [--max-connections=N] [--backlog=K] [--buffer-size=BYTES]
//! ```
//!
//! Network arguments are those of `morgana-tcpip`; a bad one ends the unikernel with one
//! `error:` line and status 1.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use morgana::BootArgs;
use morgana::time::Duration;
use morgana_echo::EchoConfig;
use morgana_tcpip::Stack;

morgana::main!(app, devices: { SERVICE: net = "service" });

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let config = EchoConfig::from_args(&mut args)?;
    let net = morgana::net::acquire(SERVICE)?;
    let seed = {
        use rand_core::RngCore;
        morgana::entropy::rng()?.next_u64()
    };
    let sockets = config.limits.sockets();
    let stack = Stack::from_args_with_tcp_sockets(net, &mut args, spawner, seed, sockets)?;
    args.finish()?;
    stack.wait_up(Duration::from_secs(30)).await?;
    morgana_echo::spawn(&stack, spawner, &config)?;
    morgana::println!(
        "echo-server: {} listening on port {}",
        stack.ipv4().map_or(
            alloc::string::String::from("(no IPv4)"),
            |a| alloc::format!("{a}")
        ),
        config.port
    );
    core::future::pending().await
}

extern crate alloc;
