//! rand with a fixed seed: rand_chacha's ChaCha20Rng seeded with 32 zero bytes produces the
//! ChaCha20 key stream for the zero key and nonce (RFC 8439 appendix A.1, test vectors 1 and 2:
//! blocks 0 and 1), read through rand's `Rng` and `RngCore`. Then `rand::rngs::OsRng`, which
//! asks getrandom 0.3 and so Morgana's entropy: two draws differ, and a generator seeded from
//! it works (no known answer exists for randomness).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::Checks;

morgana::main!(app);

use rand::rngs::OsRng;
use rand::{Rng, RngCore, SeedableRng, TryRngCore};
use rand_chacha::ChaCha20Rng;

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    let mut rng = ChaCha20Rng::from_seed([0; 32]);
    let first: u64 = rng.random();
    c.text(
        "rand chacha20 first u64",
        &alloc::format!("{first:#018x}"),
        "0x903df1a0ade0b876",
    );
    let mut rng = ChaCha20Rng::from_seed([0; 32]);
    let mut blocks = [0u8; 128];
    rng.fill_bytes(&mut blocks);
    c.bytes(
        "rand chacha20 block 0",
        &blocks[..64],
        "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7         da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586",
    );
    c.bytes(
        "rand chacha20 block 1",
        &blocks[64..],
        "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed         29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f",
    );
    let mut draws = [[0u8; 32]; 2];
    for d in &mut draws {
        if let Err(e) = OsRng.try_fill_bytes(d) {
            return Err(alloc::format!("OsRng: {e}"));
        }
    }
    c.holds("rand OsRng two draws differ", draws[0] != draws[1]);
    let seeded = ChaCha20Rng::try_from_os_rng().map(|mut r| r.next_u64());
    c.holds("rand ChaCha20Rng::try_from_os_rng", seeded.is_ok());
    c.finish()
}
