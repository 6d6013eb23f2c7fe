//! Conformance `blk`: reads and writes on the block device `storage`, and refusal of bad
//! requests.
//!
//! Writes a distinct pattern to the first, a middle and the last sector and reads each back,
//! then two sectors in one request; then checks that out-of-range, short, long and misaligned
//! requests are refused with the right error and change nothing. Works with any sector size
//! (`--block-sector-size:storage=4096`) and any capacity of at least two sectors. Prints
//! `SUCCESS` and exits 0, or exits 1 with an error line.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::format;
use alloc::vec;
use morgana::block::{Block, BlockDevice, BlockError};

morgana::main!(app, devices: { STORAGE: block = "storage" });

fn pattern(buf: &mut [u8], seed: u64) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (seed as u8).wrapping_mul(31).wrapping_add(i as u8) ^ 0xa5;
    }
}

async fn round_trip(disk: &mut Block, offset: u64, len: usize) -> Result<(), morgana::Error> {
    let mut out = vec![0u8; len];
    pattern(&mut out, offset / 512 + 1);
    disk.write(offset, &out).await?;
    let mut back = vec![0u8; len];
    disk.read(offset, &mut back).await?;
    if back != out {
        return Err(format!("{len} bytes at offset {offset} read back differently").into());
    }
    Ok(())
}

fn expect_refused(
    what: &str,
    result: Result<(), BlockError>,
    want: fn(&BlockError) -> bool,
) -> Result<(), morgana::Error> {
    match result {
        Err(e) if want(&e) => Ok(()),
        Err(e) => Err(format!("{what}: refused with the wrong error: {e}").into()),
        Ok(()) => Err(format!("{what}: was not refused").into()),
    }
}

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut disk = morgana::block::acquire(STORAGE)?;
    let info = disk.info();
    let sector = info.sector_size as usize;
    let sectors = info.sectors();
    morgana::println!("storage: {sectors} sectors of {sector} bytes");
    if sectors < 2 {
        return Err("the test needs a device of at least two sectors".into());
    }
    for s in [0, sectors / 2, sectors - 1] {
        round_trip(&mut disk, s * sector as u64, sector).await?;
    }
    round_trip(&mut disk, 0, 2 * sector).await?;

    let mut buf = vec![0u8; sector + 1];
    let end = info.capacity;
    let out_of_range = |e: &BlockError| matches!(e, BlockError::OutOfRange { .. });
    let bad_length = |e: &BlockError| matches!(e, BlockError::BadLength { .. });
    let misaligned = |e: &BlockError| matches!(e, BlockError::Misaligned { .. });
    let r = disk.read(end, &mut buf[..sector]).await;
    expect_refused("read past the end", r, out_of_range)?;
    let two = vec![0u8; 2 * sector];
    let r = disk.write(end - sector as u64, &two).await;
    expect_refused("write across the end", r, out_of_range)?;
    let r = disk.read(0, &mut buf[..sector - 1]).await;
    expect_refused("short read", r, bad_length)?;
    let r = disk.write(0, &buf[..sector + 1]).await;
    expect_refused("long write", r, bad_length)?;
    let r = disk.read(0, &mut buf[..0]).await;
    expect_refused("empty read", r, bad_length)?;
    let r = disk.write(1, &buf[..sector]).await;
    expect_refused("misaligned write", r, misaligned)?;
    let r = disk.read(sector as u64 / 2, &mut buf[..sector]).await;
    expect_refused("misaligned read", r, misaligned)?;

    // The refused writes changed nothing: sector 0 still holds the two-sector pattern.
    let mut first = vec![0u8; 2 * sector];
    disk.read(0, &mut first).await?;
    let mut want = vec![0u8; 2 * sector];
    pattern(&mut want, 1);
    if first != want {
        return Err("a refused write changed the device".into());
    }
    morgana::println!("SUCCESS");
    Ok(())
}
