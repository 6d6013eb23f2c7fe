//! miniz_oxide: a known zlib stream (what zlib's compress() makes of "hello world" at the
//! default level; its trailer is the Adler-32 of the text, 0x1a0b045d) inflated, and round
//! trips through deflate at several levels.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::Checks;

morgana::main!(app);

use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};
use miniz_oxide::inflate::{decompress_to_vec, decompress_to_vec_zlib};

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    let known = kat::unhex("789ccb48cdc9c95728cf2fca490100 1a0b045d");
    let inflated = decompress_to_vec_zlib(&known).unwrap_or_default();
    c.text(
        "miniz_oxide inflate known zlib stream",
        core::str::from_utf8(&inflated).unwrap_or("(not UTF-8)"),
        "hello world",
    );
    let zlib = compress_to_vec_zlib(b"hello world", 6);
    c.bytes(
        "miniz_oxide zlib trailer is adler32",
        &zlib[zlib.len() - 4..],
        "1a0b045d",
    );
    // 64 KiB with repeats at several distances and some noise from a 32-bit LCG.
    let mut seed = 1u32;
    let data: alloc::vec::Vec<u8> = (0..65536u32)
        .map(|i| {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            if i % 7 == 0 {
                (seed >> 24) as u8
            } else {
                b"Morgana unikernel "[(i % 18) as usize]
            }
        })
        .collect();
    for level in [1u8, 6, 10] {
        let packed = compress_to_vec(&data, level);
        let back = decompress_to_vec(&packed).unwrap_or_default();
        c.holds(
            &alloc::format!("miniz_oxide level {level} round trip"),
            back == data,
        );
        c.holds(
            &alloc::format!("miniz_oxide level {level} compresses"),
            packed.len() < data.len() / 2,
        );
    }
    c.finish()
}
