//! `malloc`, `calloc`, `realloc` and `free` on the Rust global allocator.
//!
//! Each block starts with a 16-byte header holding the size the caller asked for, so `free` and
//! `realloc` can rebuild the `Layout`; the pointer handed to C follows the header and is 16-byte
//! aligned, like glibc's on x86_64.

use crate::errno::ENOMEM;
use alloc::alloc::{Layout, alloc, alloc_zeroed, dealloc, realloc as grow};
use core::ffi::{c_int, c_void};

/// Alignment of every block, and size of the header in front of it.
const ALIGN: usize = 16;

unsafe extern "C" {
    #[cfg_attr(morgana_hosted, link_name = "morgana_errno")]
    static mut errno: c_int;
}

fn set_errno(value: c_int) {
    // SAFETY: `errno` is a plain C `int` defined in c/errno.c; the images are single-threaded and
    // host tests do not read it concurrently with allocations on another thread.
    unsafe { errno = value };
}

/// Layout of a block whose caller-visible size is `size`, or `None` when too large.
fn block_layout(size: usize) -> Option<Layout> {
    let total = size.checked_add(ALIGN)?;
    Layout::from_size_align(total, ALIGN).ok()
}

/// Turns the start of a fresh block into the pointer C sees, recording `size` in the header.
///
/// # Safety
/// `base` must be null or the start of a block of `block_layout(size)`.
unsafe fn finish(base: *mut u8, size: usize) -> *mut c_void {
    if base.is_null() {
        set_errno(ENOMEM);
        return core::ptr::null_mut();
    }
    // SAFETY: the block is at least ALIGN (16) bytes long and 16-byte aligned, so the header
    // word fits and is aligned, and `base + ALIGN` is within (or one past) the block.
    unsafe {
        base.cast::<usize>().write(size);
        base.add(ALIGN).cast()
    }
}

/// The block start and layout behind a pointer that `malloc` returned.
///
/// # Safety
/// `ptr` must be a non-null pointer returned by this module and not yet freed.
unsafe fn block_of(ptr: *mut c_void) -> (*mut u8, Layout) {
    // SAFETY: per the contract, the header sits ALIGN bytes before `ptr` in the same block.
    let base = unsafe { ptr.cast::<u8>().sub(ALIGN) };
    // SAFETY: `finish` wrote the size into the header, which nothing else writes.
    let size = unsafe { base.cast::<usize>().read() };
    match block_layout(size) {
        Some(layout) => (base, layout),
        // The size was accepted by block_layout when the block was made.
        None => unreachable!("corrupted malloc header"),
    }
}

/// C `malloc`: `size` bytes, 16-byte aligned; NULL with errno ENOMEM when out of memory.
/// `malloc(0)` returns a unique pointer that may be passed to `free`.
///
/// # Safety
/// Always safe to call; the result must be released with `free` or `realloc` only.
#[cfg_attr(not(morgana_hosted), unsafe(no_mangle))]
#[cfg_attr(morgana_hosted, unsafe(export_name = "morgana_malloc"))]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    let Some(layout) = block_layout(size) else {
        set_errno(ENOMEM);
        return core::ptr::null_mut();
    };
    // SAFETY: the layout is never zero-sized (it includes the header).
    let base = unsafe { alloc(layout) };
    // SAFETY: `base` is null or a block of `block_layout(size)`.
    unsafe { finish(base, size) }
}

/// C `calloc`: `nmemb * size` zeroed bytes; NULL with errno ENOMEM when the product overflows
/// or memory runs out.
///
/// # Safety
/// As for [`malloc`].
#[cfg_attr(not(morgana_hosted), unsafe(no_mangle))]
#[cfg_attr(morgana_hosted, unsafe(export_name = "morgana_calloc"))]
pub unsafe extern "C" fn calloc(nmemb: usize, size: usize) -> *mut c_void {
    let Some((total, layout)) = nmemb
        .checked_mul(size)
        .and_then(|total| Some((total, block_layout(total)?)))
    else {
        set_errno(ENOMEM);
        return core::ptr::null_mut();
    };
    // SAFETY: the layout is never zero-sized (it includes the header).
    let base = unsafe { alloc_zeroed(layout) };
    // SAFETY: `base` is null or a block of `block_layout(total)`.
    unsafe { finish(base, total) }
}

/// C `free`: releases a block from `malloc`, `calloc` or `realloc`; `free(NULL)` does nothing.
///
/// # Safety
/// `ptr` must be NULL or a live pointer returned by this module.
#[cfg_attr(not(morgana_hosted), unsafe(no_mangle))]
#[cfg_attr(morgana_hosted, unsafe(export_name = "morgana_free"))]
pub unsafe extern "C" fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` is a live pointer from this module (caller contract).
    let (base, layout) = unsafe { block_of(ptr) };
    // SAFETY: `base` was allocated by the global allocator with exactly `layout`.
    unsafe { dealloc(base, layout) };
}

/// C `realloc`: resizes the block at `ptr` to `size` bytes, keeping the first
/// `min(old, size)` bytes. `realloc(NULL, n)` is `malloc(n)`; `realloc(p, 0)` returns a unique
/// zero-size block (as musl does), so a NULL result always means failure, with errno ENOMEM and
/// the old block left intact.
///
/// # Safety
/// `ptr` must be NULL or a live pointer returned by this module; on success it is invalidated.
#[cfg_attr(not(morgana_hosted), unsafe(no_mangle))]
#[cfg_attr(morgana_hosted, unsafe(export_name = "morgana_realloc"))]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    if ptr.is_null() {
        // SAFETY: always safe.
        return unsafe { malloc(size) };
    }
    let Some(new_layout) = block_layout(size) else {
        set_errno(ENOMEM);
        return core::ptr::null_mut();
    };
    // SAFETY: `ptr` is a live pointer from this module (caller contract).
    let (base, layout) = unsafe { block_of(ptr) };
    // SAFETY: `base` was allocated with `layout`; the new size is non-zero and, being accepted
    // by `Layout::from_size_align` with the same alignment, does not overflow isize.
    let new_base = unsafe { grow(base, layout, new_layout.size()) };
    // SAFETY: on success `new_base` is a block of `new_layout`; on failure the old block is
    // untouched and `finish` returns NULL.
    unsafe { finish(new_base, size) }
}
