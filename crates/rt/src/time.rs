//! The `embassy-time` driver: ticks of one microsecond over the platform's monotonic clock.
//!
//! Its timer queue holds any number of timers (a server with a thousand connections has a
//! thousand idle timeouts pending) and accepts any waker, the application's main future's
//! included; see [`TimerQueue`].

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::cmp::Reverse;
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

/// Pending timers: one per waker, at its earliest deadline.
///
/// `timers` holds each waker's deadline, sorted by waker, and `due` every deadline set, as a
/// min-heap. A deadline moved earlier leaves its old heap entry behind; an entry whose
/// deadline is no longer its waker's is dropped when it comes up. Looking a waker up and
/// expiry are O(log n); a new waker costs a move of the entries after it in `timers` (a copy
/// of at most a few tens of KiB with thousands of timers, once per timer set, not per poll).
///
/// Two flat vectors rather than ordered maps: B-trees of two key types were 9.7 KiB of every
/// image's code. (embassy's generic queue holds at most 128 timers and, when full, wakes one
/// to make room, which with more waiting tasks than that wakes them in turn without end.)
#[derive(Default)]
pub(crate) struct TimerQueue {
    /// Each waker's deadline and the waker to wake, sorted by [`WakerId`].
    timers: Vec<(WakerId, u64, Waker)>,
    /// The deadlines set, earliest first, some of them stale (see above).
    due: BinaryHeap<Reverse<(u64, WakerId)>>,
}

impl TimerQueue {
    const fn new() -> Self {
        TimerQueue {
            timers: Vec::new(),
            due: BinaryHeap::new(),
        }
    }

    /// Wakes `waker` at tick `at` (or earlier, if it already waits for an earlier tick).
    pub(crate) fn schedule_wake(&mut self, at: u64, waker: &Waker) {
        let id = waker_id(waker);
        match self.timers.binary_search_by(|(w, _, _)| w.cmp(&id)) {
            Ok(i) => {
                // Keep the waker we hold: it is the same task's (`id` is equal).
                if at < self.timers[i].1 {
                    self.timers[i].1 = at;
                    self.due.push(Reverse((at, id)));
                }
            }
            Err(i) => {
                self.timers.insert(i, (id, at, waker.clone()));
                self.due.push(Reverse((at, id)));
            }
        }
    }

    /// Wakes every timer due at tick `now`; returns the next deadline (`u64::MAX` for none).
    pub(crate) fn expire(&mut self, now: u64) -> u64 {
        while let Some(&Reverse((at, id))) = self.due.peek() {
            let found = self.timers.binary_search_by(|(w, _, _)| w.cmp(&id));
            match found {
                // The waker's deadline: due now, or the next one.
                Ok(i) if self.timers[i].1 == at => {
                    if at > now {
                        return at;
                    }
                    self.due.pop();
                    let (_, _, waker) = self.timers.remove(i);
                    waker.wake();
                }
                // Stale: the waker was woken already, or waits for an earlier deadline.
                _ => {
                    self.due.pop();
                }
            }
        }
        u64::MAX
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.timers.len()
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
    /// Against a model (each waker's deadline in a plain list), over random deadlines moved
    /// earlier and later and random expiries: every waker is woken exactly when the model says,
    /// and the next deadline is the model's.
    #[test]
    fn random_schedules_and_expiries_match_a_model() {
        let mut q = TimerQueue::new();
        let counts: Vec<Arc<Count>> = (0..50)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(c.clone())).collect();
        let mut model: Vec<Option<u64>> = alloc::vec![None; 50];
        let mut woken = alloc::vec![0usize; 50];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut now = 0u64;
        for _ in 0..20_000 {
            if next() % 4 == 0 {
                now += next() % 20;
                let next_at = q.expire(now);
                for (w, at) in model.iter_mut().enumerate() {
                    if at.is_some_and(|at| at <= now) {
                        *at = None;
                        woken[w] += 1;
                    }
                }
                assert_eq!(
                    next_at,
                    model.iter().flatten().min().copied().unwrap_or(u64::MAX)
                );
            } else {
                let w = (next() % 50) as usize;
                let at = now + next() % 100;
                q.schedule_wake(at, &wakers[w]);
                model[w] = Some(model[w].map_or(at, |m| m.min(at)));
            }
            for (c, n) in counts.iter().zip(&woken) {
                assert_eq!(c.0.load(Ordering::Relaxed), *n);
            }
            assert_eq!(q.len(), model.iter().flatten().count());
        }
    }
}
