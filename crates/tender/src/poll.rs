//! The POLL hypercall's host side: one level-triggered epoll set holding a timerfd and every
//! attached tap, each tap tagged with its device handle.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;
use vmm_sys_util::epoll::{ControlOperation, Epoll, EpollEvent, EventSet};
use vmm_sys_util::timerfd::TimerFd;

/// Tag of the timer in the epoll set; taps are tagged with their handle (< 64).
const TIMER_TAG: u64 = u64::MAX;
const MAX_EVENTS: usize = 64;

/// The epoll set and its timer.
///
/// System calls after setup, which the seccomp filter must allow on these two fds:
/// `timerfd_settime` on the timer and `epoll_wait` (or `epoll_pwait`, depending on the C
/// library) on the set. The timer is never read: re-arming it clears its expirations.
#[derive(Debug)]
pub struct Poller {
    epoll: Epoll,
    /// Re-armed before each wait; a `RefCell` because arming takes `&mut` and the run loop
    /// shares the devices immutably.
    timer: RefCell<TimerFd>,
}

impl Poller {
    /// Creates the epoll set with the timerfd in it.
    pub fn new() -> io::Result<Self> {
        let epoll = Epoll::new()?;
        let timer = TimerFd::new()?;
        let p = Self {
            epoll,
            timer: RefCell::new(timer),
        };
        p.add(p.timer_fd(), TIMER_TAG)?;
        Ok(p)
    }

    /// Adds a tap fd, reported in ready sets as bit `handle`.
    pub fn add(&self, fd: RawFd, handle: u64) -> io::Result<()> {
        self.epoll.ctl(
            ControlOperation::Add,
            fd,
            EpollEvent::new(EventSet::IN, handle),
        )
    }

    /// The epoll fd (for the seccomp filter).
    pub fn epoll_fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    /// The timer fd (for the seccomp filter).
    pub fn timer_fd(&self) -> RawFd {
        self.timer.borrow().as_raw_fd()
    }

    /// Blocks until `timeout_ns` (relative, nanoseconds) passes or a tap is readable.
    /// Returns the ready set (bit h = handle h readable) and the number of ready taps.
    /// The lowest nanosecond bit is always set so that a zero timeout still fires (a zero
    /// duration would disarm the timer instead).
    pub fn wait(&self, timeout_ns: u64) -> io::Result<(u64, u32)> {
        self.timer
            .borrow_mut()
            .reset(Duration::from_nanos(timeout_ns | 1), None)
            .map_err(|e| io::Error::from_raw_os_error(e.errno()))?;
        let mut events = [EpollEvent::default(); MAX_EVENTS];
        let n = loop {
            match self.epoll.wait(-1, &mut events) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if crate::stop_requested().is_some() || crate::gdb::interrupt_pending() {
                        // Nothing is ready; the run loop sees the signal before resuming the
                        // guest.
                        break 0;
                    }
                }
                Err(e) => return Err(e),
            }
        };
        let (mut ready, mut count) = (0u64, 0u32);
        for ev in &events[..n] {
            let tag = ev.data();
            if tag != TIMER_TAG && tag < 64 {
                ready |= 1 << tag;
                count += 1;
            }
        }
        Ok((ready, count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::time::Instant;

    #[test]
    fn zero_and_short_timeouts_return() {
        let p = Poller::new().expect("poller");
        assert_eq!(p.wait(0).expect("wait"), (0, 0));
        let t = Instant::now();
        assert_eq!(p.wait(20_000_000).expect("wait"), (0, 0));
        assert!(t.elapsed() >= Duration::from_millis(19));
    }

    #[test]
    fn readable_fd_sets_its_handle_bit() {
        let p = Poller::new().expect("poller");
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the descriptors were just created and are owned here.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        p.add(r.as_raw_fd(), 3).expect("add");
        // SAFETY: writes one byte from a valid buffer.
        let written = unsafe { libc::write(w.as_raw_fd(), b"x".as_ptr().cast(), 1) };
        assert_eq!(written, 1);
        assert_eq!(p.wait(5_000_000_000).expect("wait"), (1 << 3, 1));
        // Level-triggered: still ready.
        assert_eq!(p.wait(5_000_000_000).expect("wait"), (1 << 3, 1));
    }
}
