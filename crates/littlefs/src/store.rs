//! The store: `Mirage_kv.RW` operations on littlefs files and directories.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use littlefs2_sys as ll;
use morgana_block::BlockDevice;
use morgana_kv::rw::key as check_key;
use morgana_kv::{Key, Kind, KvError, KvRead, KvWrite};

use crate::lfs::{BLOCK_SIZE, Lfs, LfsError, Stat, complete};

/// Temporary name of a value being written, in the key's directory.
const TMP_SET: &str = "\u{1}set";
/// Temporary name of a dictionary being removed, in its parent.
const TMP_TRASH: &str = "\u{1}trash";

/// Why a store could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The device holds no littlefs file system (or one this geometry cannot mount).
    #[error("storage: no littlefs file system on '{0}' (use --format to create one)")]
    NoFileSystem(String),
    /// The device's size or sector size does not fit the fixed geometry.
    #[error(
        "storage: '{name}' cannot hold littlefs: {capacity} bytes in sectors of {sector_size} \
         (need a multiple of 4096 bytes, at least 8192, in sectors of at most 4096)"
    )]
    Geometry {
        /// The device name.
        name: String,
        /// Its capacity in bytes.
        capacity: u64,
        /// Its sector size in bytes.
        sector_size: u32,
    },
    /// Formatting was asked of a read-only device.
    #[error("storage: cannot format '{0}': the device is read-only")]
    ReadOnly(String),
    /// The device failed.
    #[error("storage: '{name}': {reason}")]
    Device {
        /// The device name.
        name: String,
        /// What failed.
        reason: String,
    },
}

/// A littlefs store on a block device. Write methods need a writable device.
#[derive(Debug)]
pub struct LittleFs<D: BlockDevice> {
    lfs: Lfs<D>,
    clock: fn() -> u64,
}

fn is_temporary(name: &str) -> bool {
    name.starts_with('\u{1}')
}

impl<D: BlockDevice> LittleFs<D> {
    fn prepare(device: D, name: &str, clock: fn() -> u64) -> Result<Self, OpenError> {
        let info = device.info();
        let blocks = info.capacity / u64::from(BLOCK_SIZE);
        let fits = info.sector_size <= BLOCK_SIZE
            && info.capacity.is_multiple_of(u64::from(BLOCK_SIZE))
            && blocks >= 2
            && blocks <= u64::from(u32::MAX);
        if !fits {
            return Err(OpenError::Geometry {
                name: name.into(),
                capacity: info.capacity,
                sector_size: info.sector_size,
            });
        }
        Ok(LittleFs {
            lfs: Lfs::new(device, blocks as u32),
            clock,
        })
    }

    fn device_failure(&mut self, name: &str) -> Option<OpenError> {
        self.lfs.take_device_error().map(|e| OpenError::Device {
            name: name.into(),
            reason: e.to_string(),
        })
    }

    /// Mounts the file system on `device` (called `name` in errors). `clock` gives the wall
    /// time in ns since the epoch for `last_modified`. A writable mount deletes temporary
    /// files a crash left behind. Never formats.
    pub fn mount(device: D, name: &str, clock: fn() -> u64) -> Result<Self, OpenError> {
        let mut store = Self::prepare(device, name, clock)?;
        if store.lfs.mount().is_err() {
            return Err(store
                .device_failure(name)
                .unwrap_or_else(|| OpenError::NoFileSystem(name.into())));
        }
        if !store.lfs.device().info().read_only {
            if let Err(code) = store.lfs.make_consistent() {
                let e = store.error("", code);
                return Err(OpenError::Device {
                    name: name.into(),
                    reason: e.to_string(),
                });
            }
            store.clean_up("").map_err(|e| OpenError::Device {
                name: name.into(),
                reason: e.to_string(),
            })?;
        }
        Ok(store)
    }

    /// Writes a new, empty file system on `device` and mounts it.
    pub fn format(device: D, name: &str, clock: fn() -> u64) -> Result<Self, OpenError> {
        if device.info().read_only {
            return Err(OpenError::ReadOnly(name.into()));
        }
        let mut store = Self::prepare(device, name, clock)?;
        if let Err(code) = store.lfs.format().and_then(|()| store.lfs.mount()) {
            return Err(store.device_failure(name).unwrap_or(OpenError::Device {
                name: name.into(),
                reason: format!("littlefs error {code}"),
            }));
        }
        Ok(store)
    }

    /// The block device.
    pub fn device(&self) -> &D {
        self.lfs.device()
    }

    /// Bytes in use, counted in littlefs blocks.
    pub fn used_bytes(&mut self) -> Result<u64, KvError> {
        let blocks = self.lfs.used_blocks().map_err(|c| self.error("", c))?;
        Ok(blocks * u64::from(BLOCK_SIZE))
    }

    /// Deletes temporary entries under directory `path`, recursively.
    fn clean_up(&mut self, path: &str) -> Result<(), KvError> {
        let entries = self.lfs.read_dir(path).map_err(|c| self.error(path, c))?;
        for (name, stat) in entries {
            let child = Key::parse(path).map_or(String::new(), |k| k.join(&name));
            match (is_temporary(&name), stat) {
                (true, Stat::Dir) => self.purge(&child)?,
                (true, Stat::File(_)) => {
                    self.lfs.remove(&child).map_err(|c| self.error(path, c))?
                }
                (false, Stat::Dir) => self.clean_up(&child)?,
                (false, Stat::File(_)) => {}
            }
        }
        Ok(())
    }

    /// Deletes directory `path` and everything under it.
    fn purge(&mut self, path: &str) -> Result<(), KvError> {
        let entries = self.lfs.read_dir(path).map_err(|c| self.error(path, c))?;
        for (name, stat) in entries {
            let child = format!("{path}/{name}");
            match stat {
                Stat::Dir => self.purge(&child)?,
                Stat::File(_) => self.lfs.remove(&child).map_err(|c| self.error(path, c))?,
            }
        }
        self.lfs.remove(path).map_err(|c| self.error(path, c))
    }

    /// The `KvError` for littlefs error `code` while working on `key`.
    fn error(&mut self, key: &str, code: LfsError) -> KvError {
        let key = String::from(key);
        match code {
            ll::lfs_error_LFS_ERR_NOENT => KvError::NotFound(key),
            ll::lfs_error_LFS_ERR_ISDIR => KvError::ValueExpected(key),
            ll::lfs_error_LFS_ERR_NOTDIR => KvError::DictionaryExpected(key),
            ll::lfs_error_LFS_ERR_NOSPC => KvError::NoSpace(key),
            ll::lfs_error_LFS_ERR_CORRUPT => KvError::Store {
                key,
                reason: "the littlefs file system is corrupt".into(),
            },
            ll::lfs_error_LFS_ERR_NOTEMPTY => KvError::Store {
                key,
                reason: "a dictionary that is not empty is in the way".into(),
            },
            _ => match self.lfs.take_device_error() {
                Some(e) => KvError::Store {
                    key,
                    reason: format!("device failure: {e}"),
                },
                None => KvError::Store {
                    key,
                    reason: format!("littlefs error {code}"),
                },
            },
        }
    }

    fn writable(&self, key: &str) -> Result<(), KvError> {
        if self.lfs.device().info().read_only {
            return Err(KvError::ReadOnly(key.into()));
        }
        Ok(())
    }

    fn flush(&mut self, key: &str) -> Result<(), KvError> {
        complete(self.lfs.device_mut().flush()).map_err(|e| KvError::Store {
            key: key.into(),
            reason: format!("device failure: {e}"),
        })
    }

    fn stat(&mut self, key: &str, k: &Key<'_>) -> Result<Option<Stat>, KvError> {
        if k.is_root() {
            return Ok(Some(Stat::Dir));
        }
        match self.lfs.stat(k.as_str()) {
            // A value where a dictionary would be: nothing is stored under that key.
            Err(ll::lfs_error_LFS_ERR_NOTDIR) => Ok(None),
            r => r.map_err(|c| self.error(key, c)),
        }
    }

    /// The size of the value at `key`, or the right error.
    fn value_size<'k>(&mut self, key: &'k str) -> Result<(Key<'k>, u64), KvError> {
        let k = check_key(key)?;
        match self.stat(key, &k)? {
            Some(Stat::File(size)) => Ok((k, size)),
            Some(Stat::Dir) => Err(KvError::ValueExpected(key.into())),
            None => Err(KvError::NotFound(key.into())),
        }
    }

    /// Creates the dictionaries above `k` that do not exist yet.
    fn make_parents(&mut self, key: &str, k: &Key<'_>) -> Result<(), KvError> {
        let Some(parent) = k.parent() else {
            return Ok(());
        };
        let path = parent.as_str();
        let mut end = 0;
        while end < path.len() {
            end = path[end..].find('/').map_or(path.len(), |i| end + i);
            let prefix = &path[..end];
            match self.lfs.stat(prefix).map_err(|c| self.error(key, c))? {
                Some(Stat::Dir) => {}
                Some(Stat::File(_)) => return Err(KvError::DictionaryExpected(prefix.into())),
                None => self.lfs.mkdir(prefix).map_err(|c| self.error(key, c))?,
            }
            end += 1;
        }
        Ok(())
    }
}

impl<D: BlockDevice> KvRead for LittleFs<D> {
    async fn exists(&mut self, key: &str) -> Result<Option<Kind>, KvError> {
        let k = check_key(key)?;
        Ok(self.stat(key, &k)?.map(|s| match s {
            Stat::File(_) => Kind::Value,
            Stat::Dir => Kind::Dictionary,
        }))
    }

    async fn get(&mut self, key: &str) -> Result<Vec<u8>, KvError> {
        let (k, size) = self.value_size(key)?;
        let path = k.as_str();
        let mut value = vec![0; size as usize];
        let n = self
            .lfs
            .read_file(path, 0, &mut value)
            .map_err(|c| self.error(key, c))?;
        value.truncate(n);
        Ok(value)
    }

    async fn get_range(
        &mut self,
        key: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, KvError> {
        let (k, size) = self.value_size(key)?;
        if offset >= size || buf.is_empty() {
            return Ok(0);
        }
        let path = k.as_str();
        self.lfs
            .read_file(path, offset, buf)
            .map_err(|c| self.error(key, c))
    }

    async fn list(&mut self, key: &str) -> Result<Vec<(String, Kind)>, KvError> {
        let k = check_key(key)?;
        match self.stat(key, &k)? {
            Some(Stat::Dir) => {}
            Some(Stat::File(_)) => return Err(KvError::DictionaryExpected(key.into())),
            None => return Err(KvError::NotFound(key.into())),
        }
        let entries = self
            .lfs
            .read_dir(k.as_str())
            .map_err(|c| self.error(key, c))?;
        let mut out: Vec<(String, Kind)> = entries
            .into_iter()
            .filter(|(name, _)| !is_temporary(name))
            .map(|(name, stat)| {
                let kind = match stat {
                    Stat::File(_) => Kind::Value,
                    Stat::Dir => Kind::Dictionary,
                };
                (name, kind)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    async fn size(&mut self, key: &str) -> Result<u64, KvError> {
        self.value_size(key).map(|(_, size)| size)
    }

    async fn last_modified(&mut self, key: &str) -> Result<u64, KvError> {
        let (k, _) = self.value_size(key)?;
        let path = k.as_str();
        self.lfs.mtime(path).map_err(|c| self.error(key, c))
    }
}

impl<D: BlockDevice> KvWrite for LittleFs<D> {
    async fn set(&mut self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let k = check_key(key)?;
        self.writable(key)?;
        if k.is_root() {
            return Err(KvError::ValueExpected(key.into()));
        }
        self.make_parents(key, &k)?;
        if let Some(Stat::Dir) = self.stat(key, &k)? {
            return Err(KvError::ValueExpected(key.into()));
        }
        let tmp = k.parent().unwrap_or(Key::ROOT).join(TMP_SET);
        match self.lfs.remove(&tmp) {
            Ok(()) | Err(ll::lfs_error_LFS_ERR_NOENT) => {}
            Err(c) => return Err(self.error(key, c)),
        }
        let now = (self.clock)();
        let written = self
            .lfs
            .write_file(&tmp, value, now)
            .and_then(|()| self.lfs.rename(&tmp, k.as_str()));
        if let Err(code) = written {
            let e = self.error(key, code);
            // The temporary file holds nothing anyone can see; a failure to delete it is
            // repaired at the next writable mount.
            let _ = self.lfs.remove(&tmp);
            let _ = self.flush(key);
            return Err(e);
        }
        self.flush(key)
    }

    async fn remove(&mut self, key: &str) -> Result<(), KvError> {
        let k = check_key(key)?;
        self.writable(key)?;
        if k.is_root() {
            // The root cannot be renamed away: its entries go one by one.
            for (name, stat) in self.lfs.read_dir("").map_err(|c| self.error(key, c))? {
                match stat {
                    Stat::Dir => {
                        let trash = TMP_TRASH;
                        self.lfs
                            .rename(&name, trash)
                            .map_err(|c| self.error(&name, c))?;
                        self.purge(trash)?;
                    }
                    Stat::File(_) => self.lfs.remove(&name).map_err(|c| self.error(&name, c))?,
                }
            }
            return self.flush(key);
        }
        match self.stat(key, &k)? {
            None => return Ok(()),
            Some(Stat::File(_)) => self
                .lfs
                .remove(k.as_str())
                .map_err(|c| self.error(key, c))?,
            Some(Stat::Dir) => {
                let trash = k.parent().unwrap_or(Key::ROOT).join(TMP_TRASH);
                if self
                    .lfs
                    .stat(&trash)
                    .map_err(|c| self.error(key, c))?
                    .is_some()
                {
                    self.purge(&trash)?;
                }
                self.lfs
                    .rename(k.as_str(), &trash)
                    .map_err(|c| self.error(key, c))?;
                self.purge(&trash)?;
            }
        }
        self.flush(key)
    }

    async fn rename(&mut self, from: &str, to: &str) -> Result<(), KvError> {
        let f = check_key(from)?;
        let t = check_key(to)?;
        self.writable(from)?;
        if f.is_root() || f.contains(&t) {
            if f == t && self.stat(from, &f)?.is_some() {
                return Ok(());
            }
            return Err(KvError::RenameIntoItself {
                from: from.into(),
                to: to.into(),
            });
        }
        if self.stat(from, &f)?.is_none() {
            return Err(KvError::NotFound(from.into()));
        }
        self.make_parents(to, &t)?;
        self.lfs
            .rename(f.as_str(), t.as_str())
            .map_err(|c| self.error(to, c))?;
        self.flush(to)
    }
}
