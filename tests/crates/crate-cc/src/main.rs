//! C code built with the `cc` crate: FNV-1a against the FNV reference test vectors
//! (draft-eastlake-fnv, "a" and "foobar") and CRC-32 against the check value of the CRC
//! catalogue (CRC-32/ISO-HDLC of "123456789" is 0xcbf43926).
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::Checks;

morgana::main!(app);

unsafe extern "C" {
    fn sums_fnv1a32(p: *const u8, n: usize) -> u32;
    fn sums_fnv1a64(p: *const u8, n: usize) -> u64;
    fn sums_crc32(p: *const u8, n: usize) -> u32;
}

fn fnv1a32(data: &[u8]) -> u32 {
    // SAFETY: the C function reads exactly `n` bytes from `p`, which `data` holds.
    unsafe { sums_fnv1a32(data.as_ptr(), data.len()) }
}

fn fnv1a64(data: &[u8]) -> u64 {
    // SAFETY: as above.
    unsafe { sums_fnv1a64(data.as_ptr(), data.len()) }
}

fn crc32(data: &[u8]) -> u32 {
    // SAFETY: as above.
    unsafe { sums_crc32(data.as_ptr(), data.len()) }
}

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    let hex32 = |v: u32| alloc::format!("{v:#010x}");
    let hex64 = |v: u64| alloc::format!("{v:#018x}");
    c.text("cc fnv1a32(\"\")", &hex32(fnv1a32(b"")), "0x811c9dc5");
    c.text("cc fnv1a32(\"a\")", &hex32(fnv1a32(b"a")), "0xe40c292c");
    c.text(
        "cc fnv1a32(\"foobar\")",
        &hex32(fnv1a32(b"foobar")),
        "0xbf9cf968",
    );
    c.text(
        "cc fnv1a64(\"a\")",
        &hex64(fnv1a64(b"a")),
        "0xaf63dc4c8601ec8c",
    );
    c.text(
        "cc fnv1a64(\"foobar\")",
        &hex64(fnv1a64(b"foobar")),
        "0x85944171f73967e8",
    );
    c.text(
        "cc crc32(\"123456789\")",
        &hex32(crc32(b"123456789")),
        "0xcbf43926",
    );
    c.finish()
}
