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
//!
//! A client may also reset a connection before completing its handshake: its kernel answers
//! the SYN-ACK with an RST when the connecting socket is gone (a connect that timed out or was
//! abandoned), and a SYN scanner makes it do so on purpose. smoltcp then puts the socket that
//! took the SYN back to listening, while its task still waits in `accept`; so the gate watches
//! each admitted SYN's handshake and counts the socket as listening again on an RST whose
//! sequence number is the SYN's plus one (the only one a kernel sends there, and one smoltcp
//! always accepts). The handshake's last ACK (the same sequence number, no data) ends the
//! watch: from then on an RST closes the connection instead. Without this, each such reset
//! hid one listening socket from the gate for good, and after as many as the pool's sockets
//! the port held every SYN until it expired and served no one again. A client that neither
//! answers nor resets is given up by its socket after
//! [`HANDSHAKE_TIMEOUT`](crate::HANDSHAKE_TIMEOUT), and its task listens again; the gate stops
//! watching a little before ([`WATCH_LIMIT`]).

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::task::{Context, Poll, Waker};

use embassy_time::{Duration, Instant};
use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, IpAddress, IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket,
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
    admitted: RefCell<VecDeque<Admitted>>,
    /// How many of `admitted` still watch their handshake.
    watching: Cell<usize>,
    /// SYNs waiting for a listening socket, oldest first.
    held: RefCell<VecDeque<Held>>,
}

/// How many admitted SYNs are remembered to recognise one sent again.
const REMEMBERED: usize = 256;

/// A connection request: source address, source port, destination port, and its initial
/// sequence number (the same in a SYN sent again, another in a new connection from the port).
type Syn = ([u8; 16], u16, u16, u32);

/// An admitted SYN, and whether its handshake is still watched (neither its last ACK nor an
/// RST has come).
#[derive(Debug)]
struct Admitted {
    syn: Syn,
    watching: bool,
    /// When it was admitted.
    since: Instant,
}

/// How long a handshake is watched: a little less than the socket waits for it
/// ([`HANDSHAKE_TIMEOUT`](crate::HANDSHAKE_TIMEOUT)), after which the socket listens again and
/// its task counts it so. Forgetting the handshake first means that a SYN sent again at the
/// edge is taken as a new connection and an RST is not counted: at worst one listener more,
/// never one counted that does not listen.
const WATCH_LIMIT: Duration = Duration::from_secs(crate::socket::HANDSHAKE_TIMEOUT.as_secs() - 1);

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
        let Some(segment) = segment_of(frame) else {
            return true;
        };
        let Some(syn) = segment.connection_request() else {
            if self.watching.get() > 0 {
                self.watch(&segment, now);
            }
            return true;
        };
        let Some(gate) = self.gate_of(syn.2) else {
            return true;
        };
        let now = now();
        if self.admitted_before(syn, now) {
            return true;
        }
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
            self.remember(syn, now);
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
        let now = now();
        expire(&mut held, now);
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
        self.remember(h.syn, now);
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

    /// Whether `syn` was admitted already and its socket still has it at `now`: then it goes
    /// to that socket again and takes no listener. A SYN whose handshake outlived
    /// [`WATCH_LIMIT`] is forgotten instead, as its socket gives it up.
    fn admitted_before(&self, syn: Syn, now: Instant) -> bool {
        let mut admitted = self.admitted.borrow_mut();
        let Some(i) = admitted.iter().position(|a| a.syn == syn) else {
            return false;
        };
        if !admitted[i].watching || now.saturating_duration_since(admitted[i].since) < WATCH_LIMIT {
            return true;
        }
        admitted.remove(i);
        self.watching.set(self.watching.get() - 1);
        false
    }

    /// Remembers a SYN admitted at `now`, to let the same one through again, and watches its
    /// handshake.
    fn remember(&self, syn: Syn, now: Instant) {
        let mut admitted = self.admitted.borrow_mut();
        if admitted.len() == REMEMBERED
            && admitted.pop_front().is_some_and(|oldest| oldest.watching)
        {
            self.watching.set(self.watching.get() - 1);
        }
        admitted.push_back(Admitted {
            syn,
            watching: true,
            since: now,
        });
        self.watching.set(self.watching.get() + 1);
    }

    /// Follows the handshake of an admitted SYN that `segment` (from its client, no SYN)
    /// belongs to: its last ACK ends the watch; an RST before that (and within
    /// [`WATCH_LIMIT`] at `now()`) puts the socket that took the SYN back to listening, which
    /// the port counts again (see the module documentation).
    fn watch(&self, segment: &Segment, now: impl FnOnce() -> Instant) {
        let last_ack = segment.ack && !segment.fin && segment.payload_len == 0;
        if !(segment.rst || last_ack) {
            return;
        }
        let mut admitted = self.admitted.borrow_mut();
        let Some(i) = admitted.iter().position(|a| {
            let (source, sport, dport, isn) = a.syn;
            a.watching
                && (source, sport, dport) == (segment.source, segment.sport, segment.dport)
                && segment.seq == isn.wrapping_add(1)
        }) else {
            return;
        };
        self.watching.set(self.watching.get() - 1);
        if !segment.rst {
            admitted[i].watching = false;
            return;
        }
        // Forgotten, so that the same SYN sent again takes a listener like a new one.
        let Some(reset) = admitted.remove(i) else {
            return;
        };
        drop(admitted);
        if now().saturating_duration_since(reset.since) >= WATCH_LIMIT {
            return;
        }
        if let Some(gate) = self.gate_of(reset.syn.2) {
            gate.listening.set(gate.listening.get() + 1);
        }
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

/// What the gate reads of a TCP segment from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    /// The source address (IPv4 as an IPv4-mapped IPv6 address).
    source: [u8; 16],
    sport: u16,
    dport: u16,
    seq: u32,
    syn: bool,
    ack: bool,
    /// RST, with a correct checksum.
    rst: bool,
    fin: bool,
    /// Bytes of data.
    payload_len: usize,
}

impl Segment {
    /// The connection a SYN without ACK asks for; `None` for any other segment.
    fn connection_request(&self) -> Option<Syn> {
        (self.syn && !self.ack).then_some((self.source, self.sport, self.dport, self.seq))
    }
}

/// The TCP segment in an Ethernet frame (IPv4 unfragmented, or IPv6 without extension
/// headers), if it is one.
fn segment_of(frame: &[u8]) -> Option<Segment> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let (source, (src, dst), protocol, payload) = match eth.ethertype() {
        EthernetProtocol::Ipv4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            if ip.frag_offset() != 0 {
                return None;
            }
            let (src, dst) = (ip.src_addr(), ip.dst_addr());
            let addresses = (IpAddress::Ipv4(src), IpAddress::Ipv4(dst));
            (
                src.to_ipv6_mapped().octets(),
                addresses,
                ip.next_header(),
                ip.payload(),
            )
        }
        EthernetProtocol::Ipv6 => {
            let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
            let (src, dst) = (ip.src_addr(), ip.dst_addr());
            let addresses = (IpAddress::Ipv6(src), IpAddress::Ipv6(dst));
            (src.octets(), addresses, ip.next_header(), ip.payload())
        }
        _ => return None,
    };
    if protocol != IpProtocol::Tcp {
        return None;
    }
    let tcp = TcpPacket::new_checked(payload).ok()?;
    Some(Segment {
        source,
        sport: tcp.src_port(),
        dport: tcp.dst_port(),
        seq: tcp.seq_number().0 as u32,
        syn: tcp.syn(),
        ack: tcp.ack(),
        // An RST changes what the gate counts, so it must be one the stack accepts: with its
        // checksum right (a kernel computes an RST's checksum in full, never leaving it to
        // an offload).
        rst: tcp.rst() && tcp.verify_checksum(&src, &dst),
        fin: tcp.fin(),
        payload_len: tcp.payload().len(),
    })
}

#[cfg(test)]
mod tests;
