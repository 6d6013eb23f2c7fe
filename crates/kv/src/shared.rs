//! [`SharedKv`]: a read-write-interface store behind an async mutex, offered through the
//! piecewise read-only interface ([`KvRo`]) that services shared by many tasks use.

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::mutex::Mutex;

use crate::{KvError, KvRead, KvRo};

/// A store of any kind ([`KvRead`], taking `&mut self`) shared by the tasks of one executor:
/// each read holds the store for its own duration only.
#[derive(Debug)]
pub struct SharedKv<S>(Mutex<NoopRawMutex, S>);

impl<S> SharedKv<S> {
    /// Shares `store`.
    pub fn new(store: S) -> Self {
        SharedKv(Mutex::new(store))
    }
}

impl<S: KvRead> KvRo for SharedKv<S> {
    type Error = KvError;

    /// A dictionary counts as no value (`None`), as a missing key does.
    async fn size(&self, key: &str) -> Result<Option<u64>, KvError> {
        match self.0.lock().await.size(key).await {
            Ok(size) => Ok(Some(size)),
            Err(KvError::NotFound(_) | KvError::ValueExpected(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn read(&self, key: &str, offset: u64, buf: &mut [u8]) -> Result<Option<usize>, KvError> {
        match self.0.lock().await.get_range(key, offset, buf).await {
            Ok(n) => Ok(Some(n)),
            Err(KvError::NotFound(_) | KvError::ValueExpected(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Counts the values in `store` (every key under the root, recursively).
pub async fn count_values<S: KvRead>(store: &mut S) -> Result<usize, KvError> {
    let mut dirs = alloc::vec![alloc::string::String::new()];
    let mut count = 0;
    while let Some(dir) = dirs.pop() {
        for (name, kind) in store.list(&dir).await? {
            match kind {
                crate::Kind::Value => count += 1,
                crate::Kind::Dictionary if dir.is_empty() => dirs.push(name),
                crate::Kind::Dictionary => dirs.push(alloc::format!("{dir}/{name}")),
            }
        }
    }
    Ok(count)
}
