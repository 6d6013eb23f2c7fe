//! Morgana's TCP/IP stack: [embassy-net] (smoltcp underneath) over the [`NetDevice`] interface.
//!
//! The stack is generic over the device, so the same code runs over a tap device (unix), a Solo5
//! hvt net device, or an in-memory [switch port] in tests. Its configuration comes from boot
//! arguments with MirageOS's names (see [`config`]): `--ipv4=ADDR/PREFIX`,
//! `--ipv4-gateway=ADDR`, DHCPv4 when no `--ipv4` is given, `--dns=ADDR`, and IPv6 link-local
//! plus SLAAC (or `--ipv6=ADDR/PREFIX`).
//!
//! On the unix backend a net device bound with `--net:NAME=socket` stands for the host's own
//! TCP/IP instead: [`Stack::new`] given such a device serves TCP from host sockets (no TAP, no
//! root), listening on 127.0.0.1 unless `--ipv4=ADDR/PREFIX` names another host address
//! (`0.0.0.0/0` for all of them). Services written against the [`socket`] API ([`Stack::listen`],
//! [`Stack::connect`], [`socket::TcpStream`]) run unchanged on either stack.
//!
//! ```ignore
//! let mut args = morgana::BootArgs::from_boot();
//! let net = morgana::net::acquire(SERVICE)?;
//! let stack = morgana_tcpip::Stack::from_args(net, &mut args, spawner, seed)?;
//! args.finish()?;
//! stack.wait_up(Duration::from_secs(10)).await?;
//! let listener = stack.listen(7)?;
//! let mut buffers = morgana_tcpip::socket::SocketBuffers::new(4096, 4096);
//! let mut conn = listener.accept(&mut buffers).await?;
//! ```
//!
//! [`socket::TcpStream`] speaks [`embedded_io_async`] (re-exported), so no_std HTTP and TLS
//! crates plug in unchanged. On the direct stack, embassy-net's own sockets ([`tcp`], [`udp`],
//! [`icmp`]) are there too through [`Stack::net`]. ICMP echo requests are answered by the
//! stack itself. Names are resolved with [`Stack::resolve`] (embassy-net's DNS socket, or the
//! host's resolver on the host stack).
//!
//! [embassy-net]: https://docs.rs/embassy-net
//! [switch port]: https://docs.rs/morgana-vnet
#![forbid(unsafe_code)]
#![no_std]

extern crate alloc;
// The host stack's errors are the host's (`std::io::Error`).
#[cfg(morgana_hosted)]
extern crate std;

pub mod config;
pub mod driver;
mod gate;
pub mod serve;
pub mod socket;

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::fmt;

pub use config::{ConfigError, DEFAULT_TCP_SOCKETS, Ipv4Mode, Ipv6Mode, NetConfig};
pub use driver::DeviceDriver;
pub use embassy_net::{
    IpAddress, IpEndpoint, IpListenEndpoint, Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr, dns,
    icmp, tcp, udp,
};
pub use embedded_io_async;
use gate::SynGate;
pub use serve::{ConnectionLimits, Service};
pub use socket::{
    BULK_BUFFER_SIZE, HANDSHAKE_TIMEOUT, SocketBuffers, SocketError, TcpListener, TcpStream,
};

use embassy_executor::{SpawnError, Spawner};
use embassy_net::StackResources;
use embassy_time::{Duration, with_timeout};
use morgana_net::NetDevice;
use morgana_rt::args::BootArgs;
use morgana_rt::spawn;

/// Most sockets the direct stack can hold at once, DHCP and DNS included.
pub const MAX_SOCKETS: usize = 2560;

/// Sockets the stack keeps for itself (DHCP, DNS) beside [`NetConfig::tcp_sockets`].
const OWN_SOCKETS: usize = 4;

/// Bytes each socket the direct stack can hold takes, used or not (smoltcp's socket storage).
pub const BYTES_PER_SOCKET_SLOT: usize =
    core::mem::size_of::<smoltcp::iface::SocketStorage<'static>>();

/// Starts embassy-net with room for `SOCK` sockets, the room taken from the heap.
///
/// Never inlined: the temporary socket table below lives in this function's own frame, so only
/// the size actually chosen takes stack. Inlined into its caller (as LTO does), the frames of
/// every size would add up there and need 1.3 MB of stack even for the smallest table.
#[inline(never)]
fn start<const SOCK: usize, D: NetDevice + 'static>(
    device: D,
    config: &NetConfig,
    spawner: Spawner,
    seed: u64,
    gate: Rc<SynGate>,
) -> Result<embassy_net::Stack<'static>, Error> {
    // `StackResources` is uninitialised memory until embassy-net fills it, but embassy-net
    // fills the socket table through a temporary on the stack: the largest (`MAX_SOCKETS`) is
    // ~1.3 MB, which every backend's stack must hold (Xen's boot stack is sized for it).
    let resources: &'static mut StackResources<SOCK> = Box::leak(Box::new(StackResources::new()));
    let (net, mut runner) = embassy_net::new(
        DeviceDriver::new(device).with_syn_gate(gate),
        config.to_embassy(),
        resources,
        seed,
    );
    spawn(spawner, async move { runner.run().await })?;
    Ok(net)
}

/// A running network stack: a handle to embassy-net's stack plus the configuration it was given.
///
/// Cheap to clone. The stack's runner runs as its own executor task from [`Stack::new`] on.
#[derive(Clone)]
pub struct Stack {
    inner: Inner,
    config: NetConfig,
}

/// Which TCP/IP serves the sockets.
#[derive(Clone)]
enum Inner {
    /// embassy-net over a net device, and its listen backlog.
    Direct(embassy_net::Stack<'static>, Rc<SynGate>),
    /// The host's own TCP/IP (unix backend, `--net:NAME=socket`).
    #[cfg(morgana_hosted)]
    Host(HostStack),
}

/// The host stack's settings.
#[cfg(morgana_hosted)]
#[derive(Clone, Debug)]
struct HostStack {
    /// The host address listeners bind to.
    listen_ip: core::net::IpAddr,
}

impl fmt::Debug for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stack")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Why a stack could not start or a name could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A network boot argument is malformed or conflicts with another.
    #[error(transparent)]
    Config(ConfigError),
    /// The executor refused the runner task.
    #[error("cannot start the network stack's task")]
    Spawn,
    /// No address was configured in time (DHCP got no lease, SLAAC no advertisement).
    #[error("the network got no address in time")]
    NoAddress,
    /// `resolve` found no DNS server configured.
    #[error("no DNS server is configured (use --dns=ADDR)")]
    NoDnsServer,
    /// The DNS query failed or returned no address.
    #[error("DNS lookup failed: {0:?}")]
    Dns(dns::Error),
    /// The name is not a valid host name.
    #[error("not a valid host name")]
    BadName,
    /// A service asked for more sockets than the direct stack can hold.
    #[error("{wanted} sockets asked for, the stack holds at most {MAX_SOCKETS}")]
    TooManySockets {
        /// Sockets asked for, the stack's own included.
        wanted: usize,
    },
    /// A TCP port could not be listened on.
    #[error("cannot listen on TCP port {port}: {reason}")]
    Listen {
        /// The port.
        port: u16,
        /// Why not, in the host's or the stack's words.
        reason: alloc::string::String,
    },
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<SpawnError> for Error {
    fn from(_: SpawnError) -> Self {
        Error::Spawn
    }
}

impl Stack {
    /// Starts a stack over `device` with `config`; spawns its runner on `spawner`.
    ///
    /// `seed` seeds TCP initial sequence numbers and local ports: pass a random value.
    pub fn new<D>(device: D, config: NetConfig, spawner: Spawner, seed: u64) -> Result<Self, Error>
    where
        D: NetDevice + 'static,
    {
        #[cfg(morgana_hosted)]
        if device.is_host_stack() {
            return Ok(Stack::host(config));
        }
        // The socket table has a size fixed at compile time: take the smallest that fits, so
        // that a small service keeps a small table.
        let gate = Rc::new(SynGate::default());
        let net = match config.tcp_sockets.saturating_add(OWN_SOCKETS) {
            ..=160 => start::<160, D>(device, &config, spawner, seed, gate.clone())?,
            161..=320 => start::<320, D>(device, &config, spawner, seed, gate.clone())?,
            321..=640 => start::<640, D>(device, &config, spawner, seed, gate.clone())?,
            641..=1280 => start::<1280, D>(device, &config, spawner, seed, gate.clone())?,
            1281..=MAX_SOCKETS => {
                start::<MAX_SOCKETS, D>(device, &config, spawner, seed, gate.clone())?
            }
            wanted => return Err(Error::TooManySockets { wanted }),
        };
        Ok(Stack {
            inner: Inner::Direct(net, gate),
            config,
        })
    }

    /// The host's own TCP/IP, listening on `config`'s static address, else on loopback.
    #[cfg(morgana_hosted)]
    fn host(config: NetConfig) -> Self {
        use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        let listen_ip = match (&config.ipv4, &config.ipv6) {
            (Ipv4Mode::Static { address, .. }, _) => IpAddr::V4(address.address()),
            (Ipv4Mode::Off, Ipv6Mode::Static { address, .. }) => IpAddr::V6(address.address()),
            (Ipv4Mode::Off, _) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            (Ipv4Mode::Dhcp, _) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        Stack {
            inner: Inner::Host(HostStack { listen_ip }),
            config,
        }
    }

    /// The listen backlog's gate of `port` on the direct stack.
    pub(crate) fn syn_gate(&self, port: u16) -> Option<Rc<gate::PortGate>> {
        match &self.inner {
            Inner::Direct(_, gate) => Some(gate.port(port)),
            #[cfg(morgana_hosted)]
            Inner::Host(_) => None,
        }
    }

    /// True when the sockets are the host's (`--net:NAME=socket` on the unix backend).
    pub fn is_host(&self) -> bool {
        !matches!(self.inner, Inner::Direct(..))
    }

    /// Reads the network boot arguments from `args` (see [`config`]) and starts a stack.
    pub fn from_args<D>(
        device: D,
        args: &mut BootArgs<'_>,
        spawner: Spawner,
        seed: u64,
    ) -> Result<Self, Error>
    where
        D: NetDevice + 'static,
    {
        let config = NetConfig::from_args(args)?;
        Stack::new(device, config, spawner, seed)
    }

    /// [`Stack::from_args`] for a service that holds up to `tcp_sockets` TCP sockets at once
    /// (see [`NetConfig::tcp_sockets`]; a server's is [`ConnectionLimits::sockets`]).
    pub fn from_args_with_tcp_sockets<D>(
        device: D,
        args: &mut BootArgs<'_>,
        spawner: Spawner,
        seed: u64,
        tcp_sockets: usize,
    ) -> Result<Self, Error>
    where
        D: NetDevice + 'static,
    {
        let mut config = NetConfig::from_args(args)?;
        config.tcp_sockets = config.tcp_sockets.max(tcp_sockets);
        Stack::new(device, config, spawner, seed)
    }

    /// embassy-net's stack handle, for its own sockets (UDP, ICMP, raw TCP); `None` on the
    /// host's TCP/IP, which has only the [`socket`] API.
    pub fn net(&self) -> Option<embassy_net::Stack<'static>> {
        match &self.inner {
            Inner::Direct(net, _) => Some(*net),
            #[cfg(morgana_hosted)]
            Inner::Host(_) => None,
        }
    }

    /// The configuration the stack was started with.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// The current IPv4 address (static or from DHCP), if any; on the host stack, the address
    /// listeners bind to.
    pub fn ipv4(&self) -> Option<Ipv4Cidr> {
        match &self.inner {
            Inner::Direct(net, _) => net.config_v4().map(|c| c.address),
            #[cfg(morgana_hosted)]
            Inner::Host(host) => match host.listen_ip {
                core::net::IpAddr::V4(ip) => Some(match &self.config.ipv4 {
                    Ipv4Mode::Static { address, .. } => *address,
                    _ => Ipv4Cidr::new(ip, 8),
                }),
                core::net::IpAddr::V6(_) => None,
            },
        }
    }

    /// Waits until the stack has an address (at once for a static one or the host's stack),
    /// at most `timeout`.
    pub async fn wait_up(&self, timeout: Duration) -> Result<(), Error> {
        match &self.inner {
            Inner::Direct(net, _) => with_timeout(timeout, net.wait_config_up())
                .await
                .map_err(|_| Error::NoAddress),
            #[cfg(morgana_hosted)]
            Inner::Host(_) => Ok(()),
        }
    }

    /// The address of `host`: an IPv4 or IPv6 literal as is, otherwise an `A` lookup through
    /// the configured DNS servers.
    pub async fn resolve(&self, host: &str) -> Result<IpAddress, Error> {
        if let Ok(ip) = host.parse::<core::net::IpAddr>() {
            return Ok(ip.into());
        }
        if host.is_empty() || host.len() > 253 {
            return Err(Error::BadName);
        }
        let net = match &self.inner {
            Inner::Direct(net, _) => net,
            #[cfg(morgana_hosted)]
            Inner::Host(_) => {
                return morgana_backend_unix::sockets::resolve(host)
                    .map(IpAddress::from)
                    .map_err(|_| Error::Dns(dns::Error::Failed));
            }
        };
        let has_dns = net.config_v4().is_some_and(|c| !c.dns_servers.is_empty())
            || net.config_v6().is_some_and(|c| !c.dns_servers.is_empty());
        if !has_dns {
            return Err(Error::NoDnsServer);
        }
        let addrs = net
            .dns_query(host, dns::DnsQueryType::A)
            .await
            .map_err(Error::Dns)?;
        addrs.first().copied().ok_or(Error::Dns(dns::Error::Failed))
    }
}
