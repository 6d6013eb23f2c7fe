//! The `embassy-time` driver: ticks of one microsecond over the platform's monotonic clock.

use core::cell::RefCell;
use core::task::Waker;
use critical_section::Mutex;
use embassy_time_queue_utils::Queue;

use crate::platform::try_platform;

const NANOS_PER_TICK: u64 = 1_000_000_000 / embassy_time_driver::TICK_HZ;

pub(crate) struct TimeDriver {
    queue: Mutex<RefCell<Queue>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: TimeDriver = TimeDriver {
    queue: Mutex::new(RefCell::new(Queue::new())),
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
    let next = critical_section::with(|cs| DRIVER.queue.borrow_ref_mut(cs).next_expiration(now));
    (next != u64::MAX).then(|| next.saturating_mul(NANOS_PER_TICK))
}
