//! The stack's configuration, from boot arguments with MirageOS's names.
//!
//! | argument                    | meaning                                                     |
//! |-----------------------------|-------------------------------------------------------------|
//! | `--ipv4=ADDR/PREFIX`        | static IPv4 address and prefix length; DHCPv4 when absent   |
//! | `--ipv4-gateway=ADDR`       | IPv4 default gateway (needs `--ipv4`, inside its subnet)    |
//! | `--ipv6=ADDR/PREFIX`        | static IPv6 address; SLAAC when absent                      |
//! | `--ipv6-gateway=ADDR`       | IPv6 default gateway (needs `--ipv6`)                       |
//! | `--ipv4-only`, `--ipv6-only`| turn the other protocol off                                 |
//! | `--dns=ADDR[,ADDR...]`      | up to three DNS servers (with a static address; DHCP brings its own) |
//!
//! IPv6 always has its link-local address (from the MAC) unless `--ipv4-only` is given.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use embassy_net::{
    ConfigV4, ConfigV6, DhcpConfig, IpAddress, Ipv4Cidr, Ipv6Cidr, StaticConfigV4, StaticConfigV6,
};
use morgana_rt::args::{ArgError, BootArgs};

/// Most DNS servers the stack uses.
pub const MAX_DNS_SERVERS: usize = 3;

/// How the stack gets its IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ipv4Mode {
    /// No IPv4.
    Off,
    /// DHCPv4.
    Dhcp,
    /// A fixed address.
    Static {
        /// Address and prefix length.
        address: Ipv4Cidr,
        /// Default gateway, inside `address`'s subnet.
        gateway: Option<Ipv4Addr>,
    },
}

/// How the stack gets its IPv6 address (beside the link-local one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ipv6Mode {
    /// No IPv6 at all, not even link-local.
    Off,
    /// The link-local address plus SLAAC from router advertisements.
    Slaac,
    /// The link-local address plus a fixed address.
    Static {
        /// Address and prefix length.
        address: Ipv6Cidr,
        /// Default gateway.
        gateway: Option<Ipv6Addr>,
    },
}

/// The stack's configuration; see the [module documentation](self) for the boot arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConfig {
    /// IPv4 addressing.
    pub ipv4: Ipv4Mode,
    /// IPv6 addressing.
    pub ipv6: Ipv6Mode,
    /// DNS servers given with `--dns` (DHCP leases bring their own).
    pub dns: heapless::Vec<IpAddr, MAX_DNS_SERVERS>,
    /// TCP sockets the direct stack must hold at once (listening, connected or closing); the
    /// stack reserves room for at least that many, plus its own DHCP and DNS sockets. Not a
    /// boot argument: a service sets it from its own connection limit.
    pub tcp_sockets: usize,
}

/// [`NetConfig::tcp_sockets`] unless a service asks for more.
pub const DEFAULT_TCP_SOCKETS: usize = 150;

impl NetConfig {
    /// A static IPv4 address with no gateway, SLAAC for IPv6, no DNS: what tests use.
    pub fn ipv4_static(address: Ipv4Cidr) -> Self {
        NetConfig {
            ipv4: Ipv4Mode::Static {
                address,
                gateway: None,
            },
            ipv6: Ipv6Mode::Slaac,
            dns: heapless::Vec::new(),
            tcp_sockets: DEFAULT_TCP_SOCKETS,
        }
    }

    /// Reads the network boot arguments (see the [module documentation](self)), leaving the
    /// others in `args`.
    pub fn from_args(args: &mut BootArgs<'_>) -> Result<Self, ConfigError> {
        let v4: Option<Cidr4> = args.optional("ipv4")?;
        let gw4: Option<Ipv4Addr> = args.optional("ipv4-gateway")?;
        let v6: Option<Cidr6> = args.optional("ipv6")?;
        let gw6: Option<Ipv6Addr> = args.optional("ipv6-gateway")?;
        let v4_only = args.flag("ipv4-only")?;
        let v6_only = args.flag("ipv6-only")?;
        let dns: Option<DnsList> = args.optional("dns")?;

        if v4_only && v6_only {
            return Err(ConfigError::Conflict(
                "--ipv4-only and --ipv6-only exclude each other",
            ));
        }
        let ipv4 = match (v4, gw4) {
            _ if v6_only && (v4.is_some() || gw4.is_some()) => {
                return Err(ConfigError::Conflict(
                    "--ipv6-only excludes --ipv4 and --ipv4-gateway",
                ));
            }
            _ if v6_only => Ipv4Mode::Off,
            (None, Some(_)) => {
                return Err(ConfigError::Conflict(
                    "--ipv4-gateway needs --ipv4 (with DHCP the lease brings the gateway)",
                ));
            }
            (None, None) => Ipv4Mode::Dhcp,
            (Some(Cidr4(address)), gateway) => {
                if let Some(gw) = gateway
                    && !address.contains_addr(&gw)
                {
                    return Err(ConfigError::GatewayOutsideSubnet(IpAddr::V4(gw)));
                }
                Ipv4Mode::Static { address, gateway }
            }
        };
        let ipv6 = match (v6, gw6) {
            _ if v4_only && (v6.is_some() || gw6.is_some()) => {
                return Err(ConfigError::Conflict(
                    "--ipv4-only excludes --ipv6 and --ipv6-gateway",
                ));
            }
            _ if v4_only => Ipv6Mode::Off,
            (None, Some(_)) => {
                return Err(ConfigError::Conflict("--ipv6-gateway needs --ipv6"));
            }
            (None, None) => Ipv6Mode::Slaac,
            (Some(Cidr6(address)), gateway) => Ipv6Mode::Static { address, gateway },
        };
        let dns = dns.map(|d| d.0).unwrap_or_default();
        let has_static =
            matches!(ipv4, Ipv4Mode::Static { .. }) || matches!(ipv6, Ipv6Mode::Static { .. });
        if !dns.is_empty() && !has_static {
            return Err(ConfigError::Conflict(
                "--dns needs --ipv4 or --ipv6 (with DHCP the lease brings the DNS servers)",
            ));
        }
        for server in &dns {
            let usable = match server {
                IpAddr::V4(_) => matches!(ipv4, Ipv4Mode::Static { .. }),
                IpAddr::V6(_) => matches!(ipv6, Ipv6Mode::Static { .. }),
            };
            if !usable {
                return Err(ConfigError::DnsFamily(*server));
            }
        }
        Ok(NetConfig {
            ipv4,
            ipv6,
            dns,
            tcp_sockets: DEFAULT_TCP_SOCKETS,
        })
    }

    /// The configuration in embassy-net's terms.
    pub(crate) fn to_embassy(&self) -> embassy_net::Config {
        let v4_dns = self.dns.iter().filter_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        });
        let v6_dns = self.dns.iter().filter_map(|a| match a {
            IpAddr::V6(a) => Some(*a),
            IpAddr::V4(_) => None,
        });
        let mut config = embassy_net::Config::default();
        config.ipv4 = match &self.ipv4 {
            Ipv4Mode::Off => ConfigV4::None,
            Ipv4Mode::Dhcp => ConfigV4::Dhcp(DhcpConfig::default()),
            Ipv4Mode::Static { address, gateway } => ConfigV4::Static(StaticConfigV4 {
                address: *address,
                gateway: *gateway,
                dns_servers: v4_dns.collect(),
            }),
        };
        config.ipv6 = match &self.ipv6 {
            Ipv6Mode::Off => ConfigV6::None,
            Ipv6Mode::Slaac => ConfigV6::Slaac,
            Ipv6Mode::Static { address, gateway } => ConfigV6::Static(StaticConfigV6 {
                address: *address,
                gateway: *gateway,
                dns_servers: v6_dns.collect(),
            }),
        };
        config
    }

    /// The DNS servers as the stack's address type.
    pub fn dns_servers(&self) -> impl Iterator<Item = IpAddress> + '_ {
        self.dns.iter().map(|a| IpAddress::from(*a))
    }
}

impl fmt::Display for NetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ipv4 {
            Ipv4Mode::Off => write!(f, "ipv4 off")?,
            Ipv4Mode::Dhcp => write!(f, "ipv4 dhcp")?,
            Ipv4Mode::Static { address, gateway } => {
                write!(f, "ipv4 {address}")?;
                if let Some(gw) = gateway {
                    write!(f, " via {gw}")?;
                }
            }
        }
        match &self.ipv6 {
            Ipv6Mode::Off => write!(f, ", ipv6 off")?,
            Ipv6Mode::Slaac => write!(f, ", ipv6 link-local+slaac")?,
            Ipv6Mode::Static { address, gateway } => {
                write!(f, ", ipv6 {address}")?;
                if let Some(gw) = gateway {
                    write!(f, " via {gw}")?;
                }
            }
        }
        for (i, d) in self.dns.iter().enumerate() {
            write!(f, "{}{d}", if i == 0 { ", dns " } else { "," })?;
        }
        Ok(())
    }
}

/// A network boot argument that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Malformed, repeated or missing value.
    #[error(transparent)]
    Arg(ArgError),
    /// Two arguments that do not go together.
    #[error("{0}")]
    Conflict(&'static str),
    /// The gateway is outside the address's subnet, so it could never be reached.
    #[error("gateway {0} is outside the address's subnet")]
    GatewayOutsideSubnet(IpAddr),
    /// A DNS server of a family that has no static address.
    #[error("DNS server {0} needs a static address of its family")]
    DnsFamily(IpAddr),
}

impl From<ArgError> for ConfigError {
    fn from(e: ArgError) -> Self {
        ConfigError::Arg(e)
    }
}

/// `ADDR/PREFIX` for IPv4.
#[derive(Debug, Clone, Copy)]
struct Cidr4(Ipv4Cidr);

/// `ADDR/PREFIX` for IPv6.
#[derive(Debug, Clone, Copy)]
struct Cidr6(Ipv6Cidr);

/// Why an `ADDR/PREFIX` or address list did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// No `/PREFIX`.
    #[error("expected ADDRESS/PREFIX, like {0}")]
    NoPrefix(&'static str),
    /// The address part did not parse.
    #[error("not an {0} address")]
    Address(&'static str),
    /// The prefix is not a number in range.
    #[error("the prefix length must be 0 to {0}")]
    Prefix(u8),
    /// More than [`MAX_DNS_SERVERS`] servers.
    #[error("at most {max} DNS servers", max = MAX_DNS_SERVERS)]
    TooMany,
}

fn split_cidr<'a>(s: &'a str, example: &'static str) -> Result<(&'a str, &'a str), AddressError> {
    s.split_once('/').ok_or(AddressError::NoPrefix(example))
}

fn prefix(s: &str, max: u8) -> Result<u8, AddressError> {
    match s.parse::<u8>() {
        Ok(p) if p <= max && !s.starts_with('+') => Ok(p),
        _ => Err(AddressError::Prefix(max)),
    }
}

impl FromStr for Cidr4 {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, AddressError> {
        let (addr, len) = split_cidr(s, "10.0.0.2/24")?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| AddressError::Address("IPv4"))?;
        Ok(Cidr4(Ipv4Cidr::new(addr, prefix(len, 32)?)))
    }
}

impl FromStr for Cidr6 {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, AddressError> {
        let (addr, len) = split_cidr(s, "fd00::2/64")?;
        let addr: Ipv6Addr = addr.parse().map_err(|_| AddressError::Address("IPv6"))?;
        Ok(Cidr6(Ipv6Cidr::new(addr, prefix(len, 128)?)))
    }
}

/// `ADDR[,ADDR...]`.
#[derive(Debug, Clone)]
struct DnsList(heapless::Vec<IpAddr, MAX_DNS_SERVERS>);

impl FromStr for DnsList {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, AddressError> {
        let mut list = heapless::Vec::new();
        for part in s.split(',') {
            let a: IpAddr = part.parse().map_err(|_| AddressError::Address("IP"))?;
            list.push(a).map_err(|_| AddressError::TooMany)?;
        }
        Ok(DnsList(list))
    }
}

#[cfg(test)]
mod tests;
