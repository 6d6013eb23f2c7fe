//! The entropy interface.
//!
//! A [`SeedSource`] yields unpredictable bytes from the platform (`getrandom(2)` on unix,
//! RDSEED/RDRAND and clock jitter on hvt). Seed sources may be slow or limited, so programs
//! draw from a [`Csprng`]: ChaCha20 seeded with 32 bytes from the source, implementing
//! [`rand_core::RngCore`] and [`rand_core::CryptoRng`].
#![no_std]

use core::fmt;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};

/// The platform has no usable source of entropy, or it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntropyError {
    /// What failed, for the error message.
    pub reason: &'static str,
}

impl fmt::Display for EntropyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no entropy: {}", self.reason)
    }
}

impl core::error::Error for EntropyError {}

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

    struct Counter;
    impl SeedSource for Counter {
        fn fill_seed(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
            for (i, b) in dest.iter_mut().enumerate() {
                *b = i as u8;
            }
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

    #[test]
    fn same_seed_gives_same_stream_and_streams_differ_from_seed() {
        let mut a = Csprng::from_source(&Counter).unwrap();
        let mut b = Csprng::from_source(&Counter).unwrap();
        let (mut x, mut y) = ([0u8; 64], [0u8; 64]);
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        assert_eq!(x, y);
        assert_ne!(
            &x[..32],
            &core::array::from_fn::<u8, 32, _>(|i| i as u8)[..]
        );
        assert_ne!(a.next_u64(), x[0] as u64);
    }

    #[test]
    fn failing_source_is_reported() {
        let err = Csprng::from_source(&Broken).unwrap_err();
        assert_eq!(err.to_string(), "no entropy: test source");
    }
    extern crate std;
    use std::string::ToString;
}
