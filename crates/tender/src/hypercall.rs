//! The hvt hypercalls (spec 2.6). The guest passes the guest-physical address of an argument
//! struct; every struct, data pointer, length and halt cookie goes through
//! [`GuestMemory::translate`] before the tender touches it.

use crate::block::request_in_range;
use crate::error::TenderError;
use crate::manifest::{DeviceType, Manifest};
use crate::memory::{GuestAddress, GuestMemory, HostRegion};
use crate::poll::Poller;
use core::mem::offset_of;
use morgana_hvt_abi::hypercall::{
    HcBlockIo, HcHalt, HcNetIo, HcPoll, HcPuts, HcWalltime, Hypercall, SOLO5_R_AGAIN,
    SOLO5_R_EINVAL, SOLO5_R_OK,
};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

pub use morgana_hvt_abi::hypercall::{
    HVT_HALT_COOKIE_MAX as HALT_COOKIE_MAX, HVT_HYPERCALL_PIO_BASE as PIO_BASE,
    HVT_HYPERCALL_PIO_COUNT as PIO_COUNT,
};

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
    let blocks = || dev.any_attached(DeviceType::Block);
    let nets = || dev.any_attached(DeviceType::Net);
    match Hypercall::from_number(number) {
        Some(Hypercall::Walltime) => resume(walltime(gpa, mem)),
        Some(Hypercall::Puts) => resume(puts(gpa, mem)),
        Some(Hypercall::Poll) => resume(poll(gpa, mem, dev)),
        Some(call @ (Hypercall::BlockWrite | Hypercall::BlockRead)) if blocks() => {
            resume(block(call == Hypercall::BlockWrite, gpa, mem, dev))
        }
        Some(Hypercall::NetWrite) if nets() => resume(net_write(gpa, mem, dev)),
        Some(Hypercall::NetRead) if nets() => resume(net_read(gpa, mem, dev)),
        Some(Hypercall::Halt) => halt(gpa, mem),
        _ => Err(TenderError::InvalidHypercall(number)),
    }
}

/// The argument structure of `N` bytes at `gpa`: its checked guest region and a copy of its
/// bytes to decode.
fn argument<'m, const N: usize>(
    gpa: GuestAddress,
    mem: &'m GuestMemory,
) -> Result<(HostRegion<'m>, [u8; N]), TenderError> {
    let region = mem.translate(gpa, N as u64)?;
    let mut bytes = [0; N];
    region.read(0, &mut bytes);
    Ok((region, bytes))
}

fn walltime(gpa: GuestAddress, mem: &GuestMemory) -> Result<(), TenderError> {
    let (arg, _) = argument::<{ HcWalltime::SIZE }>(gpa, mem)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    arg.write_u64(offset_of!(HcWalltime, nsecs), now);
    Ok(())
}

fn puts(gpa: GuestAddress, mem: &GuestMemory) -> Result<(), TenderError> {
    let (_, bytes) = argument(gpa, mem)?;
    let a = HcPuts::decode(&bytes);
    let data = mem.translate(GuestAddress(a.data), a.len)?;
    write_all(libc::STDOUT_FILENO, data.as_ptr(), data.len())
        .map_err(|e| TenderError::HostIo("console write failed", e))
}

fn poll(gpa: GuestAddress, mem: &GuestMemory, dev: &Devices) -> Result<(), TenderError> {
    let (arg, bytes) = argument(gpa, mem)?;
    let a = HcPoll::decode(&bytes);
    let (ready, count) = dev
        .poller
        .wait(a.timeout_nsecs)
        .map_err(|e| TenderError::HostIo("poll failed", e))?;
    arg.write_u64(offset_of!(HcPoll, ready_set), ready);
    arg.write_u32(offset_of!(HcPoll, ret), count);
    Ok(())
}

fn block(
    write: bool,
    gpa: GuestAddress,
    mem: &GuestMemory,
    dev: &Devices,
) -> Result<(), TenderError> {
    let (arg, bytes) = argument(gpa, mem)?;
    let a = HcBlockIo::decode(&bytes);
    let ret = offset_of!(HcBlockIo, ret);
    let target = dev
        .manifest
        .attached_entry(a.handle, DeviceType::Block)
        .zip(dev.fd(a.handle));
    let Some((entry, fd)) = target else {
        arg.write_u32(ret, SOLO5_R_EINVAL);
        return Ok(());
    };
    if !request_in_range(entry.capacity(), a.offset, a.len) || (write && entry.read_only()) {
        arg.write_u32(ret, SOLO5_R_EINVAL);
        return Ok(());
    }
    let buf = mem.translate(GuestAddress(a.data), a.len)?;
    let what = if write {
        "block write failed"
    } else {
        "block read failed"
    };
    let mut done = 0usize;
    while done < buf.len() {
        let pos = (a.offset + done as u64) as libc::off_t;
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
    arg.write_u32(ret, SOLO5_R_OK);
    Ok(())
}

/// The tap of the attached NET_BASIC device a net hypercall's argument names; `None`, with
/// EINVAL written to its `ret`, otherwise.
fn net_tap(arg: &HostRegion<'_>, a: &HcNetIo, dev: &Devices) -> Option<RawFd> {
    let fd = dev
        .manifest
        .attached_entry(a.handle, DeviceType::Net)
        .and(dev.fd(a.handle));
    if fd.is_none() {
        arg.write_u32(offset_of!(HcNetIo, ret), SOLO5_R_EINVAL);
    }
    fd
}

fn net_write(gpa: GuestAddress, mem: &GuestMemory, dev: &Devices) -> Result<(), TenderError> {
    let (arg, bytes) = argument(gpa, mem)?;
    let a = HcNetIo::decode(&bytes);
    let Some(fd) = net_tap(&arg, &a, dev) else {
        return Ok(());
    };
    let frame = mem.translate(GuestAddress(a.data), a.len)?;
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
    arg.write_u32(offset_of!(HcNetIo, ret), SOLO5_R_OK);
    Ok(())
}

fn net_read(gpa: GuestAddress, mem: &GuestMemory, dev: &Devices) -> Result<(), TenderError> {
    let (arg, bytes) = argument(gpa, mem)?;
    let a = HcNetIo::decode(&bytes);
    let Some(fd) = net_tap(&arg, &a, dev) else {
        return Ok(());
    };
    let buf = mem.translate(GuestAddress(a.data), a.len)?;
    // SAFETY: `buf` is a checked, writable guest region of `buf.len()` bytes.
    let n = unsafe { libc::read(fd, buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::WouldBlock {
            return Err(TenderError::HostIo("net read failed", e));
        }
    }
    if n <= 0 {
        arg.write_u32(offset_of!(HcNetIo, ret), SOLO5_R_AGAIN);
    } else {
        arg.write_u64(offset_of!(HcNetIo, len), n as u64);
        arg.write_u32(offset_of!(HcNetIo, ret), SOLO5_R_OK);
    }
    Ok(())
}

fn halt(gpa: GuestAddress, mem: &GuestMemory) -> Result<Outcome, TenderError> {
    let (_, bytes) = argument(gpa, mem)?;
    let a = HcHalt::decode(&bytes);
    if a.cookie != 0 {
        mem.translate(GuestAddress(a.cookie), HALT_COOKIE_MAX)?;
    }
    Ok(Outcome::Halt(a.exit_status as i32))
}
