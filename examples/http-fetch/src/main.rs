//! Fetches one URL and prints its status line, body length and CRC-32.
//!
//! ```text
//! http-fetch --net:service=TAP -- --url=http://HOST[:PORT]/PATH [--ipv4=... --dns=...]
//!            [--timeout=SECONDS]
//! ```
//!
//! Prints `HTTP/1.1 200 OK` then `body: N bytes, crc32 XXXXXXXX` (CRC-32/ISO-HDLC, as zlib).
//! HOST is resolved through the DNS resolver unless it is an IP literal. Exits 0 for a `2xx`
//! status, 1 otherwise or on any error.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::boxed::Box;
use morgana::BootArgs;
use morgana::time::Duration;
use morgana_http::Url;
use morgana_tcpip::Stack;
use rand_core::RngCore;

morgana::main!(app, devices: { SERVICE: net = "service" });

/// The response was not `2xx`.
#[derive(Debug, thiserror::Error)]
#[error("the server answered {0}")]
struct NotSuccess(u16);

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let url: Url = args.required("url", "http://HOST[:PORT]/PATH")?;
    let timeout: u32 = args.with_default("timeout", 10)?;
    let net = morgana::net::acquire(SERVICE)?;
    let seed = morgana::entropy::rng()?.next_u64();
    let stack = Stack::from_args(net, &mut args, spawner, seed)?;
    args.finish()?;
    let timeout = Duration::from_secs(u64::from(timeout.max(1)));
    stack.wait_up(Duration::from_secs(30)).await?;
    let fetched = morgana_http::fetch(&stack, &url, timeout).await?;
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
