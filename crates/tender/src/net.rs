//! Network devices: existing tap interfaces opened with `IFF_TAP | IFF_NO_PI` (bare
//! Ethernet frames), their MTU, and MAC addresses.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUNGETIFF: libc::c_ulong = 0x8004_54d2;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;

/// An attached tap: a non-blocking fd and the interface MTU in bytes (Ethernet header
/// excluded).
#[derive(Debug)]
pub struct Tap {
    /// The tap file descriptor.
    pub fd: OwnedFd,
    /// MTU of the interface.
    pub mtu: u16,
}

fn ifreq_for(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, &src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    Ok(req)
}

/// Runs an interface ioctl (`SIOCGIF*`) on a throwaway datagram socket.
fn socket_ioctl(req: &mut libc::ifreq, request: libc::c_ulong) -> io::Result<()> {
    // SAFETY: plain socket creation; the result is checked and owned below.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `sock` is a fresh descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(sock) };
    // SAFETY: `req` is a valid ifreq that outlives the call; the kernel writes only into it.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), request, req as *mut libc::ifreq) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn mtu_of(name: &str) -> io::Result<u16> {
    let mut req = ifreq_for(name)?;
    socket_ioctl(&mut req, libc::SIOCGIFMTU)?;
    // SAFETY: SIOCGIFMTU filled the `ifru_mtu` member of the union.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    u16::try_from(mtu).map_err(|_| io::Error::from_raw_os_error(libc::ERANGE))
}

/// Turns off checksum/segmentation offloads (and so GRO/GSO) so that no aggregated frame
/// larger than the MTU reaches the guest. Failure is harmless and ignored.
fn disable_offloads(fd: RawFd) {
    // SAFETY: TUNSETOFFLOAD takes an integer argument; no memory is passed.
    unsafe { libc::ioctl(fd, TUNSETOFFLOAD, 0 as libc::c_ulong) };
}

/// Attaches to the existing tap interface `name`, which must exist and be up. A missing
/// interface is ENOENT (never created on open); a down one is ENETDOWN.
pub fn open_tap(name: &str) -> io::Result<Tap> {
    let c_name = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c_name` is a valid NUL-terminated string for the duration of the call.
    if unsafe { libc::if_nametoindex(c_name.as_ptr()) } == 0 {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    let mut flags_req = ifreq_for(name)?;
    socket_ioctl(&mut flags_req, libc::SIOCGIFFLAGS)?;
    // SAFETY: SIOCGIFFLAGS filled the `ifru_flags` member.
    if unsafe { flags_req.ifr_ifru.ifru_flags } & libc::IFF_UP as libc::c_short == 0 {
        return Err(io::Error::from_raw_os_error(libc::ENETDOWN));
    }
    let path = c"/dev/net/tun";
    // SAFETY: opening a device by a constant path; the result is checked.
    let raw = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut req = ifreq_for(name)?;
    req.ifr_ifru.ifru_flags = IFF_TAP | IFF_NO_PI;
    // SAFETY: `req` is a valid ifreq that outlives the call.
    if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF, &mut req as *mut libc::ifreq) } < 0 {
        return Err(io::Error::last_os_error());
    }
    disable_offloads(fd.as_raw_fd());
    Ok(Tap {
        mtu: mtu_of(name)?,
        fd,
    })
}

/// Adopts an already-open tap descriptor passed on the command line as `@FD`.
pub fn adopt_fd(raw: RawFd) -> io::Result<Tap> {
    // SAFETY: F_GETFD only queries the descriptor table; it fails with EBADF for a bad fd.
    if raw < 0 || unsafe { libc::fcntl(raw, libc::F_GETFD) } < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: `ifreq` is plain old data; all-zero is valid. TUNGETIFF fills it in.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    // SAFETY: `req` outlives the call; a non-tap fd just fails.
    if unsafe { libc::ioctl(raw, TUNGETIFF, &mut req as *mut libc::ifreq) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the fd was handed to us on the command line for exclusive use by the tender.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: plain fcntl calls on a descriptor we own.
    unsafe {
        let fl = libc::fcntl(raw, libc::F_GETFL);
        libc::fcntl(raw, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
    disable_offloads(raw);
    let name: String = req
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8 as char)
        .collect();
    Ok(Tap {
        mtu: mtu_of(&name).unwrap_or(1500),
        fd,
    })
}

/// A random locally administered unicast MAC address (first byte `x2`, `x6`, `xA`, `xE`).
pub fn random_mac() -> io::Result<[u8; 6]> {
    let mut mac = [0u8; 6];
    // SAFETY: getrandom writes at most `mac.len()` bytes into `mac`.
    let n = unsafe { libc::getrandom(mac.as_mut_ptr().cast(), mac.len(), 0) };
    if n != mac.len() as isize {
        return Err(io::Error::last_os_error());
    }
    mac[0] = (mac[0] & 0xfc) | 0x02;
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_macs_are_local_unicast() {
        for _ in 0..32 {
            let mac = random_mac().expect("getrandom");
            assert_eq!(mac[0] & 0x03, 0x02);
        }
    }

    #[test]
    fn missing_interface_is_enoent() {
        let e = open_tap("nosuchtap42").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(open_tap("a-name-far-too-long-for-linux").is_err());
    }
}
