//! blake3 against the official test vectors (test_vectors/test_vectors.json of the BLAKE3
//! reference repository: input byte i is i mod 251; first 32 bytes of the extended output).
//! With default features on x86_64, blake3 builds SSE2/SSE4.1/AVX2/AVX-512 assembly and picks
//! one by CPUID at run time; inputs of many chunks (1 KiB each) go through it.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::Checks;

morgana::main!(app);

/// (input length, BLAKE3 hash of the length's test input).
const VECTORS: &[(usize, &str)] = &[
    (
        0,
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
    ),
    (
        1,
        "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
    ),
    (
        1024,
        "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7",
    ),
    (
        1025,
        "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444",
    ),
    (
        8193,
        "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b",
    ),
    (
        16384,
        "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4",
    ),
    (
        102400,
        "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085",
    ),
];

/// The key of the vectors' keyed-hash mode.
const KEY: &[u8; 32] = b"whats the Elvish word for friend";

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let input: alloc::vec::Vec<u8> = (0..102400usize).map(|i| (i % 251) as u8).collect();
    let mut c = Checks::new();
    for &(len, expected) in VECTORS {
        let name = alloc::format!("blake3 hash({len} bytes)");
        c.bytes(&name, blake3::hash(&input[..len]).as_bytes(), expected);
    }
    c.bytes(
        "blake3 keyed_hash(102400 bytes)",
        blake3::keyed_hash(KEY, &input).as_bytes(),
        "1c35d1a5811083fd7119f5d5d1ba027b4d01c0c6c49fb6ff2cf75393ea5db4a7",
    );
    c.finish()
}
