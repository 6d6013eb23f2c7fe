//! Event channels: sending, allocating, and the pending bits in the shared info page.
//!
//! No upcall vector is installed and interrupts stay off: the backend learns about events only
//! by blocking in `SCHEDOP_poll` on the ports it cares about and then testing (and clearing) the
//! ports' pending bits, which Xen sets whether or not a port is masked.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::abi::{self, EvtchnAllocUnbound, EvtchnSend, SchedPoll, hypercall};
use crate::hypercall::op;
use crate::shared_info;

/// Notifies the other end of `port`.
pub fn send(port: u32) {
    let mut arg = EvtchnSend { port };
    // SAFETY: EVTCHNOP_send takes an `evtchn_send`.
    unsafe { op(hypercall::EVENT_CHANNEL_OP, abi::EVTCHNOP_SEND, &mut arg) };
}

/// Allocates a port that domain `remote` may bind to; returns the local port.
pub fn alloc_unbound(remote: u16) -> Result<u32, isize> {
    let mut arg = EvtchnAllocUnbound {
        dom: abi::DOMID_SELF,
        remote_dom: remote,
        port: 0,
    };
    // SAFETY: EVTCHNOP_alloc_unbound takes an `evtchn_alloc_unbound`.
    let rc = unsafe {
        op(
            hypercall::EVENT_CHANNEL_OP,
            abi::EVTCHNOP_ALLOC_UNBOUND,
            &mut arg,
        )
    };
    if rc < 0 { Err(rc) } else { Ok(arg.port) }
}

fn pending_word(port: u32) -> Option<&'static AtomicU64> {
    if port >= 64 * 64 {
        return None;
    }
    let base = shared_info::page()?;
    // SAFETY: the shared info page is mapped for the rest of the program; `evtchn_pending` is an
    // array of 64 naturally aligned u64 words that Xen updates with atomic operations, so
    // viewing a word as an AtomicU64 is sound.
    unsafe {
        let words = core::ptr::addr_of!((*base).evtchn_pending) as *const AtomicU64;
        Some(&*words.add((port / 64) as usize))
    }
}

/// Clears `port`'s pending bit; true when it was set.
pub fn take_pending(port: u32) -> bool {
    pending_word(port).is_some_and(|w| {
        let bit = 1u64 << (port % 64);
        w.fetch_and(!bit, Ordering::AcqRel) & bit != 0
    })
}

/// Blocks until one of `ports` is pending or Xen system time reaches `timeout` (ns; 0 means
/// no timeout). Returns at once if a port is already pending.
pub fn poll(ports: &[u32], timeout: u64) {
    let mut arg = SchedPoll {
        ports: ports.as_ptr() as u64,
        nr_ports: ports.len().min(128) as u32,
        timeout,
    };
    // SAFETY: SCHEDOP_poll reads `nr_ports` u32 ports from the live slice.
    unsafe { op(hypercall::SCHED_OP, abi::SCHEDOP_POLL, &mut arg) };
}
