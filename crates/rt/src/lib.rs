//! The Morgana runtime: what every unikernel runs on, whatever the backend.
//!
//! A backend (unix, hvt, xen) implements [`Platform`]: the clocks, the console, a seed source,
//! the **one wait primitive** ("sleep until this deadline or until a device is ready") and exit.
//! At boot it hands the platform, the command line and the application's `async fn main` to
//! [`run`], which
//! - installs the platform for the ambient services (time for `embassy-time`, logging through
//!   `log`, the console, randomness, the command line),
//! - runs the embassy executor: poll ready tasks, then block in [`Platform::wait`] until the next
//!   timer deadline or device readiness (never a busy spin); after a few passes in a row with
//!   a task runnable it checks device readiness without blocking, so a task that keeps itself
//!   runnable cannot starve the devices,
//! - and turns the application's result into the exit status: 0 for `Ok`, 1 for `Err` (its
//!   message printed first), 255 for a panic.
#![no_std]

extern crate alloc;

pub mod args;
mod executor;
#[cfg(any(target_os = "hvt", target_os = "xen"))]
pub mod heap;
pub mod log_filter;
pub mod logger;
pub mod manifest;
#[cfg(any(target_os = "hvt", target_os = "xen"))]
mod panic;
mod platform;
mod task;
mod time;

pub use embassy_executor::Spawner;
pub use executor::{BUSY_PASSES_BEFORE_READINESS_CHECK, block_on, run};
pub use platform::{Platform, platform};
pub use task::spawn;

/// Exit status for success.
pub const EXIT_SUCCESS: u8 = 0;
/// Exit status for an application error or a boot error (bad argument, missing device).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a panic or a CPU trap.
pub const EXIT_ABORT: u8 = 255;

/// Bytes free in the unikernel's heap, on the bare-metal backends whose heap is the memory the
/// image was given (`--mem`); `None` on the unix backend, whose heap is the host process's.
pub fn heap_free_bytes() -> Option<usize> {
    #[cfg(any(target_os = "hvt", target_os = "xen"))]
    return Some(heap::free_bytes());
    #[cfg(not(any(target_os = "hvt", target_os = "xen")))]
    None
}

/// Writes `bytes` to the console of the running platform (dropped before boot).
pub fn console_write(bytes: &[u8]) {
    if let Some(p) = platform::try_platform() {
        p.write(bytes);
    }
}

/// The platform's error output, as a [`core::fmt::Write`] sink that never allocates.
struct ErrorOut(&'static dyn Platform);

impl core::fmt::Write for ErrorOut {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.write_error(s.as_bytes());
        Ok(())
    }
}

/// Prints `error: MESSAGE` on the platform's error output and exits with status 1.
///
/// This is how boot errors end a unikernel: one clear line and a non-zero status.
pub fn fail(message: core::fmt::Arguments<'_>) -> ! {
    report_and_exit("error", message, EXIT_FAILURE)
}

/// Prints `panic: MESSAGE` and the call stack on the platform's error output and exits with
/// status 255.
///
/// Does not allocate, so it also serves for allocation failures.
pub fn abort(message: core::fmt::Arguments<'_>) -> ! {
    report_and_exit("panic", message, EXIT_ABORT)
}

fn report_and_exit(what: &str, message: core::fmt::Arguments<'_>, status: u8) -> ! {
    let p = platform::platform();
    let _ = core::fmt::Write::write_fmt(&mut ErrorOut(p), format_args!("{what}: {message}\n"));
    if status == EXIT_ABORT {
        p.write_backtrace();
    }
    p.exit(status)
}
