//! The console hook behind `printf`, `puts`, `putchar` and friends.

use core::ffi::c_char;
use core::sync::atomic::{AtomicPtr, Ordering};

/// The installed writer as a type-erased function pointer; null means "drop the output".
static WRITER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Installs `writer` as the destination of everything C code prints (`printf`, `puts`, `putchar`,
/// `fprintf(stdout|stderr, ...)`, failed `assert`s). Each call of `writer` receives a chunk of at
/// most a few hundred bytes, in order; chunks are not split on line boundaries. Until a writer is
/// installed, output is dropped. Installing again replaces the previous writer.
pub fn set_console_writer(writer: fn(&[u8])) {
    WRITER.store(writer as *mut (), Ordering::Release);
}

/// Called by the C side (`c/printf.c`) with `len` bytes at `buf`.
///
/// # Safety
/// `buf` must be valid for reads of `len` bytes (it may be dangling when `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __morgana_libc_console_write(buf: *const c_char, len: usize) {
    let raw = WRITER.load(Ordering::Acquire);
    if raw.is_null() || len == 0 {
        return;
    }
    // SAFETY: WRITER only ever holds null or a value stored by `set_console_writer`, which is a
    // `fn(&[u8])` cast to a pointer; function and data pointers have the same size on every target
    // this crate supports, so the round trip gives back the same function pointer.
    let writer = unsafe { core::mem::transmute::<*mut (), fn(&[u8])>(raw) };
    // SAFETY: the caller guarantees `buf` is valid for `len` bytes, and `len` is non-zero here.
    let bytes = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), len) };
    writer(bytes);
}
