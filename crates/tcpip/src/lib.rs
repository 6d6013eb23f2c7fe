//! Morgana's TCP/IP stack: [embassy-net] (smoltcp underneath) over the [`NetDevice`] interface.
//!
//! The stack is generic over the device, so the same code runs over a tap device (unix), a Solo5
//! hvt net device, or an in-memory [switch port] in tests. Its configuration comes from boot
//! arguments with MirageOS's names (see [`config`]): `--ipv4=ADDR/PREFIX`,
//! `--ipv4-gateway=ADDR`, DHCPv4 when no `--ipv4` is given, `--dns=ADDR`, and IPv6 link-local
//! plus SLAAC (or `--ipv6=ADDR/PREFIX`).
//!
//! ```ignore
//! let mut args = morgana::BootArgs::from_boot();
//! let net = morgana::net::acquire(SERVICE)?;
//! let stack = morgana_tcpip::Stack::from_args(net, &mut args, spawner, seed)?;
//! args.finish()?;
//! stack.wait_up(Duration::from_secs(10)).await?;
//! let mut socket = morgana_tcpip::tcp::TcpSocket::new(stack.net(), &mut rx, &mut tx);
//! ```
//!
//! Sockets are embassy-net's: [`tcp::TcpSocket`] and [`udp::UdpSocket`] speak
//! [`embedded_io_async`] (re-exported), so no_std HTTP, DNS and TLS crates plug in unchanged.
//! ICMP echo requests are answered by the stack itself. Names are resolved with
//! [`Stack::resolve`] (embassy-net's DNS socket).
//!
//! [embassy-net]: https://docs.rs/embassy-net
//! [switch port]: https://docs.rs/morgana-vnet
#![forbid(unsafe_code)]
#![no_std]

extern crate alloc;

pub mod config;
pub mod driver;

use alloc::boxed::Box;
use core::fmt;

pub use config::{ConfigError, Ipv4Mode, Ipv6Mode, NetConfig};
pub use driver::DeviceDriver;
pub use embassy_net::{
    IpAddress, IpEndpoint, IpListenEndpoint, Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr, dns,
    icmp, tcp, udp,
};
pub use embedded_io_async;

use embassy_executor::{SpawnError, Spawner};
use embassy_net::StackResources;
use embassy_time::{Duration, with_timeout};
use morgana_net::NetDevice;
use morgana_rt::args::BootArgs;
use morgana_rt::spawn;

/// Sockets the stack can hold at once, DHCP and DNS included.
pub const MAX_SOCKETS: usize = 160;

/// A running network stack: a handle to embassy-net's stack plus the configuration it was given.
///
/// Cheap to clone. The stack's runner runs as its own executor task from [`Stack::new`] on.
#[derive(Clone)]
pub struct Stack {
    net: embassy_net::Stack<'static>,
    config: NetConfig,
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
        let resources: &'static mut StackResources<MAX_SOCKETS> =
            Box::leak(Box::new(StackResources::new()));
        let (net, mut runner) = embassy_net::new(
            DeviceDriver::new(device),
            config.to_embassy(),
            resources,
            seed,
        );
        spawn(spawner, async move { runner.run().await })?;
        Ok(Stack { net, config })
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

    /// embassy-net's stack handle, to create sockets with.
    pub fn net(&self) -> embassy_net::Stack<'static> {
        self.net
    }

    /// The configuration the stack was started with.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// The current IPv4 address (static or from DHCP), if any.
    pub fn ipv4(&self) -> Option<Ipv4Cidr> {
        self.net.config_v4().map(|c| c.address)
    }

    /// Waits until the stack has an address (at once for a static one), at most `timeout`.
    pub async fn wait_up(&self, timeout: Duration) -> Result<(), Error> {
        with_timeout(timeout, self.net.wait_config_up())
            .await
            .map_err(|_| Error::NoAddress)
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
        let has_dns = self
            .net
            .config_v4()
            .is_some_and(|c| !c.dns_servers.is_empty())
            || self
                .net
                .config_v6()
                .is_some_and(|c| !c.dns_servers.is_empty());
        if !has_dns {
            return Err(Error::NoDnsServer);
        }
        let addrs = self
            .net
            .dns_query(host, dns::DnsQueryType::A)
            .await
            .map_err(Error::Dns)?;
        addrs.first().copied().ok_or(Error::Dns(dns::Error::Failed))
    }
}
