//! Time: monotonic from vCPU 0's pvclock, wall from the shared info's wall clock.
//!
//! Both are read with Xen's version protocol (retry while the version is odd or changed) and
//! scaled with integer arithmetic only.

use core::sync::atomic::{AtomicU64, Ordering, compiler_fence};

use crate::abi::VcpuTimeInfo;
use crate::shared_info;

static BOOT_SYSTEM_TIME: AtomicU64 = AtomicU64::new(0);

fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Xen system time now, ns since the domain started (0 before the shared info is mapped).
pub fn system_time() -> u64 {
    let Some(si) = shared_info::page() else {
        return 0;
    };
    loop {
        // SAFETY: the shared info page stays mapped; Xen updates the record concurrently, so
        // every field is read volatile and the version check below discards torn reads.
        let (v1, info, v2) = unsafe {
            let t = core::ptr::addr_of!((*si).vcpu_info[0].time);
            let v1 = core::ptr::read_volatile(core::ptr::addr_of!((*t).version));
            compiler_fence(Ordering::Acquire);
            let info: VcpuTimeInfo = core::ptr::read_volatile(t);
            let now = rdtsc();
            compiler_fence(Ordering::Acquire);
            let v2 = core::ptr::read_volatile(core::ptr::addr_of!((*t).version));
            (v1, info.system_time_at(now), v2)
        };
        if v1 == v2 && v1 & 1 == 0 {
            return info;
        }
    }
}

/// Records the boot time; monotonic time counts from here.
pub fn init() {
    BOOT_SYSTEM_TIME.store(system_time(), Ordering::Relaxed);
}

/// Nanoseconds since boot.
pub fn monotonic_ns() -> u64 {
    system_time().saturating_sub(BOOT_SYSTEM_TIME.load(Ordering::Relaxed))
}

/// Converts a monotonic deadline to Xen system time.
pub fn to_system_time(monotonic: u64) -> u64 {
    monotonic.saturating_add(BOOT_SYSTEM_TIME.load(Ordering::Relaxed))
}

/// Nanoseconds since the Unix epoch.
pub fn wall_ns() -> u64 {
    let Some(si) = shared_info::page() else {
        return 0;
    };
    loop {
        // SAFETY: as in `system_time`, with Xen's `wc_version` protocol.
        let (v1, sec, nsec, v2) = unsafe {
            let v1 = core::ptr::read_volatile(core::ptr::addr_of!((*si).wc_version));
            compiler_fence(Ordering::Acquire);
            let lo = core::ptr::read_volatile(core::ptr::addr_of!((*si).wc_sec));
            let hi = core::ptr::read_volatile(core::ptr::addr_of!((*si).wc_sec_hi));
            let nsec = core::ptr::read_volatile(core::ptr::addr_of!((*si).wc_nsec));
            compiler_fence(Ordering::Acquire);
            let v2 = core::ptr::read_volatile(core::ptr::addr_of!((*si).wc_version));
            (v1, u64::from(hi) << 32 | u64::from(lo), nsec, v2)
        };
        if v1 == v2 && v1 & 1 == 0 {
            return sec
                .saturating_mul(1_000_000_000)
                .saturating_add(u64::from(nsec))
                .saturating_add(system_time());
        }
    }
}
