//! `morgana::entropy::rng` is seeded by the running platform's seed source, and by nothing
//! else: with a platform double whose seed is fixed, its first words are the ChaCha20
//! keystream for that seed as key.
//!
//! One test in its own binary, because the running platform is process-wide.

use std::sync::atomic::{AtomicUsize, Ordering};

use morgana::entropy::{EntropyError, SeedSource};
use morgana::rt::Platform;
use rand_core::RngCore;

/// A platform whose seed source yields `seed` in every byte and counts its calls.
struct FixedSeedPlatform {
    seed: u8,
    seeds_drawn: AtomicUsize,
}

impl morgana::console::Console for FixedSeedPlatform {
    fn write(&self, _bytes: &[u8]) {}
}

impl morgana::clock::Clock for FixedSeedPlatform {
    fn monotonic_ns(&self) -> u64 {
        0
    }
    fn wall_ns(&self) -> u64 {
        0
    }
}

impl SeedSource for FixedSeedPlatform {
    fn fill_seed(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
        self.seeds_drawn.fetch_add(1, Ordering::SeqCst);
        dest.fill(self.seed);
        Ok(())
    }
}

impl Platform for FixedSeedPlatform {
    fn wait(&self, _deadline_ns: Option<u64>) {}
    fn exit(&self, status: u8) -> ! {
        panic!("the platform double was asked to exit with {status}")
    }
}

/// The first two words a platform seeded with all-`seed` bytes gives through the facade.
fn first_words(platform: &'static FixedSeedPlatform) -> (u64, u64) {
    morgana::rt::block_on(platform, |_spawner| async {
        let mut rng = morgana::entropy::rng().expect("the double never fails");
        (rng.next_u64(), rng.next_u64())
    })
}

#[test]
fn the_generator_is_seeded_from_the_platform() {
    let zero: &'static FixedSeedPlatform = Box::leak(Box::new(FixedSeedPlatform {
        seed: 0,
        seeds_drawn: AtomicUsize::new(0),
    }));
    // ChaCha20 with the all-zero key and nonce, block 0 (RFC 8439, appendix A.1, test
    // vector #1), read as little-endian 64-bit words.
    assert_eq!(
        first_words(zero),
        (0x903d_f1a0_ade0_b876, 0x28bd_8653_e56a_5d40)
    );
    assert_eq!(zero.seeds_drawn.load(Ordering::SeqCst), 1);

    let ones: &'static FixedSeedPlatform = Box::leak(Box::new(FixedSeedPlatform {
        seed: 1,
        seeds_drawn: AtomicUsize::new(0),
    }));
    let (first, _) = first_words(ones);
    assert_ne!(first, 0x903d_f1a0_ade0_b876);
    assert_eq!(first_words(ones).0, first, "same platform seed, same words");
    assert_eq!(ones.seeds_drawn.load(Ordering::SeqCst), 2);
}
