//! The wait primitive: block in `SCHEDOP_poll` on the event channels that devices wait for,
//! with the next timer deadline as the poll's timeout. Never a spin: the vCPU sleeps in Xen
//! until a port is signalled or the deadline passes.
//!
//! The runtime's non-blocking readiness check (`Platform::check_ready`, made after a few busy
//! passes of the executor in a row) is [`wait`] with a deadline in the past: no hypercall at
//! all, only the events Xen has already marked pending in the shared info page are taken and
//! their tasks woken. That is free: Xen sets those bits when a port is signalled, without the
//! guest asking.

use alloc::vec::Vec;
use core::cell::RefCell;
use core::task::Waker;
use critical_section::Mutex;

use crate::{clock, events};

static WAITERS: Mutex<RefCell<Vec<(u32, Waker)>>> = Mutex::new(RefCell::new(Vec::new()));

/// Wakes `waker` once event channel `port` is signalled. Several tasks may wait on one port
/// (a NIC's receive and transmit share it); registering the same waker twice is a no-op.
pub fn register(port: u32, waker: &Waker) {
    critical_section::with(|cs| {
        let mut list = WAITERS.borrow_ref_mut(cs);
        if !list.iter().any(|(p, w)| *p == port && w.will_wake(waker)) {
            list.push((port, waker.clone()));
        }
    });
}

/// Blocks until a registered port is signalled or the monotonic clock reaches `deadline_ns`,
/// then wakes the wakers of the signalled ports.
pub fn wait(deadline_ns: Option<u64>) {
    let mut ports: Vec<u32> =
        critical_section::with(|cs| WAITERS.borrow_ref(cs).iter().map(|(p, _)| *p).collect());
    ports.sort_unstable();
    ports.dedup();
    if let Some(d) = deadline_ns
        && d <= clock::monotonic_ns()
    {
        // Past deadline: only collect events that are already pending.
    } else {
        // A deadline of 0 would mean "no timeout" to Xen; system time is never 0 after boot.
        let timeout = deadline_ns.map_or(0, |d| clock::to_system_time(d).max(1));
        events::poll(&ports, timeout);
    }
    let ready: Vec<Waker> = critical_section::with(|cs| {
        let mut list = WAITERS.borrow_ref_mut(cs);
        let fired: Vec<u32> = ports
            .iter()
            .copied()
            .filter(|&p| events::take_pending(p))
            .collect();
        let mut ready = Vec::new();
        list.retain(|(p, w)| {
            if fired.contains(p) {
                ready.push(w.clone());
                false
            } else {
                true
            }
        });
        ready
    });
    ready.into_iter().for_each(Waker::wake);
}
