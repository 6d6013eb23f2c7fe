//! The network interface: one Ethernet device.
//!
//! A device moves **whole Ethernet frames** (destination MAC, source MAC, EtherType, payload; no
//! preamble and no FCS). The largest frame is [`NetDevice::mtu`] + [`ETHERNET_HEADER_LEN`] bytes.
//!
//! Receive and transmit are **non-blocking** and follow the `Future::poll` convention: a method
//! returns [`Poll::Ready`] when it did its work, or [`Poll::Pending`] after registering the
//! context's waker, which the backend wakes once the device may be ready again. An executor can
//! therefore sleep in the backend's wait primitive until a frame arrives. [`receive`] and
//! [`transmit`] wrap the poll methods as `async fn`s.
//!
//! Backends implement this trait (tap devices on unix, hypercalls on hvt, netfront on Xen); the
//! in-memory switch used by tests implements it too. The TCP/IP stack is written against it.
#![forbid(unsafe_code)]
#![no_std]

use core::fmt;
use core::future::poll_fn;
use core::task::{Context, Poll};

/// Length of the Ethernet header (two MAC addresses and the EtherType), in bytes.
pub const ETHERNET_HEADER_LEN: usize = 14;

/// A 48-bit Ethernet MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddress = MacAddress([0xff; 6]);

    /// True for a unicast address (the group bit of the first octet is clear).
    pub fn is_unicast(&self) -> bool {
        self.0[0] & 1 == 0
    }

    /// True for a locally administered address (bit 1 of the first octet is set).
    pub fn is_local(&self) -> bool {
        self.0[0] & 2 != 0
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Error parsing a MAC address written as six `:`-separated hexadecimal octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected a MAC address like 02:00:00:00:00:01")]
pub struct ParseMacError;

impl core::str::FromStr for MacAddress {
    type Err = ParseMacError;

    fn from_str(s: &str) -> Result<Self, ParseMacError> {
        let mut mac = [0u8; 6];
        let mut parts = s.split(':');
        for octet in mac.iter_mut() {
            let part = parts.next().ok_or(ParseMacError)?;
            if part.len() != 2 {
                return Err(ParseMacError);
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| ParseMacError)?;
        }
        if parts.next().is_some() {
            return Err(ParseMacError);
        }
        Ok(MacAddress(mac))
    }
}

/// Why a receive or transmit failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// The frame to transmit is longer than MTU + header, or shorter than the header.
    #[error("frame of {len} bytes is outside 14..={max}")]
    BadFrameLength {
        /// Length of the offered frame, in bytes.
        len: usize,
        /// Largest frame the device accepts, in bytes.
        max: usize,
    },
    /// The receive buffer is shorter than MTU + header.
    #[error("receive buffer of {len} bytes is shorter than {needed}")]
    BufferTooSmall {
        /// Length of the offered buffer, in bytes.
        len: usize,
        /// Length the device needs, in bytes.
        needed: usize,
    },
    /// The host or hypervisor reported a failure; the code is backend-specific.
    #[error("network device failure (code {0})")]
    Device(i32),
}

/// One Ethernet device.
pub trait NetDevice {
    /// The device's MAC address.
    fn mac(&self) -> MacAddress;

    /// The maximum transmission unit in bytes: the largest payload after the Ethernet header.
    fn mtu(&self) -> usize;

    /// The largest whole frame, header included: `mtu() + ETHERNET_HEADER_LEN`.
    fn max_frame_len(&self) -> usize {
        self.mtu() + ETHERNET_HEADER_LEN
    }

    /// The largest frame [`poll_receive`](Self::poll_receive) may return, header included:
    /// [`max_frame_len`](Self::max_frame_len) unless the host joins received TCP segments
    /// into larger frames (the unix backend's taps, which take up to 64 KiB packets).
    fn max_receive_len(&self) -> usize {
        self.max_frame_len()
    }

    /// True for a device that stands for the host's own TCP/IP instead of an Ethernet link (the
    /// unix backend's `--net:NAME=socket`). Such a device moves no frames (both poll methods
    /// fail); a TCP/IP stack given one serves its sockets with the host's sockets instead.
    fn is_host_stack(&self) -> bool {
        false
    }

    /// True when the device handles TCP checksums, so that the stack neither checks nor
    /// computes them: it checks the TCP checksum of every frame
    /// [`poll_receive`](Self::poll_receive) returns and drops the segments that fail, and fills
    /// in the checksum of every TCP segment given to [`poll_transmit`](Self::poll_transmit),
    /// whatever its checksum field holds. The TCP checksum field of a received frame then
    /// means nothing (it may hold a partial sum the host left to fill in). The unix backend's
    /// taps do this (the host's own TCP/IP is at the other end, and takes checksums left to it).
    fn offloads_tcp_checksums(&self) -> bool {
        false
    }

    /// Receives one frame into `buf` without blocking.
    ///
    /// `buf` must hold at least [`max_receive_len`](Self::max_receive_len) bytes, otherwise the
    /// result is [`NetError::BufferTooSmall`] and no frame is consumed. On `Ready(Ok(n))` the
    /// first `n` bytes of `buf` are one whole frame. On `Pending` the waker in `cx` is
    /// registered and is woken when a frame may have arrived.
    fn poll_receive(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, NetError>>;

    /// Transmits one whole frame without blocking.
    ///
    /// A frame shorter than the header or longer than `max_frame_len()` is refused with
    /// [`NetError::BadFrameLength`]. `Ready(Ok(()))` means the device took the frame (delivery is
    /// not guaranteed, as with any Ethernet). On `Pending` the waker is registered and is woken
    /// when the device can take a frame again.
    fn poll_transmit(&mut self, cx: &mut Context<'_>, frame: &[u8]) -> Poll<Result<(), NetError>>;
}

/// Checks a frame's length against a device's limits, as every `poll_transmit` must.
pub fn check_frame_len(len: usize, max_frame_len: usize) -> Result<(), NetError> {
    if (ETHERNET_HEADER_LEN..=max_frame_len).contains(&len) {
        Ok(())
    } else {
        Err(NetError::BadFrameLength {
            len,
            max: max_frame_len,
        })
    }
}

/// Checks a receive buffer's length against a device's limits, as every `poll_receive` must.
pub fn check_receive_buffer(len: usize, max_frame_len: usize) -> Result<(), NetError> {
    if len >= max_frame_len {
        Ok(())
    } else {
        Err(NetError::BufferTooSmall {
            len,
            needed: max_frame_len,
        })
    }
}

/// Waits for one frame and copies it into `buf`; returns its length.
pub async fn receive<D: NetDevice + ?Sized>(
    dev: &mut D,
    buf: &mut [u8],
) -> Result<usize, NetError> {
    poll_fn(|cx| dev.poll_receive(cx, buf)).await
}

/// Waits until the device takes `frame`.
pub async fn transmit<D: NetDevice + ?Sized>(dev: &mut D, frame: &[u8]) -> Result<(), NetError> {
    poll_fn(|cx| dev.poll_transmit(cx, frame)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parses_and_prints() {
        let mac: MacAddress = "02:0A:ff:00:10:01".parse().unwrap();
        assert_eq!(mac.0, [0x02, 0x0a, 0xff, 0x00, 0x10, 0x01]);
        assert!(mac.is_local() && mac.is_unicast());
        let mut s = [0u8; 17];
        let mut w = &mut s[..];
        core::fmt::Write::write_fmt(&mut Cursor(&mut w), format_args!("{mac}")).unwrap();
        assert_eq!(&s, b"02:0a:ff:00:10:01");
    }

    struct Cursor<'a, 'b>(&'a mut &'b mut [u8]);
    impl core::fmt::Write for Cursor<'_, '_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let buf = core::mem::take(self.0);
            let (head, tail) = buf.split_at_mut(s.len());
            head.copy_from_slice(s.as_bytes());
            *self.0 = tail;
            Ok(())
        }
    }

    #[test]
    fn mac_rejects_malformed() {
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:00:00",
            "2:00:00:00:00:00",
            "zz:00:00:00:00:00",
            "02-00-00-00-00-00",
        ] {
            assert_eq!(bad.parse::<MacAddress>(), Err(ParseMacError), "{bad}");
        }
    }

    #[test]
    fn frame_length_limits() {
        assert_eq!(
            check_frame_len(13, 1514),
            Err(NetError::BadFrameLength { len: 13, max: 1514 })
        );
        assert!(check_frame_len(14, 1514).is_ok());
        assert!(check_frame_len(1514, 1514).is_ok());
        assert!(check_frame_len(1515, 1514).is_err());
        assert_eq!(
            check_receive_buffer(100, 1514),
            Err(NetError::BufferTooSmall {
                len: 100,
                needed: 1514
            })
        );
        assert!(check_receive_buffer(1514, 1514).is_ok());
    }
}
