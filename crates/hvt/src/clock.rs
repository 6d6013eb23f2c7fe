//! Clocks: monotonic time from the TSC, wall-clock time from the `WALLTIME` hypercall.
//!
//! The tender reports the TSC frequency in `boot_info.cpu_cycle_freq` and KVM guarantees an
//! invariant TSC. Ticks become nanoseconds with one 64×64→128-bit multiply by a fixed-point
//! factor and a shift, both computed once at boot: no division and no floating point on the
//! hot path.

/// A ticks-to-nanoseconds conversion: `ns = ticks * factor >> shift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TscScale {
    /// The fixed-point factor, as large as fits a `u64` for the best precision.
    pub factor: u64,
    /// Its fraction bits.
    pub shift: u32,
}

impl TscScale {
    /// The scale for a TSC of `freq_hz`; `None` for 0 (or a frequency no CPU has).
    pub fn new(freq_hz: u64) -> Option<TscScale> {
        // 1e9 * 2^64 / freq, then shifted down until it fits 64 bits.
        let q = (1_000_000_000u128 << 64).checked_div(u128::from(freq_hz))?;
        let excess = (128 - q.leading_zeros()).saturating_sub(64);
        let factor = u64::try_from(q >> excess).ok().filter(|&f| f != 0)?;
        Some(TscScale {
            factor,
            shift: 64 - excess,
        })
    }

    /// Nanoseconds in `ticks` TSC ticks (saturating after 584 years).
    pub fn ticks_to_ns(self, ticks: u64) -> u64 {
        let ns = (u128::from(ticks) * u128::from(self.factor)) >> self.shift;
        u64::try_from(ns).unwrap_or(u64::MAX)
    }
}

#[cfg(target_os = "hvt")]
pub use on_hvt::*;

#[cfg(target_os = "hvt")]
mod on_hvt {
    use core::sync::atomic::{AtomicU64, Ordering};

    use core::sync::atomic::AtomicU32;

    use super::TscScale;

    static BASE_TSC: AtomicU64 = AtomicU64::new(0);
    static FACTOR: AtomicU64 = AtomicU64::new(0);
    static SHIFT: AtomicU32 = AtomicU32::new(0);

    /// Starts the monotonic clock at 0 now, for a TSC of `freq_hz`; `false` if unusable.
    pub fn init(freq_hz: u64) -> bool {
        let Some(scale) = TscScale::new(freq_hz) else {
            return false;
        };
        FACTOR.store(scale.factor, Ordering::Relaxed);
        SHIFT.store(scale.shift, Ordering::Relaxed);
        BASE_TSC.store(crate::cpu::rdtsc(), Ordering::Relaxed);
        true
    }

    /// Nanoseconds since [`init`].
    pub fn monotonic_ns() -> u64 {
        let ticks = crate::cpu::rdtsc().saturating_sub(BASE_TSC.load(Ordering::Relaxed));
        let scale = TscScale {
            factor: FACTOR.load(Ordering::Relaxed),
            shift: SHIFT.load(Ordering::Relaxed),
        };
        scale.ticks_to_ns(ticks)
    }

    /// The host's wall clock, in nanoseconds since the Unix epoch.
    pub fn wall_ns() -> u64 {
        crate::hypercall::walltime()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_become_nanoseconds() {
        for freq in [
            1_000_000_000u64,
            2_400_000_000,
            3_000_000_000,
            2_095_078_000,
            1,
        ] {
            let scale = TscScale::new(freq).unwrap();
            let one_s = scale.ticks_to_ns(freq);
            assert!(
                (999_999_999..=1_000_000_000).contains(&one_s),
                "{freq}: {one_s}"
            );
            let hour = scale.ticks_to_ns(freq * 3600);
            assert!(hour.abs_diff(3_600_000_000_000) <= 1, "{freq}: {hour}");
        }
        let ghz = TscScale::new(1_000_000_000).unwrap();
        assert_eq!(ghz.ticks_to_ns(12_345), 12_345);
        assert_eq!(ghz.ticks_to_ns(0), 0);
        assert_eq!(TscScale::new(1).unwrap().ticks_to_ns(3), 3_000_000_000);
        assert_eq!(TscScale::new(1).unwrap().ticks_to_ns(u64::MAX), u64::MAX);
        assert_eq!(TscScale::new(0), None);
        assert_eq!(
            TscScale::new(u64::MAX).map(|s| s.ticks_to_ns(u64::MAX) > 0),
            Some(true)
        );
    }
}
