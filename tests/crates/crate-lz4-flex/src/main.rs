//! lz4_flex: LZ4 blocks written by hand from the block format's definition (a token of literal
//! and match lengths, the literals, a little-endian offset) decompressed, and round trips.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::Checks;

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    // Token 0x50: five literals, no match (the last sequence).
    let literal = kat::unhex("50 68656c6c6f");
    let out = lz4_flex::block::decompress(&literal, 5).unwrap_or_default();
    c.text(
        "lz4_flex literal block",
        core::str::from_utf8(&out).unwrap_or("?"),
        "hello",
    );
    // Token 0x35: three literals "abc", then a match at offset 3 of length 5 + 4 = 9; then
    // token 0x50 and five literals.
    let matched = kat::unhex("35 616263 0300 50 68656c6c6f");
    let out = lz4_flex::block::decompress(&matched, 17).unwrap_or_default();
    c.text(
        "lz4_flex block with a match",
        core::str::from_utf8(&out).unwrap_or("?"),
        "abcabcabcabchello",
    );
    c.holds(
        "lz4_flex rejects an offset before the start",
        lz4_flex::block::decompress(&kat::unhex("35 616263 0900 50 68656c6c6f"), 17).is_err(),
    );
    let data: alloc::vec::Vec<u8> = (0..65536u32)
        .map(|i| ((i / 3) % 251) as u8 ^ (i % 5) as u8)
        .collect();
    let packed = lz4_flex::compress_prepend_size(&data);
    let back = lz4_flex::decompress_size_prepended(&packed).unwrap_or_default();
    c.holds("lz4_flex 64 KiB round trip", back == data);
    c.holds("lz4_flex compresses", packed.len() < data.len() / 2);
    c.finish()
}
