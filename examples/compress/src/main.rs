//! A crates.io C library in a unikernel: compresses `--text=TEXT` repeated `--repeat=N` times
//! with libzstd (from the `zstd-sys` crate, which builds the C sources with `cc`), decompresses
//! it again and checks the round trip.
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use morgana::BootArgs;

morgana::main!(app);

/// zstd's compression level for this demonstration: a fast one, for slow virtual CPUs.
const LEVEL: i32 = 3;

fn check(code: usize, what: &'static str) -> Result<usize, &'static str> {
    // SAFETY: ZSTD_isError only inspects the number.
    if unsafe { zstd_sys::ZSTD_isError(code) } != 0 {
        Err(what)
    } else {
        Ok(code)
    }
}

fn compress(input: &[u8]) -> Result<Vec<u8>, &'static str> {
    // SAFETY: ZSTD_compressBound only computes a size.
    let bound = unsafe { zstd_sys::ZSTD_compressBound(input.len()) };
    let mut out = vec![0u8; bound];
    // SAFETY: both buffers are valid for the lengths passed; zstd writes at most `bound` bytes.
    let n = unsafe {
        zstd_sys::ZSTD_compress(
            out.as_mut_ptr().cast(),
            bound,
            input.as_ptr().cast(),
            input.len(),
            LEVEL,
        )
    };
    out.truncate(check(n, "zstd compression failed")?);
    Ok(out)
}

fn decompress(input: &[u8], size: usize) -> Result<Vec<u8>, &'static str> {
    let mut out = vec![0u8; size];
    // SAFETY: both buffers are valid for the lengths passed; zstd never writes past `size` and
    // checks the frame it reads.
    let n = unsafe {
        zstd_sys::ZSTD_decompress(
            out.as_mut_ptr().cast(),
            size,
            input.as_ptr().cast(),
            input.len(),
        )
    };
    out.truncate(check(n, "zstd decompression failed")?);
    Ok(out)
}

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let text: String = args.with_default("text", String::from("Morgana "))?;
    let repeat: usize = args.with_default("repeat", 100)?;
    args.finish()?;
    let input = text.repeat(repeat).into_bytes();
    let packed = compress(&input)?;
    let unpacked = decompress(&packed, input.len())?;
    if unpacked != input {
        return Err("the round trip changed the data".into());
    }
    morgana::println!(
        "zstd: {} -> {} bytes, round trip ok",
        input.len(),
        packed.len()
    );
    Ok(())
}
