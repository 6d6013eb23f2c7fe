//! The console interface.
//!
//! A console is where a unikernel's text output goes: standard output for a process, the `PUTS`
//! hypercall on hvt, the PV console ring on Xen. Output is **best effort**: a console never
//! blocks forever and never reports an error to the caller, because there is nothing a program
//! could do about a console that fails, and logging must not be able to stop it.
//!
//! The trait has one required method, [`Console::write`]. [`Writer`] adapts any console to
//! [`core::fmt::Write`] and to [`embedded_io::Write`], so `write!` and code written against
//! `embedded-io` work unchanged.
#![forbid(unsafe_code)]
#![no_std]

use core::convert::Infallible;
use core::fmt;

/// A byte-oriented, best-effort output device.
pub trait Console {
    /// Writes `bytes` to the console.
    ///
    /// Contract: returns after the bytes were handed to the device or dropped; never blocks for
    /// an unbounded time; never fails. Partial output is possible when the device is congested.
    fn write(&self, bytes: &[u8]);
}

impl<C: Console + ?Sized> Console for &C {
    fn write(&self, bytes: &[u8]) {
        (**self).write(bytes)
    }
}

/// Adapts a [`Console`] to [`core::fmt::Write`] and [`embedded_io::Write`].
#[derive(Debug, Clone, Copy)]
pub struct Writer<C>(pub C);

impl<C: Console> fmt::Write for Writer<C> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

impl<C> embedded_io::ErrorType for Writer<C> {
    type Error = Infallible;
}

impl<C: Console> embedded_io::Write for Writer<C> {
    /// Always accepts the whole buffer: the console is best effort.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.0.write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::cell::RefCell;
    use core::fmt::Write as _;
    use std::vec::Vec;

    struct Recorder(RefCell<Vec<u8>>);
    impl Console for Recorder {
        fn write(&self, bytes: &[u8]) {
            self.0.borrow_mut().extend_from_slice(bytes);
        }
    }

    #[test]
    fn fmt_adapter_writes_formatted_text() {
        let rec = Recorder(RefCell::new(Vec::new()));
        write!(Writer(&rec), "x={} y={:>3}", 4, "ab").unwrap();
        assert_eq!(rec.0.borrow().as_slice(), b"x=4 y= ab");
    }

    #[test]
    fn embedded_io_adapter_accepts_whole_buffers() {
        let rec = Recorder(RefCell::new(Vec::new()));
        let mut w = Writer(&rec);
        assert_eq!(embedded_io::Write::write(&mut w, b"abc").unwrap(), 3);
        embedded_io::Write::write_all(&mut w, b"de").unwrap();
        assert_eq!(rec.0.borrow().as_slice(), b"abcde");
    }
}
