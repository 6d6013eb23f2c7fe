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

/// A line of at most 240 bytes, formatted without allocating; longer text is cut.
pub struct LineBuf {
    buf: [u8; 248],
    len: usize,
}

impl LineBuf {
    /// An empty line starting with `Solo5: `.
    pub fn new() -> LineBuf {
        let mut line = LineBuf {
            buf: [0; 248],
            len: 0,
        };
        line.push(b"Solo5: ");
        line
    }

    fn push(&mut self, bytes: &[u8]) {
        // One byte is kept for the newline.
        let room = self.buf.len() - 1 - self.len;
        let n = bytes.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    /// Appends `text`.
    pub fn push_str(&mut self, text: &str) {
        self.push(text.as_bytes());
    }

    /// Appends `value` as `0x` and lower-case hex digits, as `{:#x}` does, without
    /// `core::fmt`: the guest's instructions are what a boot costs under instruction
    /// emulation (KVM-PVM), and the memory map line is made of such numbers.
    pub fn push_hex(&mut self, value: u64) {
        let mut digits = [0u8; 18];
        let mut i = digits.len();
        let mut v = value;
        loop {
            i -= 1;
            digits[i] = b"0123456789abcdef"[(v & 0xf) as usize];
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        i -= 2;
        digits[i] = b'0';
        digits[i + 1] = b'x';
        self.push(&digits[i..]);
    }

    /// Appends `value` in decimal, without `core::fmt`.
    pub fn push_decimal(&mut self, value: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = value;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }

    /// Prints the line when `level` is enabled.
    pub fn print(mut self, level: LogLevel) {
        if enabled(level) {
            self.buf[self.len] = b'\n';
            write(&self.buf[..self.len + 1]);
        }
    }

    /// The text after the `Solo5: ` prefix.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[7..self.len]
    }
}

impl Default for LineBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LineBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LineBuf").field(&self.as_bytes()).finish()
    }
}

impl fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// Prints `Solo5: TEXT` as one line when `level` is enabled.
pub fn log_line(level: LogLevel, text: &[u8]) {
    if enabled(level) {
        let mut line = LineBuf::new();
        line.push(text);
        line.buf[line.len] = b'\n';
        write(&line.buf[..line.len + 1]);
    }
}

/// Formats and prints `Solo5: ...` as one line when `level` is enabled.
pub fn log(level: LogLevel, args: fmt::Arguments<'_>) {
    if enabled(level) {
        let mut line = LineBuf::new();
        let _ = fmt::Write::write_fmt(&mut line, args);
        line.buf[line.len] = b'\n';
        write(&line.buf[..line.len + 1]);
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
