//! When a net device's receive path asks the tender for a frame (`NET_READ`), and when it
//! leaves that to `POLL`: fewer VM exits per frame, without delaying any.
//!
//! `NET_READ` only says whether one frame was there, so a read that finds the queue empty
//! (`AGAIN`) is an exit that moved nothing. Such reads came from two places: after every frame
//! (to learn that the queue is empty), and whenever the stack ran for another reason (a timer,
//! the application writing). The tender's `POLL` readiness is level-triggered: a frame waiting
//! on the tap makes `POLL` return at once with the device in its ready set. So:
//!
//! - after an empty read, the device is read again only once a `POLL` has reported it ready;
//! - after a lone frame the next read is left to `POLL` too; but when a frame is there right
//!   after such a deferral, frames are coming back to back (a burst), and then every read is
//!   made until `AGAIN` ends the burst; unless that frame ends a message (TCP data with PSH,
//!   see [`ends_a_message`]).
//!
//! A `POLL` that reports the device ready cannot say whether the frame was already waiting or
//! came while it blocked, so a request after a deferral looked like the start of a burst, and
//! the read after it found nothing (an exit per other request of a request/response
//! exchange). A segment with PSH is where its sender stopped for an answer: after it the next
//! read is left to `POLL` again. Other frames keep the burst rule: a queue of SYNs or of bulk
//! segments is read in one run of the stack.
//!
//! Per lone frame that is `POLL` + `NET_READ`, where it was `POLL` + `NET_READ` + `NET_READ`
//! and more; a burst of N frames costs one `POLL` more than before to be recognised.
//!
//! Leaving the read to `POLL` is only safe if a `POLL` comes. The executor makes a blocking
//! one when no task is runnable, and a non-blocking one (zero timeout) after a few passes in a
//! row with a task runnable (`morgana_rt::BUSY_PASSES_BEFORE_READINESS_CHECK`): a stack that
//! keeps itself runnable without sending anything (smoltcp asking to be polled again at once
//! while a TCP socket waits on its neighbour entry) still sees its device reported ready, and
//! the frames it waits for are read. So the device itself needs no bound on its deferrals.

use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket,
};

/// The receive path's state for one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxPacing {
    /// A frame may be waiting: nothing has shown the queue empty since the last `POLL` that
    /// reported the device ready (true at the start: nothing is known).
    maybe_ready: bool,
    /// The last frame was followed by a deferral to `POLL`.
    deferred: bool,
    /// Frames are arriving back to back: read until `AGAIN`.
    burst: bool,
}

impl Default for RxPacing {
    fn default() -> Self {
        RxPacing {
            maybe_ready: true,
            deferred: false,
            burst: false,
        }
    }
}

/// What the receive path does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ask the tender for a frame (`NET_READ`).
    Read,
    /// Make no hypercall: register for the device's readiness and let `POLL` tell.
    WaitForPoll,
}

impl RxPacing {
    /// Records that a `POLL` reported the device ready.
    pub fn polled_ready(&mut self) {
        self.maybe_ready = true;
    }

    /// Whether to read now.
    pub fn next(&self) -> Step {
        if self.maybe_ready {
            Step::Read
        } else {
            Step::WaitForPoll
        }
    }

    /// Records that a read returned a frame; `ends_message` as [`ends_a_message`] says of it.
    pub fn got_frame(&mut self, ends_message: bool) {
        if self.deferred {
            self.burst = !ends_message;
            self.deferred = false;
        }
        if !self.burst {
            self.maybe_ready = false;
            self.deferred = true;
        }
    }

    /// Records that a read found no frame (`AGAIN`) or failed.
    pub fn got_nothing(&mut self) {
        self.maybe_ready = false;
        self.deferred = false;
        self.burst = false;
    }
}

/// Whether `frame` (Ethernet) is a TCP segment over IPv4 or IPv6 that carries data and has
/// PSH set: its sender has nothing more to send before an answer. False for anything else or
/// anything malformed (IPv6 extension headers included).
pub fn ends_a_message(frame: &[u8]) -> bool {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return false;
    };
    let ip_payload = match eth.ethertype() {
        EthernetProtocol::Ipv4 => match Ipv4Packet::new_checked(eth.payload()) {
            Ok(ip) if ip.next_header() == IpProtocol::Tcp && !ip.more_frags() => ip.payload(),
            _ => return false,
        },
        EthernetProtocol::Ipv6 => match Ipv6Packet::new_checked(eth.payload()) {
            Ok(ip) if ip.next_header() == IpProtocol::Tcp => ip.payload(),
            _ => return false,
        },
        _ => return false,
    };
    TcpPacket::new_checked(ip_payload).is_ok_and(|tcp| tcp.psh() && !tcp.payload().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_call_reads_and_an_empty_read_waits_for_poll() {
        let mut p = RxPacing::default();
        assert_eq!(p.next(), Step::Read);
        p.got_nothing();
        // The stack running again for another reason makes no exit, however often it runs:
        // the executor's POLL (blocking when idle, non-blocking when a task keeps running)
        // reports the device.
        for _ in 0..100 {
            assert_eq!(p.next(), Step::WaitForPoll);
        }
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
    }

    /// An Ethernet frame with an IPv4 TCP segment: `flags` is the TCP flags byte.
    fn tcp_frame(flags: u8, payload: &[u8]) -> alloc::vec::Vec<u8> {
        let mut f = alloc::vec![0u8; 14 + 20 + 20];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let total = u16::try_from(20 + 20 + payload.len()).unwrap();
        f[14] = 0x45;
        f[16..18].copy_from_slice(&total.to_be_bytes());
        f[22] = 64;
        f[23] = 6;
        f[14 + 20 + 12] = 5 << 4;
        f[14 + 20 + 13] = flags;
        f.extend_from_slice(payload);
        f
    }

    const PSH_ACK: u8 = 0x18;
    const ACK: u8 = 0x10;
    const SYN: u8 = 0x02;

    #[test]
    fn only_tcp_data_with_psh_ends_a_message() {
        let get = b"GET / HTTP/1.1\r\n\r\n";
        assert!(ends_a_message(&tcp_frame(PSH_ACK, get)));
        assert!(!ends_a_message(&tcp_frame(ACK, get)), "data without PSH");
        assert!(
            !ends_a_message(&tcp_frame(PSH_ACK, b"")),
            "PSH without data"
        );
        assert!(!ends_a_message(&tcp_frame(SYN, b"")));
        let whole = tcp_frame(PSH_ACK, get);
        assert!(!ends_a_message(&whole[..whole.len() - 1]), "truncated");
        let mut udp = whole.clone();
        udp[23] = 17;
        assert!(!ends_a_message(&udp));
        let mut arp = whole;
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert!(!ends_a_message(&arp));
        assert!(!ends_a_message(&[]));
    }

    #[test]
    fn a_request_after_a_deferral_is_no_burst_but_a_queue_of_syns_is() {
        let mut p = RxPacing::default();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(true);
        assert_eq!(p.next(), Step::WaitForPoll);
        // Requests one at a time: each POLL reports one request, and nothing is read after it
        // until the next POLL.
        for _ in 0..3 {
            p.polled_ready();
            assert_eq!(p.next(), Step::Read);
            p.got_frame(true);
            assert_eq!(p.next(), Step::WaitForPoll);
        }
        // Another frame after a deferral starts a burst, and a request in it does not end it.
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(false);
        assert_eq!(p.next(), Step::Read);
        p.got_frame(true);
        assert_eq!(p.next(), Step::Read);
        p.got_nothing();
        assert_eq!(p.next(), Step::WaitForPoll);
    }

    #[test]
    fn a_lone_frame_costs_no_second_read() {
        let mut p = RxPacing::default();
        p.got_nothing();
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(false);
        // The queue is probably empty: POLL decides.
        assert_eq!(p.next(), Step::WaitForPoll);
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        // Nothing there after all (another device made POLL return): back to waiting.
        p.got_nothing();
        assert_eq!(p.next(), Step::WaitForPoll);
    }

    #[test]
    fn back_to_back_frames_are_read_until_again() {
        let mut p = RxPacing::default();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(false);
        assert_eq!(p.next(), Step::WaitForPoll);
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        // A frame was there right after the deferral: a burst.
        p.got_frame(false);
        for _ in 0..5 {
            assert_eq!(p.next(), Step::Read);
            p.got_frame(false);
        }
        assert_eq!(p.next(), Step::Read);
        p.got_nothing();
        // The burst is over: wait for POLL, and the next lone frame is paced again.
        assert_eq!(p.next(), Step::WaitForPoll);
        p.polled_ready();
        assert_eq!(p.next(), Step::Read);
        p.got_frame(false);
        assert_eq!(p.next(), Step::WaitForPoll);
    }
}
