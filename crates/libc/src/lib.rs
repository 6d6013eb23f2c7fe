//! A freestanding C runtime subset, in the spirit of Solo5's nolibc, for C code that crates
//! compile with the `cc` crate into Morgana images.
//!
//! What C code gets is described by the headers in `include/` (see the crate's README): the
//! `<string.h>`, `<stdlib.h>`, `<stdio.h>`, `<ctype.h>` functions are implemented in C under `c/`
//! (the printf family must be: it is variadic), while `malloc` and friends (on the Rust global
//! allocator) and `abort` (a panic) are implemented here in Rust.
//!
//! Symbol names: in bare-metal images (`target_os = "hvt"` or `"xen"`) every function has its C
//! name. On any other target, where this crate is built only to be tested beside the host's own
//! libc, every public symbol carries a `morgana_` prefix (`morgana_snprintf`, `morgana_malloc`,
//! `morgana_errno`, ...), so tests can call both and compare.
//!
//! The Rust API is one function: the runtime calls [`set_console_writer`] at boot so that
//! `printf`, `puts` and failed `assert`s reach the console.
#![no_std]

extern crate alloc;

mod console;
mod malloc;

pub use console::set_console_writer;

/// Values of `<errno.h>` that the Rust side sets.
mod errno {
    pub const ENOMEM: core::ffi::c_int = 12;
}

/// C `abort()`: panics, which the runtime turns into a panic message on the console and exit
/// status 255. The panic cannot unwind into C: this function is `extern "C"`, so an unwinding
/// panic (host tests only; images are `panic = abort`) aborts the process instead.
#[cfg_attr(not(morgana_hosted), unsafe(no_mangle))]
#[cfg_attr(morgana_hosted, unsafe(export_name = "morgana_abort"))]
pub extern "C" fn abort() -> ! {
    panic!("abort() called from C code");
}
