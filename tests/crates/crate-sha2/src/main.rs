//! sha2 against the FIPS 180-2 examples (appendix B of FIPS 180-2, "abc" and the two-block
//! message, for SHA-256 and SHA-512). With default features on x86_64, sha2 picks SHA-NI or
//! SSE/AVX2 code by CPUID at run time.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::Checks;

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    use sha2::{Digest, Sha256, Sha512};
    let mut c = Checks::new();
    c.bytes(
        "sha2 sha256(\"abc\")",
        &Sha256::digest(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    c.bytes(
        "sha2 sha256(448-bit message)",
        &Sha256::digest(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
    // FIPS 180-2 B.3: one million times 'a', fed in pieces so many blocks go through the
    // block function in one call.
    let mut h = Sha256::new();
    for _ in 0..1000 {
        h.update([b'a'; 1000]);
    }
    c.bytes(
        "sha2 sha256(million a)",
        &h.finalize(),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    );
    c.bytes(
        "sha2 sha512(\"abc\")",
        &Sha512::digest(b"abc"),
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a         2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
    c.finish()
}
