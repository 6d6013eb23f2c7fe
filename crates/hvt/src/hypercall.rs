//! The hypercalls: an `outl` of the argument struct's address to port `0x500 + n`.
//!
//! Each hypercall gets one safe wrapper. The argument struct lives on the stack; the tender
//! reads it, reads or writes the buffer it points at, fills in the OUT fields and resumes the
//! guest, all before `outl` retires. The asm therefore clobbers memory (no `nomem`), so the
//! compiler neither caches OUT fields nor defers buffer writes across the call.

use core::arch::asm;

use morgana_hvt_abi::hypercall::{
    HVT_HALT_COOKIE_MAX, HcBlockIo, HcHalt, HcNetIo, HcPoll, HcPuts, HcWalltime, Hypercall,
};

/// Issues hypercall `call` with argument `arg`.
///
/// # Safety
/// `arg` must be the argument struct of `call`, and every address inside it must point at
/// guest memory valid for the access the tender makes (reads for `PUTS`/writes, writes for
/// reads) for the length given.
unsafe fn hypercall<T>(call: Hypercall, arg: &mut T) {
    // Guest memory is below 4 GiB (the tender maps at most that), so the low 32 bits are the
    // whole address.
    let address = arg as *mut T as usize as u32;
    // SAFETY: the caller vouches for the argument; `outl` touches no Rust-visible state other
    // than through the memory the caller handed over.
    unsafe {
        asm!("out dx, eax", in("dx") call.port(), in("eax") address, options(nostack, preserves_flags));
    }
}

/// Writes `bytes` to the tender's standard output.
pub fn puts(bytes: &[u8]) {
    let mut arg = HcPuts {
        data: bytes.as_ptr() as u64,
        len: bytes.len() as u64,
    };
    // SAFETY: PUTS only reads `len` bytes at `data`, which `bytes` provides.
    unsafe { hypercall(Hypercall::Puts, &mut arg) }
}

/// The host's wall clock, in nanoseconds since the Unix epoch.
pub fn walltime() -> u64 {
    let mut arg = HcWalltime::default();
    // SAFETY: WALLTIME only writes its own 8-byte argument.
    unsafe { hypercall(Hypercall::Walltime, &mut arg) };
    arg.nsecs
}

/// Blocks for at most `timeout_ns` or until a NIC is readable; returns the ready handle set.
pub fn poll(timeout_ns: u64) -> u64 {
    let mut arg = HcPoll {
        timeout_nsecs: timeout_ns,
        ..HcPoll::default()
    };
    // SAFETY: POLL only writes its own argument.
    unsafe { hypercall(Hypercall::Poll, &mut arg) };
    arg.ready_set
}

/// Reads `buf.len()` bytes at byte `offset` of block device `handle`; returns `ret`.
pub fn block_read(handle: u64, offset: u64, buf: &mut [u8]) -> u32 {
    let mut arg = HcBlockIo {
        handle,
        offset,
        data: buf.as_mut_ptr() as u64,
        len: buf.len() as u64,
        ..HcBlockIo::default()
    };
    // SAFETY: BLOCK_READ writes at most `len` bytes at `data`, which `buf` provides mutably.
    unsafe { hypercall(Hypercall::BlockRead, &mut arg) };
    arg.ret
}

/// Writes `buf` at byte `offset` of block device `handle`; returns `ret`.
pub fn block_write(handle: u64, offset: u64, buf: &[u8]) -> u32 {
    let mut arg = HcBlockIo {
        handle,
        offset,
        data: buf.as_ptr() as u64,
        len: buf.len() as u64,
        ..HcBlockIo::default()
    };
    // SAFETY: BLOCK_WRITE only reads `len` bytes at `data`, which `buf` provides.
    unsafe { hypercall(Hypercall::BlockWrite, &mut arg) };
    arg.ret
}

/// Reads one frame from NIC `handle` into `buf`; returns `ret` and the frame's length.
pub fn net_read(handle: u64, buf: &mut [u8]) -> (u32, usize) {
    let mut arg = HcNetIo {
        handle,
        data: buf.as_mut_ptr() as u64,
        len: buf.len() as u64,
        ..HcNetIo::default()
    };
    // SAFETY: NET_READ writes at most `len` bytes at `data`, which `buf` provides mutably.
    unsafe { hypercall(Hypercall::NetRead, &mut arg) };
    // The tender never reports more than the capacity; clamp anyway rather than trust it.
    (arg.ret, (arg.len as usize).min(buf.len()))
}

/// Sends `frame` on NIC `handle`; returns `ret`.
pub fn net_write(handle: u64, frame: &[u8]) -> u32 {
    let mut arg = HcNetIo {
        handle,
        data: frame.as_ptr() as u64,
        len: frame.len() as u64,
        ..HcNetIo::default()
    };
    // SAFETY: NET_WRITE only reads `len` bytes at `data`, which `frame` provides.
    unsafe { hypercall(Hypercall::NetWrite, &mut arg) };
    arg.ret
}

/// Stops the guest; the tender exits with `status`.
pub fn halt(status: u8) -> ! {
    halt_cookie(status, 0)
}

/// [`halt`] with a cookie for the tender: the trapped registers after a trap
/// (`morgana_hvt_abi::trap`), which `morgana-hvt --dumpcore` writes into the core file.
pub fn halt_with_cookie(status: u8, cookie: &[u8; HVT_HALT_COOKIE_MAX as usize]) -> ! {
    halt_cookie(status, cookie.as_ptr() as u64)
}

fn halt_cookie(status: u8, cookie: u64) -> ! {
    let mut arg = HcHalt {
        cookie,
        exit_status: u32::from(status),
        _pad: 0,
    };
    // SAFETY: HALT reads its own argument and, when `cookie` is not 0, the
    // HVT_HALT_COOKIE_MAX bytes there, which `halt_with_cookie`'s reference guarantees.
    unsafe { hypercall(Hypercall::Halt, &mut arg) };
    // A tender never resumes a halted guest; should one do so, stay stopped.
    loop {
        // SAFETY: `hlt` with interrupts off stops the vCPU; it has no memory effects.
        unsafe { asm!("hlt", options(nomem, nostack)) };
    }
}
