//! Block devices on files, with `pread`/`pwrite`.
//!
//! The file's size must be a whole, non-zero number of sectors. A device is read-only when
//! asked (`--block-mode:NAME=ro`, the file is then opened `O_RDONLY`) or when the file cannot
//! be opened for writing. [`BlockDevice::flush`] is `fdatasync`: when it returns, every write
//! that completed before it is on stable storage as far as the host kernel can promise.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use morgana_block::{BlockDevice, BlockError, BlockInfo, check_request};

/// The default sector size, in bytes.
pub const DEFAULT_SECTOR_SIZE: u32 = 512;

/// A block device backed by a file.
#[derive(Debug)]
pub struct Block {
    file: File,
    info: BlockInfo,
}

/// Why a file could not become a block device.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Opening or measuring the file failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The sector size is not a power of two of at least 512 bytes.
    #[error("the sector size {0} is not a power of two of at least 512")]
    SectorSize(u64),
    /// The file is empty or not a whole number of sectors.
    #[error("its size {size} is not a non-zero multiple of the sector size {sector_size}")]
    Size {
        /// The file's size in bytes.
        size: u64,
        /// The sector size in bytes.
        sector_size: u32,
    },
}

/// Checks a sector size: a power of two, at least 512 (and small enough for a `u32`).
pub fn check_sector_size(size: u64) -> Result<u32, OpenError> {
    match u32::try_from(size) {
        Ok(s) if s >= 512 && s.is_power_of_two() => Ok(s),
        _ => Err(OpenError::SectorSize(size)),
    }
}

impl Block {
    /// Opens `path` as a block device with sectors of `sector_size` bytes; read-only when
    /// `read_only` is set or the file cannot be opened for writing.
    pub fn open(path: &Path, sector_size: u32, read_only: bool) -> Result<Block, OpenError> {
        check_sector_size(u64::from(sector_size))?;
        let writable = if read_only {
            Err(io::Error::from_raw_os_error(libc::EROFS))
        } else {
            OpenOptions::new().read(true).write(true).open(path)
        };
        let (file, read_only) = match writable {
            Ok(f) => (f, false),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EACCES) | Some(libc::EROFS) | Some(libc::EPERM)
                ) =>
            {
                (OpenOptions::new().read(true).open(path)?, true)
            }
            Err(e) => return Err(e.into()),
        };
        let meta = file.metadata()?;
        let size = if meta.is_file() {
            meta.len()
        } else {
            file_size_by_seek(&file)?
        };
        if size == 0 || size % u64::from(sector_size) != 0 {
            return Err(OpenError::Size { size, sector_size });
        }
        Ok(Block {
            file,
            info: BlockInfo {
                capacity: size,
                sector_size,
                read_only,
            },
        })
    }
}

/// The size of a block special file, found by seeking to its end.
fn file_size_by_seek(file: &File) -> io::Result<u64> {
    use std::io::Seek;
    let mut f = file;
    let size = f.seek(io::SeekFrom::End(0))?;
    f.seek(io::SeekFrom::Start(0))?;
    Ok(size)
}

fn io_error(e: &io::Error) -> BlockError {
    BlockError::Device(e.raw_os_error().unwrap_or(-1))
}

impl BlockDevice for Block {
    fn info(&self) -> BlockInfo {
        self.info
    }

    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), false)?;
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| io_error(&e))
    }

    async fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), true)?;
        self.file
            .write_all_at(buf, offset)
            .map_err(|e| io_error(&e))
    }

    async fn flush(&mut self) -> Result<(), BlockError> {
        if self.info.read_only {
            return Ok(());
        }
        self.file.sync_data().map_err(|e| io_error(&e))
    }
}
