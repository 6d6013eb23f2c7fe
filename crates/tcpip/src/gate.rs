//! A listen backlog for the direct stack: connection requests no socket can take yet are held,
//! not refused, and handed to the stack as soon as a socket of their port listens.
//!
//! smoltcp answers a SYN to a port where no socket listens with an RST, so a burst of
//! connections larger than the sockets listening, or one beyond a server's limit, would be
//! reset. For a port a [`serve`](crate::serve) pool listens on, the driver asks the
//! [`SynGate`] about each incoming SYN: while a socket of the port is listening (and no SYN of
//! the port is held before it) the SYN goes through and takes that socket; otherwise a copy of
//! the frame is held, counted, and the pool is woken to start another listener. The driver's
//! receive path asks [`SynGate::release`] first: a held SYN whose port has a listening socket
//! again goes to the stack then, oldest first (embassy-net wakes the stack's runner when a
//! socket starts listening, so that happens on the next run of the stack, without waiting for
//! the client to send its SYN again, 1 s later on Linux).
//!
//! The hold queue:
//! - **Bound**: one SYN per socket the served ports may open (set by their pools:
//!   [`PortGate::hold_up_to`]), at most [`HOLD_MAX`] in all, each a copy of at most
//!   [`HELD_FRAME_MAX`] bytes (a SYN is 74 bytes over IPv4 from Linux, 94 over IPv6) stored
//!   inline, 168 bytes an entry. So
//!   http-server in `--mem=2` (2 sockets) holds at most 2 (336 bytes), in `--mem=4` 54
//!   (about 9 KiB), and at its 1,024-connection default at most 1,024 (168 KiB, beside the
//!   37 MB its connections take). The queue takes memory from the heap only while something
//!   is held and gives it back when it empties. A SYN beyond the bound, or a larger frame, is
//!   dropped as before this queue existed: the client sends it again (that copy is held if
//!   there is room then). A SYN beyond the sockets would wait for a connection to end anyway.
//!   With 256 at most, `wrk -c1000` still saw about 200 of its 1,000 SYNs sent again.
//! - **Dedup**: a SYN is one connection request (address, ports, initial sequence number). A
//!   copy sent again while the first is held replaces the held frame (the newest timestamp
//!   option) and its expiry, keeps its place, and is not counted again, so it starts no
//!   second listener.
//! - **Expiry**: a SYN held [`HOLD_EXPIRY`] after its latest copy arrived is discarded. Held
//!   SYNs leave within a run of the stack when the pool can grow; only a server at its
//!   connection limit keeps them longer, and there a SYN whose client gave up (an application's
//!   connect timeout is often a few seconds) would cost a listener a SYN-ACK answered with an
//!   RST. A client still waiting sends its SYN again (1 s, 3 s, 7 s, ... after the first on
//!   Linux), which refreshes the entry or, later, is held afresh.
//! - **Order**: released oldest first (by first copy), per port; a new SYN of a port with SYNs
//!   held is held behind them even when a socket listens, so that none overtakes.
//! - **At the connection limit** no socket listens, so held SYNs wait in the queue until a
//!   connection ends and its task listens again; none is answered with an RST meanwhile.
//!
//! A SYN sent again for a connection already admitted (its SYN-ACK was late or lost, as with
//! the first connection while the stack resolves the peer's address) reaches the socket that
//! took the first one: it is let through without taking another, so the count of listening
//! sockets stays true.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::task::{Context, Poll, Waker};

use embassy_time::{Duration, Instant};
use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket,
};

/// How many SYNs are held at most, all ports together, whatever their pools allow.
pub const HOLD_MAX: usize = 1024;

/// The largest frame held, in bytes; a SYN frame larger than this is dropped.
pub const HELD_FRAME_MAX: usize = 128;

/// How long a held SYN is kept after its latest copy arrived.
pub const HOLD_EXPIRY: Duration = Duration::from_secs(3);

/// The gated ports of one stack.
#[derive(Debug, Default)]
pub(crate) struct SynGate {
    ports: RefCell<Vec<(u16, Rc<PortGate>)>>,
    /// The connections of the last [`REMEMBERED`] SYNs admitted, oldest first.
    admitted: RefCell<VecDeque<Syn>>,
    /// SYNs waiting for a listening socket, oldest first.
    held: RefCell<VecDeque<Held>>,
}

/// How many admitted SYNs are remembered to recognise one sent again.
const REMEMBERED: usize = 256;

/// A connection request: source address, source port, destination port, and its initial
/// sequence number (the same in a SYN sent again, another in a new connection from the port).
type Syn = ([u8; 16], u16, u16, u32);

/// A held SYN: the latest copy of its frame.
#[derive(Debug)]
struct Held {
    syn: Syn,
    /// When the latest copy arrived.
    seen: Instant,
    len: u8,
    frame: [u8; HELD_FRAME_MAX],
}

impl Held {
    /// Holds `frame` (at most [`HELD_FRAME_MAX`] bytes).
    fn new(syn: Syn, frame: &[u8], now: Instant) -> Option<Held> {
        let mut held = Held {
            syn,
            seen: now,
            len: 0,
            frame: [0; HELD_FRAME_MAX],
        };
        held.refresh(frame, now).then_some(held)
    }

    /// Replaces the copy with `frame`; false (and unchanged) if it is too large.
    fn refresh(&mut self, frame: &[u8], now: Instant) -> bool {
        let (Some(slot), Ok(len)) = (self.frame.get_mut(..frame.len()), u8::try_from(frame.len()))
        else {
            return false;
        };
        slot.copy_from_slice(frame);
        self.len = len;
        self.seen = now;
        true
    }

    fn frame(&self) -> &[u8] {
        &self.frame[..usize::from(self.len)]
    }
}

/// One gated port: how many of its sockets listen, and the SYNs waiting for a listener.
#[derive(Debug, Default)]
pub(crate) struct PortGate {
    listening: Cell<usize>,
    /// SYNs of the port the queue may hold (see [`PortGate::hold_up_to`]).
    hold: Cell<usize>,
    /// SYNs held or dropped for want of a listener since the pool last asked.
    wanting: Cell<usize>,
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

    /// The gate of `port`, if gated.
    fn gate_of(&self, port: u16) -> Option<Rc<PortGate>> {
        let ports = self.ports.borrow();
        ports
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, g)| g.clone())
    }

    /// Whether the stack may see `frame`, received at `now()` (asked only for a gated SYN):
    /// false for a SYN to a gated port that no listening socket can take yet (held, or dropped
    /// beyond the bound).
    pub(crate) fn admit(&self, frame: &[u8], now: impl FnOnce() -> Instant) -> bool {
        let Some(syn) = syn_of(frame) else {
            return true;
        };
        let Some(gate) = self.gate_of(syn.2) else {
            return true;
        };
        if self.admitted.borrow().contains(&syn) {
            return true;
        }
        let now = now();
        let mut held = self.held.borrow_mut();
        expire(&mut held, now);
        if let Some(h) = held.iter_mut().find(|h| h.syn == syn) {
            // Sent again while held: a fresher copy, same place, no second listener.
            h.refresh(frame, now);
            return false;
        }
        let ahead = held.iter().filter(|h| h.syn.2 == syn.2).count();
        let listening = gate.listening.get();
        if ahead == 0 && listening > 0 {
            gate.listening.set(listening - 1);
            self.remember(syn);
            return true;
        }
        if held.len() < self.bound()
            && let Some(h) = Held::new(syn, frame, now)
        {
            held.push_back(h);
        }
        // Held or dropped, it wants a listener unless those listening cover all before it.
        if ahead + 1 > listening {
            gate.wanting.set(gate.wanting.get() + 1);
            if let Some(w) = gate.waker.borrow_mut().take() {
                w.wake();
            }
        }
        false
    }

    /// Copies the oldest held SYN that a listening socket of its port can take at `now()`
    /// (asked only when something is held) into `into` and returns its length (it takes that
    /// socket); `None` if there is none.
    pub(crate) fn release(&self, now: impl FnOnce() -> Instant, into: &mut [u8]) -> Option<usize> {
        let mut held = self.held.borrow_mut();
        if held.is_empty() {
            return None;
        }
        expire(&mut held, now());
        let (i, gate) = held.iter().enumerate().find_map(|(i, h)| {
            let gate = self.gate_of(h.syn.2)?;
            (gate.listening.get() > 0).then_some((i, gate))
        })?;
        let h = held.remove(i)?;
        if held.is_empty() {
            // Give the queue's memory back until something is held again.
            *held = VecDeque::new();
        }
        let len = h.frame().len();
        let slot = into.get_mut(..len)?;
        slot.copy_from_slice(h.frame());
        gate.listening.set(gate.listening.get() - 1);
        self.remember(h.syn);
        Some(len)
    }

    /// How many SYNs may be held, all ports together.
    fn bound(&self) -> usize {
        let ports = self.ports.borrow();
        let allowed = ports
            .iter()
            .map(|(_, g)| g.hold.get())
            .fold(0, usize::saturating_add);
        allowed.min(HOLD_MAX)
    }

    /// How many SYNs are held.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.held.borrow().len()
    }

    /// Remembers an admitted SYN, to let the same one through again.
    fn remember(&self, syn: Syn) {
        let mut admitted = self.admitted.borrow_mut();
        if admitted.len() == REMEMBERED {
            admitted.pop_front();
        }
        admitted.push_back(syn);
    }
}

/// Discards the SYNs of `held` whose latest copy is older than [`HOLD_EXPIRY`] at `now`.
fn expire(held: &mut VecDeque<Held>, now: Instant) {
    held.retain(|h| now.saturating_duration_since(h.seen) < HOLD_EXPIRY);
    if held.is_empty() {
        *held = VecDeque::new();
    }
}

impl PortGate {
    /// Lets the hold queue keep up to `syns` SYNs for this port (with the other ports' and
    /// within [`HOLD_MAX`]): the sockets its pool may open. 0 (the default) holds none.
    pub(crate) fn hold_up_to(&self, syns: usize) {
        self.hold.set(syns);
    }

    /// A socket of the port starts listening (call right before it does).
    pub(crate) fn listens(&self) {
        self.listening.set(self.listening.get() + 1);
    }

    /// Waits until SYNs wanted a listener; returns how many since the last call.
    pub(crate) fn poll_wanting(&self, cx: &mut Context<'_>) -> Poll<usize> {
        match self.wanting.replace(0) {
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

    /// A noop-woken context for the pool's side.
    fn wanting(port: &PortGate) -> Poll<usize> {
        port.poll_wanting(&mut Context::from_waker(Waker::noop()))
    }

    const T0: Instant = Instant::from_secs(100);

    /// The source port of the frame `release` gives, or `None`.
    fn released(gate: &SynGate, now: Instant) -> Option<u16> {
        let mut rx = [0u8; 1514];
        let len = gate.release(|| now, &mut rx)?;
        assert_eq!(len, 54);
        Some(u16::from_be_bytes([rx[34], rx[35]]))
    }

    #[test]
    fn syns_beyond_the_listening_sockets_are_held_and_counted() {
        let gate = SynGate::default();
        assert!(gate.admit(&segment(true, false), || T0), "an ungated port");
        let port = gate.port(80);
        port.hold_up_to(16);
        port.listens();
        assert!(gate.admit(&segment(true, false), || T0));
        // The same SYN again goes to the socket that took it, without taking another.
        assert!(gate.admit(&segment(true, false), || T0));
        assert!(!gate.admit(&segment_from(40001, true, false), || T0));
        assert!(!gate.admit(&segment_from(40002, true, false), || T0));
        assert_eq!(gate.held(), 2);
        // Segments of established connections and SYN-ACKs always pass.
        assert!(gate.admit(&segment(false, true), || T0));
        assert!(gate.admit(&segment(true, true), || T0));
        assert!(gate.admit(&[0u8; 10], || T0));
        assert_eq!(wanting(&port), Poll::Ready(2));
        assert_eq!(wanting(&port), Poll::Pending);
        assert!(Rc::ptr_eq(&port, &gate.port(80)));
        // Nothing listens: nothing is released.
        assert_eq!(released(&gate, T0), None);
        assert_eq!(gate.held(), 2);
    }

    #[test]
    fn held_syns_are_released_oldest_first_one_per_listener() {
        let gate = SynGate::default();
        let port = gate.port(80);
        port.hold_up_to(16);
        for sport in [40001, 40002, 40003] {
            assert!(!gate.admit(&segment_from(sport, true, false), || T0));
        }
        assert_eq!(wanting(&port), Poll::Ready(3));
        port.listens();
        port.listens();
        // A new SYN does not overtake the held ones, and wants a fourth listener.
        assert!(!gate.admit(&segment_from(40004, true, false), || T0));
        assert_eq!(wanting(&port), Poll::Ready(1));
        assert_eq!(released(&gate, T0), Some(40001));
        assert_eq!(released(&gate, T0), Some(40002));
        assert_eq!(released(&gate, T0), None, "both listeners taken");
        port.listens();
        assert_eq!(released(&gate, T0), Some(40003));
        port.listens();
        assert_eq!(released(&gate, T0), Some(40004));
        assert_eq!(gate.held(), 0);
        // A released SYN sent again reaches the socket that took it; a new one waits.
        assert!(gate.admit(&segment_from(40002, true, false), || T0));
        assert!(!gate.admit(&segment_from(40005, true, false), || T0));
        assert!(!gate.admit(&segment_from(40006, true, false), || T0));
        assert_eq!(wanting(&port), Poll::Ready(2));
        // Two held, three listening: the next one is held behind them, and covered.
        port.listens();
        port.listens();
        port.listens();
        assert!(!gate.admit(&segment_from(40007, true, false), || T0));
        assert_eq!(wanting(&port), Poll::Pending);
        assert_eq!(released(&gate, T0), Some(40005));
        assert_eq!(released(&gate, T0), Some(40006));
        assert_eq!(released(&gate, T0), Some(40007));
        assert_eq!(released(&gate, T0), None);
    }

    #[test]
    fn a_held_syn_sent_again_is_held_once_and_wants_one_listener() {
        let gate = SynGate::default();
        let port = gate.port(80);
        port.hold_up_to(16);
        assert!(!gate.admit(&segment_from(40001, true, false), || T0));
        assert!(!gate.admit(&segment_from(40002, true, false), || T0));
        let later = T0 + Duration::from_secs(1);
        assert!(!gate.admit(&segment_from(40001, true, false), || later));
        assert_eq!(gate.held(), 2);
        assert_eq!(wanting(&port), Poll::Ready(2));
        // Another connection from the same port (another initial sequence number) is another.
        let mut other = segment_from(40001, true, false);
        other[38..42].copy_from_slice(&7u32.to_be_bytes());
        assert!(!gate.admit(&other, || later));
        assert_eq!(gate.held(), 3);
        // The copy sent again kept its place.
        port.listens();
        assert_eq!(released(&gate, later), Some(40001));
    }

    #[test]
    fn syns_beyond_the_bound_are_dropped_and_counted() {
        let gate = SynGate::default();
        let port = gate.port(80);
        port.hold_up_to(3);
        for sport in 40001..40006 {
            assert!(!gate.admit(&segment_from(sport, true, false), || T0));
        }
        assert_eq!(gate.held(), 3);
        assert_eq!(wanting(&port), Poll::Ready(5));
        // Another port's allowance adds to the bound; the whole is capped.
        let mut other = segment_from(50000, true, false);
        other[36..38].copy_from_slice(&8080u16.to_be_bytes());
        gate.port(8080).hold_up_to(1);
        assert!(!gate.admit(&other, || T0));
        assert_eq!(gate.held(), 4);
        port.hold_up_to(usize::MAX);
        for i in 0..HOLD_MAX {
            let sport = 1000 + i as u16;
            assert!(!gate.admit(&segment_from(sport, true, false), || T0));
        }
        assert_eq!(gate.held(), HOLD_MAX);
        // What the module documentation reckons memory with.
        assert_eq!(core::mem::size_of::<Held>(), 168);
        // A frame larger than a held copy may be is dropped too.
        let mut big = segment_from(9, true, false);
        big.resize(HELD_FRAME_MAX + 1, 0);
        let gate = SynGate::default();
        gate.port(80).hold_up_to(16);
        assert!(!gate.admit(&big, || T0));
        assert_eq!(gate.held(), 0);
        // A port whose pool allows none holds none.
        let gate = SynGate::default();
        gate.port(80);
        assert!(!gate.admit(&segment_from(9, true, false), || T0));
        assert_eq!(gate.held(), 0);
    }

    #[test]
    fn held_syns_expire_after_their_latest_copy() {
        let gate = SynGate::default();
        let port = gate.port(80);
        port.hold_up_to(16);
        assert!(!gate.admit(&segment_from(40001, true, false), || T0));
        assert!(!gate.admit(&segment_from(40002, true, false), || T0));
        // 40002's client sends it again, which renews it; 40001's gave up.
        let t2 = T0 + HOLD_EXPIRY - Duration::from_millis(1);
        assert!(!gate.admit(&segment_from(40002, true, false), || t2));
        port.listens();
        port.listens();
        assert_eq!(released(&gate, T0 + HOLD_EXPIRY), Some(40002));
        assert_eq!(released(&gate, T0 + HOLD_EXPIRY), None);
        assert_eq!(gate.held(), 0);
        // Its retry, after expiry, is a new request: it takes the listener left.
        assert!(gate.admit(&segment_from(40001, true, false), || T0 + HOLD_EXPIRY));
    }
}
