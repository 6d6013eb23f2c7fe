//! An HTTP key-value service over a littlefs disk.
//!
//! ```text
//! kv-server --net:service=TAP --block:storage=FILE -- [--format] [--ipv4=ADDR/PREFIX ...]
//!           [--port=80]
//! ```
//!
//! See [`http`] for the requests it answers. A `PUT` is answered only once the value is on
//! stable storage, so an acknowledged value survives a crash of the unikernel or the host.
//! [`CONNECTIONS`] connections are served at once; store operations take turns.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

mod http;

use alloc::boxed::Box;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::mutex::Mutex;
use morgana::BootArgs;
use morgana::block::Block;
use morgana::time::Duration;
use morgana_littlefs::LittleFs;
use morgana_tcpip::{SocketBuffers, Stack, TcpListener};
use rand_core::RngCore;

/// Connections served at once (tasks sharing one listener, so a new connection is accepted
/// while another is being answered or closed).
pub const CONNECTIONS: usize = 4;

/// The store, shared by the connection tasks.
type Store = Mutex<NoopRawMutex, LittleFs<Block>>;

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
    let store = if format {
        LittleFs::format(disk, STORAGE.name, morgana::clock::wall_ns)?
    } else {
        LittleFs::mount(disk, STORAGE.name, morgana::clock::wall_ns)?
    };
    stack.wait_up(Duration::from_secs(30)).await?;
    let store: &'static Store = Box::leak(Box::new(Mutex::new(store)));
    let listener = stack.listen(port)?;
    for _ in 0..CONNECTIONS {
        morgana::spawn(spawner, serve(listener.clone(), store))?;
    }
    morgana::println!("kv-server: port {port}");
    core::future::pending().await
}

/// One connection task: accept, answer, close, forever.
async fn serve(listener: TcpListener, store: &'static Store) {
    let mut buffers = SocketBuffers::new(16 * 1024, 16 * 1024);
    loop {
        let mut socket = match listener.accept(&mut buffers).await {
            Ok(socket) => socket,
            Err(e) => {
                log::warn!("kv-server: accept failed: {e}");
                continue;
            }
        };
        socket.set_nagle_enabled(false);
        http::serve_connection(&mut socket, store).await;
    }
}
