//! Segmentation offload for TAP devices: consecutive TCP segments leave in one write.
//!
//! The tap is opened with `IFF_VNET_HDR`, so every frame read or written is preceded by a
//! virtio-net header of [`VNET_HDR_LEN`] bytes. The stack sends TCP segments no larger than the
//! peer's MSS (1460 bytes on a 1500-byte MTU), and each `write(2)` to a tap costs a system call
//! and, on the host, one pass through its TCP receive path with a wake-up of the reading
//! process; at one frame per write that is most of the cost of bulk transfers.
//! [`Coalescer`] joins consecutive full-size segments of one TCP/IPv4 connection into one
//! large frame that the host takes as one GSO packet (`VIRTIO_NET_HDR_GSO_TCPV4`, what a NIC
//! with TCP segmentation offload gets from Linux): delivered locally it is one packet; routed
//! on, the host cuts it back into segments of the original size.
//!
//! Only plain data segments are joined (flags ACK and PSH, no IP options, not fragmented,
//! headers equal apart from sequence number, lengths and checksums, each segment following
//! the previous one, all but the last of the first one's size). Anything else goes out as it
//! came, after everything held back, so the order of frames within a connection is kept.
//!
//! Every TCP segment, joined or not, leaves with its checksum left to the host
//! (`F_NEEDS_CSUM`; see [`crate::tcp_checksum`]): the stack computes none.

use std::io;

use crate::tcp_checksum::{TCP_CHECKSUM_AT, pseudo_header_sum, tcp_segment};

/// Length of the virtio-net header before each frame (`struct virtio_net_hdr`).
pub const VNET_HDR_LEN: usize = 10;
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum from `csum_start` on is still to be computed.
pub(crate) const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_TCPV4`.
const GSO_TCPV4: u8 = 1;
/// Connections whose segments are held back at once; one more sends the others.
pub const MAX_FLOWS: usize = 8;

use morgana_net::ETHERNET_HEADER_LEN as ETH_LEN;
const IP_LEN: usize = 20;
/// Where the TCP header starts in a frame without IP options.
const TCP_AT: usize = ETH_LEN + IP_LEN;
const TCP_ACK: u8 = 0x10;
const TCP_PSH: u8 = 0x08;
/// An IPv4 packet's total length is a 16-bit field.
const MAX_IP_PACKET: usize = 65_535;

/// The virtio-net header of a frame that needs nothing done (checksums complete, one segment).
pub const PLAIN: [u8; VNET_HDR_LEN] = [0; VNET_HDR_LEN];

/// A TCP/IPv4 data segment that may be joined with others.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Headers' length, Ethernet to TCP options included.
    hdr_len: usize,
    /// TCP payload bytes.
    payload: usize,
    seq: u32,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The segment `frame` carries, if it is a plain TCP/IPv4 data segment.
fn data_segment(frame: &[u8]) -> Option<Segment> {
    if frame.len() < TCP_AT + 20 || be16(frame, 12) != 0x0800 || frame[ETH_LEN] != 0x45 {
        return None;
    }
    let ip_total = usize::from(be16(frame, ETH_LEN + 2));
    // Not a fragment (DF allowed), TCP, and the frame is exactly the packet (no padding).
    if be16(frame, ETH_LEN + 6) & 0xbfff != 0
        || frame[ETH_LEN + 9] != 6
        || ETH_LEN + ip_total != frame.len()
    {
        return None;
    }
    let hdr_len = TCP_AT + usize::from(frame[TCP_AT + 12] >> 4) * 4;
    let flags = frame[TCP_AT + 13];
    if hdr_len < TCP_AT + 20 || hdr_len >= frame.len() || flags & !TCP_PSH != TCP_ACK {
        return None;
    }
    Some(Segment {
        hdr_len,
        payload: frame.len() - hdr_len,
        seq: be32(frame, TCP_AT + 4),
    })
}

/// True when `a` and `b` have the same headers apart from what joining changes: IP total
/// length, identification and checksum; TCP sequence number, PSH and checksum.
fn same_headers(a: &[u8], b: &[u8], hdr_len: usize) -> bool {
    let ip = ETH_LEN;
    let tcp = TCP_AT;
    a[..ip + 2] == b[..ip + 2]
        && a[ip + 6..ip + 10] == b[ip + 6..ip + 10]
        && a[ip + 12..tcp + 4] == b[ip + 12..tcp + 4]
        && a[tcp + 8..tcp + 13] == b[tcp + 8..tcp + 13]
        && a[tcp + 14..tcp + 16] == b[tcp + 14..tcp + 16]
        && a[tcp + 18..hdr_len] == b[tcp + 18..hdr_len]
}

/// Segments of one connection held back to leave as one frame.
#[derive(Debug)]
struct Flow {
    /// The first segment's headers followed by every segment's payload.
    frame: Vec<u8>,
    hdr_len: usize,
    /// The first segment's payload length: the size the host cuts the frame back into.
    mss: usize,
    /// The last segment's payload length.
    last: usize,
    /// The sequence number the next segment must have.
    next_seq: u32,
    segments: usize,
}

impl Flow {
    fn accepts(&self, frame: &[u8], seg: &Segment) -> bool {
        seg.hdr_len == self.hdr_len
            && seg.seq == self.next_seq
            && self.last == self.mss
            && seg.payload <= self.mss
            && self.frame.len() - ETH_LEN + seg.payload <= MAX_IP_PACKET
            && same_headers(&self.frame, frame, self.hdr_len)
    }

    fn append(&mut self, frame: &[u8], seg: &Segment) {
        self.frame.extend_from_slice(&frame[seg.hdr_len..]);
        self.frame[TCP_AT + 13] |= frame[TCP_AT + 13] & TCP_PSH;
        self.next_seq = seg.seq.wrapping_add(seg.payload as u32);
        self.last = seg.payload;
        self.segments += 1;
    }

    /// Makes the headers describe the joined frame, with its TCP checksum left to the host;
    /// returns its virtio-net header.
    fn finish(&mut self) -> [u8; VNET_HDR_LEN] {
        let f = &mut self.frame;
        if self.segments > 1 {
            let ip_total = (f.len() - ETH_LEN) as u16;
            f[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&ip_total.to_be_bytes());
            f[ETH_LEN + 10..ETH_LEN + 12].fill(0);
            let ip_sum = !fold(sum16(&f[ETH_LEN..TCP_AT]));
            f[ETH_LEN + 10..ETH_LEN + 12].copy_from_slice(&ip_sum.to_be_bytes());
        }
        // For a partial checksum the field holds the pseudo-header's sum, not complemented;
        // the host adds the rest when it needs the checksum.
        let tcp_len = (f.len() - TCP_AT) as u32;
        let pseudo = sum16(&f[ETH_LEN + 12..ETH_LEN + 20]) + 6 + tcp_len;
        f[TCP_AT + 16..TCP_AT + 18].copy_from_slice(&fold(pseudo).to_be_bytes());
        let mut hdr = partial_checksum_header(TCP_AT);
        if self.segments > 1 {
            hdr[1] = GSO_TCPV4;
            hdr[2..4].copy_from_slice(&(self.hdr_len as u16).to_le_bytes());
            hdr[4..6].copy_from_slice(&(self.mss as u16).to_le_bytes());
        }
        hdr
    }
}

/// The virtio-net header of one TCP segment whose checksum is left to the host, the TCP
/// header starting at `tcp_at`.
fn partial_checksum_header(tcp_at: usize) -> [u8; VNET_HDR_LEN] {
    let mut hdr = [0u8; VNET_HDR_LEN];
    hdr[0] = F_NEEDS_CSUM;
    hdr[6..8].copy_from_slice(&(tcp_at as u16).to_le_bytes());
    hdr[8..10].copy_from_slice(&(TCP_CHECKSUM_AT as u16).to_le_bytes());
    hdr
}

/// The ones'-complement sum of `data` as big-endian 16-bit words, not yet folded.
pub(crate) fn sum16(data: &[u8]) -> u32 {
    // Summing 32-bit words into 64 bits gives the same folded sum with half the additions
    // and no carry to watch: a 64 KiB frame adds up to far less than 2^64.
    let mut words = data.chunks_exact(4);
    let mut sum: u64 = 0;
    for w in &mut words {
        sum += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let mut rest = [0u8; 4];
    rest[..words.remainder().len()].copy_from_slice(words.remainder());
    sum += u64::from(u32::from_be_bytes(rest));
    while sum > 0xffff_ffff {
        sum = (sum & 0xffff_ffff) + (sum >> 32);
    }
    (sum as u32 & 0xffff) + (sum as u32 >> 16)
}

/// Folds a sum from [`sum16`] into 16 bits.
pub(crate) fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Completes a frame's partial checksum as a virtio-net header with `F_NEEDS_CSUM` asks:
/// the ones'-complement of the sum from `start` on, stored at `start + offset`.
pub fn complete_checksum(frame: &mut [u8], start: usize, offset: usize) -> bool {
    let at = start + offset;
    if start >= frame.len() || at + 2 > frame.len() {
        return false;
    }
    let sum = !fold(sum16(&frame[start..]));
    frame[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    true
}

/// Holds back TCP segments to join them; see the [module documentation](self).
#[derive(Debug, Default)]
pub struct Coalescer {
    flows: Vec<Flow>,
    /// Buffers of flows already sent, kept for the next ones.
    spare: Vec<Vec<u8>>,
    /// A TCP segment sent on its own, with its checksum field set.
    alone: Vec<u8>,
}

/// Writes one virtio-net header and frame to the device.
pub type WriteFrame<'a> = dyn FnMut(&[u8; VNET_HDR_LEN], &[u8]) -> io::Result<()> + 'a;

impl Coalescer {
    /// True when frames are held back.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Takes `frame`: holds it back to be joined with the next ones, or, for a frame that
    /// cannot be joined, writes everything held back and then the frame. Only a segment of
    /// `full_len` bytes (a frame as large as the link takes) is held back: a shorter one
    /// ends its run, so it goes out at once, joined to its connection's held-back segments if
    /// it follows them (a lone reply is never delayed). On `WouldBlock` the frame was not
    /// taken and frames not yet written stay held back; another error lost the frame (with
    /// the segments it was joined to), as a busy Ethernet link would.
    pub fn push(
        &mut self,
        frame: &[u8],
        full_len: usize,
        write: &mut WriteFrame<'_>,
    ) -> io::Result<()> {
        let Some(seg) = data_segment(frame) else {
            self.flush(write)?;
            return self.write_alone(frame, write);
        };
        let full = frame.len() == full_len;
        // The connection (addresses and ports) finds its held-back segments, whatever their
        // headers' length, so that its frames keep their order.
        if let Some(i) = self
            .flows
            .iter()
            .position(|f| f.frame[ETH_LEN + 12..TCP_AT + 4] == frame[ETH_LEN + 12..TCP_AT + 4])
        {
            if self.flows[i].accepts(frame, &seg) {
                self.flows[i].append(frame, &seg);
                if full {
                    return Ok(());
                }
                // The frame is taken either way: a device without room keeps it held back.
                return match self.send(i, write) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
                    other => other,
                };
            }
            self.send(i, write)?;
        } else if !full {
            return self.write_alone(frame, write);
        } else if self.flows.len() == MAX_FLOWS {
            self.flush(write)?;
        }
        if !full {
            return self.write_alone(frame, write);
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(frame);
        self.flows.push(Flow {
            frame: buf,
            hdr_len: seg.hdr_len,
            mss: seg.payload,
            last: seg.payload,
            next_seq: seg.seq.wrapping_add(seg.payload as u32),
            segments: 1,
        });
        Ok(())
    }

    /// Writes a frame that is not held back; a TCP segment, whose checksum the stack left
    /// unset, with the checksum left to the host.
    fn write_alone(&mut self, frame: &[u8], write: &mut WriteFrame<'_>) -> io::Result<()> {
        // The stack sends no fragments, and no segment shorter than its header.
        let Ok(Some(seg)) = tcp_segment(frame) else {
            return write(&PLAIN, frame);
        };
        if seg.len < 20 {
            return write(&PLAIN, frame);
        }
        self.alone.clear();
        self.alone.extend_from_slice(frame);
        let field = seg.start + TCP_CHECKSUM_AT;
        if seg.start + seg.len == frame.len() {
            let pseudo = pseudo_header_sum(&seg);
            self.alone[field..field + 2].copy_from_slice(&pseudo.to_be_bytes());
            return write(&partial_checksum_header(seg.start), &self.alone);
        }
        // Bytes after the segment (padding) would enter the host's sum: complete it here.
        self.alone[field..field + 2].fill(0);
        let tcp = &self.alone[seg.start..seg.start + seg.len];
        let sum = !fold(u32::from(pseudo_header_sum(&seg)) + sum16(tcp));
        self.alone[field..field + 2].copy_from_slice(&sum.to_be_bytes());
        write(&PLAIN, &self.alone)
    }

    /// Writes flow `i` and forgets it (also when the device refused it for good).
    fn send(&mut self, i: usize, write: &mut WriteFrame<'_>) -> io::Result<()> {
        let hdr = self.flows[i].finish();
        let result = write(&hdr, &self.flows[i].frame);
        match result {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(e),
            other => {
                let flow = self.flows.swap_remove(i);
                self.spare.push(flow.frame);
                other
            }
        }
    }

    /// Writes everything held back.
    pub fn flush(&mut self, write: &mut WriteFrame<'_>) -> io::Result<()> {
        while !self.flows.is_empty() {
            self.send(self.flows.len() - 1, write)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frame length the tests treat as full-size: 100 bytes of payload.
    const FULL: usize = TCP_AT + 20 + 100;

    /// A TCP/IPv4 frame from 10.0.0.2:7 to 10.0.0.1:5000 with `payload` and `flags`.
    fn segment(seq: u32, payload: &[u8], flags: u8) -> Vec<u8> {
        let mut f = vec![0u8; TCP_AT + 20];
        f[..12].copy_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[ETH_LEN] = 0x45;
        f[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&((40 + payload.len()) as u16).to_be_bytes());
        f[ETH_LEN + 4..ETH_LEN + 6].copy_from_slice(&seq.to_be_bytes()[2..]);
        f[ETH_LEN + 6] = 0x40;
        f[ETH_LEN + 8] = 64;
        f[ETH_LEN + 9] = 6;
        f[ETH_LEN + 12..ETH_LEN + 20].copy_from_slice(&[10, 0, 0, 2, 10, 0, 0, 1]);
        f[TCP_AT..TCP_AT + 4].copy_from_slice(&[0, 7, 0x13, 0x88]);
        f[TCP_AT + 4..TCP_AT + 8].copy_from_slice(&seq.to_be_bytes());
        f[TCP_AT + 8..TCP_AT + 12].copy_from_slice(&99u32.to_be_bytes());
        f[TCP_AT + 12] = 5 << 4;
        f[TCP_AT + 13] = flags;
        f[TCP_AT + 14..TCP_AT + 16].copy_from_slice(&4096u16.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// `frame` (TCP/IPv4 without options) as it leaves alone: its checksum left to the host.
    fn left_to_host(frame: &[u8]) -> ([u8; VNET_HDR_LEN], Vec<u8>) {
        let mut f = frame.to_vec();
        let tcp_len = (f.len() - TCP_AT) as u32;
        let pseudo = fold(sum16(&f[ETH_LEN + 12..ETH_LEN + 20]) + 6 + tcp_len);
        f[TCP_AT + 16..TCP_AT + 18].copy_from_slice(&pseudo.to_be_bytes());
        ([1, 0, 0, 0, 0, 0, 34, 0, 16, 0], f)
    }

    fn collect(c: &mut Coalescer, frames: &[Vec<u8>]) -> Vec<([u8; VNET_HDR_LEN], Vec<u8>)> {
        let mut out = Vec::new();
        let mut write = |h: &[u8; VNET_HDR_LEN], f: &[u8]| {
            out.push((*h, f.to_vec()));
            Ok(())
        };
        for f in frames {
            c.push(f, FULL, &mut write).unwrap();
        }
        c.flush(&mut write).unwrap();
        out
    }

    #[test]
    fn joins_consecutive_full_segments_into_one_gso_frame() {
        let a = vec![1u8; 100];
        let b = vec![2u8; 100];
        let c = vec![3u8; 40];
        let frames = [
            segment(1000, &a, TCP_ACK),
            segment(1100, &b, TCP_ACK),
            segment(1200, &c, TCP_ACK | TCP_PSH),
        ];
        let out = collect(&mut Coalescer::default(), &frames);
        assert_eq!(out.len(), 1);
        let (hdr, f) = &out[0];
        assert_eq!(hdr, &[1, 1, 54, 0, 100, 0, 34, 0, 16, 0]);
        assert_eq!(f.len(), TCP_AT + 20 + 240);
        assert_eq!(&f[TCP_AT + 20..], [a, b, c].concat().as_slice());
        assert_eq!(be16(f, ETH_LEN + 2), 280);
        assert_eq!(f[TCP_AT + 13], TCP_ACK | TCP_PSH);
        // The IP header checksums to zero; the TCP field holds the pseudo-header's sum.
        assert_eq!(fold(sum16(&f[ETH_LEN..TCP_AT])), 0xffff);
        let pseudo = fold(sum16(&f[ETH_LEN + 12..ETH_LEN + 20]) + 6 + 260);
        assert_eq!(be16(f, TCP_AT + 16), pseudo);
        // Completed as the host would, the TCP checksum verifies.
        let mut done = f.clone();
        assert!(complete_checksum(&mut done, 34, 16));
        let check = sum16(&done[ETH_LEN + 12..ETH_LEN + 20]) + 6 + 260 + sum16(&done[TCP_AT..]);
        assert_eq!(fold(check), 0xffff);
    }

    #[test]
    fn keeps_apart_what_cannot_be_joined_and_keeps_order() {
        let p = vec![7u8; 100];
        let frames = [
            segment(1000, &p, TCP_ACK),
            // A gap in the sequence: sent on its own.
            segment(1300, &p, TCP_ACK),
            // A FIN: everything before it leaves first, then it, untouched.
            segment(1400, &[], TCP_ACK | 0x01),
            // Not IPv4 (an ARP frame).
            vec![0xff; 42],
        ];
        let mut arp = frames[3].clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        let frames = [
            frames[0].clone(),
            frames[1].clone(),
            frames[2].clone(),
            arp.clone(),
        ];
        let out = collect(&mut Coalescer::default(), &frames);
        let sent: Vec<_> = out.iter().map(|(h, f)| (*h, f.clone())).collect();
        assert_eq!(
            sent,
            vec![
                left_to_host(&frames[0]),
                left_to_host(&frames[1]),
                left_to_host(&frames[2]),
                (PLAIN, arp),
            ]
        );
    }

    #[test]
    fn a_short_segment_ends_a_run_and_a_write_error_keeps_the_frames() {
        let full = vec![1u8; 100];
        let short = vec![2u8; 10];
        let mut c = Coalescer::default();
        let mut refuse = |_: &[u8; VNET_HDR_LEN], _: &[u8]| -> io::Result<()> {
            Err(io::ErrorKind::WouldBlock.into())
        };
        c.push(&segment(0, &full, TCP_ACK), FULL, &mut refuse)
            .unwrap();
        c.push(&segment(100, &full, TCP_ACK), FULL, &mut refuse)
            .unwrap();
        // A short segment ends the run: the joined frame goes out at once; refused, it is
        // kept (the short segment with it) until the next flush.
        let short_seg = segment(200, &short, TCP_ACK | TCP_PSH);
        c.push(&short_seg, FULL, &mut refuse).unwrap();
        assert!(!c.is_empty());
        // A segment that needs a write first is not taken while the device refuses.
        assert!(
            c.push(&segment(0, &short, TCP_ACK | 0x01), FULL, &mut refuse)
                .is_err()
        );
        let out = collect(&mut c, &[]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1.len(), TCP_AT + 20 + 210);
        assert_eq!(out[0].0[4..6], 100u16.to_le_bytes());
        // A lone short segment (a reply) is written at once, never held back.
        let mut c = Coalescer::default();
        let mut sent = Vec::new();
        let mut keep = |h: &[u8; VNET_HDR_LEN], f: &[u8]| {
            sent.push((*h, f.to_vec()));
            Ok(())
        };
        c.push(&segment(0, &short, TCP_ACK | TCP_PSH), FULL, &mut keep)
            .unwrap();
        assert!(c.is_empty());
        assert_eq!(
            sent,
            vec![left_to_host(&segment(0, &short, TCP_ACK | TCP_PSH))]
        );
    }

    #[test]
    fn a_segment_with_other_options_leaves_after_what_its_connection_held_back() {
        let held = segment(0, &[1u8; 100], TCP_ACK);
        // The next segment carries 4 bytes of options (NOPs): headers of another length.
        let mut next = segment(100, &[], TCP_ACK);
        next[TCP_AT + 12] = 6 << 4;
        next.extend_from_slice(&[1, 1, 1, 1]);
        next.extend_from_slice(&[2u8; 100]);
        next[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&144u16.to_be_bytes());
        let out = collect(&mut Coalescer::default(), &[held.clone(), next.clone()]);
        assert_eq!(out, vec![left_to_host(&held), left_to_host(&next)]);
    }

    #[test]
    fn segments_sent_alone_have_their_checksum_left_to_the_host_or_completed() {
        // IPv6: the TCP header at 54, the field holding the pseudo-header's sum.
        let mut v6 = vec![0u8; 54 + 20];
        v6[12..14].copy_from_slice(&[0x86, 0xdd]);
        v6[ETH_LEN] = 0x60;
        v6[ETH_LEN + 4..ETH_LEN + 6].copy_from_slice(&25u16.to_be_bytes());
        v6[ETH_LEN + 6] = 6;
        v6[ETH_LEN + 8] = 0xfd;
        v6[ETH_LEN + 39] = 2;
        v6[54 + 12] = 5 << 4;
        v6[54 + 13] = TCP_ACK | 0x01;
        v6.extend_from_slice(b"hello");
        let out = collect(&mut Coalescer::default(), std::slice::from_ref(&v6));
        assert_eq!(out.len(), 1);
        let (hdr, f) = &out[0];
        assert_eq!(hdr, &[1, 0, 0, 0, 0, 0, 54, 0, 16, 0]);
        let pseudo = sum16(&v6[ETH_LEN + 8..54]) + 6 + 25;
        assert_eq!(be16(f, 54 + 16), fold(pseudo));
        // Completed as the host would, it verifies.
        let mut done = f.clone();
        assert!(complete_checksum(&mut done, 54, 16));
        assert_eq!(fold(pseudo + sum16(&done[54..])), 0xffff);
        // A segment followed by padding gets its whole checksum here instead.
        let mut padded = segment(5, b"abc", TCP_ACK | 0x01);
        padded.extend_from_slice(&[0xee; 3]);
        let out = collect(&mut Coalescer::default(), std::slice::from_ref(&padded));
        let (hdr, f) = &out[0];
        assert_eq!(hdr, &PLAIN);
        let check = sum16(&f[ETH_LEN + 12..ETH_LEN + 20]) + 6 + 23 + sum16(&f[TCP_AT..TCP_AT + 23]);
        assert_eq!(fold(check), 0xffff);
        assert_eq!(f[..TCP_AT + 16], padded[..TCP_AT + 16]);
        assert_eq!(f[TCP_AT + 18..], padded[TCP_AT + 18..]);
    }

    #[test]
    fn sums_match_sixteen_bit_words_for_every_length() {
        let data: Vec<u8> = (0..70_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [0, 1, 2, 3, 4, 5, 7, 1461, 65_535, 70_000] {
            let d = &data[..len];
            let mut naive: u64 = d
                .chunks(2)
                .map(|c| u64::from(c[0]) << 8 | u64::from(*c.get(1).unwrap_or(&0)))
                .sum();
            while naive > 0xffff {
                naive = (naive & 0xffff) + (naive >> 16);
            }
            assert_eq!(u64::from(fold(sum16(d))), naive, "{len} bytes");
        }
    }

    #[test]
    fn partial_checksum_bounds() {
        let mut f = vec![0u8; 10];
        assert!(!complete_checksum(&mut f, 10, 0));
        assert!(!complete_checksum(&mut f, 4, 5));
        assert!(complete_checksum(&mut f, 4, 4));
        assert_eq!(&f[8..10], &[0xff, 0xff]);
    }
}
