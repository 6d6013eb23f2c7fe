//! The `embassy-time` driver: ticks of one microsecond over the platform's monotonic clock.
//!
//! Its timer queue holds any number of timers (a server with a thousand connections has a
//! thousand idle timeouts pending) and accepts any waker, the application's main future's
//! included; see [`TimerQueue`].

use alloc::collections::BTreeMap;
use core::cell::RefCell;
use core::task::Waker;
use critical_section::Mutex;

use crate::platform::try_platform;

const NANOS_PER_TICK: u64 = 1_000_000_000 / embassy_time_driver::TICK_HZ;

/// Who a timer wakes: a waker's data and vtable addresses (what `Waker::will_wake` compares),
/// so that a task polling the same timer again updates its entry instead of adding one.
type WakerId = (usize, usize);

fn waker_id(waker: &Waker) -> WakerId {
    (waker.data() as usize, waker.vtable() as *const _ as usize)
}

/// Pending timers: one per waker, at its earliest deadline, ordered by deadline.
///
/// `schedule_wake` and expiry are O(log n). (embassy's generic queue holds at most 128 timers
/// and, when full, wakes one to make room, which with more waiting tasks than that wakes them
/// in turn without end.)
#[derive(Default)]
pub(crate) struct TimerQueue {
    /// Deadline of each waker's timer.
    deadlines: BTreeMap<WakerId, u64>,
    /// The timers by deadline, with the waker to wake.
    by_deadline: BTreeMap<(u64, WakerId), Waker>,
}

impl TimerQueue {
    const fn new() -> Self {
        TimerQueue {
            deadlines: BTreeMap::new(),
            by_deadline: BTreeMap::new(),
        }
    }

    /// Wakes `waker` at tick `at` (or earlier, if it already waits for an earlier tick).
    pub(crate) fn schedule_wake(&mut self, at: u64, waker: &Waker) {
        let id = waker_id(waker);
        match self.deadlines.get(&id) {
            Some(&earlier) if earlier <= at => {}
            Some(&later) => {
                // Keep the waker we hold: it is the same task's (`id` is equal).
                if let Some(w) = self.by_deadline.remove(&(later, id)) {
                    self.by_deadline.insert((at, id), w);
                }
                self.deadlines.insert(id, at);
            }
            None => {
                self.deadlines.insert(id, at);
                self.by_deadline.insert((at, id), waker.clone());
            }
        }
    }

    /// Wakes every timer due at tick `now`; returns the next deadline (`u64::MAX` for none).
    pub(crate) fn expire(&mut self, now: u64) -> u64 {
        while let Some(entry) = self.by_deadline.first_entry() {
            let (at, id) = *entry.key();
            if at > now {
                break;
            }
            let waker = entry.remove();
            self.deadlines.remove(&id);
            waker.wake();
        }
        self.by_deadline
            .first_key_value()
            .map_or(u64::MAX, |((at, _), _)| *at)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_deadline.len()
    }
}

pub(crate) struct TimeDriver {
    queue: Mutex<RefCell<TimerQueue>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: TimeDriver = TimeDriver {
    queue: Mutex::new(RefCell::new(TimerQueue::new())),
});

impl embassy_time_driver::Driver for TimeDriver {
    fn now(&self) -> u64 {
        try_platform().map_or(0, |p| p.monotonic_ns() / NANOS_PER_TICK)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            self.queue.borrow_ref_mut(cs).schedule_wake(at, waker);
        });
    }
}

/// Wakes every timer that has expired and returns the next deadline in monotonic nanoseconds.
pub(crate) fn expire_timers() -> Option<u64> {
    let now = embassy_time_driver::Driver::now(&DRIVER);
    let next = critical_section::with(|cs| DRIVER.queue.borrow_ref_mut(cs).expire(now));
    (next != u64::MAX).then(|| next.saturating_mul(NANOS_PER_TICK))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use alloc::task::Wake;
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicUsize, Ordering};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn thousands_of_timers_each_woken_once_at_its_deadline() {
        let mut q = TimerQueue::new();
        let counts: Vec<Arc<Count>> = (0..3000)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(c.clone())).collect();
        for (i, w) in wakers.iter().enumerate() {
            q.schedule_wake(1000 + i as u64, w);
            // A task polled again with a later deadline keeps its earlier one.
            q.schedule_wake(5000 + i as u64, w);
        }
        assert_eq!(q.len(), 3000);
        assert!(counts.iter().all(|c| c.0.load(Ordering::Relaxed) == 0));
        // An earlier deadline replaces the later one.
        q.schedule_wake(10, &wakers[2999]);
        assert_eq!(q.len(), 3000);
        assert_eq!(q.expire(9), 10);
        assert_eq!(q.expire(10), 1000);
        assert_eq!(counts[2999].0.load(Ordering::Relaxed), 1);
        assert_eq!(q.expire(1999), 2000);
        let woken: usize = counts.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
        assert_eq!(woken, 1001);
        assert_eq!(q.expire(u64::MAX - 1), u64::MAX);
        assert!(counts.iter().all(|c| c.0.load(Ordering::Relaxed) == 1));
        assert_eq!(q.len(), 0);
    }
}
