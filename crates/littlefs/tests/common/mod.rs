//! An in-memory block device that can be cut at its n-th write, and helpers to drive the
//! store's futures (all ready at once over memory).
#![allow(dead_code)]

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use morgana_block::{BlockDevice, BlockError, BlockInfo, check_request};
use morgana_kv::{Kind, KvRead};

/// Polls a future that must be ready at once.
pub fn now<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("an in-memory device never waits"),
    }
}

/// A disk in memory. With a cut at write `n` (counting from 0), write `n` stores only its
/// first half (whole sectors: a torn write) and it and every later request fail, as if the
/// power went off.
#[derive(Debug)]
pub struct MemDisk {
    pub bytes: Vec<u8>,
    pub info: BlockInfo,
    pub writes: Rc<Cell<u64>>,
    pub cut_at: Rc<Cell<Option<u64>>>,
    pub dead: bool,
}

impl MemDisk {
    pub fn new(size: usize, sector_size: u32) -> MemDisk {
        MemDisk::from_bytes(vec![0xff; size], sector_size, false)
    }

    pub fn from_bytes(bytes: Vec<u8>, sector_size: u32, read_only: bool) -> MemDisk {
        let info = BlockInfo {
            capacity: bytes.len() as u64,
            sector_size,
            read_only,
        };
        MemDisk {
            bytes,
            info,
            writes: Rc::new(Cell::new(0)),
            cut_at: Rc::new(Cell::new(None)),
            dead: false,
        }
    }
}

impl BlockDevice for MemDisk {
    fn info(&self) -> BlockInfo {
        self.info
    }

    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), false)?;
        if self.dead {
            return Err(BlockError::Device(-5));
        }
        let at = offset as usize;
        buf.copy_from_slice(&self.bytes[at..at + buf.len()]);
        Ok(())
    }

    async fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), true)?;
        if self.dead {
            return Err(BlockError::Device(-5));
        }
        let n = self.writes.get();
        self.writes.set(n + 1);
        let at = offset as usize;
        if self.cut_at.get() == Some(n) {
            let sector = self.info.sector_size as usize;
            let kept = (buf.len() / sector / 2) * sector;
            self.bytes[at..at + kept].copy_from_slice(&buf[..kept]);
            self.dead = true;
            return Err(BlockError::Device(-5));
        }
        self.bytes[at..at + buf.len()].copy_from_slice(buf);
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), BlockError> {
        if self.dead {
            return Err(BlockError::Device(-5));
        }
        Ok(())
    }
}

/// Every value in the store, by full key.
pub fn values<S: KvRead>(store: &mut S) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![String::new()];
    while let Some(dir) = dirs.pop() {
        for (name, kind) in now(store.list(&dir)).expect("list") {
            let key = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            match kind {
                Kind::Value => {
                    let v = now(store.get(&key)).expect("get");
                    out.insert(key, v);
                }
                Kind::Dictionary => dirs.push(key),
            }
        }
    }
    out
}

pub fn clock() -> u64 {
    1_700_000_000_000_000_000
}
