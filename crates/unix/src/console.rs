//! The console: standard output, and standard error for error reports.

use std::io::Write;

/// Writes `bytes` to standard output, best effort (a closed stdout drops them).
pub fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// Writes `bytes` to standard error, best effort.
pub fn write_stderr(bytes: &[u8]) {
    let _ = std::io::stderr().lock().write_all(bytes);
}
