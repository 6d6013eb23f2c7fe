//! Block devices over `BLOCK_READ` / `BLOCK_WRITE`.
//!
//! Every request is first checked with [`check_request`] (alignment, whole sectors, range),
//! then split into one hypercall per sector, because the hvt ABI moves exactly one sector per
//! call. Hypercalls complete synchronously, so the futures are ready on their first poll.
//! There is no flush hypercall: the tender's `pwrite` has completed when the call returns, so
//! [`BlockDevice::flush`] has nothing to wait for.

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
                read_only: false,
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
        let sector = self.info.sector_size as usize;
        for (i, chunk) in buf.chunks_mut(sector).enumerate() {
            let at = offset + (i * sector) as u64;
            result(hypercall::block_read(self.handle, at, chunk))?;
        }
        Ok(())
    }

    async fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), true)?;
        let sector = self.info.sector_size as usize;
        for (i, chunk) in buf.chunks(sector).enumerate() {
            let at = offset + (i * sector) as u64;
            result(hypercall::block_write(self.handle, at, chunk))?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}
