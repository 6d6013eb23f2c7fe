//! Block devices: files (or host block devices) whose size must be a non-zero multiple of the
//! sector size.
//!
//! **Durability.** A writable device is opened with `O_DSYNC`, so when a `BLOCK_WRITE`
//! hypercall returns `OK` its data (and the metadata needed to read it back) is on stable
//! storage as far as the host kernel can promise: the hvt ABI has no flush call, so every
//! write is a durability point. A read-only device (`--block-mode:NAME=ro`) is opened
//! `O_RDONLY` and its writes are refused with `EINVAL` before the host is asked.

use crate::error::TenderError;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Default sector size in bytes.
pub const DEFAULT_SECTOR_SIZE: u16 = 512;

/// An opened block backing store.
#[derive(Debug)]
pub struct BlockFile {
    /// The open file.
    pub file: File,
    /// Capacity in bytes.
    pub capacity: u64,
}

/// Opens `path` (read-write with `O_DSYNC`, or read-only) and checks its size against
/// `block_size` (bytes).
pub fn open(path: &Path, block_size: u16, read_only: bool) -> Result<BlockFile, TenderError> {
    let open_err = |err| TenderError::BlockOpen {
        path: path.to_owned(),
        err,
    };
    let mut options = OpenOptions::new();
    options.read(true);
    if !read_only {
        options.write(true).custom_flags(libc::O_DSYNC);
    }
    let mut file = options.open(path).map_err(open_err)?;
    let capacity = file.seek(SeekFrom::End(0)).map_err(open_err)?;
    if capacity < u64::from(block_size) {
        return Err(TenderError::BlockTooSmall { block_size });
    }
    if capacity % u64::from(block_size) != 0 {
        return Err(TenderError::BlockAlign {
            capacity,
            block_size,
        });
    }
    Ok(BlockFile { file, capacity })
}

/// The tender's range rule for a block request: `Some(())` when `[offset, offset + len)`
/// lies inside `capacity` and `len` fits in `ssize_t`.
pub fn request_in_range(capacity: u64, offset: u64, len: u64) -> bool {
    len <= isize::MAX as u64
        && offset < capacity
        && offset.checked_add(len).is_some_and(|end| end <= capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_rule() {
        assert!(request_in_range(4096, 0, 512));
        assert!(request_in_range(4096, 3584, 512));
        assert!(!request_in_range(4096, 3585, 512));
        assert!(!request_in_range(4096, 4096, 0));
        assert!(!request_in_range(4096, 512, u64::MAX));
        assert!(!request_in_range(u64::MAX, 0, 1 << 63));
    }
}
