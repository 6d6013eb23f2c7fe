//! Block devices over `BLOCK_READ` / `BLOCK_WRITE`.
//!
//! Every request is first checked with [`check_request`] (alignment, whole sectors, range),
//! then made with **one** hypercall of the request's whole length: the tender does one
//! `pread`/`pwrite` of `len` bytes and checks only the range (Solo5's own bindings limit a
//! call to one sector; the tender does not). Hypercalls complete synchronously, so the
//! futures are ready on their first poll.
//!
//! There is no flush hypercall. Morgana's tender opens writable disks with `O_DSYNC`, so a
//! write is on stable storage when its hypercall returns and [`BlockDevice::flush`] has
//! nothing left to do. A device attached with `--block-mode:NAME=ro` carries the tender's
//! read-only flag in its manifest entry; writes to it are refused here, before any hypercall.

use morgana_block::{BlockDevice, BlockError, BlockInfo, check_request};
use morgana_rt::manifest::Device;

use crate::console::abort;
use crate::hypercall;
use morgana_hvt_abi::hypercall::SOLO5_R_OK;
use morgana_hvt_abi::mft::MftEntry;

/// A block device attached by the tender (`--block:NAME=FILE`).
#[derive(Debug)]
pub struct Block {
    handle: u64,
    info: BlockInfo,
}

impl Block {
    /// The block device `device` with manifest handle `handle`, as the tender describes it in
    /// `entry`.
    pub(crate) fn attach(device: Device, handle: u64, entry: &MftEntry) -> Block {
        let sector_size = u32::from(entry.block_size());
        let capacity = entry.block_capacity();
        // The tender guarantees both; a copy that breaks them cannot be used safely.
        if sector_size < 512
            || !sector_size.is_power_of_two()
            || capacity % u64::from(sector_size) != 0
        {
            abort(format_args!(
                "block device '{}' has sector size {sector_size} and capacity {capacity}",
                device.name
            ))
        }
        Block {
            handle,
            info: BlockInfo {
                capacity,
                sector_size,
                read_only: entry.block_read_only(),
            },
        }
    }
}

fn result(ret: u32) -> Result<(), BlockError> {
    match ret {
        SOLO5_R_OK => Ok(()),
        ret => Err(BlockError::Device(ret as i32)),
    }
}

impl BlockDevice for Block {
    fn info(&self) -> BlockInfo {
        self.info
    }

    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), false)?;
        result(hypercall::block_read(self.handle, offset, buf))
    }

    async fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), true)?;
        result(hypercall::block_write(self.handle, offset, buf))
    }

    async fn flush(&mut self) -> Result<(), BlockError> {
        // Every write was durable when its hypercall returned (`O_DSYNC` in the tender).
        Ok(())
    }
}
