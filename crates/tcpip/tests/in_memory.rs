//! Two stacks joined by the in-memory switch: ICMP echo is answered by the stack itself, UDP
//! datagrams cross both ways, and names resolve or fail with the right error.

use embassy_futures::join::join;
use morgana::net::MacAddress;
use morgana::time::{Duration, with_timeout};
use morgana_tcpip::icmp::{
    ChecksumCapabilities, IcmpEndpoint, IcmpSocket, Icmpv4Packet, Icmpv4Repr, PacketMetadata,
};
use morgana_tcpip::udp::{self, UdpSocket};
use morgana_tcpip::{Error, Ipv4Address, Ipv4Cidr, NetConfig, Stack};
use morgana_vnet::Switch;

const A: Ipv4Address = Ipv4Address::new(10, 9, 0, 1);
const B: Ipv4Address = Ipv4Address::new(10, 9, 0, 2);

fn two_stacks(spawner: morgana::Spawner) -> (Stack, Stack) {
    let switch = Switch::new();
    let a = switch.port(MacAddress([2, 0, 0, 0, 9, 1]));
    let b = switch.port(MacAddress([2, 0, 0, 0, 9, 2]));
    let a = Stack::new(a, NetConfig::ipv4_static(Ipv4Cidr::new(A, 24)), spawner, 1).unwrap();
    let b = Stack::new(b, NetConfig::ipv4_static(Ipv4Cidr::new(B, 24)), spawner, 2).unwrap();
    (a, b)
}

#[test]
fn icmp_echo_requests_are_answered_by_the_stack() {
    let reply = morgana::block_on(|spawner| async move {
        let (a, _b) = two_stacks(spawner);
        let (mut rx_meta, mut tx_meta) = ([PacketMetadata::EMPTY; 4], [PacketMetadata::EMPTY; 4]);
        let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
        let mut socket = IcmpSocket::new(
            a.net().unwrap(),
            &mut rx_meta,
            &mut rx,
            &mut tx_meta,
            &mut tx,
        );
        socket.bind(IcmpEndpoint::Ident(0x4d4f)).unwrap();
        let request = Icmpv4Repr::EchoRequest {
            ident: 0x4d4f,
            seq_no: 7,
            data: b"morgana ping",
        };
        let mut buf = [0u8; 64];
        let mut packet = Icmpv4Packet::new_unchecked(&mut buf[..request.buffer_len()]);
        request.emit(&mut packet, &ChecksumCapabilities::default());
        socket
            .send_to(packet.into_inner(), morgana_tcpip::IpAddress::Ipv4(B))
            .await
            .unwrap();
        let mut got = [0u8; 64];
        let (n, from) = with_timeout(Duration::from_secs(5), socket.recv_from(&mut got))
            .await
            .expect("no echo reply within 5 s")
            .unwrap();
        let packet = Icmpv4Packet::new_checked(&got[..n]).unwrap();
        let repr = Icmpv4Repr::parse(&packet, &ChecksumCapabilities::default()).unwrap();
        assert_eq!(from, morgana_tcpip::IpAddress::Ipv4(B));
        format!("{repr:?}")
    });
    assert_eq!(
        reply,
        format!(
            "{:?}",
            Icmpv4Repr::EchoReply {
                ident: 0x4d4f,
                seq_no: 7,
                data: b"morgana ping"
            }
        )
    );
}

#[test]
fn udp_datagrams_cross_both_ways() {
    let (at_b, at_a) = morgana::block_on(|spawner| async move {
        let (a, b) = two_stacks(spawner);
        let mut bufs = [[0u8; 512]; 4];
        let [b0, b1, b2, b3] = &mut bufs;
        let (mut m0, mut m1, mut m2, mut m3) = (
            [udp::PacketMetadata::EMPTY; 4],
            [udp::PacketMetadata::EMPTY; 4],
            [udp::PacketMetadata::EMPTY; 4],
            [udp::PacketMetadata::EMPTY; 4],
        );
        let mut sa = UdpSocket::new(a.net().unwrap(), &mut m0, b0, &mut m1, b1);
        let mut sb = UdpSocket::new(b.net().unwrap(), &mut m2, b2, &mut m3, b3);
        sa.bind(4000).unwrap();
        sb.bind(5000).unwrap();
        let server = async {
            let mut buf = [0u8; 64];
            let (n, meta) = sb.recv_from(&mut buf).await.unwrap();
            let got = buf[..n].to_vec();
            sb.send_to(b"pong", meta.endpoint).await.unwrap();
            got
        };
        let client = async {
            sa.send_to(b"ping", (B, 5000)).await.unwrap();
            let mut buf = [0u8; 64];
            let (n, meta) = sa.recv_from(&mut buf).await.unwrap();
            assert_eq!(meta.endpoint.port, 5000);
            buf[..n].to_vec()
        };
        with_timeout(Duration::from_secs(5), join(server, client))
            .await
            .expect("UDP exchange took over 5 s")
    });
    assert_eq!((&at_b[..], &at_a[..]), (&b"ping"[..], &b"pong"[..]));
}

#[test]
fn literals_resolve_and_names_need_a_dns_server() {
    let (lit, v6, name) = morgana::block_on(|spawner| async move {
        let (a, _b) = two_stacks(spawner);
        (
            a.resolve("10.9.0.2").await,
            a.resolve("fd00::1").await,
            a.resolve("example.org").await,
        )
    });
    assert_eq!(lit, Ok(morgana_tcpip::IpAddress::Ipv4(B)));
    assert_eq!(v6.unwrap().to_string(), "fd00::1");
    assert_eq!(name, Err(Error::NoDnsServer));
    assert_eq!(
        Error::NoDnsServer.to_string(),
        "no DNS server is configured (use --dns=ADDR)"
    );
}
