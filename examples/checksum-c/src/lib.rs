//! CRC-32 and Adler-32, implemented in C (`csrc/`), compiled by `cc` and bound by bindgen.
//!
//! This crate exists to show C code inside a unikernel: the same C builds against the host's
//! libc for the unix target and against Morgana's freestanding libc for the bare-metal targets,
//! with no line here knowing which. The safe API below wraps the generated bindings.
#![no_std]

#[rustfmt::skip]
mod bindings;

use core::fmt;

pub use bindings::{CHECKSUM_ADLER32_INIT, CHECKSUM_CRC32_INIT};

/// CRC-32 (IEEE) of `data`, continuing from `crc` (start from [`CHECKSUM_CRC32_INIT`]).
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    // SAFETY: the pointer and length describe `data`, which the C code only reads.
    unsafe { bindings::checksum_crc32(crc, data.as_ptr(), data.len()) }
}

/// Adler-32 of `data`, continuing from `adler` (start from [`CHECKSUM_ADLER32_INIT`]).
pub fn adler32(adler: u32, data: &[u8]) -> u32 {
    // SAFETY: the pointer and length describe `data`, which the C code only reads.
    unsafe { bindings::checksum_adler32(adler, data.as_ptr(), data.len()) }
}

/// Both checksums of a stream, kept by the C library in memory it allocates with `malloc`.
pub struct Checksums(core::ptr::NonNull<bindings::checksum_state>);

/// The C library could not allocate its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("out of memory")]
pub struct OutOfMemory;

impl Checksums {
    /// A new, empty stream.
    pub fn new() -> Result<Checksums, OutOfMemory> {
        // SAFETY: no arguments; the result is a fresh heap object or null.
        let state = unsafe { bindings::checksum_state_new() };
        core::ptr::NonNull::new(state)
            .map(Checksums)
            .ok_or(OutOfMemory)
    }

    /// Adds `data` to the stream.
    pub fn update(&mut self, data: &[u8]) {
        // SAFETY: the state is live and ours; `data` is only read.
        unsafe { bindings::checksum_state_update(self.0.as_ptr(), data.as_ptr(), data.len()) }
    }

    /// The CRC-32 so far.
    pub fn crc32(&self) -> u32 {
        // SAFETY: the state is live and properly initialised by `checksum_state_new`.
        unsafe { self.0.as_ref().crc32 }
    }

    /// The Adler-32 so far.
    pub fn adler32(&self) -> u32 {
        // SAFETY: as for `crc32`.
        unsafe { self.0.as_ref().adler32 }
    }
}

impl fmt::Display for Checksums {
    /// The C library's own text, `crc32=XXXXXXXX adler32=XXXXXXXX length=N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 96];
        // SAFETY: `buf` is writable for its whole length, which is what we pass.
        let n = unsafe {
            bindings::checksum_state_format(self.0.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        };
        let n = usize::try_from(n)
            .map_err(|_| fmt::Error)?
            .min(buf.len() - 1);
        f.write_str(core::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Checksums {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksums({self})")
    }
}

impl Drop for Checksums {
    fn drop(&mut self) {
        // SAFETY: the state came from `checksum_state_new` and is freed once, here.
        unsafe { bindings::checksum_state_free(self.0.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn known_values() {
        // Check values published for these algorithms.
        assert_eq!(crc32(CHECKSUM_CRC32_INIT, b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(CHECKSUM_ADLER32_INIT, b"Wikipedia"), 0x11e6_0398);
        assert_eq!(crc32(CHECKSUM_CRC32_INIT, b""), 0);
        assert_eq!(adler32(CHECKSUM_ADLER32_INIT, b""), 1);
    }

    #[test]
    fn incremental_equals_whole_and_formats_through_c() {
        let data: std::vec::Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut s = Checksums::new().unwrap();
        for chunk in data.chunks(777) {
            s.update(chunk);
        }
        assert_eq!(s.crc32(), crc32(0, &data));
        assert_eq!(s.adler32(), adler32(1, &data));
        assert_eq!(
            s.to_string(),
            std::format!(
                "crc32={:08x} adler32={:08x} length=20000",
                s.crc32(),
                s.adler32()
            )
        );
    }
}
