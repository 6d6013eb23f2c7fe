//! A listen backlog for the direct stack: connection requests no socket can take are dropped,
//! not refused.
//!
//! smoltcp answers a SYN to a port where no socket listens with an RST, so a burst of
//! connections larger than the sockets listening, or one beyond a server's limit, would be
//! reset. For a port a [`serve`](crate::serve) pool listens on, the driver asks the
//! [`SynGate`] about each incoming SYN: while a socket of the port is listening the SYN goes
//! through (and takes that socket), otherwise it is dropped, counted, and the pool is woken to
//! start more listeners. The client sends its SYN again (after 1 s, then 2 s, ... on Linux),
//! as when a host's accept queue is full, and a listener takes it then.
//!
//! A SYN sent again for a connection already admitted (its SYN-ACK was late or lost, as with
//! the first connection while the stack resolves the peer's address) reaches the socket that
//! took the first one: it is let through without taking another, so the count stays true.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::task::{Context, Poll, Waker};

use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket,
};

/// The gated ports of one stack.
#[derive(Debug, Default)]
pub(crate) struct SynGate {
    ports: RefCell<Vec<(u16, Rc<PortGate>)>>,
    /// The connections of the last [`REMEMBERED`] SYNs admitted, oldest first.
    admitted: RefCell<VecDeque<Syn>>,
}

/// How many admitted SYNs are remembered to recognise one sent again.
const REMEMBERED: usize = 256;

/// A connection request: source address, source port, destination port, and its initial
/// sequence number (the same in a SYN sent again, another in a new connection from the port).
type Syn = ([u8; 16], u16, u16, u32);

/// One gated port: how many of its sockets listen, and the SYNs dropped since last asked.
#[derive(Debug, Default)]
pub(crate) struct PortGate {
    listening: Cell<usize>,
    dropped: Cell<usize>,
    waker: RefCell<Option<Waker>>,
}

impl SynGate {
    /// Gates `port` (again: the same gate).
    pub(crate) fn port(&self, port: u16) -> Rc<PortGate> {
        let mut ports = self.ports.borrow_mut();
        if let Some((_, gate)) = ports.iter().find(|(p, _)| *p == port) {
            return gate.clone();
        }
        let gate = Rc::new(PortGate::default());
        ports.push((port, gate.clone()));
        gate
    }

    /// Whether the stack may see `frame`: false for a SYN to a gated port none of whose
    /// sockets listens.
    pub(crate) fn admit(&self, frame: &[u8]) -> bool {
        let Some(syn) = syn_of(frame) else {
            return true;
        };
        let ports = self.ports.borrow();
        let Some((_, gate)) = ports.iter().find(|(p, _)| *p == syn.2) else {
            return true;
        };
        let mut admitted = self.admitted.borrow_mut();
        if admitted.contains(&syn) {
            return true;
        }
        match gate.listening.get() {
            0 => {
                gate.dropped.set(gate.dropped.get() + 1);
                if let Some(w) = gate.waker.borrow_mut().take() {
                    w.wake();
                }
                false
            }
            n => {
                gate.listening.set(n - 1);
                if admitted.len() == REMEMBERED {
                    admitted.pop_front();
                }
                admitted.push_back(syn);
                true
            }
        }
    }
}

impl PortGate {
    /// A socket of the port starts listening (call right before it does).
    pub(crate) fn listens(&self) {
        self.listening.set(self.listening.get() + 1);
    }

    /// Waits until SYNs were dropped; returns how many since the last call.
    pub(crate) fn poll_dropped(&self, cx: &mut Context<'_>) -> Poll<usize> {
        match self.dropped.replace(0) {
            0 => {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
            n => Poll::Ready(n),
        }
    }
}

/// The connection a TCP SYN (without ACK) in an Ethernet frame asks for.
fn syn_of(frame: &[u8]) -> Option<Syn> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let (source, protocol, payload) = match eth.ethertype() {
        EthernetProtocol::Ipv4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            if ip.frag_offset() != 0 {
                return None;
            }
            let src = ip.src_addr().to_ipv6_mapped().octets();
            (src, ip.next_header(), ip.payload())
        }
        EthernetProtocol::Ipv6 => {
            let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
            (ip.src_addr().octets(), ip.next_header(), ip.payload())
        }
        _ => return None,
    };
    if protocol != IpProtocol::Tcp {
        return None;
    }
    let tcp = TcpPacket::new_checked(payload).ok()?;
    let isn = tcp.seq_number().0 as u32;
    (tcp.syn() && !tcp.ack()).then(|| (source, tcp.src_port(), tcp.dst_port(), isn))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame with an IPv4 TCP segment to port 80 with the given SYN/ACK flags.
    fn segment(syn: bool, ack: bool) -> Vec<u8> {
        segment_from(40000, syn, ack)
    }

    /// [`segment`] from source port `sport`.
    fn segment_from(sport: u16, syn: bool, ack: bool) -> Vec<u8> {
        let mut f = alloc::vec![0u8; 14 + 20 + 20];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&40u16.to_be_bytes());
        ip[8] = 64;
        ip[9] = 6;
        let tcp = &mut f[34..54];
        tcp[0..2].copy_from_slice(&sport.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp[13] = (u8::from(syn) << 1) | (u8::from(ack) << 4);
        f
    }

    #[test]
    fn syns_beyond_the_listening_sockets_are_dropped_and_counted() {
        let gate = SynGate::default();
        assert!(gate.admit(&segment(true, false)), "an ungated port");
        let port = gate.port(80);
        port.listens();
        assert!(gate.admit(&segment(true, false)));
        // The same SYN again goes to the socket that took it, without taking another.
        assert!(gate.admit(&segment(true, false)));
        assert!(!gate.admit(&segment_from(40001, true, false)));
        assert!(!gate.admit(&segment_from(40002, true, false)));
        // Segments of established connections and SYN-ACKs always pass.
        assert!(gate.admit(&segment(false, true)));
        assert!(gate.admit(&segment(true, true)));
        assert!(gate.admit(&[0u8; 10]));
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert_eq!(port.poll_dropped(&mut cx), Poll::Ready(2));
        assert_eq!(port.poll_dropped(&mut cx), Poll::Pending);
        assert!(Rc::ptr_eq(&port, &gate.port(80)));
    }
}
