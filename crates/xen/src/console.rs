//! The console: the PV console ring (`HVM_PARAM_CONSOLE_PFN`/`_EVTCHN`), with the
//! `console_io` hypercall as the fallback where there is no ring (a dom0; release Xen builds
//! refuse it to a domU).
//!
//! Writes are best effort: when xenconsoled does not drain a full ring within
//! [`FULL_RING_PATIENCE_NS`], the rest of the write is dropped.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering, fence};

use crate::abi::{self, ConsoleInterface, HvmParam, hypercall};
use crate::hypercall::{call, op};
use crate::{clock, events, ring};

static RING: AtomicU64 = AtomicU64::new(0);
static PORT: AtomicU32 = AtomicU32::new(0);
static CONSOLE_IO: AtomicBool = AtomicBool::new(false);

const OUT_SIZE: u32 = 2048;
/// How long a write waits for room in a full ring, ns.
pub const FULL_RING_PATIENCE_NS: u64 = 2_000_000_000;

/// Reads HVM parameter `index`.
pub fn hvm_param(index: u32) -> Result<u64, isize> {
    let mut arg = HvmParam {
        domid: abi::DOMID_SELF,
        index,
        value: 0,
    };
    // SAFETY: HVMOP_get_param takes an `xen_hvm_param`.
    let rc = unsafe { op(hypercall::HVM_OP, abi::HVMOP_GET_PARAM, &mut arg) };
    if rc < 0 { Err(rc) } else { Ok(arg.value) }
}

/// Finds the console ring, or settles for `console_io`. Returns which one is used.
pub fn init() -> &'static str {
    if let (Ok(pfn), Ok(port)) = (
        hvm_param(abi::HVM_PARAM_CONSOLE_PFN),
        hvm_param(abi::HVM_PARAM_CONSOLE_EVTCHN),
    ) && pfn != 0
        && pfn < (1 << 20)
    {
        PORT.store(port as u32, Ordering::Relaxed);
        RING.store(pfn << 12, Ordering::Release);
        return "PV console ring";
    }
    CONSOLE_IO.store(true, Ordering::Relaxed);
    "console_io"
}

fn ring() -> Option<*mut ConsoleInterface> {
    let r = RING.load(Ordering::Acquire);
    (r != 0).then_some(r as *mut ConsoleInterface)
}

/// Writes `bytes` to the console.
pub fn write(bytes: &[u8]) {
    if let Some(r) = ring() {
        write_ring(r, bytes);
    } else if CONSOLE_IO.load(Ordering::Relaxed) {
        for chunk in bytes.chunks(1024) {
            // SAFETY: console_io(write) reads `len` bytes from the live slice.
            unsafe {
                call(
                    hypercall::CONSOLE_IO,
                    abi::CONSOLEIO_WRITE,
                    chunk.len(),
                    chunk.as_ptr() as usize,
                    0,
                    0,
                )
            };
        }
    }
}

fn write_ring(r: *mut ConsoleInterface, mut bytes: &[u8]) {
    let port = PORT.load(Ordering::Relaxed);
    let mut give_up_at = None;
    while !bytes.is_empty() {
        // SAFETY: the ring page is mapped for the program's lifetime; xenconsoled moves
        // `out_cons` concurrently, hence volatile accesses and fences around the data copy.
        unsafe {
            let cons = core::ptr::read_volatile(core::ptr::addr_of!((*r).out_cons));
            let prod = core::ptr::read_volatile(core::ptr::addr_of!((*r).out_prod));
            fence(Ordering::Acquire);
            let room = ring::free(prod, cons, OUT_SIZE);
            if room == 0 {
                events::send(port);
                let deadline =
                    *give_up_at.get_or_insert_with(|| clock::system_time() + FULL_RING_PATIENCE_NS);
                if clock::system_time() >= deadline {
                    return;
                }
                events::poll(&[port], clock::system_time() + 10_000_000);
                events::take_pending(port);
                continue;
            }
            let n = ring::contiguous(prod, OUT_SIZE, room.min(bytes.len() as u32));
            let dst = core::ptr::addr_of_mut!((*r).output)
                .cast::<u8>()
                .add(ring::slot(prod, OUT_SIZE));
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, n as usize);
            fence(Ordering::Release);
            core::ptr::write_volatile(core::ptr::addr_of_mut!((*r).out_prod), prod.wrapping_add(n));
            bytes = &bytes[n as usize..];
        }
    }
    events::send(port);
}

/// Waits (up to [`FULL_RING_PATIENCE_NS`]) until xenconsoled has read everything written.
pub fn flush() {
    let Some(r) = ring() else { return };
    let port = PORT.load(Ordering::Relaxed);
    let deadline = clock::system_time() + FULL_RING_PATIENCE_NS;
    loop {
        // SAFETY: as in `write_ring`.
        let (cons, prod) = unsafe {
            (
                core::ptr::read_volatile(core::ptr::addr_of!((*r).out_cons)),
                core::ptr::read_volatile(core::ptr::addr_of!((*r).out_prod)),
            )
        };
        if cons == prod || clock::system_time() >= deadline {
            return;
        }
        events::send(port);
        events::poll(&[port], clock::system_time() + 10_000_000);
        events::take_pending(port);
    }
}
