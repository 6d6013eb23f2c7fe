//! Whole zeroed pages from the heap, for rings and granted buffers (never freed: devices keep
//! them for the program's lifetime).

use core::alloc::Layout;

use crate::abi::PAGE_SIZE;

/// A zeroed, page-aligned page; `None` when the heap is exhausted.
pub fn alloc_page() -> Option<*mut u8> {
    let layout = Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).ok()?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { alloc::alloc::alloc_zeroed(layout) };
    (!p.is_null()).then_some(p)
}
