//! Ring index arithmetic shared by every Xen ring, kept free of memory access so it can be
//! unit-tested on the host.
//!
//! Indices are free-running `u32` counters that wrap; a slot is `index & (size - 1)` with `size`
//! a power of two. Unsigned wrapping subtraction gives the fill level across the wrap.

/// Bytes (or slots) in use in a ring of `size` between consumer `cons` and producer `prod`.
pub fn used(prod: u32, cons: u32) -> u32 {
    prod.wrapping_sub(cons)
}

/// Bytes (or slots) free in a ring of `size`.
pub fn free(prod: u32, cons: u32, size: u32) -> u32 {
    size.saturating_sub(used(prod, cons))
}

/// The slot of free-running index `idx` in a ring of `size` (a power of two).
pub fn slot(idx: u32, size: u32) -> usize {
    (idx & (size - 1)) as usize
}

/// The longest contiguous run starting at `idx` that stays inside a ring of `size`, capped at
/// `want`: a copy into or out of a byte ring is at most two such runs.
pub fn contiguous(idx: u32, size: u32, want: u32) -> u32 {
    want.min(size - slot(idx, size) as u32)
}

/// Number of request/response slots that fit in one 4 KiB shared ring page with entries of
/// `entry_size` bytes after the 64-byte header: the largest power of two that fits.
pub const fn ring_slots(entry_size: usize) -> u32 {
    let fit = (4096 - 64) / entry_size;
    let mut n = 1usize;
    while n * 2 <= fit {
        n *= 2;
    }
    n as u32
}

/// Whether the other end asked to be notified: it wants an event once the index passes `event`,
/// and we moved it from `old` to `new` (Xen's `RING_PUSH_REQUESTS_AND_CHECK_NOTIFY` rule).
pub fn needs_notify(old: u32, new: u32, event: u32) -> bool {
    new.wrapping_sub(event) < new.wrapping_sub(old)
}

/// The front end's private view of a shared request/response ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrontRing {
    /// Next request index to fill (not yet published).
    pub req_prod_pvt: u32,
    /// Next response index to consume.
    pub rsp_cons: u32,
    /// Slots in the ring.
    pub size: u32,
}

impl FrontRing {
    /// A new, empty ring of `size` slots.
    pub fn new(size: u32) -> Self {
        FrontRing {
            req_prod_pvt: 0,
            rsp_cons: 0,
            size,
        }
    }

    /// Requests that can still be queued: slots not holding an unanswered request.
    pub fn free_requests(&self) -> u32 {
        self.size - self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    /// Responses waiting to be consumed given the shared `rsp_prod`.
    pub fn unconsumed_responses(&self, rsp_prod: u32) -> u32 {
        rsp_prod.wrapping_sub(self.rsp_cons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_levels_across_the_wrap() {
        assert_eq!(used(10, 4), 6);
        assert_eq!(used(3, u32::MAX - 2), 6);
        assert_eq!(free(3, u32::MAX - 2, 2048), 2042);
        assert_eq!(free(2048, 0, 2048), 0);
        assert_eq!(slot(2049, 2048), 1);
        assert_eq!(slot(u32::MAX, 1024), 1023);
    }

    #[test]
    fn copies_split_at_the_end_of_the_ring() {
        assert_eq!(contiguous(1020, 1024, 10), 4);
        assert_eq!(contiguous(1024, 1024, 10), 10);
        assert_eq!(contiguous(5, 1024, 2000), 1019);
    }

    #[test]
    fn slots_per_page() {
        assert_eq!(ring_slots(112), 32); // blkif
        assert_eq!(ring_slots(12), 256); // netif tx
        assert_eq!(ring_slots(8), 256); // netif rx
    }

    #[test]
    fn notification_rule() {
        // The peer wants an event at index 5; we published 3..7: it must hear.
        assert!(needs_notify(3, 7, 5));
        assert!(needs_notify(4, 5, 5));
        // Already past its event index before we pushed: it was notified earlier.
        assert!(!needs_notify(7, 9, 5));
        // Across the wrap.
        assert!(needs_notify(u32::MAX - 1, 2, u32::MAX));
        assert!(!needs_notify(u32::MAX - 1, u32::MAX - 1, u32::MAX));
    }

    #[test]
    fn front_ring_accounting() {
        let mut r = FrontRing::new(32);
        assert_eq!(r.free_requests(), 32);
        r.req_prod_pvt = 30;
        r.rsp_cons = 0;
        assert_eq!(r.free_requests(), 2);
        assert_eq!(r.unconsumed_responses(12), 12);
        r.req_prod_pvt = 5;
        r.rsp_cons = u32::MAX - 10;
        assert_eq!(r.free_requests(), 16);
    }
}
