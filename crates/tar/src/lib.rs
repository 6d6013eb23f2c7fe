//! A read-only key-value store over a tar archive on a block device ([`TarKv`], implementing
//! [`morgana_kv::KvRead`]), like MirageOS's `--kv_ro=archive`.
//!
//! Opening reads every header once and keeps an index (key, offset, size, modification time);
//! values are read from the device on demand, so memory grows with the number of entries,
//! not with the archive. Regular files become values, keyed by their path without a leading
//! `./` or `/`; directories are implied by the keys under them; links and other entries are
//! left out. Long names in GNU (`L`) and POSIX (`x`, `path=`) form are understood.
//!
//! **Sectors.** GNU `tar` writes 10240-byte records, a whole number of 512-byte sectors. A
//! device with larger sectors needs the archive padded to its sector size
//! (`truncate -s %4096 site.tar`); the unix and hvt backends refuse a file that is not a whole
//! number of sectors.
#![forbid(unsafe_code)]
#![no_std]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use morgana_block::{BlockDevice, BlockError};
use morgana_kv::rw::key as check_key;
use morgana_kv::{Key, Kind, KvError, KvRead};

/// Size of a tar block (header or data unit), in bytes.
const BLOCK: u64 = 512;

/// Why an archive could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TarError {
    /// A header's checksum is wrong, or a header is missing where one must be.
    #[error("'{name}' holds no tar archive (bad header at byte {offset})")]
    NotTar {
        /// The device name.
        name: String,
        /// Where the bad header is.
        offset: u64,
    },
    /// An entry's name is not a valid key.
    #[error("'{name}': the archive's entry '{entry}' is not a valid key")]
    BadName {
        /// The device name.
        name: String,
        /// The entry's name.
        entry: String,
    },
    /// An entry reaches past the end of the device.
    #[error("'{name}': the archive is cut short (entry '{entry}')")]
    Truncated {
        /// The device name.
        name: String,
        /// The entry.
        entry: String,
    },
    /// The device failed.
    #[error("'{name}': {error}")]
    Device {
        /// The device name.
        name: String,
        /// The failure.
        error: BlockError,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    key: String,
    offset: u64,
    size: u64,
    mtime_ns: u64,
}

/// A tar archive on a block device, read-only.
#[derive(Debug)]
pub struct TarKv<D: BlockDevice> {
    device: D,
    /// Sorted by key.
    entries: Vec<Entry>,
}

fn octal(field: &[u8]) -> Option<u64> {
    let s = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| b != 0 && b != b' ');
    let mut v: u64 = 0;
    let mut any = false;
    for b in s {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    any.then_some(v)
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// True when the header's checksum (bytes 148..156 counted as spaces) matches.
fn checksum_ok(h: &[u8]) -> bool {
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    octal(&h[148..156]) == Some(sum)
}

/// The `path` record of a POSIX extended header's data, if any.
fn pax_path(data: &[u8]) -> Option<String> {
    let text = core::str::from_utf8(data).ok()?;
    let mut rest = text;
    while !rest.is_empty() {
        let (len, _) = rest.split_once(' ')?;
        let n: usize = len.parse().ok()?;
        let record = rest.get(..n)?;
        rest = &rest[n..];
        let body = record.split_once(' ')?.1.strip_suffix('\n')?;
        if let Some(path) = body.strip_prefix("path=") {
            return Some(path.into());
        }
    }
    None
}

impl<D: BlockDevice> TarKv<D> {
    /// Reads `len` bytes at byte `at` (any alignment) through whole-sector reads.
    async fn read_bytes(&mut self, at: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let sector = u64::from(self.device.info().sector_size);
        let start = at - at % sector;
        let end = (at + buf.len() as u64).div_ceil(sector) * sector;
        let mut tmp = vec![0u8; (end - start) as usize];
        self.device.read(start, &mut tmp).await?;
        let from = (at - start) as usize;
        buf.copy_from_slice(&tmp[from..from + buf.len()]);
        Ok(())
    }

    /// Indexes the archive on `device` (called `name` in errors).
    pub async fn open(device: D, name: &str) -> Result<Self, TarError> {
        let capacity = device.info().capacity;
        let mut tar = TarKv {
            device,
            entries: Vec::new(),
        };
        let dev = |error| TarError::Device {
            name: name.into(),
            error,
        };
        let mut at = 0u64;
        let mut long_name: Option<String> = None;
        let mut header = [0u8; BLOCK as usize];
        while at + BLOCK <= capacity {
            tar.read_bytes(at, &mut header).await.map_err(dev)?;
            if header.iter().all(|&b| b == 0) {
                break;
            }
            let size = octal(&header[124..136]);
            let (Some(size), true) = (size, checksum_ok(&header)) else {
                return Err(TarError::NotTar {
                    name: name.into(),
                    offset: at,
                });
            };
            let data = at + BLOCK;
            let next = data + size.div_ceil(BLOCK) * BLOCK;
            let mut entry_name = match long_name.take() {
                Some(n) => n,
                None if &header[257..262] == b"ustar" && header[345] != 0 => {
                    alloc::format!("{}/{}", text(&header[345..500]), text(&header[..100]))
                }
                None => text(&header[..100]),
            };
            if data + size > capacity {
                return Err(TarError::Truncated {
                    name: name.into(),
                    entry: entry_name,
                });
            }
            match header[156] {
                b'L' | b'x' => {
                    let mut body = vec![0u8; size as usize];
                    tar.read_bytes(data, &mut body).await.map_err(dev)?;
                    long_name = if header[156] == b'L' {
                        Some(text(&body))
                    } else {
                        pax_path(&body)
                    };
                }
                b'0' | 0 | b'7' => {
                    entry_name = entry_name
                        .trim_start_matches("./")
                        .trim_start_matches('/')
                        .to_string();
                    let key = Key::parse(&entry_name)
                        .ok()
                        .filter(|k| !k.is_root())
                        .ok_or_else(|| TarError::BadName {
                            name: name.into(),
                            entry: entry_name.clone(),
                        })?
                        .as_str()
                        .to_string();
                    let mtime_ns = octal(&header[136..148])
                        .unwrap_or(0)
                        .saturating_mul(1_000_000_000);
                    tar.entries.retain(|e| e.key != key);
                    tar.entries.push(Entry {
                        key,
                        offset: data,
                        size,
                        mtime_ns,
                    });
                }
                _ => {}
            }
            at = next;
        }
        tar.entries.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(tar)
    }

    /// Number of values in the archive.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the archive holds no values.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, key: &str) -> Result<&Entry, KvError> {
        let k = check_key(key)?;
        match self
            .entries
            .binary_search_by(|e| e.key.as_str().cmp(k.as_str()))
        {
            Ok(i) => Ok(&self.entries[i]),
            Err(_) if self.is_dictionary(&k) => Err(KvError::ValueExpected(key.into())),
            Err(_) => Err(KvError::NotFound(key.into())),
        }
    }

    fn is_dictionary(&self, k: &Key<'_>) -> bool {
        k.is_root()
            || self
                .entries
                .iter()
                .any(|e| Key::parse(&e.key).is_ok_and(|ek| ek != *k && k.contains(&ek)))
    }

    fn device_error(key: &str, e: BlockError) -> KvError {
        KvError::Store {
            key: key.into(),
            reason: alloc::format!("device failure: {e}"),
        }
    }
}

impl<D: BlockDevice> KvRead for TarKv<D> {
    async fn exists(&mut self, key: &str) -> Result<Option<Kind>, KvError> {
        let k = check_key(key)?;
        if self.entries.iter().any(|e| e.key == k.as_str()) {
            return Ok(Some(Kind::Value));
        }
        Ok(self.is_dictionary(&k).then_some(Kind::Dictionary))
    }

    async fn get(&mut self, key: &str) -> Result<Vec<u8>, KvError> {
        let (offset, size) = self.find(key).map(|e| (e.offset, e.size))?;
        let mut value = vec![0u8; size as usize];
        if size > 0 {
            self.read_bytes(offset, &mut value)
                .await
                .map_err(|e| Self::device_error(key, e))?;
        }
        Ok(value)
    }

    async fn get_range(
        &mut self,
        key: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, KvError> {
        let (start, size) = self.find(key).map(|e| (e.offset, e.size))?;
        if offset >= size || buf.is_empty() {
            return Ok(0);
        }
        let n = (size - offset).min(buf.len() as u64) as usize;
        self.read_bytes(start + offset, &mut buf[..n])
            .await
            .map_err(|e| Self::device_error(key, e))?;
        Ok(n)
    }

    async fn list(&mut self, key: &str) -> Result<Vec<(String, Kind)>, KvError> {
        let k = check_key(key)?;
        if !self.is_dictionary(&k) {
            return Err(match self.find(key) {
                Ok(_) => KvError::DictionaryExpected(key.into()),
                Err(e) => e,
            });
        }
        let mut out: Vec<(String, Kind)> = Vec::new();
        for e in &self.entries {
            let rest = if k.is_root() {
                Some(e.key.as_str())
            } else {
                e.key
                    .strip_prefix(k.as_str())
                    .and_then(|r| r.strip_prefix('/'))
            };
            let Some(rest) = rest else { continue };
            let (name, kind) = match rest.split_once('/') {
                Some((d, _)) => (d, Kind::Dictionary),
                None => (rest, Kind::Value),
            };
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.into(), kind));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    async fn size(&mut self, key: &str) -> Result<u64, KvError> {
        self.find(key).map(|e| e.size)
    }

    /// The entry's modification time from the archive (whole seconds).
    async fn last_modified(&mut self, key: &str) -> Result<u64, KvError> {
        self.find(key).map(|e| e.mtime_ns)
    }
}
