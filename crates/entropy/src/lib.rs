//! The entropy interface.
//!
//! A [`SeedSource`] yields unpredictable bytes from the platform (`getrandom(2)` on unix,
//! RDSEED/RDRAND and clock jitter on hvt). Seed sources may be slow or limited, so programs
//! draw from a [`Csprng`]: ChaCha20 seeded with 32 bytes from the source, implementing
//! [`rand_core::RngCore`] and [`rand_core::CryptoRng`].
#![forbid(unsafe_code)]
#![no_std]

use core::fmt;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};

/// The platform has no usable source of entropy, or it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no entropy: {reason}")]
pub struct EntropyError {
    /// What failed, for the error message.
    pub reason: &'static str,
}

/// A source of unpredictable bytes for seeding.
pub trait SeedSource {
    /// Fills all of `dest` with unpredictable bytes, or fails without a partial result.
    fn fill_seed(&self, dest: &mut [u8]) -> Result<(), EntropyError>;
}

impl<S: SeedSource + ?Sized> SeedSource for &S {
    fn fill_seed(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
        (**self).fill_seed(dest)
    }
}

/// A cryptographically secure generator: ChaCha20 seeded from a [`SeedSource`].
pub struct Csprng(ChaCha20Rng);

impl fmt::Debug for Csprng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Csprng { .. }")
    }
}

impl Csprng {
    /// Seeds a new generator with 32 bytes from `source`.
    pub fn from_source<S: SeedSource + ?Sized>(source: &S) -> Result<Self, EntropyError> {
        let mut seed = [0u8; 32];
        source.fill_seed(&mut seed)?;
        Ok(Csprng(ChaCha20Rng::from_seed(seed)))
    }
}

impl RngCore for Csprng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
}

impl CryptoRng for Csprng {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seed source that always yields `byte`.
    struct Fixed(u8);
    impl SeedSource for Fixed {
        fn fill_seed(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
            dest.fill(self.0);
            Ok(())
        }
    }

    struct Broken;
    impl SeedSource for Broken {
        fn fill_seed(&self, _: &mut [u8]) -> Result<(), EntropyError> {
            Err(EntropyError {
                reason: "test source",
            })
        }
    }

    /// The ChaCha20 keystream for the all-zero key and nonce, block counter 0: RFC 8439,
    /// appendix A.1, test vector #1. `Csprng` uses the seed as the key and starts at block 0
    /// of stream 0, so a zero seed must give exactly these bytes.
    const ZERO_KEY_BLOCK_0: [u8; 64] = [
        0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd,
        0x28, 0xbd, 0xd2, 0x19, 0xb8, 0xa0, 0x8d, 0xed, 0x1a, 0xa8, 0x36, 0xef, 0xcc, 0x8b, 0x77,
        0x0d, 0xc7, 0xda, 0x41, 0x59, 0x7c, 0x51, 0x57, 0x48, 0x8d, 0x77, 0x24, 0xe0, 0x3f, 0xb8,
        0xd8, 0x4a, 0x37, 0x6a, 0x43, 0xb8, 0xf4, 0x15, 0x18, 0xa1, 0x1c, 0xc3, 0x87, 0xb6, 0x69,
        0xb2, 0xee, 0x65, 0x86,
    ];

    #[test]
    fn zero_seed_gives_the_chacha20_keystream_of_rfc_8439() {
        let mut rng = Csprng::from_source(&Fixed(0)).unwrap();
        let mut block = [0u8; 64];
        rng.fill_bytes(&mut block);
        assert_eq!(block, ZERO_KEY_BLOCK_0);
    }

    #[test]
    fn words_are_the_keystream_read_little_endian() {
        let mut rng = Csprng::from_source(&Fixed(0)).unwrap();
        assert_eq!(rng.next_u32(), 0xade0_b876);
        assert_eq!(rng.next_u32(), 0x903d_f1a0);
        assert_eq!(rng.next_u64(), 0x28bd_8653_e56a_5d40);
    }

    #[test]
    fn the_seed_is_the_key() {
        let mut zero = Csprng::from_source(&Fixed(0)).unwrap();
        let mut other = Csprng::from_source(&Fixed(1)).unwrap();
        assert_eq!(zero.next_u64(), 0x903d_f1a0_ade0_b876);
        assert_ne!(other.next_u64(), 0x903d_f1a0_ade0_b876);
    }

    #[test]
    fn failing_source_is_reported() {
        let err = Csprng::from_source(&Broken).unwrap_err();
        assert_eq!(err.to_string(), "no entropy: test source");
    }
    extern crate std;
    use std::string::ToString;
}
