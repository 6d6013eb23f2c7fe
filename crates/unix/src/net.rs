//! Net devices on TAP interfaces, or standing for the host's own TCP/IP.
//!
//! `--net:NAME=socket` binds the device to the host's TCP/IP ([`Net::host_stack`]): it moves no
//! frames, and the TCP/IP stack serves its sockets from [`crate::sockets`] instead.
//!
//! Any other value names a TAP interface, which must already exist (`ip tuntap add NAME mode tap`); it is attached with
//! `IFF_TAP | IFF_NO_PI`, so reads and writes are bare Ethernet frames. The MTU is the
//! interface's. The unikernel's MAC address is its own, not the interface's: random and locally
//! administered unless `--net-mac:NAME=` fixes it, as with the hvt tender.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::task::{Context, Poll};

use morgana_net::{MacAddress, NetDevice, NetError, check_frame_len, check_receive_buffer};

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
}

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
        req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads the valid ifreq `req` and binds the open tun descriptor.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF as _, &mut req) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let mtu = interface_mtu(ifname)?;
        Ok(Net {
            file: Some(file),
            mac: mac.unwrap_or_else(random_mac),
            mtu,
        })
    }

    /// A device standing for the host's own TCP/IP (`--net:NAME=socket`): no frames.
    pub fn host_stack() -> Net {
        Net {
            file: None,
            mac: random_mac(),
            mtu: 1500,
        }
    }

    /// The TAP descriptor, or the error a host-stack device answers frame I/O with.
    fn tap(&mut self) -> Result<&mut File, NetError> {
        self.file.as_mut().ok_or(NetError::Device(libc::EOPNOTSUPP))
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

    fn is_host_stack(&self) -> bool {
        self.file.is_none()
    }

    fn poll_receive(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, NetError>> {
        check_receive_buffer(buf.len(), self.max_frame_len())?;
        let file = self.tap()?;
        loop {
            match file.read(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait::register(file.as_raw_fd(), Interest::Read, cx.waker());
                    return Poll::Pending;
                }
                Err(e) => return Poll::Ready(Err(os_error(&e))),
            }
        }
    }

    fn poll_transmit(&mut self, cx: &mut Context<'_>, frame: &[u8]) -> Poll<Result<(), NetError>> {
        check_frame_len(frame.len(), self.max_frame_len())?;
        let file = self.tap()?;
        loop {
            match file.write(frame) {
                Ok(n) if n == frame.len() => return Poll::Ready(Ok(())),
                Ok(_) => return Poll::Ready(Err(NetError::Device(libc::EIO))),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait::register(file.as_raw_fd(), Interest::Write, cx.waker());
                    return Poll::Pending;
                }
                Err(e) => return Poll::Ready(Err(os_error(&e))),
            }
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
