//! The block interface: a disk of fixed-size sectors.
//!
//! A block device has a capacity in bytes, a sector size in bytes (a power of two, at least
//! 512) and a read-only flag. Reads and writes move **whole sectors** starting at a
//! **sector-aligned byte offset**; the buffer's length says how many sectors. A request that is
//! misaligned, has a length that is not a whole number of sectors, reaches past the end, or
//! writes to a read-only device is refused with a [`BlockError`] before anything is touched:
//! never a panic, never a partial transfer. [`check_request`] is that check, shared by every
//! backend.
//!
//! Methods are `async` because some backends (Xen blkfront) complete requests later; backends
//! whose I/O is synchronous (unix files, hvt hypercalls) complete on the first poll.
//! [`BlockDevice::flush`] is a barrier: when it returns, every write that completed before it
//! was called is on stable storage as far as the host can promise.
#![forbid(unsafe_code)]
#![no_std]

/// The fixed properties of a block device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Size of the device in bytes; a multiple of `sector_size`.
    pub capacity: u64,
    /// Size of one sector in bytes; a power of two, at least 512.
    pub sector_size: u32,
    /// True when writes are refused.
    pub read_only: bool,
}

impl BlockInfo {
    /// Number of sectors on the device.
    pub fn sectors(&self) -> u64 {
        self.capacity / u64::from(self.sector_size)
    }
}

/// Why a block request was refused or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The offset is not a multiple of the sector size.
    #[error("offset {offset} is not a multiple of the sector size {sector_size}")]
    Misaligned {
        /// Requested byte offset.
        offset: u64,
        /// The device's sector size in bytes.
        sector_size: u32,
    },
    /// The buffer is empty or not a whole number of sectors.
    #[error("length {len} is not a positive multiple of the sector size {sector_size}")]
    BadLength {
        /// Buffer length in bytes.
        len: usize,
        /// The device's sector size in bytes.
        sector_size: u32,
    },
    /// The request reaches past the end of the device.
    #[error("{len} bytes at offset {offset} reach past the capacity {capacity}")]
    OutOfRange {
        /// Requested byte offset.
        offset: u64,
        /// Buffer length in bytes.
        len: usize,
        /// The device's capacity in bytes.
        capacity: u64,
    },
    /// A write or flush on a read-only device.
    #[error("the device is read-only")]
    ReadOnly,
    /// The host or hypervisor reported a failure; the code is backend-specific.
    #[error("block device failure (code {0})")]
    Device(i32),
}

/// Validates a request of `len` bytes at byte `offset` against `info`.
///
/// `write` is true for writes (refused on read-only devices). Every backend calls this before
/// touching the device, so all backends refuse the same requests with the same errors.
pub fn check_request(
    info: &BlockInfo,
    offset: u64,
    len: usize,
    write: bool,
) -> Result<(), BlockError> {
    let sector_size = info.sector_size;
    if write && info.read_only {
        return Err(BlockError::ReadOnly);
    }
    if !offset.is_multiple_of(u64::from(sector_size)) {
        return Err(BlockError::Misaligned {
            offset,
            sector_size,
        });
    }
    if len == 0 || !len.is_multiple_of(sector_size as usize) {
        return Err(BlockError::BadLength { len, sector_size });
    }
    let in_range = u64::try_from(len)
        .ok()
        .and_then(|l| offset.checked_add(l))
        .is_some_and(|end| end <= info.capacity);
    if !in_range {
        return Err(BlockError::OutOfRange {
            offset,
            len,
            capacity: info.capacity,
        });
    }
    Ok(())
}

/// A block device.
#[allow(async_fn_in_trait)] // Implementations are used by static dispatch only.
pub trait BlockDevice {
    /// The device's capacity, sector size and read-only flag; fixed for the device's lifetime.
    fn info(&self) -> BlockInfo;

    /// Reads `buf.len()` bytes (whole sectors) starting at byte `offset` (sector-aligned).
    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError>;

    /// Writes `buf` (whole sectors) starting at byte `offset` (sector-aligned).
    async fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError>;

    /// Waits until every completed write is on stable storage.
    async fn flush(&mut self) -> Result<(), BlockError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: BlockInfo = BlockInfo {
        capacity: 4096 * 4,
        sector_size: 4096,
        read_only: false,
    };

    #[test]
    fn accepts_whole_aligned_sectors() {
        assert_eq!(check_request(&INFO, 0, 4096, true), Ok(()));
        assert_eq!(check_request(&INFO, 4096, 3 * 4096, false), Ok(()));
        assert_eq!(INFO.sectors(), 4);
    }

    #[test]
    fn refuses_bad_requests() {
        assert_eq!(
            check_request(&INFO, 512, 4096, false),
            Err(BlockError::Misaligned {
                offset: 512,
                sector_size: 4096
            })
        );
        assert_eq!(
            check_request(&INFO, 0, 0, false),
            Err(BlockError::BadLength {
                len: 0,
                sector_size: 4096
            })
        );
        assert_eq!(
            check_request(&INFO, 0, 4095, false),
            Err(BlockError::BadLength {
                len: 4095,
                sector_size: 4096
            })
        );
        assert_eq!(
            check_request(&INFO, 0, 4097, false),
            Err(BlockError::BadLength {
                len: 4097,
                sector_size: 4096
            })
        );
        assert_eq!(
            check_request(&INFO, 4 * 4096, 4096, false),
            Err(BlockError::OutOfRange {
                offset: 4 * 4096,
                len: 4096,
                capacity: 4 * 4096
            })
        );
        assert_eq!(
            check_request(&INFO, u64::MAX - 4095, 4096, false),
            Err(BlockError::OutOfRange {
                offset: u64::MAX - 4095,
                len: 4096,
                capacity: 4 * 4096
            })
        );
        let ro = BlockInfo {
            read_only: true,
            ..INFO
        };
        assert_eq!(check_request(&ro, 0, 4096, true), Err(BlockError::ReadOnly));
        assert_eq!(check_request(&ro, 0, 4096, false), Ok(()));
    }
}
