//! Net devices on TAP interfaces, or standing for the host's own TCP/IP.
//!
//! `--net:NAME=socket` binds the device to the host's TCP/IP ([`Net::host_stack`]): it moves no
//! frames, and the TCP/IP stack serves its sockets from [`crate::sockets`] instead.
//!
//! Any other value names a TAP interface, which must already exist (`ip tuntap add NAME mode tap`); it is attached with
//! `IFF_TAP | IFF_NO_PI | IFF_VNET_HDR`: reads and writes are Ethernet frames behind a
//! virtio-net header, which lets consecutive TCP segments leave in one write
//! ([`crate::offload`]). The MTU is the interface's. The unikernel's MAC address is its own, not the interface's: random and locally
//! administered unless `--net-mac:NAME=` fixes it, as with the hvt tender.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::task::{Context, Poll};

use morgana_net::{MacAddress, NetDevice, NetError, check_frame_len, check_receive_buffer};

use crate::offload::{self, Coalescer, VNET_HDR_LEN};
use crate::tcp_checksum::{self, Verdict};
use crate::wait::{self, Interest};

/// The binding value that selects the host's own TCP/IP instead of a TAP interface.
pub const HOST_STACK: &str = "socket";

/// A net device: a TAP interface, or the host's own TCP/IP.
#[derive(Debug)]
pub struct Net {
    /// The TAP interface's descriptor; `None` for the host's TCP/IP.
    file: Option<File>,
    mac: MacAddress,
    mtu: usize,
    /// TCP segments held back to leave in one write; sent at the next receive.
    coalescer: Coalescer,
    /// The host may hand over joined TCP segments and partial checksums (`TUNSETOFFLOAD`).
    receive_offload: bool,
}

/// The largest frame a tap with receive offload hands over: a 64 KiB IPv6 payload behind its
/// headers.
pub const MAX_JOINED_FRAME: usize = morgana_net::ETHERNET_HEADER_LEN + 40 + 65_535;

fn ifreq_for(ifname: &str) -> io::Result<libc::ifreq> {
    let bytes = ifname.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "invalid interface name",
        ));
    }
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    Ok(req)
}

/// The MTU configured on interface `ifname`.
fn interface_mtu(ifname: &str) -> io::Result<usize> {
    let mut req = ifreq_for(ifname)?;
    // SAFETY: plain socket(2) call; the descriptor is owned by `sock` right after.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // SAFETY: SIOCGIFMTU reads the name from and writes the MTU into the valid ifreq `req`.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFMTU, &mut req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: after a successful SIOCGIFMTU the union holds the MTU.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    usize::try_from(mtu).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "negative MTU"))
}

/// A random locally administered unicast MAC address.
pub fn random_mac() -> MacAddress {
    let mut mac = [0u8; 6];
    if crate::entropy::fill(&mut mac).is_err() {
        // Without entropy, derive something unlikely to collide from the clock and the pid.
        let seed = crate::clock::wall_ns() ^ u64::from(std::process::id()) << 20;
        mac.copy_from_slice(&seed.to_le_bytes()[..6]);
    }
    mac[0] = (mac[0] & 0xfe) | 0x02;
    MacAddress(mac)
}

impl Net {
    /// Attaches to the existing TAP interface `ifname`.
    pub fn open(ifname: &str, mac: Option<MacAddress>) -> io::Result<Net> {
        let cname = CString::new(ifname)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "invalid interface name"))?;
        // SAFETY: `cname` is a valid NUL-terminated string.
        if unsafe { libc::if_nametoindex(cname.as_ptr()) } == 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no such network interface",
            ));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")?;
        let mut req = ifreq_for(ifname)?;
        req.ifr_ifru.ifru_flags =
            (libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR) as libc::c_short;
        // SAFETY: TUNSETIFF reads the valid ifreq `req` and binds the open tun descriptor.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF as _, &mut req) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let mtu = interface_mtu(ifname)?;
        // Let the host send joined TCP segments with their checksums left to us: one read
        // then brings up to 64 KiB. Without it (an old kernel) frames come one by one.
        let offloads = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6;
        // SAFETY: TUNSETOFFLOAD takes its flags by value on the open tun descriptor.
        let receive_offload =
            unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETOFFLOAD as _, offloads) } == 0;
        Ok(Net {
            file: Some(file),
            mac: mac.unwrap_or_else(random_mac),
            mtu,
            coalescer: Coalescer::default(),
            receive_offload,
        })
    }

    /// A device standing for the host's own TCP/IP (`--net:NAME=socket`): no frames.
    pub fn host_stack() -> Net {
        Net {
            file: None,
            mac: random_mac(),
            mtu: 1500,
            coalescer: Coalescer::default(),
            receive_offload: false,
        }
    }

    /// The TAP descriptor, or the error a host-stack device answers frame I/O with.
    fn tap(&self) -> Result<RawFd, NetError> {
        self.file
            .as_ref()
            .map(File::as_raw_fd)
            .ok_or(NetError::Device(libc::EOPNOTSUPP))
    }

    /// Writes what the coalescer holds back; on `Pending` the waker waits for room.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), NetError>> {
        let fd = self.tap()?;
        match self
            .coalescer
            .flush(&mut |hdr, frame| write_frame(fd, hdr, frame))
        {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait::register(fd, Interest::Write, cx.waker());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(os_error(&e))),
        }
    }
}

/// One `writev(2)` of a virtio-net header and a frame, retried on `EINTR`.
fn write_frame(fd: RawFd, hdr: &[u8; VNET_HDR_LEN], frame: &[u8]) -> io::Result<()> {
    let iov = [
        libc::iovec {
            iov_base: hdr.as_ptr() as *mut libc::c_void,
            iov_len: hdr.len(),
        },
        libc::iovec {
            iov_base: frame.as_ptr() as *mut libc::c_void,
            iov_len: frame.len(),
        },
    ];
    loop {
        // SAFETY: both iovecs point at live buffers of the given lengths, which writev only
        // reads; `fd` is the tap's open descriptor.
        let n = unsafe { libc::writev(fd, iov.as_ptr(), 2) };
        if n >= 0 {
            // A tap takes a frame whole or not at all.
            return if n as usize == hdr.len() + frame.len() {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(libc::EIO))
            };
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// One `readv(2)` of a virtio-net header and a frame; returns the frame's length.
fn read_frame(fd: RawFd, hdr: &mut [u8; VNET_HDR_LEN], buf: &mut [u8]) -> io::Result<usize> {
    let iov = [
        libc::iovec {
            iov_base: hdr.as_mut_ptr().cast(),
            iov_len: hdr.len(),
        },
        libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        },
    ];
    loop {
        // SAFETY: both iovecs point at live, exclusively borrowed buffers of the given
        // lengths; `fd` is the tap's open descriptor.
        let n = unsafe { libc::readv(fd, iov.as_ptr(), 2) };
        if n >= 0 {
            return (n as usize)
                .checked_sub(VNET_HDR_LEN)
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EIO));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn os_error(e: &io::Error) -> NetError {
    NetError::Device(e.raw_os_error().unwrap_or(-1))
}

impl NetDevice for Net {
    fn mac(&self) -> MacAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn max_receive_len(&self) -> usize {
        if self.receive_offload {
            MAX_JOINED_FRAME.max(self.max_frame_len())
        } else {
            self.max_frame_len()
        }
    }

    fn is_host_stack(&self) -> bool {
        self.file.is_none()
    }

    fn poll_receive(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, NetError>> {
        check_receive_buffer(buf.len(), self.max_receive_len())?;
        let fd = self.tap()?;
        // The stack receives before it sends again: the segments it held back leave now. A
        // tap that has no room for them yet wakes the task when it has; one that refused
        // them (they are dropped) is reported as this call's error.
        if let Poll::Ready(Err(e)) = self.poll_flush(cx) {
            return Poll::Ready(Err(e));
        }
        loop {
            let mut hdr = [0u8; VNET_HDR_LEN];
            let n = match read_frame(fd, &mut hdr, buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait::register(fd, Interest::Read, cx.waker());
                    return Poll::Pending;
                }
                Err(e) => return Poll::Ready(Err(os_error(&e))),
            };
            // A frame from the host with its checksum left to us (receive offload).
            let partial = (hdr[0] & offload::F_NEEDS_CSUM != 0).then(|| {
                (
                    usize::from(u16::from_le_bytes([hdr[6], hdr[7]])),
                    usize::from(u16::from_le_bytes([hdr[8], hdr[9]])),
                )
            });
            match (tcp_checksum::check(&buf[..n], partial), partial) {
                (Verdict::Pass, _) => return Poll::Ready(Ok(n)),
                (Verdict::Complete, Some((start, offset))) => {
                    if !offload::complete_checksum(&mut buf[..n], start, offset) {
                        return Poll::Ready(Err(NetError::Device(libc::EINVAL)));
                    }
                    return Poll::Ready(Ok(n));
                }
                // Dropped as the stack drops a segment with a bad checksum; the next one may
                // be waiting already.
                _ => {}
            }
        }
    }

    fn offloads_tcp_checksums(&self) -> bool {
        // Every frame `poll_receive` returns went through `tcp_checksum::check`, and every
        // TCP segment sent leaves with its checksum left to the host (`offload::Coalescer`).
        self.file.is_some()
    }

    fn poll_transmit(&mut self, cx: &mut Context<'_>, frame: &[u8]) -> Poll<Result<(), NetError>> {
        check_frame_len(frame.len(), self.max_frame_len())?;
        let fd = self.tap()?;
        let full_len = self.max_frame_len();
        match self
            .coalescer
            .push(frame, full_len, &mut |hdr, f| write_frame(fd, hdr, f))
        {
            Ok(()) => {
                if !self.coalescer.is_empty() {
                    // Held back: have the stack's task run once more, so that its next
                    // receive sends it even if nothing else wakes the task.
                    cx.waker().wake_by_ref();
                }
                Poll::Ready(Ok(()))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait::register(fd, Interest::Write, cx.waker());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(os_error(&e))),
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            wait::forget(file.as_raw_fd());
        }
    }
}
