//! Arbitrary Ethernet frames into the network stack through an in-memory device.
//!
//! The input is a sequence of records `[len_hi, len_lo, flags, bytes...]`: each record becomes
//! one frame whose destination is the stack's MAC (flags bit 0 clear) or broadcast, whose
//! source is the injecting port, and whose EtherType and payload are the record's bytes. The
//! stack has an IPv4 and a link-local IPv6 address, a TCP socket listening on port 80 and a UDP
//! socket on port 53; after each frame the stack and the sockets are polled. A panic, an
//! overflow or an out-of-bounds access is a finding.
#![no_main]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Waker};

use embassy_net::tcp::TcpSocket;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{Config, ConfigV6, Ipv4Address, Ipv4Cidr, StackResources, StaticConfigV4};
use libfuzzer_sys::fuzz_target;
use morgana_net::{MacAddress, NetDevice};
use morgana_tcpip::DeviceDriver;
use morgana_vnet::Switch;

const STACK_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 2]);
const PEER_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 1]);

fuzz_target!(|data: &[u8]| {
    let switch = Switch::new();
    let port = switch.port(STACK_MAC);
    let mut peer = switch.port(PEER_MAC);

    let mut config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::new(10, 0, 0, 2), 24),
        gateway: Some(Ipv4Address::new(10, 0, 0, 1)),
        dns_servers: Default::default(),
    });
    config.ipv6 = ConfigV6::Slaac;
    let mut resources = StackResources::<6>::new();
    let (stack, mut runner) = embassy_net::new(DeviceDriver::new(port), config, &mut resources, 7);

    let (mut trx, mut ttx) = ([0u8; 2048], [0u8; 2048]);
    let mut tcp = TcpSocket::new(stack, &mut trx, &mut ttx);
    let (mut urx_meta, mut utx_meta) = ([PacketMetadata::EMPTY; 4], [PacketMetadata::EMPTY; 4]);
    let (mut urx, mut utx) = ([0u8; 1024], [0u8; 1024]);
    let mut udp = UdpSocket::new(stack, &mut urx_meta, &mut urx, &mut utx_meta, &mut utx);
    if udp.bind(53).is_err() {
        return;
    }

    let mut cx = Context::from_waker(Waker::noop());
    let mut run = pin!(runner.run());
    let _ = run.as_mut().poll(&mut cx);
    {
        let mut accept = pin!(tcp.accept(80));
        let _ = accept.as_mut().poll(&mut cx);
    }

    let max = peer.max_frame_len();
    let mut rest = data;
    let mut buf = [0u8; 2048];
    while rest.len() >= 3 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let flags = rest[2];
        let body = &rest[3..rest.len().min(3 + len)];
        rest = &rest[3 + body.len()..];
        let dst = if flags & 1 == 0 { STACK_MAC } else { MacAddress::BROADCAST };
        let mut frame = Vec::with_capacity(12 + body.len());
        frame.extend_from_slice(&dst.0);
        frame.extend_from_slice(&PEER_MAC.0);
        frame.extend_from_slice(body);
        frame.truncate(max);
        if frame.len() < 14 {
            frame.resize(14, 0);
        }
        let _ = peer.poll_transmit(&mut cx, &frame);
        let _ = run.as_mut().poll(&mut cx);
        // Drain what the stack answered, and let the sockets consume what they received.
        while let core::task::Poll::Ready(Ok(_)) = peer.poll_receive(&mut cx, &mut buf) {}
        let _ = pin!(tcp.read(&mut buf)).poll(&mut cx);
        let _ = pin!(udp.recv_from(&mut buf)).poll(&mut cx);
    }
    let _ = run.as_mut().poll(&mut cx);
});
