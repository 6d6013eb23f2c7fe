//! The CPU a guest is shown: KVM's supported CPUID set, passed through (spec 2.3), except that
//! a soft-float image is shown no SIMD feature at all.
//!
//! A soft-float image contains no vector instruction, but crates in it still choose code paths
//! by CPUID at run time (SHA, AES, BLAKE3, ChaCha...). Shown SSE or AVX, they would run vector
//! code the image was not built for; shown none, they pick their portable code. The image says
//! it is soft-float in its Morgana float note ([`morgana_hvt_abi::notes::FloatNote`]).

use kvm_bindings::kvm_cpuid_entry2;

/// Bits to clear, as (leaf, sub-leaf or `None` for every one, register, mask).
const HIDDEN: &[(u32, Option<u32>, Reg, u32)] = &[
    // Leaf 1 EDX: MMX (23), SSE (25), SSE2 (26).
    (1, None, Reg::Edx, (1 << 23) | (1 << 25) | (1 << 26)),
    // Leaf 1 ECX: SSE3 (0), PCLMULQDQ (1), SSSE3 (9), FMA (12), SSE4.1 (19), SSE4.2 (20),
    // AES (25), XSAVE (26), OSXSAVE (27), AVX (28), F16C (29).
    (
        1,
        None,
        Reg::Ecx,
        1 | (1 << 1)
            | (1 << 9)
            | (1 << 12)
            | (1 << 19)
            | (1 << 20)
            | (1 << 25)
            | (1 << 26)
            | (1 << 27)
            | (1 << 28)
            | (1 << 29),
    ),
    // Leaf 7.0 EBX: AVX2 (5), AVX-512 F/DQ/IFMA/PF/ER/CD/BW/VL (16, 17, 21, 26-28, 30, 31),
    // SHA (29).
    (
        7,
        Some(0),
        Reg::Ebx,
        (1 << 5)
            | (1 << 16)
            | (1 << 17)
            | (1 << 21)
            | (1 << 26)
            | (1 << 27)
            | (1 << 28)
            | (1 << 29)
            | (1 << 30)
            | (1 << 31),
    ),
    // Leaf 7.0 ECX: AVX-512 VBMI (1), VBMI2 (6), GFNI (8), VAES (9), VPCLMULQDQ (10),
    // AVX-512 VNNI (11), BITALG (12), VPOPCNTDQ (14).
    (
        7,
        Some(0),
        Reg::Ecx,
        (1 << 1) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 14),
    ),
    // Leaf 7.0 EDX: AVX-512 4VNNIW (2), 4FMAPS (3), VP2INTERSECT (8), AMX-BF16 (22),
    // AVX-512 FP16 (23), AMX-TILE (24), AMX-INT8 (25).
    (
        7,
        Some(0),
        Reg::Edx,
        (1 << 2) | (1 << 3) | (1 << 8) | (1 << 22) | (1 << 23) | (1 << 24) | (1 << 25),
    ),
    // Leaf 7.1 EAX: AVX-VNNI (4), AVX-512 BF16 (5).
    (7, Some(1), Reg::Eax, (1 << 4) | (1 << 5)),
    // Leaf 0x8000_0001 ECX: SSE4A (6), XOP (11), FMA4 (16); EDX: MMX extensions (22),
    // 3DNow! extensions (30), 3DNow! (31).
    (
        0x8000_0001,
        None,
        Reg::Ecx,
        (1 << 6) | (1 << 11) | (1 << 16),
    ),
    (
        0x8000_0001,
        None,
        Reg::Edx,
        (1 << 22) | (1 << 30) | (1 << 31),
    ),
];

/// The leaf that describes XSAVE state components: emptied for a soft-float image.
const XSAVE_LEAF: u32 = 0xD;

#[derive(Debug, Clone, Copy)]
enum Reg {
    Eax,
    Ebx,
    Ecx,
    Edx,
}

/// Hides every SIMD feature (and XSAVE) in `entries`, KVM's CPUID set for the vCPU.
pub fn hide_simd(entries: &mut [kvm_cpuid_entry2]) {
    for e in entries {
        if e.function == XSAVE_LEAF {
            (e.eax, e.ebx, e.ecx, e.edx) = (0, 0, 0, 0);
            continue;
        }
        for &(leaf, sub, reg, mask) in HIDDEN {
            if e.function != leaf || sub.is_some_and(|s| s != e.index) {
                continue;
            }
            let r = match reg {
                Reg::Eax => &mut e.eax,
                Reg::Ebx => &mut e.ebx,
                Reg::Ecx => &mut e.ecx,
                Reg::Edx => &mut e.edx,
            };
            *r &= !mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(function: u32, index: u32) -> kvm_cpuid_entry2 {
        kvm_cpuid_entry2 {
            function,
            index,
            eax: u32::MAX,
            ebx: u32::MAX,
            ecx: u32::MAX,
            edx: u32::MAX,
            ..Default::default()
        }
    }

    #[test]
    fn soft_float_guests_see_no_vector_features() {
        let mut e = [
            entry(1, 0),
            entry(7, 0),
            entry(7, 1),
            entry(0xD, 0),
            entry(0xD, 1),
            entry(0x8000_0001, 0),
            entry(0, 0),
        ];
        hide_simd(&mut e);
        // Leaf 1: SSE/SSE2/MMX gone, FXSR (24), TSC (4), APIC (9) kept; no SSE3..AVX, XSAVE;
        // RDRAND (30) and hypervisor (31) kept.
        assert_eq!(e[0].edx & (1 << 25 | 1 << 26 | 1 << 23), 0);
        assert_eq!(
            e[0].edx & (1 << 24 | 1 << 4 | 1 << 9),
            1 << 24 | 1 << 4 | 1 << 9
        );
        assert_eq!(
            e[0].ecx & (1 | 1 << 19 | 1 << 20 | 1 << 26 | 1 << 27 | 1 << 28),
            0
        );
        assert_eq!(e[0].ecx & (1 << 30 | 1 << 31), 1 << 30 | 1 << 31);
        // Leaf 7.0: no AVX2, SHA, AVX-512; BMI1 (3), BMI2 (8), RDSEED (18) kept.
        assert_eq!(e[1].ebx & (1 << 5 | 1 << 16 | 1 << 29), 0);
        assert_eq!(
            e[1].ebx & (1 << 3 | 1 << 8 | 1 << 18),
            1 << 3 | 1 << 8 | 1 << 18
        );
        assert_eq!(e[1].ecx & (1 << 9 | 1 << 10), 0);
        assert_eq!(e[2].eax & (1 << 4), 0);
        // No XSAVE components at all.
        assert_eq!((e[3].eax, e[3].ebx, e[3].ecx, e[3].edx), (0, 0, 0, 0));
        assert_eq!((e[4].eax, e[4].edx), (0, 0));
        assert_eq!(e[5].ecx & (1 << 6 | 1 << 16), 0);
        assert_eq!(e[5].edx & (1 << 31), 0);
        // Other leaves untouched.
        assert_eq!(e[6].eax, u32::MAX);
    }
}
