//! The read-write interface, with `Mirage_kv.RW` semantics: keys are paths ([`Key`]), a key
//! names either a value or a dictionary, dictionaries exist as long as something lies under
//! them (a store may also keep empty ones), and every error names the key it is about.

use alloc::string::String;
use alloc::vec::Vec;

use crate::key::{Key, KeyProblem};

/// What a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value (bytes).
    Value,
    /// A dictionary (other keys lie under it).
    Dictionary,
}

/// Why a store operation failed. Every variant names the key (as given, or as a path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The string is not a key.
    #[error("invalid key '{key}': {problem}")]
    InvalidKey {
        /// The string as given.
        key: String,
        /// What is wrong with it.
        problem: KeyProblem,
    },
    /// Nothing is stored under the key.
    #[error("no key '{0}'")]
    NotFound(String),
    /// The key names a dictionary where a value was needed.
    #[error("'{0}' is a dictionary, not a value")]
    ValueExpected(String),
    /// The key names a value where a dictionary was needed (as a prefix of another key).
    #[error("'{0}' is a value, not a dictionary")]
    DictionaryExpected(String),
    /// The store has no room for the value; the store is unchanged.
    #[error("no space left for '{0}'")]
    NoSpace(String),
    /// A rename onto a key under the source.
    #[error("cannot rename '{from}' under itself ('{to}')")]
    RenameIntoItself {
        /// The source key.
        from: String,
        /// The destination key.
        to: String,
    },
    /// The store cannot be written (a read-only device or store).
    #[error("cannot change '{0}': the store is read-only")]
    ReadOnly(String),
    /// The store or its device failed, or found its data inconsistent.
    #[error("'{key}': {reason}")]
    Store {
        /// The key being worked on.
        key: String,
        /// What went wrong.
        reason: String,
    },
}

impl KvError {
    /// The key the error is about.
    pub fn key(&self) -> &str {
        match self {
            KvError::InvalidKey { key, .. } | KvError::Store { key, .. } => key,
            KvError::RenameIntoItself { from, .. } => from,
            KvError::NotFound(k)
            | KvError::ValueExpected(k)
            | KvError::DictionaryExpected(k)
            | KvError::NoSpace(k)
            | KvError::ReadOnly(k) => k,
        }
    }
}

/// Checks `key`, turning a bad one into [`KvError::InvalidKey`].
pub fn key(key: &str) -> Result<Key<'_>, KvError> {
    Key::parse(key).map_err(|problem| KvError::InvalidKey {
        key: String::from(key),
        problem,
    })
}

/// The read side of a store. Methods take `&mut self`: a store over a device moves the
/// device's head; share one between tasks behind a mutex.
#[allow(async_fn_in_trait)] // Implementations are used by static dispatch only.
pub trait KvRead {
    /// What `key` names, or `None` when nothing is stored there.
    async fn exists(&mut self, key: &str) -> Result<Option<Kind>, KvError>;

    /// The whole value of `key`.
    async fn get(&mut self, key: &str) -> Result<Vec<u8>, KvError>;

    /// Copies bytes of `key`'s value from `offset` into `buf`; returns how many (0 at or past
    /// the end).
    async fn get_range(&mut self, key: &str, offset: u64, buf: &mut [u8])
    -> Result<usize, KvError>;

    /// The entries directly under dictionary `key` (their names, not full paths), sorted by
    /// name.
    async fn list(&mut self, key: &str) -> Result<Vec<(String, Kind)>, KvError>;

    /// The length of `key`'s value in bytes.
    async fn size(&mut self, key: &str) -> Result<u64, KvError>;

    /// When `key`'s value was last set, in nanoseconds since the Unix epoch by the wall
    /// clock of whoever set it (0 when the store does not know).
    async fn last_modified(&mut self, key: &str) -> Result<u64, KvError>;

    /// The SHA-256 of `key`'s value, as 64 lowercase hex digits.
    async fn digest(&mut self, key: &str) -> Result<String, KvError> {
        let value = self.get(key).await?;
        Ok(sha256_hex(&value))
    }
}

/// The write side of a store. When a method returns `Ok`, its effect is durable: a crash
/// afterwards keeps it. A crash during a method leaves the store as before or as after it.
#[allow(async_fn_in_trait)] // Implementations are used by static dispatch only.
pub trait KvWrite: KvRead {
    /// Stores `value` under `key`, replacing any value there and creating the dictionaries
    /// above it. Refused when `key` or a prefix of it is a dictionary/value of the wrong kind.
    async fn set(&mut self, key: &str, value: &[u8]) -> Result<(), KvError>;

    /// Removes `key`: a value, or a dictionary with everything under it. Removing a key that
    /// does not exist succeeds; removing the root empties the store.
    async fn remove(&mut self, key: &str) -> Result<(), KvError>;

    /// Moves whatever `from` names to `to`, replacing a value at `to`.
    async fn rename(&mut self, from: &str, to: &str) -> Result<(), KvError>;
}

/// SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use core::fmt::Write;
    use sha2::Digest;
    let hash = sha2::Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in hash {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}
