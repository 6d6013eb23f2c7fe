//! The heap of bare-metal images: a linked-list allocator over the memory the backend found.

use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// Gives the allocator the region `[start, start + size)`.
///
/// # Safety
/// The region must be unused, writable memory that nothing else touches for the rest of the
/// program, and this must be called once, before the first allocation.
pub unsafe fn init(start: *mut u8, size: usize) {
    // SAFETY: the caller guarantees the region is exclusively ours and that this is the first
    // and only initialisation.
    unsafe { HEAP.lock().init(start, size) }
}

/// Bytes currently free in the heap.
pub fn free_bytes() -> usize {
    HEAP.lock().free()
}
