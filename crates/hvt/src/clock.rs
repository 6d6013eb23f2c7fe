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
        // q = 1e9 * 2^64 / freq in two 64-bit halves, then shifted down until it fits 64 bits.
        const NS_PER_S: u64 = 1_000_000_000;
        let high = NS_PER_S.checked_div(freq_hz)?;
        let low = div_wide(NS_PER_S % freq_hz, 0, freq_hz);
        let excess = u64::BITS - high.leading_zeros();
        let factor = match excess {
            0 => low,
            _ => (high << (64 - excess)) | (low >> excess),
        };
        (factor != 0).then_some(TscScale {
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

/// `(high * 2^64 + low) / divisor`, for `high < divisor` (so the quotient fits 64 bits), by
/// the CPU's 128-by-64-bit divide. A `u128` division would link compiler-builtins' general
/// routine, about 250 bytes of every image, for this one division at boot.
fn div_wide(high: u64, low: u64, divisor: u64) -> u64 {
    assert!(high < divisor);
    let quotient: u64;
    // SAFETY: `div` divides rdx:rax by the operand and touches nothing else but the flags;
    // `high < divisor` (checked) makes the divisor non-zero and the quotient fit in rax, so
    // it raises no #DE.
    unsafe {
        core::arch::asm!(
            "div {divisor}",
            divisor = in(reg) divisor,
            inout("rax") low => quotient,
            inout("rdx") high => _,
            options(pure, nomem, nostack),
        );
    }
    quotient
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

    #[test]
    fn the_scale_is_the_exact_128_bit_quotient_shifted_to_64_bits() {
        for freq in [
            1u64,
            3,
            7,
            999_999_999,
            1_000_000_000,
            2_095_078_000,
            u64::MAX,
        ] {
            let q = (1_000_000_000u128 << 64) / u128::from(freq);
            let excess = (128 - q.leading_zeros()).saturating_sub(64);
            let want = TscScale {
                factor: (q >> excess) as u64,
                shift: 64 - excess,
            };
            assert_eq!(TscScale::new(freq), Some(want), "{freq}");
        }
        assert_eq!(div_wide(1, 0, 2), 1 << 63);
        assert_eq!(div_wide(2, 5, 3), ((2u128 << 64 | 5) / 3) as u64);
    }
}
