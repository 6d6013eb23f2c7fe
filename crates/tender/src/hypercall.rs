//! The hvt hypercalls (spec 2.6). The guest passes the guest-physical address of an argument
//! struct; every struct, data pointer, length and halt cookie goes through
//! [`GuestMemory::translate`] before the tender touches it.

use crate::block::request_in_range;
use crate::error::TenderError;
use crate::manifest::{DeviceType, Manifest};
use crate::memory::{GuestAddress, GuestMemory, HostRegion};
use crate::poll::Poller;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// First hypercall port; hypercall n uses port `PIO_BASE + n`.
pub const PIO_BASE: u16 = 0x500;
/// Number of hypercall ports, the reserved number 0 included.
pub const PIO_COUNT: u16 = 9;

/// Hypercall numbers.
pub mod nr {
    /// Host wall-clock time.
    pub const WALLTIME: u16 = 1;
    /// Console output.
    pub const PUTS: u16 = 2;
    /// Wait for a timeout or network readiness.
    pub const POLL: u16 = 3;
    /// Write to a block device.
    pub const BLOCK_WRITE: u16 = 4;
    /// Read from a block device.
    pub const BLOCK_READ: u16 = 5;
    /// Send a frame.
    pub const NET_WRITE: u16 = 6;
    /// Receive a frame.
    pub const NET_READ: u16 = 7;
    /// Stop the guest.
    pub const HALT: u16 = 8;
}

/// Bytes a non-null halt cookie must make readable.
pub const HALT_COOKIE_MAX: u64 = 512;

const R_OK: u32 = 0;
const R_AGAIN: u32 = 1;
const R_EINVAL: u32 = 2;

/// What the run loop does after a hypercall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Resume the guest.
    Resume,
    /// The guest halted with this status.
    Halt(i32),
}

/// Host state the hypercalls act on.
#[derive(Debug)]
pub struct Devices {
    /// The filled-in manifest (handle = index).
    pub manifest: Manifest,
    /// Host fd of each attached device, by handle.
    pub host_fds: Vec<Option<OwnedFd>>,
    /// The POLL epoll set.
    pub poller: Poller,
}

impl Devices {
    fn any_attached(&self, t: DeviceType) -> bool {
        self.manifest
            .entries()
            .iter()
            .any(|e| e.device_type == t && e.attached())
    }

    fn fd(&self, handle: u64) -> Option<RawFd> {
        let slot = self.host_fds.get(usize::try_from(handle).ok()?)?;
        slot.as_ref().map(|fd| fd.as_raw_fd())
    }
}

/// Writes all of `len` bytes at `ptr` to `fd`, retrying on EINTR and partial writes.
fn write_all(fd: RawFd, ptr: *const u8, len: usize) -> io::Result<()> {
    let mut done = 0;
    while done < len {
        // SAFETY: `ptr..ptr+len` is a checked guest region (or host buffer) valid for reads.
        let n = unsafe { libc::write(fd, ptr.add(done).cast(), len - done) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::WriteZero));
        }
        done += n as usize;
    }
    Ok(())
}

/// Handles hypercall `number` with its argument struct at `gpa`.
pub fn dispatch(
    number: u16,
    gpa: GuestAddress,
    mem: &GuestMemory,
    dev: &Devices,
) -> Result<Outcome, TenderError> {
    let resume = |r: Result<(), TenderError>| r.map(|()| Outcome::Resume);
    match number {
        nr::WALLTIME => resume(walltime(gpa, mem)),
        nr::PUTS => resume(puts(gpa, mem)),
        nr::POLL => resume(poll(gpa, mem, dev)),
        nr::BLOCK_WRITE | nr::BLOCK_READ if dev.any_attached(DeviceType::Block) => {
            resume(block(number == nr::BLOCK_WRITE, gpa, mem, dev))
        }
        nr::NET_WRITE if dev.any_attached(DeviceType::Net) => resume(net_write(gpa, mem, dev)),
        nr::NET_READ if dev.any_attached(DeviceType::Net) => resume(net_read(gpa, mem, dev)),
        nr::HALT => halt(gpa, mem),
        other => Err(TenderError::InvalidHypercall(other)),
    }
}

fn walltime(gpa: GuestAddress, mem: &GuestMemory) -> Result<(), TenderError> {
    let arg = mem.translate(gpa, 8)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    arg.write_u64(0, now);
    Ok(())
}

fn puts(gpa: GuestAddress, mem: &GuestMemory) -> Result<(), TenderError> {
    let arg = mem.translate(gpa, 16)?;
    let data = mem.translate(GuestAddress(arg.read_u64(0)), arg.read_u64(8))?;
    write_all(libc::STDOUT_FILENO, data.as_ptr(), data.len())
        .map_err(|e| TenderError::HostIo("console write failed", e))
}

fn poll(gpa: GuestAddress, mem: &GuestMemory, dev: &Devices) -> Result<(), TenderError> {
    let arg = mem.translate(gpa, 24)?;
    let timeout = arg.read_u64(0);
    let (ready, count) = dev
        .poller
        .wait(timeout)
        .map_err(|e| TenderError::HostIo("poll failed", e))?;
    arg.write_u64(8, ready);
    arg.write_u32(16, count);
    Ok(())
}

fn block(
    write: bool,
    gpa: GuestAddress,
    mem: &GuestMemory,
    dev: &Devices,
) -> Result<(), TenderError> {
    let arg = mem.translate(gpa, 40)?;
    let (handle, offset, data, len) = (
        arg.read_u64(0),
        arg.read_u64(8),
        arg.read_u64(16),
        arg.read_u64(24),
    );
    let target = dev
        .manifest
        .attached_entry(handle, DeviceType::Block)
        .zip(dev.fd(handle));
    let Some((entry, fd)) = target else {
        arg.write_u32(32, R_EINVAL);
        return Ok(());
    };
    if !request_in_range(entry.capacity(), offset, len) {
        arg.write_u32(32, R_EINVAL);
        return Ok(());
    }
    let buf = mem.translate(GuestAddress(data), len)?;
    let what = if write {
        "block write failed"
    } else {
        "block read failed"
    };
    let mut done = 0usize;
    while done < buf.len() {
        let pos = (offset + done as u64) as libc::off_t;
        // SAFETY: `buf` is a checked guest region of `buf.len()` bytes; the vCPU is stopped.
        let n = unsafe {
            let p = buf.as_ptr().add(done);
            if write {
                libc::pwrite64(fd, p.cast(), buf.len() - done, pos)
            } else {
                libc::pread64(fd, p.cast(), buf.len() - done, pos)
            }
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(TenderError::HostIo(what, e));
        }
        if n == 0 {
            return Err(TenderError::ShortIo(what, done, buf.len()));
        }
        done += n as usize;
    }
    arg.write_u32(32, R_OK);
    Ok(())
}

/// The tap of the attached NET_BASIC device named by the handle at offset 0 of a net
/// hypercall's struct; `None`, with EINVAL written to its `ret` at offset 24, otherwise.
fn net_tap(arg: &HostRegion<'_>, dev: &Devices) -> Option<RawFd> {
    let handle = arg.read_u64(0);
    let fd = dev
        .manifest
        .attached_entry(handle, DeviceType::Net)
        .and(dev.fd(handle));
    if fd.is_none() {
        arg.write_u32(24, R_EINVAL);
    }
    fd
}

fn net_write(gpa: GuestAddress, mem: &GuestMemory, dev: &Devices) -> Result<(), TenderError> {
    let arg = mem.translate(gpa, 32)?;
    let Some(fd) = net_tap(&arg, dev) else {
        return Ok(());
    };
    let frame = mem.translate(GuestAddress(arg.read_u64(8)), arg.read_u64(16))?;
    // SAFETY: `frame` is a checked guest region; one write() sends one frame to the tap.
    let n = unsafe { libc::write(fd, frame.as_ptr().cast(), frame.len()) };
    if n < 0 {
        return Err(TenderError::HostIo(
            "net write failed",
            io::Error::last_os_error(),
        ));
    }
    if n as usize != frame.len() {
        return Err(TenderError::ShortIo(
            "net write failed",
            n as usize,
            frame.len(),
        ));
    }
    arg.write_u32(24, R_OK);
    Ok(())
}

fn net_read(gpa: GuestAddress, mem: &GuestMemory, dev: &Devices) -> Result<(), TenderError> {
    let arg = mem.translate(gpa, 32)?;
    let Some(fd) = net_tap(&arg, dev) else {
        return Ok(());
    };
    let buf = mem.translate(GuestAddress(arg.read_u64(8)), arg.read_u64(16))?;
    // SAFETY: `buf` is a checked, writable guest region of `buf.len()` bytes.
    let n = unsafe { libc::read(fd, buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::WouldBlock {
            return Err(TenderError::HostIo("net read failed", e));
        }
    }
    if n <= 0 {
        arg.write_u32(24, R_AGAIN);
    } else {
        arg.write_u64(16, n as u64);
        arg.write_u32(24, R_OK);
    }
    Ok(())
}

fn halt(gpa: GuestAddress, mem: &GuestMemory) -> Result<Outcome, TenderError> {
    let arg = mem.translate(gpa, 16)?;
    let cookie = arg.read_u64(0);
    if cookie != 0 {
        mem.translate(GuestAddress(cookie), HALT_COOKIE_MAX)?;
    }
    let mut status = [0u8; 4];
    arg.read(8, &mut status);
    Ok(Outcome::Halt(i32::from_le_bytes(status)))
}
