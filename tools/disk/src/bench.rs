//! `disk bench FILE`: the figures `cargo xtask bench storage` sets against fio, measured through
//! the unix backend's block device (what a unix unikernel uses) and the littlefs store on it.
//! One line per figure: `NAME VALUE`.

use std::path::Path;
use std::time::Instant;

use morgana_backend_unix::block::Block;
use morgana_block::BlockDevice;
use morgana_kv::KvWrite;
use morgana_littlefs::LittleFs;

use crate::{now, wall_ns};

/// A small deterministic generator for offsets (xorshift64).
struct Xorshift(u64);
impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Sequential 1 MiB writes then reads over the whole file, random 4 KiB writes and reads
/// (`ops` each), then `sets` durable 1 KiB `set`s on a fresh littlefs in the same file.
pub fn run(file: &Path, ops: u64, sets: u64) -> Result<(), String> {
    let mut disk = Block::open(file, 512, false).map_err(err)?;
    let size = disk.info().capacity;
    let mib = vec![0x5au8; 1 << 20];
    let t = Instant::now();
    for i in 0..size >> 20 {
        now(disk.write(i << 20, &mib)).map_err(err)?;
    }
    now(disk.flush()).map_err(err)?;
    println!(
        "seq-write-MBps {:.1}",
        (size as f64 / 1e6) / t.elapsed().as_secs_f64()
    );
    let mut buf = vec![0u8; 1 << 20];
    let t = Instant::now();
    for i in 0..size >> 20 {
        now(disk.read(i << 20, &mut buf)).map_err(err)?;
    }
    println!(
        "seq-read-MBps {:.1}",
        (size as f64 / 1e6) / t.elapsed().as_secs_f64()
    );
    let pages = size / 4096;
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let page = vec![0xa5u8; 4096];
    let t = Instant::now();
    for _ in 0..ops {
        now(disk.write(rng.next() % pages * 4096, &page)).map_err(err)?;
    }
    now(disk.flush()).map_err(err)?;
    println!(
        "rand-write-iops {:.0}",
        ops as f64 / t.elapsed().as_secs_f64()
    );
    let mut page = vec![0u8; 4096];
    let t = Instant::now();
    for _ in 0..ops {
        now(disk.read(rng.next() % pages * 4096, &mut page)).map_err(err)?;
    }
    println!(
        "rand-read-iops {:.0}",
        ops as f64 / t.elapsed().as_secs_f64()
    );

    let mut store = LittleFs::format(disk, "bench", wall_ns).map_err(err)?;
    let value = vec![0x42u8; 1024];
    let t = Instant::now();
    for i in 0..sets {
        now(store.set(&format!("k{}", i % 64), &value)).map_err(err)?;
    }
    println!(
        "store-set-1k-ops {:.0}",
        sets as f64 / t.elapsed().as_secs_f64()
    );
    Ok(())
}
