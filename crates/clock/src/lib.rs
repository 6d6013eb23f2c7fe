//! The clock interface.
//!
//! Two clocks, both in nanoseconds as `u64`:
//! - the **monotonic** clock counts from an arbitrary origin near boot, never goes backwards and
//!   is what timers and deadlines use;
//! - the **wall** clock counts from the Unix epoch (1970-01-01T00:00:00Z, leap seconds not
//!   counted), may jump when the host's time is set, and is only for telling the date.
//!
//! A `u64` of nanoseconds lasts 584 years from either origin.
#![forbid(unsafe_code)]
#![no_std]

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A source of monotonic and wall-clock time.
pub trait Clock {
    /// Nanoseconds since an origin fixed at boot. Never decreases between two calls.
    fn monotonic_ns(&self) -> u64;

    /// Nanoseconds since the Unix epoch, as the host sees it now.
    fn wall_ns(&self) -> u64;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn monotonic_ns(&self) -> u64 {
        (**self).monotonic_ns()
    }
    fn wall_ns(&self) -> u64 {
        (**self).wall_ns()
    }
}
