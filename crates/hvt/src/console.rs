//! The console: one `PUTS` hypercall per write, and the backend's own `Solo5:` lines.
//!
//! The backend's lines (banner, memory map, exit status, traps, aborts) are formatted into a
//! fixed buffer on the stack, never the heap, so they also work before the heap exists and
//! after it is corrupted. `--solo5:LEVEL` on the command line picks which of them appear.

use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::cmdline::LogLevel;
use crate::hypercall;

/// Writes `bytes` to the console.
pub fn write(bytes: &[u8]) {
    if !bytes.is_empty() {
        hypercall::puts(bytes)
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

/// Sets which of the backend's lines are printed.
pub fn set_level(level: LogLevel) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// True when lines of `level` are printed.
pub fn enabled(level: LogLevel) -> bool {
    level != LogLevel::Quiet && level as u8 <= LEVEL.load(Ordering::Relaxed)
}

pub use crate::line::LineBuf;

impl LineBuf {
    /// Prints the line when `level` is enabled.
    pub fn print(mut self, level: LogLevel) {
        if enabled(level) {
            write(self.terminated());
        }
    }
}

/// Prints `Solo5: TEXT` as one line when `level` is enabled.
pub fn log_line(level: LogLevel, text: &[u8]) {
    if enabled(level) {
        let mut line = LineBuf::new();
        line.push_bytes(text);
        write(line.terminated());
    }
}

/// Formats and prints `Solo5: ...` as one line when `level` is enabled.
pub fn log(level: LogLevel, args: fmt::Arguments<'_>) {
    if enabled(level) {
        let mut line = LineBuf::new();
        let _ = fmt::Write::write_fmt(&mut line, args);
        write(line.terminated());
    }
}

/// Prints `Solo5: error: MESSAGE` (unless quiet) and halts with status 1: bad input, such as
/// an unknown `--solo5:` option, rather than a bug.
pub fn fail(args: fmt::Arguments<'_>) -> ! {
    log(LogLevel::Error, format_args!("error: {args}"));
    hypercall::halt(morgana_rt::EXIT_FAILURE)
}

/// Prints `Solo5: ABORT: MESSAGE` (unless quiet) and halts with status 255.
pub fn abort(args: fmt::Arguments<'_>) -> ! {
    log(LogLevel::Error, format_args!("ABORT: {args}"));
    hypercall::halt(morgana_rt::EXIT_ABORT)
}
