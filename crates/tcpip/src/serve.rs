//! Serving many TCP connections at once: a task per connection, started as connections arrive,
//! up to a limit, with a backlog; memory is taken per connection and given back at its close.
//!
//! [`serve`] listens on a port and keeps [`ConnectionLimits::backlog`] tasks listening on it.
//! A task that accepts a connection takes its socket buffers from the heap, waits for one of
//! [`ConnectionLimits::max_connections`] slots, hands the connection to the [`Service`], closes
//! it and frees the buffers; meanwhile another task takes its place as a listener. So
//! - at most `max_connections` connections are served at once;
//! - a connection beyond that is accepted and waits for a free slot, up to `backlog` of them;
//! - beyond those, further connections wait until one ends (logged once each time it starts):
//!   on the host stack in the host's own listen backlog; on the direct stack, which would
//!   answer a SYN that no socket listens for with an RST, their SYNs are held instead (see
//!   [`crate::gate`]) and go to the stack when a task listens again, never reset.
//!
//! A burst of more connections than sockets listening goes the same way on the direct stack:
//! each SYN held starts another listener (within the limits), which takes the SYN as soon as
//! it listens; only SYNs beyond the gate's bound are dropped and taken when they come again.
//!
//! Tasks are spawned as they are first needed and then reused, so at most
//! `max_connections + backlog` of them exist, each a few hundred bytes while it holds no
//! connection. The direct stack needs [`ConnectionLimits::sockets`] sockets for this (set
//! [`NetConfig::tcp_sockets`](crate::NetConfig::tcp_sockets) from it).
//!
//! | argument                 | meaning                                            | default |
//! |--------------------------|----------------------------------------------------|---------|
//! | `--max-connections=N`    | connections served at once                         | [`DEFAULT_MAX_CONNECTIONS`], or what fits in the heap on hvt and Xen |
//! | `--backlog=K`            | connections accepted and waiting, and listening sockets | [`DEFAULT_BACKLOG`] (at most N) |

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::future::{Future, poll_fn};
use core::task::{Poll, Waker};

use embassy_executor::Spawner;
use embassy_time::Duration;
use morgana_rt::args::{ArgError, BootArgs};

use crate::gate::PortGate;
use crate::socket::{SocketBuffers, SocketError, TcpListener, TcpStream};
use crate::{BYTES_PER_SOCKET_SLOT, Error, Stack};

/// Connections served at once unless `--max-connections` says otherwise (and the heap allows).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Connections waiting for a slot, and sockets listening, unless `--backlog` says otherwise.
pub const DEFAULT_BACKLOG: usize = 16;

/// Heap kept out of the default limit's reckoning on hvt and Xen, for everything else.
pub const HEAP_RESERVE: usize = 512 * 1024;

/// How long a closing connection may take to get its FIN acknowledged before it is reset.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many connections are served and how many wait; see the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections served at once (at least 1).
    pub max_connections: usize,
    /// Connections accepted and waiting for a slot, and sockets listening at once (at least 1).
    pub backlog: usize,
}

impl ConnectionLimits {
    /// Reads `--max-connections=N` and `--backlog=K` from `args`.
    ///
    /// Without `--max-connections`, the limit is [`DEFAULT_MAX_CONNECTIONS`], lowered on hvt
    /// and Xen to what the heap free now holds at `bytes_per_connection` each (the service's
    /// own estimate, socket buffers included) after [`HEAP_RESERVE`], and at least 1.
    pub fn from_args(
        args: &mut BootArgs<'_>,
        bytes_per_connection: usize,
    ) -> Result<Self, ArgError> {
        let max_connections = match args.optional::<Count>("max-connections")? {
            Some(Count(n)) => n,
            None => default_max_connections(morgana_rt::heap_free_bytes(), bytes_per_connection),
        };
        let backlog = match args.optional::<Count>("backlog")? {
            Some(Count(k)) => k,
            None => DEFAULT_BACKLOG.min(max_connections),
        };
        Ok(ConnectionLimits {
            max_connections,
            backlog,
        })
    }

    /// TCP sockets serving with these limits can hold at once (each task holds at most one).
    pub fn sockets(&self) -> usize {
        self.max_connections.saturating_add(self.backlog)
    }
}

/// The default connection limit for a heap with `heap_free` bytes free (`None`: the host's).
fn default_max_connections(heap_free: Option<usize>, bytes_per_connection: usize) -> usize {
    match heap_free {
        None => DEFAULT_MAX_CONNECTIONS,
        Some(free) => {
            // Each connection also costs a slot in the socket table, and the backlog's
            // connections cost as much as served ones.
            let each = bytes_per_connection
                .saturating_add(BYTES_PER_SOCKET_SLOT)
                .max(1);
            let fit = free.saturating_sub(HEAP_RESERVE) / each;
            fit.saturating_sub(DEFAULT_BACKLOG)
                .clamp(1, DEFAULT_MAX_CONNECTIONS)
        }
    }
}

/// A whole number of at least 1, for the limits.
struct Count(usize);

impl core::str::FromStr for Count {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<usize>() {
            Ok(n) if (1..=crate::MAX_SOCKETS).contains(&n) => Ok(Count(n)),
            _ => Err("expected a whole number from 1 to 2560"),
        }
    }
}

/// What is done with each connection.
pub trait Service: 'static {
    /// Serves `stream` until it ends; [`serve`] closes it afterwards.
    #[allow(async_fn_in_trait)] // run on one single-threaded executor: no `Send` wanted
    async fn serve(&self, stream: &mut TcpStream<'_>);
}

/// Listens on `port` and serves every connection with `service`, within `limits`; each
/// connection gets receive and transmit buffers of `buffers.0` and `buffers.1` bytes (used by
/// the direct stack only).
pub fn serve<S: Service>(
    stack: &Stack,
    spawner: Spawner,
    port: u16,
    limits: ConnectionLimits,
    buffers: (usize, usize),
    service: S,
) -> Result<(), Error> {
    let listener = stack.listen(port)?;
    let pool: &'static Pool<S> = Box::leak(Box::new(Pool {
        listener,
        service,
        spawner,
        buffers,
        limits,
        gate: stack.syn_gate(port),
        extra: Cell::new(0),
        workers: Cell::new(0),
        idle: Cell::new(0),
        refusing: Cell::new(false),
        listening: Slots::new(limits.backlog),
        serving: Slots::new(limits.max_connections),
    }));
    if let Some(gate) = &pool.gate {
        // A SYN held beyond the sockets would wait for a connection to end anyway.
        gate.hold_up_to(limits.sockets());
        morgana_rt::spawn(spawner, grow_on_demand(pool))?;
    }
    pool.top_up()?;
    log::info!(
        "port {port}: at most {} connections at once, {} waiting; heap free: {:?} bytes",
        limits.max_connections,
        limits.backlog,
        morgana_rt::heap_free_bytes()
    );
    Ok(())
}

/// Starts more listeners when the gate held or dropped SYNs for want of one (direct stack).
async fn grow_on_demand<S: Service>(pool: &'static Pool<S>) {
    let Some(gate) = &pool.gate else { return };
    loop {
        let wanting = poll_fn(|cx| gate.poll_wanting(cx)).await;
        // A listener for each: a held SYN goes to it as soon as it listens, a dropped one when
        // it comes again. Within the limits: at the limit, they wait for a connection to end.
        let room = pool.limits.sockets().saturating_sub(pool.extra.get());
        for _ in 0..wanting.min(room) {
            pool.extra.set(pool.extra.get() + 1);
            pool.listening.give();
        }
        if let Err(e) = pool.top_up() {
            log::warn!("port {}: cannot start a task: {e}", pool.listener.port());
        }
    }
}

/// The shared state of one port's tasks.
struct Pool<S> {
    listener: TcpListener,
    service: S,
    spawner: Spawner,
    buffers: (usize, usize),
    limits: ConnectionLimits,
    /// The port's listen backlog gate (direct stack).
    gate: Option<Rc<PortGate>>,
    /// Listeners wanted beyond `backlog`, one per SYN the gate held or dropped for want of one
    /// and not yet accepted.
    extra: Cell<usize>,
    /// Tasks started.
    workers: Cell<usize>,
    /// Tasks holding no connection (listening, or waiting to).
    idle: Cell<usize>,
    /// Whether every task holds a connection, so that none listens.
    refusing: Cell<bool>,
    listening: Slots,
    serving: Slots,
}

impl<S: Service> Pool<S> {
    /// Starts tasks until `backlog` (plus `extra`) of them hold no connection, within the limits.
    fn top_up(&'static self) -> Result<(), Error> {
        let wanted = self.limits.backlog.saturating_add(self.extra.get());
        while self.idle.get() < wanted && self.workers.get() < self.limits.sockets() {
            morgana_rt::spawn(self.spawner, worker(self))?;
            self.workers.set(self.workers.get() + 1);
            self.idle.set(self.idle.get() + 1);
        }
        if self.idle.get() == 0 && !self.refusing.replace(true) {
            let (n, k) = (self.limits.max_connections, self.limits.backlog);
            let port = self.listener.port();
            log::warn!(
                "port {port}: {n} connections served and {k} waiting: further ones wait until one ends"
            );
        }
        Ok(())
    }
}

/// One task: listen (at most `backlog` at once), accept, wait for a slot, serve, close, again.
async fn worker<S: Service>(pool: &'static Pool<S>) {
    loop {
        pool.listening.take().await;
        // The host stack buffers in the host: no socket buffers for it.
        let (rx, tx) = match pool.gate {
            Some(_) => pool.buffers,
            None => (0, 0),
        };
        let mut buffers = SocketBuffers::new(rx, tx);
        if let Some(gate) = &pool.gate {
            // Its socket listens from the accept's first poll, before the stack runs again.
            gate.listens();
        }
        let accepted = pool.listener.accept(&mut buffers).await;
        match pool.extra.get() {
            // This listener was one wanted for a held or dropped SYN: its slot goes with it.
            0 => pool.listening.give(),
            n => pool.extra.set(n - 1),
        }
        pool.idle.set(pool.idle.get() - 1);
        if let Err(e) = pool.top_up() {
            log::warn!("port {}: cannot start a task: {e}", pool.listener.port());
        }
        match accepted {
            Ok(mut stream) => {
                pool.serving.take().await;
                // Boxed, so that a task holding no connection holds no service state.
                Box::pin(pool.service.serve(&mut stream)).await;
                pool.serving.give();
                stream.close_gracefully(CLOSE_TIMEOUT).await;
            }
            // A handshake that timed out, or a connection reset before it was served: the
            // client is gone, which is no fault of the server's.
            Err(SocketError::Reset) => {
                log::debug!(
                    "port {}: a connection ended before it was served",
                    pool.listener.port()
                )
            }
            Err(e) => log::warn!("port {}: accept failed: {e}", pool.listener.port()),
        }
        // The connection and its buffers are gone here (end of scope).
        pool.idle.set(pool.idle.get() + 1);
        pool.refusing.set(false);
    }
}

/// A counting semaphore for the tasks of one executor: waiters are woken one at a time, in
/// order. (embassy-sync's keeps one waker, so many waiters would wake each other in turn.)
struct Slots {
    free: Cell<usize>,
    /// The wakers of the tasks waiting in [`Slots::take`], each once.
    waiting: RefCell<VecDeque<Waker>>,
}

impl Slots {
    fn new(free: usize) -> Self {
        Slots {
            free: Cell::new(free),
            waiting: RefCell::new(VecDeque::new()),
        }
    }

    /// Takes a slot, waiting for one.
    fn take(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(|cx| {
            let mut waiting = self.waiting.borrow_mut();
            let queued = waiting.iter().position(|w| w.will_wake(cx.waker()));
            if self.free.get() > 0 {
                self.free.set(self.free.get() - 1);
                if let Some(i) = queued {
                    waiting.remove(i);
                }
                Poll::Ready(())
            } else {
                if queued.is_none() {
                    waiting.push_back(cx.waker().clone());
                }
                Poll::Pending
            }
        })
    }

    /// Gives a slot back and wakes the first waiter.
    fn give(&self) {
        self.free.set(self.free.get() + 1);
        if let Some(w) = self.waiting.borrow_mut().pop_front() {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limit_follows_the_heap() {
        assert_eq!(
            default_max_connections(None, 40_000),
            DEFAULT_MAX_CONNECTIONS
        );
        // 4 MiB free, 40 kB a connection: (4 MiB - 512 KiB) / (40 kB + a socket slot) - backlog.
        let each = 40_000 + BYTES_PER_SOCKET_SLOT;
        assert_eq!(
            default_max_connections(Some(4 << 20), 40_000),
            ((4 << 20) - HEAP_RESERVE) / each - DEFAULT_BACKLOG
        );
        assert_eq!(default_max_connections(Some(100_000), 40_000), 1);
        assert_eq!(
            default_max_connections(Some(1 << 40), 40_000),
            DEFAULT_MAX_CONNECTIONS
        );
    }

    #[test]
    fn limits_from_arguments() {
        let mut args = BootArgs::parse(["--max-connections=1000", "--backlog=4"]);
        let l = ConnectionLimits::from_args(&mut args, 1).unwrap();
        args.finish().unwrap();
        assert_eq!((l.max_connections, l.backlog, l.sockets()), (1000, 4, 1004));
        let mut args = BootArgs::parse(["--max-connections=3"]);
        let l = ConnectionLimits::from_args(&mut args, 1).unwrap();
        assert_eq!((l.max_connections, l.backlog), (3, 3));
        for bad in [
            "--max-connections=0",
            "--backlog=x",
            "--max-connections=2561",
        ] {
            let err = ConnectionLimits::from_args(&mut BootArgs::parse([bad]), 1).unwrap_err();
            assert_eq!(
                alloc::string::ToString::to_string(&err),
                alloc::format!(
                    "malformed boot argument {bad}: expected a whole number from 1 to 2560"
                )
            );
        }
    }
}
