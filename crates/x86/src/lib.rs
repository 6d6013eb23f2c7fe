//! The x86_64 processor set-up that the bare-metal backends (hvt, xen) share.
//!
//! A hard-float image is compiled for the x86_64 baseline (SSE2) and may run code that chooses
//! wider vector instructions at run time by CPUID (AVX, AVX2). That code only works when the
//! operating system, here the backend, has enabled the state those instructions use: CR4's
//! OSFXSR/OSXMMEXCPT for SSE, CR4.OSXSAVE and the XCR0 register for AVX. [`enable_vector_state`]
//! does that once at boot; the detection code then sees exactly what it may use (CPUID's
//! OSXSAVE bit reflects CR4, and XGETBV returns XCR0).
//!
//! A soft-float image contains no vector instruction and enables nothing: the hypervisor side
//! hides the SIMD features from it instead.

#![no_std]

use core::arch::asm;

pub mod backtrace;
pub mod guard;

/// XCR0 bit: x87 state (must always be set).
pub const XCR0_X87: u64 = 1 << 0;
/// XCR0 bit: SSE state (XMM registers, MXCSR).
pub const XCR0_SSE: u64 = 1 << 1;
/// XCR0 bit: AVX state (upper halves of the YMM registers).
pub const XCR0_AVX: u64 = 1 << 2;

/// CR4 bit: FXSAVE/FXRSTOR and SSE instructions enabled.
pub const CR4_OSFXSR: u64 = 1 << 9;
/// CR4 bit: unmasked SSE floating-point exceptions raise #XM.
pub const CR4_OSXMMEXCPT: u64 = 1 << 10;
/// CR4 bit: XSAVE and XCR0 enabled.
pub const CR4_OSXSAVE: u64 = 1 << 18;

/// CPUID.1:ECX bit: XSAVE supported.
const CPUID1_ECX_XSAVE: u32 = 1 << 26;
/// CPUID.1:ECX bit: AVX supported.
const CPUID1_ECX_AVX: u32 = 1 << 28;

/// The XCR0 value to enable, from CPUID leaf 1's ECX and leaf 0xD's supported-state mask
/// (EAX): x87 and SSE always, AVX when offered and supported by XSAVE. `None` without XSAVE.
pub fn xcr0_for(cpuid1_ecx: u32, xsave_supported: u64) -> Option<u64> {
    if cpuid1_ecx & CPUID1_ECX_XSAVE == 0 {
        return None;
    }
    let mut xcr0 = XCR0_X87 | XCR0_SSE;
    if cpuid1_ecx & CPUID1_ECX_AVX != 0 && xsave_supported & XCR0_AVX != 0 {
        xcr0 |= XCR0_AVX;
    }
    Some(xcr0)
}

/// Enables SSE and, where the CPU offers them, XSAVE and the AVX state.
///
/// # Safety
/// Must run at CPL 0, once, on the boot CPU, before any code that chooses vector instructions
/// at run time; it rewrites CR4 and XCR0.
pub unsafe fn enable_vector_state() {
    let leaf1 = core::arch::x86_64::__cpuid(1);
    let xsave_supported = if leaf1.ecx & CPUID1_ECX_XSAVE != 0 {
        let d = core::arch::x86_64::__cpuid_count(0xD, 0);
        (u64::from(d.edx) << 32) | u64::from(d.eax)
    } else {
        0
    };
    let xcr0 = xcr0_for(leaf1.ecx, xsave_supported);
    // SAFETY: the caller runs us at CPL 0 before anything depends on CR4; setting OSFXSR and
    // OSXMMEXCPT is valid on every x86_64 CPU, and OSXSAVE only when CPUID offers XSAVE.
    unsafe {
        let mut cr4: u64;
        asm!("mov {}, cr4", out(reg) cr4, options(nomem, nostack, preserves_flags));
        cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
        if xcr0.is_some() {
            cr4 |= CR4_OSXSAVE;
        }
        asm!("mov cr4, {}", in(reg) cr4, options(nostack, preserves_flags));
    }
    if let Some(value) = xcr0 {
        // SAFETY: CR4.OSXSAVE is set above, and `value` holds only x87, SSE and (when XSAVE
        // supports it) AVX state, a combination XSETBV accepts.
        unsafe {
            asm!(
                "xsetbv",
                in("ecx") 0u32,
                in("eax") value as u32,
                in("edx") (value >> 32) as u32,
                options(nomem, nostack, preserves_flags)
            );
        }
    }
}

/// The two GDT slots of a 64-bit TSS descriptor for the 104-byte TSS at `base`: present,
/// type 9 (available; `ltr` marks it busy), no I/O bitmap beyond it.
#[inline]
pub fn tss_descriptor(base: u64) -> [u64; 2] {
    const LIMIT: u64 = 104 - 1;
    let low = LIMIT | ((base & 0xFF_FFFF) << 16) | (0x89 << 40) | (((base >> 24) & 0xFF) << 56);
    [low, base >> 32]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tss_descriptor_splits_the_base() {
        assert_eq!(
            tss_descriptor(0x1234_5678_9abc_def0),
            [0x9a00_89bc_def0_0067, 0x1234_5678]
        );
    }

    #[test]
    fn xcr0_follows_what_cpuid_offers() {
        assert_eq!(xcr0_for(0, 0b111), None);
        assert_eq!(xcr0_for(CPUID1_ECX_XSAVE, 0b11), Some(0b11));
        assert_eq!(
            xcr0_for(CPUID1_ECX_XSAVE | CPUID1_ECX_AVX, 0b111),
            Some(0b111)
        );
        // AVX offered by CPUID but not by XSAVE's state mask: not enabled.
        assert_eq!(
            xcr0_for(CPUID1_ECX_XSAVE | CPUID1_ECX_AVX, 0b11),
            Some(0b11)
        );
    }
}
