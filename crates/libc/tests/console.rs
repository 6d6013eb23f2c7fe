//! printf, puts and friends reach the writer installed with `set_console_writer`; a failed
//! assert prints its message there and aborts the process.

use core::ffi::{c_char, c_int, c_void};
use morgana_libc::set_console_writer;
use std::io::Write;
use std::process::Command;
use std::sync::Mutex;

unsafe extern "C" {
    fn morgana_printf(fmt: *const c_char, ...) -> c_int;
    fn morgana_fprintf(stream: *mut c_void, fmt: *const c_char, ...) -> c_int;
    fn morgana_puts(s: *const c_char) -> c_int;
    fn morgana_fputs(s: *const c_char, stream: *mut c_void) -> c_int;
    fn morgana_putchar(c: c_int) -> c_int;
    fn morgana_fwrite(p: *const c_void, size: usize, n: usize, stream: *mut c_void) -> usize;
    fn morgana_fflush(stream: *mut c_void) -> c_int;
    fn snprintf(buf: *mut c_char, n: usize, fmt: *const c_char, ...) -> c_int;
    fn __morgana_assert_fail(expr: *const c_char, file: *const c_char, line: c_int) -> !;
    static mut morgana_stdout: *mut c_void;
    static mut morgana_stderr: *mut c_void;
}

/// Everything written so far, and how many chunks it came in.
static CAPTURED: Mutex<(Vec<u8>, usize)> = Mutex::new((Vec::new(), 0));

fn capture(bytes: &[u8]) {
    let mut captured = CAPTURED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    captured.0.extend_from_slice(bytes);
    captured.1 += 1;
}

fn take() -> (Vec<u8>, usize) {
    std::mem::take(
        &mut *CAPTURED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
}

/// One test, so that nothing else prints while output is being checked.
#[test]
fn output_reaches_the_installed_writer() {
    // Before a writer is installed, output is dropped but still counted.
    // SAFETY: the format matches its argument.
    let lost = unsafe { morgana_printf(c"lost %d\n".as_ptr(), 1 as c_int) };
    assert_eq!(lost, 7);
    set_console_writer(capture);
    assert_eq!(take(), (Vec::new(), 0));

    // SAFETY: formats match their arguments; strings are NUL-terminated; the streams are the
    // library's own stdout/stderr.
    unsafe {
        assert_eq!(
            morgana_printf(
                c"%s=%d %#x\n".as_ptr(),
                c"n".as_ptr(),
                -3 as c_int,
                255 as c_int
            ),
            10
        );
        assert_eq!(take(), (b"n=-3 0xff\n".to_vec(), 1));

        assert!(morgana_puts(c"line".as_ptr()) >= 0);
        assert_eq!(morgana_putchar(0x1ff), 0xff);
        assert_eq!(morgana_fputs(c"<err>".as_ptr(), morgana_stderr), 0);
        assert_eq!(
            morgana_fprintf(morgana_stdout, c"[%5s]".as_ptr(), c"ab".as_ptr()),
            7
        );
        assert_eq!(
            morgana_fwrite(c"xyz".as_ptr().cast(), 1, 3, morgana_stdout),
            3
        );
        assert_eq!(morgana_fflush(morgana_stdout), 0);
        assert_eq!(take().0, b"line\n\xff<err>[   ab]xyz".to_vec());

        // Output longer than the staging buffer arrives complete and in order, in chunks.
        let r = morgana_printf(c"<%300d|%-200s>".as_ptr(), 42 as c_int, c"tail".as_ptr());
        let mut want = [0u8; 600];
        let rw = snprintf(
            want.as_mut_ptr().cast(),
            want.len(),
            c"<%300d|%-200s>".as_ptr(),
            42 as c_int,
            c"tail".as_ptr(),
        );
        let (got, chunks) = take();
        assert_eq!((r, got.as_slice()), (rw, &want[..rw as usize]));
        assert!(
            chunks >= 4,
            "503 bytes through a 128-byte staging buffer: {chunks} chunks"
        );
    }
}

fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

const CHILD_ENV: &str = "MORGANA_LIBC_ASSERT_CHILD";

/// Runs in a child process only (see `failed_assert_prints_and_aborts`).
#[test]
#[ignore = "run as a child process by failed_assert_prints_and_aborts"]
fn child_failing_assert() {
    // Only as the child: in a run with --include-ignored this would abort the whole binary.
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    set_console_writer(write_stdout);
    // SAFETY: all strings are NUL-terminated; this call does not return.
    unsafe { __morgana_assert_fail(c"len == 2".as_ptr(), c"demo.c".as_ptr(), 17) }
}

#[test]
fn failed_assert_prints_and_aborts() {
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .env(CHILD_ENV, "1")
        .args([
            "--ignored",
            "--exact",
            "child_failing_assert",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("run the test binary as a child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Assertion failed: len == 2 (demo.c: 17)\n"),
        "child stdout: {stdout:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("abort() called from C code"),
        "child stderr: {stderr:?}"
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(6),
        "SIGABRT, status {:?}",
        out.status
    );
}
