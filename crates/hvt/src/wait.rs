//! The wait primitive: one `POLL` hypercall with the time left to the deadline.
//!
//! A NIC that has no frame registers its task's waker here under its handle. [`wait`] blocks
//! in the tender until the deadline passes or a NIC is readable, then wakes (and forgets) the
//! wakers of the handles in the ready set. Readiness is level-triggered in the tender, so a
//! frame that arrives between a NIC read and the registration is not lost: the next `POLL`
//! returns at once.
//!
//! The runtime's non-blocking readiness check (`Platform::check_ready`, made after a few busy
//! passes of the executor in a row) is [`wait`] with a deadline in the past: a `POLL` with a
//! zero timeout, one exit, which also reports the ready handles and wakes their tasks.

use core::cell::RefCell;
use core::task::Waker;

use critical_section::Mutex;

/// Handles are manifest indices, so at most 64.
const HANDLES: usize = 64;

/// The timeout used when there is no deadline: long, but one every tender can represent.
pub const NO_DEADLINE_TIMEOUT_NS: u64 = 3600 * 1_000_000_000;

static WAKERS: Mutex<RefCell<[Option<Waker>; HANDLES]>> =
    Mutex::new(RefCell::new([const { None }; HANDLES]));

/// Handles a `POLL` reported ready that their device has not yet taken (bit = handle).
static READY: Mutex<core::cell::Cell<u64>> = Mutex::new(core::cell::Cell::new(0));

/// Records that a `POLL` reported the handles in `ready_set` ready.
pub fn mark_ready(ready_set: u64) {
    critical_section::with(|cs| {
        let r = READY.borrow(cs);
        r.set(r.get() | ready_set);
    });
}

/// Whether a `POLL` reported `handle` ready since the last call for it (which clears it).
pub fn take_ready(handle: usize) -> bool {
    let Some(bit) = u32::try_from(handle).ok().and_then(|h| 1u64.checked_shl(h)) else {
        return false;
    };
    critical_section::with(|cs| {
        let r = READY.borrow(cs);
        let was = r.get() & bit != 0;
        r.set(r.get() & !bit);
        was
    })
}

/// Wakes `waker` once NIC `handle` is readable (replacing an earlier waker for it).
pub fn register(handle: usize, waker: &Waker) {
    critical_section::with(|cs| {
        if let Some(slot) = WAKERS.borrow_ref_mut(cs).get_mut(handle) {
            match slot {
                Some(w) => w.clone_from(waker),
                None => *slot = Some(waker.clone()),
            }
        }
    });
}

/// The relative `POLL` timeout for `deadline_ns` when the monotonic clock reads `now_ns`.
pub fn timeout_for(deadline_ns: Option<u64>, now_ns: u64) -> u64 {
    match deadline_ns {
        Some(deadline) => deadline.saturating_sub(now_ns),
        None => NO_DEADLINE_TIMEOUT_NS,
    }
}

/// Blocks until the monotonic clock reaches `deadline_ns` or a registered NIC is readable.
#[cfg(target_os = "hvt")]
pub fn wait(deadline_ns: Option<u64>) {
    let timeout = timeout_for(deadline_ns, crate::clock::monotonic_ns());
    let ready = crate::hypercall::poll(timeout);
    if ready == 0 {
        return;
    }
    mark_ready(ready);
    let mut woken: [Option<Waker>; HANDLES] = [const { None }; HANDLES];
    critical_section::with(|cs| {
        let mut table = WAKERS.borrow_ref_mut(cs);
        for (handle, slot) in table.iter_mut().enumerate() {
            if ready & (1 << handle) != 0 {
                woken[handle] = slot.take();
            }
        }
    });
    // Woken outside the lock: a waker may register again at once.
    woken.into_iter().flatten().for_each(Waker::wake);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_is_taken_once_per_report() {
        mark_ready(1 << 3 | 1 << 63);
        assert!(take_ready(3));
        assert!(!take_ready(3));
        assert!(take_ready(63));
        assert!(!take_ready(64));
        assert!(!take_ready(usize::MAX));
    }

    #[test]
    fn timeouts_are_relative_and_never_negative() {
        assert_eq!(timeout_for(Some(5_000), 1_000), 4_000);
        assert_eq!(timeout_for(Some(1_000), 5_000), 0);
        assert_eq!(timeout_for(None, 5_000), NO_DEADLINE_TIMEOUT_NS);
    }
}
