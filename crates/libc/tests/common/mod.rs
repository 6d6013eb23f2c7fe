//! Helpers shared by the integration tests.
#![allow(dead_code)]

use core::ffi::c_int;

/// A small deterministic generator (xorshift64*), so failures reproduce.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A byte string of length `0..max_len` drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], max_len: usize) -> Vec<u8> {
        let len = self.below(max_len);
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

unsafe extern "C" {
    fn __errno_location() -> *mut c_int;
    static mut morgana_errno: c_int;
}

/// The host libc's errno.
pub fn host_errno() -> c_int {
    // SAFETY: glibc's __errno_location returns this thread's errno slot, valid for its lifetime.
    unsafe { *__errno_location() }
}

pub fn set_host_errno(value: c_int) {
    // SAFETY: as in `host_errno`.
    unsafe { *__errno_location() = value }
}

/// This library's errno (`morgana_errno` on the host). Tests touching it run in one thread.
pub fn our_errno() -> c_int {
    // SAFETY: a plain C int; only read and written by the calling test's thread.
    unsafe { (&raw const morgana_errno).read() }
}

pub fn set_our_errno(value: c_int) {
    // SAFETY: as in `our_errno`.
    unsafe { (&raw mut morgana_errno).write(value) }
}

/// This library's errno is one process-wide int while tests run on several threads: every test
/// that reads it holds this lock.
pub fn errno_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
