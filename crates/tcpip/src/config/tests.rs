extern crate std;

use super::*;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

fn parse(args: &[&str]) -> Result<NetConfig, String> {
    let mut p = BootArgs::parse(args.iter().copied());
    let config = NetConfig::from_args(&mut p).map_err(|e| e.to_string())?;
    p.finish().map_err(|e| e.to_string())?;
    Ok(config)
}

#[test]
fn defaults_are_dhcp_and_slaac() {
    let c = parse(&[]).unwrap();
    assert_eq!((c.ipv4, c.ipv6), (Ipv4Mode::Dhcp, Ipv6Mode::Slaac));
    assert!(c.dns.is_empty());
}

#[test]
fn static_addresses_gateways_and_dns() {
    let c = parse(&[
        "--ipv4=10.0.0.2/24",
        "--ipv4-gateway=10.0.0.1",
        "--ipv6=fd00::2/64",
        "--ipv6-gateway=fd00::1",
        "--dns=10.0.0.53,fd00::53",
    ])
    .unwrap();
    assert_eq!(
        c.ipv4,
        Ipv4Mode::Static {
            address: Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 2), 24),
            gateway: Some(Ipv4Addr::new(10, 0, 0, 1)),
        }
    );
    assert!(matches!(
        c.ipv6,
        Ipv6Mode::Static {
            gateway: Some(_),
            ..
        }
    ));
    assert_eq!(c.dns.len(), 2);
    assert_eq!(
        c.to_string(),
        "ipv4 10.0.0.2/24 via 10.0.0.1, ipv6 fd00::2/64 via fd00::1, dns 10.0.0.53,fd00::53"
    );
    let c = parse(&["--ipv4=192.168.1.9/32", "--ipv4-only"]).unwrap();
    assert_eq!(c.ipv6, Ipv6Mode::Off);
    assert_eq!(c.to_string(), "ipv4 192.168.1.9/32, ipv6 off");
    let c = parse(&["--ipv6-only"]).unwrap();
    assert_eq!((c.ipv4, c.ipv6), (Ipv4Mode::Off, Ipv6Mode::Slaac));
}

#[test]
fn bad_values_are_named() {
    let cases: Vec<(&[&str], &str)> = alloc::vec![
        (
            &["--ipv4=10.0.0.300/24"],
            "malformed boot argument --ipv4=10.0.0.300/24: not an IPv4 address",
        ),
        (
            &["--ipv4=10.0.0.2"],
            "malformed boot argument --ipv4=10.0.0.2: expected ADDRESS/PREFIX, like 10.0.0.2/24",
        ),
        (
            &["--ipv4=10.0.0.2/33"],
            "malformed boot argument --ipv4=10.0.0.2/33: the prefix length must be 0 to 32",
        ),
        (
            &["--ipv4=10.0.0.2/x"],
            "malformed boot argument --ipv4=10.0.0.2/x: the prefix length must be 0 to 32",
        ),
        (
            &["--ipv4=10.0.0.2/24", "--ipv4-gateway=x"],
            "malformed boot argument --ipv4-gateway=x: invalid IPv4 address syntax",
        ),
        (
            &["--ipv4=10.0.0.2/24", "--ipv4-gateway=10.0.1.1"],
            "gateway 10.0.1.1 is outside the address's subnet",
        ),
        (
            &["--ipv4-gateway=10.0.0.1"],
            "--ipv4-gateway needs --ipv4 (with DHCP the lease brings the gateway)",
        ),
        (
            &["--ipv6=fd00::2/129"],
            "malformed boot argument --ipv6=fd00::2/129: the prefix length must be 0 to 128",
        ),
        (
            &["--ipv6=10.0.0.2/24"],
            "malformed boot argument --ipv6=10.0.0.2/24: not an IPv6 address",
        ),
        (
            &["--ipv4-only", "--ipv6-only"],
            "--ipv4-only and --ipv6-only exclude each other",
        ),
        (
            &["--ipv4-only", "--ipv6=fd00::1/64"],
            "--ipv4-only excludes --ipv6 and --ipv6-gateway",
        ),
        (
            &["--dns=10.0.0.53"],
            "--dns needs --ipv4 or --ipv6 (with DHCP the lease brings the DNS servers)",
        ),
        (
            &["--ipv4=10.0.0.2/24", "--dns=fd00::53"],
            "DNS server fd00::53 needs a static address of its family",
        ),
        (
            &[
                "--ipv4=10.0.0.2/24",
                "--dns=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4"
            ],
            "malformed boot argument --dns=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4: at most 3 DNS servers",
        ),
        (
            &["--ipv4=10.0.0.2/24", "--ipv4=10.0.0.3/24"],
            "boot argument --ipv4 given more than once",
        ),
        (
            &["--ipv4"],
            "malformed boot argument --ipv4=: a value is required"
        ),
    ];
    for (args, want) in cases {
        assert_eq!(parse(args).unwrap_err(), want, "{args:?}");
    }
}
