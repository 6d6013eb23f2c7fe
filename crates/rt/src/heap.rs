//! The heap of bare-metal images: a linked-list allocator over the memory the backend found.
//!
//! The allocator is guarded by a critical section (the backend's: one core, no interrupts),
//! which avoids a spin-lock dependency.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::RefCell;
use core::ptr::{NonNull, null_mut};

use critical_section::Mutex;
use linked_list_allocator::Heap;

struct LockedHeap(Mutex<RefCell<Heap>>);

// SAFETY: every access to the heap goes through the critical section, so `alloc` and
// `dealloc` never run concurrently on it.
unsafe impl GlobalAlloc for LockedHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        critical_section::with(|cs| {
            self.0
                .borrow_ref_mut(cs)
                .allocate_first_fit(layout)
                .map_or(null_mut(), |p| p.as_ptr())
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(ptr) = NonNull::new(ptr) {
            // SAFETY: the caller guarantees `ptr` came from `alloc` with this `layout`.
            critical_section::with(|cs| unsafe {
                self.0.borrow_ref_mut(cs).deallocate(ptr, layout)
            })
        }
    }
}

#[global_allocator]
static HEAP: LockedHeap = LockedHeap(Mutex::new(RefCell::new(Heap::empty())));

/// Gives the allocator the region `[start, start + size)`.
///
/// # Safety
/// The region must be unused, writable memory that nothing else touches for the rest of the
/// program, and this must be called once, before the first allocation.
pub unsafe fn init(start: *mut u8, size: usize) {
    // SAFETY: the caller guarantees the region is exclusively ours and that this is the first
    // and only initialisation.
    critical_section::with(|cs| unsafe { HEAP.0.borrow_ref_mut(cs).init(start, size) })
}

/// Bytes currently free in the heap.
pub fn free_bytes() -> usize {
    critical_section::with(|cs| HEAP.0.borrow_ref(cs).free())
}
