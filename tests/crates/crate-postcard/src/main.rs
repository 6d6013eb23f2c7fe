//! postcard: a struct encoded exactly as the postcard wire format specifies (varint integers,
//! zigzag for signed ones, length-prefixed strings and sequences, little-endian f32, a tag byte
//! for Option), and decoded back.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::Checks;

morgana::main!(app);

use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Sample {
    small: u8,
    signed: i32,
    name: alloc::string::String,
    values: alloc::vec::Vec<u16>,
    ratio: f32,
    flag: Option<bool>,
    big: u64,
}

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    let sample = Sample {
        small: 1,
        signed: -2,
        name: "hi".into(),
        values: alloc::vec![1, 300],
        ratio: 1.5,
        flag: Some(true),
        big: u64::MAX,
    };
    let bytes = postcard::to_allocvec(&sample).map_err(|e| alloc::format!("{e}"))?;
    // 1; zigzag(-2) = 3; len 2 "hi"; len 2, 1, varint(300) = ac 02; 1.5f32 = 0x3fc00000 LE;
    // Some = 1, true = 1; u64::MAX as a 10-byte varint.
    c.bytes(
        "postcard encode",
        &bytes,
        "01 03 02 6869 02 01 ac02 0000c03f 01 01 ffffffffffffffffff01",
    );
    let back: Result<Sample, _> = postcard::from_bytes(&bytes);
    c.holds("postcard decode", back.as_ref() == Ok(&sample));
    c.holds(
        "postcard rejects a truncated message",
        postcard::from_bytes::<Sample>(&bytes[..5]).is_err(),
    );
    c.finish()
}
