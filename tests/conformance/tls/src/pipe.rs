//! An in-memory byte pipe for two tasks of one executor: each direction a queue and the
//! waker of its reader.

use alloc::collections::VecDeque;
use core::cell::RefCell;
use core::task::{Poll, Waker};

use embedded_io_async::{ErrorKind, ErrorType, Read, Write};

/// One direction.
#[derive(Debug, Default)]
pub struct Half {
    bytes: RefCell<VecDeque<u8>>,
    reader: RefCell<Option<Waker>>,
}

/// One end: reads from one half, writes to the other.
#[derive(Debug)]
pub struct End<'a> {
    rx: &'a Half,
    tx: &'a Half,
}

impl<'a> End<'a> {
    /// The end that reads `rx` and writes `tx`.
    pub fn new(rx: &'a Half, tx: &'a Half) -> Self {
        End { rx, tx }
    }
}

impl ErrorType for End<'_> {
    type Error = ErrorKind;
}

impl Read for End<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        core::future::poll_fn(|cx| {
            let mut bytes = self.rx.bytes.borrow_mut();
            if bytes.is_empty() {
                *self.rx.reader.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let n = buf.len().min(bytes.len());
            for (slot, byte) in buf.iter_mut().zip(bytes.drain(..n)) {
                *slot = byte;
            }
            Poll::Ready(Ok(n))
        })
        .await
    }
}

impl Write for End<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.tx.bytes.borrow_mut().extend(buf);
        if let Some(w) = self.tx.reader.borrow_mut().take() {
            w.wake();
        }
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}
