//! The gate's unit tests, on hand-made frames.

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

/// TCP flag bits.
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// A segment from port `sport` to port 80 with `flags`, sequence number `seq` and `data`
/// bytes, its checksum right unless `bad_checksum`.
fn client_segment(sport: u16, flags: u8, seq: u32, data: usize, bad_checksum: bool) -> Vec<u8> {
    let mut f = segment_from(sport, false, false);
    f.resize(54 + data, 0);
    f[16..18].copy_from_slice(&(40 + data as u16).to_be_bytes());
    let tcp = &mut f[34..];
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[13] = flags;
    let unspecified = IpAddress::Ipv4(core::net::Ipv4Addr::UNSPECIFIED);
    let mut packet = TcpPacket::new_unchecked(tcp);
    packet.fill_checksum(&unspecified, &unspecified);
    if bad_checksum {
        let sum = packet.checksum();
        packet.set_checksum(sum ^ 1);
    }
    f
}

/// A gate with port 80 gated, holding up to 16 SYNs, no socket listening yet.
fn gated_port_80() -> (SynGate, Rc<PortGate>) {
    let gate = SynGate::default();
    let port = gate.port(80);
    port.hold_up_to(16);
    (gate, port)
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
    let (gate, port) = gated_port_80();
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
    let (gate, port) = gated_port_80();
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
    let (gate, port) = gated_port_80();
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

#[test]
fn a_handshake_reset_by_its_client_gives_its_socket_back_to_the_port() {
    let (gate, port) = gated_port_80();
    port.listens();
    // 40000's SYN (initial sequence number 0) takes the one listener; 40001's is held.
    assert!(gate.admit(&segment(true, false), || T0));
    assert!(!gate.admit(&segment_from(40001, true, false), || T0));
    assert_eq!(released(&gate, T0), None);
    // RSTs that smoltcp would not take, or that are not about the handshake, change nothing.
    for (sport, seq, bad_checksum) in [(40000, 2, false), (40000, 0, false), (40000, 1, true)] {
        assert!(gate.admit(&client_segment(sport, RST, seq, 0, bad_checksum), || T0));
        assert_eq!(released(&gate, T0), None, "{sport} {seq} {bad_checksum}");
    }
    assert!(gate.admit(&client_segment(40009, RST, 1, 0, false), || T0));
    assert_eq!(released(&gate, T0), None, "another connection's RST");
    // The client resets before its last ACK: smoltcp's socket listens again, and takes the
    // held SYN.
    assert!(gate.admit(&client_segment(40000, RST, 1, 0, false), || T0));
    assert_eq!(released(&gate, T0), Some(40001));
    // Counted once: the same RST again gives nothing more.
    assert!(gate.admit(&client_segment(40000, RST, 1, 0, false), || T0));
    assert!(!gate.admit(&segment_from(40002, true, false), || T0));
    // The reset SYN sent again is a new request, held behind 40002.
    assert!(!gate.admit(&segment(true, false), || T0));
    assert_eq!(gate.held(), 2);
}

#[test]
fn after_the_last_ack_an_rst_closes_the_connection_and_gives_nothing_back() {
    let (gate, port) = gated_port_80();
    port.listens();
    port.listens();
    assert!(gate.admit(&segment_from(40001, true, false), || T0));
    assert!(gate.admit(&segment_from(40002, true, false), || T0));
    // 40001's last ACK carries no data; 40002's comes with its request (and a FIN), which
    // moves its sequence number on, so no RST of it can match the handshake either.
    assert!(gate.admit(&client_segment(40001, ACK, 1, 0, false), || T0));
    assert!(gate.admit(&client_segment(40002, ACK | FIN, 1, 10, false), || T0));
    assert_eq!(gate.watching.get(), 1);
    assert!(gate.admit(&client_segment(40001, RST | ACK, 1, 0, false), || T0));
    assert!(gate.admit(&client_segment(40002, RST, 12, 0, false), || T0));
    // Both sockets are taken still: a new SYN waits.
    assert!(!gate.admit(&segment_from(40003, true, false), || T0));
    assert_eq!(released(&gate, T0), None);
}

#[test]
fn handshakes_pushed_out_of_the_remembered_ones_are_no_longer_watched() {
    let gate = SynGate::default();
    let port = gate.port(80);
    port.hold_up_to(usize::MAX);
    for i in 0..=REMEMBERED {
        port.listens();
        assert!(gate.admit(&segment_from(1000 + i as u16, true, false), || T0));
    }
    assert_eq!(gate.watching.get(), REMEMBERED);
    // The oldest is forgotten: its RST is not counted (a listener wasted, never a reset).
    assert!(gate.admit(&client_segment(1000, RST, 1, 0, false), || T0));
    assert!(!gate.admit(&segment_from(9, true, false), || T0));
    // The newest is.
    assert!(gate.admit(
        &client_segment(1000 + REMEMBERED as u16, RST, 1, 0, false),
        || T0
    ));
    assert_eq!(gate.watching.get(), REMEMBERED - 1);
    assert_eq!(released(&gate, T0), Some(9));
    assert_eq!(
        gate.watching.get(),
        REMEMBERED,
        "the released SYN's handshake too"
    );
}

#[test]
fn a_handshake_is_watched_a_little_less_long_than_its_socket_waits_for_it() {
    assert!(WATCH_LIMIT < crate::HANDSHAKE_TIMEOUT);
    let late = T0 + WATCH_LIMIT;
    // An RST after the watch: the socket may have given the handshake up already.
    let (gate, port) = gated_port_80();
    port.listens();
    assert!(gate.admit(&segment(true, false), || T0));
    assert!(gate.admit(&client_segment(40000, RST, 1, 0, false), || late));
    assert!(!gate.admit(&segment_from(40001, true, false), || late));
    assert_eq!(gate.watching.get(), 0);
    // The same SYN sent again after the watch is a new connection: it takes a listener.
    let (gate, port) = gated_port_80();
    port.listens();
    port.listens();
    assert!(gate.admit(&segment(true, false), || T0));
    assert!(gate.admit(&segment(true, false), || late - Duration::from_millis(1)));
    assert_eq!(
        gate.watching.get(),
        1,
        "within the watch: the same connection"
    );
    assert!(gate.admit(&segment(true, false), || late));
    assert_eq!(gate.watching.get(), 1);
    assert!(
        !gate.admit(&segment_from(40001, true, false), || late),
        "both listeners taken"
    );
}
