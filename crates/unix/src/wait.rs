//! The wait primitive: `ppoll(2)` on the descriptors that tasks wait for, with the timer deadline.
//!
//! A device that returns `Pending` registers its waker here with the descriptor and direction
//! it waits for. [`wait`] blocks until one of them is ready or the deadline passes, then wakes
//! (and forgets) the wakers of the ready descriptors.
//!
//! The runtime's non-blocking readiness check (`Platform::check_ready`, made after a few busy
//! passes of the executor in a row) is [`wait`] with a deadline in the past: one `ppoll` with a
//! zero timeout, a system call that does not sleep.

use std::os::fd::RawFd;
use std::sync::Mutex;
use std::task::Waker;

/// Which readiness a waker waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Data can be read.
    Read,
    /// Data can be written.
    Write,
}

#[derive(Debug)]
struct Watch {
    fd: RawFd,
    interest: Interest,
    waker: Waker,
}

static WATCHES: Mutex<Vec<Watch>> = Mutex::new(Vec::new());

fn watches() -> std::sync::MutexGuard<'static, Vec<Watch>> {
    // A panic while holding the lock ends the process anyway; the list itself stays valid.
    WATCHES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Wakes `waker` once `fd` is ready for `interest`.
///
/// A task registering again for the same pair replaces its earlier waker; different tasks
/// waiting on one descriptor (several accepting on one listening socket) are all woken.
pub fn register(fd: RawFd, interest: Interest, waker: &Waker) {
    let mut list = watches();
    match list
        .iter_mut()
        .find(|w| w.fd == fd && w.interest == interest && w.waker.will_wake(waker))
    {
        Some(w) => w.waker.clone_from(waker),
        None => list.push(Watch {
            fd,
            interest,
            waker: waker.clone(),
        }),
    }
}

/// Forgets every waker registered for `fd` (when a device is dropped).
pub fn forget(fd: RawFd) {
    watches().retain(|w| w.fd != fd);
}

/// Blocks until a registered descriptor is ready or the monotonic clock reaches `deadline_ns`.
pub fn wait(deadline_ns: Option<u64>) {
    let mut fds: Vec<libc::pollfd> = watches()
        .iter()
        .map(|w| libc::pollfd {
            fd: w.fd,
            events: match w.interest {
                Interest::Read => libc::POLLIN,
                Interest::Write => libc::POLLOUT,
            },
            revents: 0,
        })
        .collect();
    let timeout = deadline_ns.map(|deadline| {
        let left = deadline.saturating_sub(crate::clock::monotonic_ns());
        libc::timespec {
            tv_sec: (left / 1_000_000_000) as libc::time_t,
            tv_nsec: (left % 1_000_000_000) as libc::c_long,
        }
    });
    let timeout_ptr = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `fds` is a valid array of `fds.len()` pollfds that outlives the call; the timeout
    // pointer is null or points at a live timespec; a null sigmask leaves the mask unchanged.
    let n = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            timeout_ptr,
            std::ptr::null(),
        )
    };
    if n <= 0 {
        // Timeout, or EINTR: either way the run loop looks at its timers and calls again.
        return;
    }
    let mut ready = Vec::new();
    watches().retain(|w| {
        let hit = fds.iter().any(|p| {
            p.fd == w.fd
                && p.revents != 0
                && match w.interest {
                    // Errors and hang-ups wake both directions so the device sees the failure.
                    Interest::Read => {
                        p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP | libc::POLLNVAL)
                            != 0
                    }
                    Interest::Write => {
                        p.revents & (libc::POLLOUT | libc::POLLERR | libc::POLLHUP | libc::POLLNVAL)
                            != 0
                    }
                }
        });
        if hit {
            ready.push(w.waker.clone());
        }
        !hit
    });
    // Woken outside the lock: a waker may register again at once.
    ready.into_iter().for_each(Waker::wake);
}
