//! An HTTP key-value service over a littlefs disk.
//!
//! ```text
//! kv-server --net:service=TAP --block:storage=FILE -- [--format] [--ipv4=ADDR/PREFIX ...]
//!           [--port=80]
//! ```
//!
//! See [`http`] for the requests it answers. A `PUT` is answered only once the value is on
//! stable storage, so an acknowledged value survives a crash of the unikernel or the host.
//! Connections are served one at a time, in the order they are accepted.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

mod http;

use alloc::vec;
use morgana::BootArgs;
use morgana::time::Duration;
use morgana_littlefs::LittleFs;
use morgana_tcpip::Stack;
use morgana_tcpip::tcp::TcpSocket;
use rand_core::RngCore;

morgana::main!(app, devices: { SERVICE: net = "service", STORAGE: block = "storage" });

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let format = args.flag("format")?;
    let port: u16 = args.with_default("port", 80)?;
    let disk = morgana::block::acquire(STORAGE)?;
    let net = morgana::net::acquire(SERVICE)?;
    let seed = morgana::entropy::rng()?.next_u64();
    let stack = Stack::from_args(net, &mut args, spawner, seed)?;
    args.finish()?;
    let mut store = if format {
        LittleFs::format(disk, STORAGE.name, morgana::clock::wall_ns)?
    } else {
        LittleFs::mount(disk, STORAGE.name, morgana::clock::wall_ns)?
    };
    stack.wait_up(Duration::from_secs(30)).await?;
    morgana::println!("kv-server: port {port}");
    let mut rx = vec![0u8; 16 * 1024];
    let mut tx = vec![0u8; 16 * 1024];
    loop {
        let mut socket = TcpSocket::new(stack.net(), &mut rx, &mut tx);
        socket.set_nagle_enabled(false);
        if let Err(e) = socket.accept(port).await {
            log::warn!("kv-server: accept failed: {e:?}");
            continue;
        }
        http::serve_connection(&mut socket, &mut store).await;
    }
}
