//! The POLL hypercall's host side: one level-triggered epoll set holding a timerfd and every
//! attached tap, each tap tagged with its device handle.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Tag of the timer in the epoll set; taps are tagged with their handle (< 64).
const TIMER_TAG: u64 = u64::MAX;
const MAX_EVENTS: usize = 64;

/// The epoll set and its timer.
#[derive(Debug)]
pub struct Poller {
    epoll: OwnedFd,
    timer: OwnedFd,
}

fn owned(raw: RawFd) -> io::Result<OwnedFd> {
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` was just returned by a successful system call and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

impl Poller {
    /// Creates the epoll set with the timerfd in it.
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain descriptor creation; results checked by `owned`.
        let epoll = owned(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: as above.
        let timer = owned(unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        })?;
        let p = Self { epoll, timer };
        p.add(p.timer.as_raw_fd(), TIMER_TAG)?;
        Ok(p)
    }

    /// Adds a tap fd, reported in ready sets as bit `handle`.
    pub fn add(&self, fd: RawFd, handle: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: handle,
        };
        // SAFETY: `ev` is a valid event that outlives the call.
        let rc =
            unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The epoll fd (for the seccomp filter).
    pub fn epoll_fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    /// The timer fd (for the seccomp filter).
    pub fn timer_fd(&self) -> RawFd {
        self.timer.as_raw_fd()
    }

    /// Blocks until `timeout_ns` (relative, nanoseconds) passes or a tap is readable.
    /// Returns the ready set (bit h = handle h readable) and the number of ready taps.
    /// The lowest nanosecond bit is always set so that a zero timeout still fires.
    pub fn wait(&self, timeout_ns: u64) -> io::Result<(u64, u32)> {
        let ns = timeout_ns | 1;
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: (ns / 1_000_000_000) as libc::time_t,
                tv_nsec: (ns % 1_000_000_000) as libc::c_long,
            },
        };
        // SAFETY: `spec` is valid for the call; the old value is not requested.
        let rc = unsafe {
            libc::timerfd_settime(self.timer.as_raw_fd(), 0, &spec, std::ptr::null_mut())
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; MAX_EVENTS];
        let n = loop {
            // SAFETY: the kernel writes at most MAX_EVENTS entries into `events`.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    MAX_EVENTS as i32,
                    -1,
                )
            };
            if n >= 0 {
                break n as usize;
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
            if crate::stop_requested().is_some() {
                // Nothing is ready; the run loop sees the signal before resuming the guest.
                break 0;
            }
        };
        let (mut ready, mut count) = (0u64, 0u32);
        for ev in &events[..n] {
            let tag = ev.u64;
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
    use std::time::{Duration, Instant};

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
