//! Randomness for rustls: `getrandom`, which every Morgana image serves from the platform's
//! entropy (the facade's custom backend; the operating system on unix).

use rustls::crypto::{GetRandomFailed, SecureRandom};

/// rustls's source of random bytes (nonces, key shares, session IDs).
#[derive(Debug)]
pub struct EntropyRandom;

impl SecureRandom for EntropyRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        getrandom::fill(buf).map_err(|_| GetRandomFailed)
    }
}

/// Fills `buf` with random bytes, as a rustls error when the platform has none.
pub fn fill_random(buf: &mut [u8]) -> Result<(), rustls::Error> {
    getrandom::fill(buf).map_err(|_| rustls::Error::FailedToGetRandomBytes)
}
