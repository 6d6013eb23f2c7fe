//! Entropy: RDSEED, else RDRAND, each word mixed with TSC jitter.
//!
//! Solo5 has no entropy hypercall, so the CPU is the only source. CPUID says which
//! instructions exist (leaf 7 EBX bit 18 for RDSEED, leaf 1 ECX bit 30 for RDRAND); a CPU with
//! neither gives a clear error rather than predictable bytes. The TSC's low bits at each draw
//! are folded in as well: they cannot hurt, and they help should the hardware source be weak.

use morgana_entropy::EntropyError;

/// Which hardware instruction supplies the randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// RDSEED: conditioned entropy straight from the noise source.
    RdSeed,
    /// RDRAND: a DRBG reseeded from the noise source.
    RdRand,
}

/// Picks the source from CPUID values: leaf 1 ECX and leaf 7 (sub-leaf 0) EBX.
pub fn pick_source(leaf1_ecx: u32, leaf7_ebx: u32) -> Result<Source, EntropyError> {
    if leaf7_ebx & (1 << 18) != 0 {
        Ok(Source::RdSeed)
    } else if leaf1_ecx & (1 << 30) != 0 {
        Ok(Source::RdRand)
    } else {
        Err(EntropyError {
            reason: "the CPU offers neither RDSEED nor RDRAND (Solo5 hvt has no other source)",
        })
    }
}

/// A 64-bit finaliser (SplitMix64's) spreading TSC jitter over every bit.
pub fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Fills `dest` from the CPU; on failure `dest` is zeroed, never partly random.
#[cfg(target_os = "hvt")]
pub fn fill(dest: &mut [u8]) -> Result<(), EntropyError> {
    use crate::cpu::{cpuid, rdrand64, rdtsc};
    let (max_leaf, _, _, _) = cpuid(0, 0);
    let (_, _, leaf1_ecx, _) = cpuid(1, 0);
    let leaf7_ebx = if max_leaf >= 7 { cpuid(7, 0).1 } else { 0 };
    let seed = pick_source(leaf1_ecx, leaf7_ebx)? == Source::RdSeed;
    let mut at = 0;
    while at < dest.len() {
        // Intel advises retrying; RDSEED in particular may be briefly exhausted.
        let Some(hw) = (0..100).find_map(|_| rdrand64(seed)) else {
            dest.fill(0);
            return Err(EntropyError {
                reason: "the CPU's random number instruction kept failing",
            });
        };
        let word = (hw ^ mix(rdtsc())).to_le_bytes();
        let n = (dest.len() - at).min(8);
        dest[at..at + n].copy_from_slice(&word[..n]);
        at += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_follows_cpuid() {
        assert_eq!(pick_source(1 << 30, 1 << 18), Ok(Source::RdSeed));
        assert_eq!(pick_source(0, 1 << 18), Ok(Source::RdSeed));
        assert_eq!(pick_source(1 << 30, 0), Ok(Source::RdRand));
        let err = pick_source(!(1 << 30), !(1 << 18)).unwrap_err();
        assert_eq!(
            err.reason,
            "the CPU offers neither RDSEED nor RDRAND (Solo5 hvt has no other source)"
        );
    }

    #[test]
    fn mix_spreads_small_differences() {
        assert_ne!(mix(1), mix(2));
        assert!((mix(1) ^ mix(2)).count_ones() > 16);
    }
}
