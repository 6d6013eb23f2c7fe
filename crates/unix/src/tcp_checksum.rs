//! TCP checksums on a tap: checked here on receive, left to the host on send.
//!
//! Most frames a tap hands over come from the host's own TCP/IP with their TCP checksum left
//! to be filled in (`VIRTIO_NET_HDR_F_NEEDS_CSUM`): they never crossed a wire, so there is
//! nothing to check, and completing the checksum only for the stack to verify it again cost
//! two passes over every received byte. In the other direction the host takes segments whose
//! checksum is left to it (and, delivering them locally, never computes it), which spares the
//! stack a pass over every byte sent. Together that was a tenth of the echo-server's time in
//! bulk transfers. So the device declares that it handles TCP checksums
//! ([`morgana_net::NetDevice::offloads_tcp_checksums`]): [`check`] passes host frames as they
//! are and verifies every other TCP segment, IPv4 or IPv6, with the backend's own sum; the
//! [`crate::offload::Coalescer`] sends every TCP segment with the pseudo-header sum in its
//! checksum field and `F_NEEDS_CSUM`. Frames that are not TCP are left to the stack, which
//! still checks and computes their checksums.

use crate::offload::{fold, sum16};

use morgana_net::ETHERNET_HEADER_LEN as ETH_LEN;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const PROTO_TCP: u8 = 6;
const IPV6_LEN: usize = 40;
/// Offset of the checksum field in a TCP header.
pub const TCP_CHECKSUM_AT: usize = 16;

/// What to do with a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the stack as it is.
    Pass,
    /// Not a TCP segment, with a partial checksum (UDP from the host): complete it, then hand
    /// the frame to the stack, which verifies it.
    Complete,
    /// A TCP segment whose checksum is wrong, or that cannot be checked (an IP fragment, which
    /// the stack would drop as well): drop it.
    Drop,
}

/// Where a frame's TCP segment is, if it carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TcpSegment {
    /// Offset of the TCP header in the frame.
    pub(crate) start: usize,
    /// TCP header and payload, in bytes.
    pub(crate) len: usize,
    /// Sum of the pseudo-header's addresses, not yet folded.
    addresses: u32,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

impl TcpSegment {
    /// The pseudo-header's sum (addresses, protocol and TCP length, a 32-bit field for IPv6
    /// that sums the same for segments under 64 KiB), not yet folded.
    fn pseudo_header(&self) -> u32 {
        let len = self.len as u32;
        self.addresses + u32::from(PROTO_TCP) + (len >> 16) + (len & 0xffff)
    }
}

/// The folded, uncomplemented pseudo-header sum that a TCP segment's checksum field holds
/// when the checksum is left to the host (`F_NEEDS_CSUM` from the segment's start).
pub(crate) fn pseudo_header_sum(segment: &TcpSegment) -> u16 {
    fold(segment.pseudo_header())
}

/// Finds the TCP segment of an IPv4 or IPv6 frame; `Err(())` for a TCP fragment.
pub(crate) fn tcp_segment(frame: &[u8]) -> Result<Option<TcpSegment>, ()> {
    if frame.len() < ETH_LEN + 20 {
        return Ok(None);
    }
    match be16(frame, 12) {
        ETHERTYPE_IPV4 => {
            let ip = &frame[ETH_LEN..];
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(be16(ip, 2));
            // Malformed headers are the stack's to reject, not ours.
            if ip[0] >> 4 != 4 || ip[9] != PROTO_TCP || ihl < 20 || total < ihl || total > ip.len()
            {
                return Ok(None);
            }
            // More fragments, or an offset: part of a segment, which cannot be checked alone.
            if be16(ip, 6) & 0x3fff != 0 {
                return Err(());
            }
            Ok(Some(TcpSegment {
                start: ETH_LEN + ihl,
                len: total - ihl,
                addresses: sum16(&ip[12..20]),
            }))
        }
        ETHERTYPE_IPV6 => {
            if frame.len() < ETH_LEN + IPV6_LEN || frame[ETH_LEN] >> 4 != 6 {
                return Ok(None);
            }
            let ip = &frame[ETH_LEN..];
            let end = IPV6_LEN + usize::from(be16(ip, 4));
            if end > ip.len() {
                return Ok(None);
            }
            // Walk the extension headers the stack also walks (hop-by-hop, routing,
            // destination options) to the TCP header.
            let (mut next, mut at) = (ip[6], IPV6_LEN);
            loop {
                match next {
                    PROTO_TCP => break,
                    0 | 43 | 60 if at + 2 <= end => {
                        next = ip[at];
                        at += (usize::from(ip[at + 1]) + 1) * 8;
                    }
                    // A fragment header: as for IPv4.
                    44 => return Err(()),
                    _ => return Ok(None),
                }
            }
            if at > end {
                return Ok(None);
            }
            Ok(Some(TcpSegment {
                start: ETH_LEN + at,
                len: end - at,
                addresses: sum16(&ip[8..40]),
            }))
        }
        _ => Ok(None),
    }
}

/// Decides on a frame read from the tap. `partial` is `Some((csum_start, csum_offset))` when
/// the virtio-net header has `F_NEEDS_CSUM`: a TCP segment whose TCP checksum is the one left
/// to fill in came from the host's own TCP/IP and passes as it is; a partial checksum anywhere
/// else in a TCP segment is not one the host makes, and the segment is dropped rather than
/// guessed at.
pub fn check(frame: &[u8], partial: Option<(usize, usize)>) -> Verdict {
    let segment = match tcp_segment(frame) {
        Ok(Some(segment)) => segment,
        Ok(None) if partial.is_some() => return Verdict::Complete,
        Ok(None) => return Verdict::Pass,
        Err(()) => return Verdict::Drop,
    };
    if let Some((start, offset)) = partial {
        return if start == segment.start && offset == TCP_CHECKSUM_AT {
            Verdict::Pass
        } else {
            Verdict::Drop
        };
    }
    if segment.len < 20 {
        // Shorter than a TCP header: the stack rejects it, and there is no field to check.
        return Verdict::Pass;
    }
    let tcp = &frame[segment.start..segment.start + segment.len];
    if fold(segment.pseudo_header() + sum16(tcp)) == 0xffff {
        Verdict::Pass
    } else {
        Verdict::Drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 TCP frame from 10.0.0.1:5000 to 10.0.0.2:7 with `payload`, checksum correct.
    fn ipv4_segment(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; ETH_LEN + 40];
        f[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        let ip = ETH_LEN;
        f[ip] = 0x45;
        f[ip + 2..ip + 4].copy_from_slice(&((40 + payload.len()) as u16).to_be_bytes());
        f[ip + 6] = 0x40;
        f[ip + 8] = 64;
        f[ip + 9] = PROTO_TCP;
        f[ip + 12..ip + 20].copy_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        let t = ip + 20;
        f[t..t + 4].copy_from_slice(&[0x13, 0x88, 0, 7]);
        f[t + 12] = 5 << 4;
        f[t + 13] = 0x18;
        f.extend_from_slice(payload);
        let len = (20 + payload.len()) as u32;
        let sum = sum16(&f[ip + 12..ip + 20]) + 6 + len + sum16(&f[t..]);
        f[t + 16..t + 18].copy_from_slice(&(!fold(sum)).to_be_bytes());
        f
    }

    /// An IPv6 TCP frame with `ext` extension-header bytes (whose first byte is set to TCP),
    /// checksum correct.
    fn ipv6_segment(first: u8, ext: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; ETH_LEN + IPV6_LEN];
        f[12..14].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
        let ip = ETH_LEN;
        f[ip] = 0x60;
        f[ip + 4..ip + 6].copy_from_slice(&((ext.len() + 20 + payload.len()) as u16).to_be_bytes());
        f[ip + 6] = first;
        f[ip + 7] = 64;
        f[ip + 8..ip + 24].copy_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        f[ip + 24..ip + 40].copy_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        f.extend_from_slice(ext);
        let t = f.len();
        f.extend_from_slice(&[0x13, 0x88, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 5 << 4, 0x18]);
        f.extend_from_slice(&[0; 6]);
        f.extend_from_slice(payload);
        let len = (20 + payload.len()) as u32;
        let sum = sum16(&f[ip + 8..ip + 40]) + 6 + len + sum16(&f[t..]);
        f[t + 16..t + 18].copy_from_slice(&(!fold(sum)).to_be_bytes());
        f
    }

    #[test]
    fn good_segments_pass_and_damaged_ones_are_dropped() {
        for payload in [&b""[..], b"x", b"hello, world", &[0xffu8; 1461]] {
            let good = ipv4_segment(payload);
            assert_eq!(check(&good, None), Verdict::Pass);
            // Any flipped bit, in the addresses, the header or the payload, is caught.
            for at in [ETH_LEN + 12, ETH_LEN + 19, ETH_LEN + 20, good.len() - 1] {
                let mut bad = good.clone();
                bad[at] ^= 0x04;
                assert_eq!(check(&bad, None), Verdict::Drop, "byte {at}");
            }
        }
        // Ethernet padding after the IP packet is not part of the sum.
        let mut padded = ipv4_segment(b"");
        padded.extend_from_slice(&[0xaa; 6]);
        assert_eq!(check(&padded, None), Verdict::Pass);
    }

    #[test]
    fn ipv6_segments_are_checked_behind_extension_headers() {
        let plain = ipv6_segment(PROTO_TCP, &[], b"abc");
        assert_eq!(check(&plain, None), Verdict::Pass);
        // Hop-by-hop options (8 bytes: next header TCP, length 0, padding).
        let hop = ipv6_segment(0, &[PROTO_TCP, 0, 1, 4, 0, 0, 0, 0], b"abcd");
        assert_eq!(check(&hop, None), Verdict::Pass);
        for frame in [plain, hop] {
            let mut bad = frame.clone();
            *bad.last_mut().unwrap() ^= 1;
            assert_eq!(check(&bad, None), Verdict::Drop);
        }
        // A fragment header: not checkable alone.
        let frag = ipv6_segment(44, &[PROTO_TCP, 0, 0, 1, 0, 0, 0, 9], b"abcd");
        assert_eq!(check(&frag, None), Verdict::Drop);
    }

    #[test]
    fn host_segments_with_the_checksum_left_to_fill_pass_unchecked() {
        let mut f = ipv4_segment(b"data");
        f[ETH_LEN + 36..ETH_LEN + 38].copy_from_slice(&[0x12, 0x34]);
        assert_eq!(check(&f, Some((ETH_LEN + 20, 16))), Verdict::Pass);
        // A partial checksum somewhere else does not vouch for the TCP one.
        assert_eq!(check(&f, Some((ETH_LEN + 20, 6))), Verdict::Drop);
        assert_eq!(check(&f, Some((ETH_LEN, 16))), Verdict::Drop);
        // Other frames with a partial checksum have it completed for the stack to verify.
        let mut udp = ipv4_segment(b"x");
        udp[ETH_LEN + 9] = 17;
        assert_eq!(check(&udp, Some((ETH_LEN + 20, 6))), Verdict::Complete);
    }

    #[test]
    fn fragments_are_dropped_and_other_frames_left_to_the_stack() {
        let mut more = ipv4_segment(b"part");
        more[ETH_LEN + 6] = 0x20;
        assert_eq!(check(&more, None), Verdict::Drop);
        let mut later = ipv4_segment(b"part");
        later[ETH_LEN + 7] = 0x10;
        assert_eq!(check(&later, None), Verdict::Drop);
        // UDP, ARP, a truncated or malformed header, a header longer than the frame.
        let mut udp = ipv4_segment(b"x");
        udp[ETH_LEN + 9] = 17;
        let mut arp = vec![0u8; 42];
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        let mut long = ipv4_segment(b"x");
        long[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&2000u16.to_be_bytes());
        let mut bad_ihl = ipv4_segment(b"x");
        bad_ihl[ETH_LEN] = 0x44;
        let mut short_tcp = ipv4_segment(b"");
        short_tcp[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&30u16.to_be_bytes());
        let v6_short = ipv6_segment(PROTO_TCP, &[], b"")[..ETH_LEN + 30].to_vec();
        for frame in [udp, arp, long, bad_ihl, short_tcp, v6_short, vec![0u8; 10]] {
            assert_eq!(check(&frame, None), Verdict::Pass);
        }
    }
}
