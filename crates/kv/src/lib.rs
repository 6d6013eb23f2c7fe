//! Key-value stores: the read-write interface ([`KvRead`] and [`KvWrite`], with MirageOS's
//! `Mirage_kv.RW` semantics), the older piecewise read-only interface ([`KvRo`]), and a store
//! whose contents are embedded in the image at build time ([`StaticKv`], like MirageOS's
//! crunched `KV_RO`), which implements both read interfaces.
//!
//! Keys are `/`-separated paths relative to the store's root (`css/site.css`), without a
//! leading `/`. The interface reads values in pieces, so a store over a block device fits it as
//! well as one in memory.
//!
//! Embedding a directory takes two lines. In `build.rs` (with `morgana-kv` as a
//! build-dependency with the `build` feature):
//!
//! ```ignore
//! fn main() {
//!     morgana_kv::build::embed_dir("htdocs", "htdocs.rs").expect("embedding htdocs");
//! }
//! ```
//!
//! and in the program:
//!
//! ```ignore
//! static SITE: morgana_kv::StaticKv = include!(concat!(env!("OUT_DIR"), "/htdocs.rs"));
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(feature = "build"), no_std)]
#![allow(async_fn_in_trait)]

extern crate alloc;

#[cfg(feature = "build")]
pub mod build;
pub mod key;
pub mod rw;
pub mod shared;

pub use key::{Key, KeyProblem};
pub use rw::{Kind, KvError, KvRead, KvWrite};
pub use shared::{SharedKv, count_values};

use core::convert::Infallible;
use core::fmt::Display;

/// A read-only key-value store.
pub trait KvRo {
    /// Why a read failed (a store in memory never fails: [`Infallible`]).
    type Error: Display;

    /// The length of `key`'s value in bytes, or `None` if there is no such key.
    async fn size(&self, key: &str) -> Result<Option<u64>, Self::Error>;

    /// Copies bytes of `key`'s value from `offset` into `buf`; returns how many (0 at or past
    /// the end), or `None` if there is no such key.
    async fn read(
        &self,
        key: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<Option<usize>, Self::Error>;
}

/// A store held in the image: a sorted table of keys and their bytes.
#[derive(Debug, Clone, Copy)]
pub struct StaticKv {
    entries: &'static [(&'static str, &'static [u8])],
}

impl StaticKv {
    /// A store over `entries`, which must be sorted by key with no key twice (the build helper
    /// generates them so); lookups are binary searches.
    pub const fn new(entries: &'static [(&'static str, &'static [u8])]) -> Self {
        StaticKv { entries }
    }

    /// The whole value of `key`, without copying.
    pub fn get(&self, key: &str) -> Option<&'static [u8]> {
        self.entries
            .binary_search_by(|(k, _)| (*k).cmp(key))
            .ok()
            .map(|i| self.entries[i].1)
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|(k, _)| *k)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the store has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl KvRo for StaticKv {
    type Error = Infallible;

    async fn size(&self, key: &str) -> Result<Option<u64>, Infallible> {
        Ok(self.get(key).map(|v| v.len() as u64))
    }

    async fn read(
        &self,
        key: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<Option<usize>, Infallible> {
        Ok(self.get(key).map(|value| {
            let start = usize::try_from(offset).map_or(value.len(), |o| o.min(value.len()));
            let n = buf.len().min(value.len() - start);
            buf[..n].copy_from_slice(&value[start..start + n]);
            n
        }))
    }
}

impl StaticKv {
    /// The value of a checked key, or the right error for a dictionary or a missing key.
    fn value_of(&self, key: &str) -> Result<&'static [u8], KvError> {
        let k = rw::key(key)?;
        match self.get(k.as_str()) {
            Some(v) => Ok(v),
            None if self.kind_of(&k).is_some() => Err(KvError::ValueExpected(key.into())),
            None => Err(KvError::NotFound(key.into())),
        }
    }

    fn kind_of(&self, k: &Key<'_>) -> Option<Kind> {
        if self.get(k.as_str()).is_some() {
            return Some(Kind::Value);
        }
        self.keys()
            .filter_map(|e| Key::parse(e).ok())
            .any(|e| k.contains(&e))
            .then_some(Kind::Dictionary)
    }
}

impl KvRead for StaticKv {
    async fn exists(&mut self, key: &str) -> Result<Option<Kind>, KvError> {
        let k = rw::key(key)?;
        Ok(self.kind_of(&k))
    }

    async fn get(&mut self, key: &str) -> Result<alloc::vec::Vec<u8>, KvError> {
        self.value_of(key).map(<[u8]>::to_vec)
    }

    async fn get_range(
        &mut self,
        key: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, KvError> {
        let value = self.value_of(key)?;
        let start = usize::try_from(offset).map_or(value.len(), |o| o.min(value.len()));
        let n = buf.len().min(value.len() - start);
        buf[..n].copy_from_slice(&value[start..start + n]);
        Ok(n)
    }

    async fn list(
        &mut self,
        key: &str,
    ) -> Result<alloc::vec::Vec<(alloc::string::String, Kind)>, KvError> {
        let k = rw::key(key)?;
        match self.kind_of(&k) {
            Some(Kind::Value) => return Err(KvError::DictionaryExpected(key.into())),
            None if !k.is_root() => return Err(KvError::NotFound(key.into())),
            _ => {}
        }
        let mut out: alloc::vec::Vec<(alloc::string::String, Kind)> = alloc::vec::Vec::new();
        for entry in self.keys() {
            let rest = if k.is_root() {
                Some(entry)
            } else {
                entry
                    .strip_prefix(k.as_str())
                    .and_then(|r| r.strip_prefix('/'))
            };
            let Some(rest) = rest else { continue };
            let (name, kind) = match rest.split_once('/') {
                Some((dir, _)) => (dir, Kind::Dictionary),
                None => (rest, Kind::Value),
            };
            if out.last().is_none_or(|(n, _)| n != name) {
                out.push((name.into(), kind));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup_by(|a, b| a.0 == b.0);
        Ok(out)
    }

    async fn size(&mut self, key: &str) -> Result<u64, KvError> {
        self.value_of(key).map(|v| v.len() as u64)
    }

    /// The build does not record times: always 0.
    async fn last_modified(&mut self, key: &str) -> Result<u64, KvError> {
        self.value_of(key).map(|_| 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::future::Future;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};
    extern crate std;
    use std::vec::Vec;

    fn now<F: Future>(f: F) -> F::Output {
        match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("a static store never waits"),
        }
    }

    static KV: StaticKv = StaticKv::new(&[("a/b.txt", b"hello"), ("index.html", b"<p>")]);

    #[test]
    fn lookups_sizes_and_partial_reads() {
        assert_eq!(KV.get("a/b.txt"), Some(&b"hello"[..]));
        assert_eq!(KV.get("missing"), None);
        assert_eq!(now(KV.size("index.html")), Ok(Some(3)));
        assert_eq!(now(KV.size("nope")), Ok(None));
        let mut buf = [0u8; 3];
        assert_eq!(now(KV.read("a/b.txt", 1, &mut buf)), Ok(Some(3)));
        assert_eq!(&buf, b"ell");
        assert_eq!(now(KV.read("a/b.txt", 4, &mut buf)), Ok(Some(1)));
        assert_eq!(now(KV.read("a/b.txt", 99, &mut buf)), Ok(Some(0)));
        assert_eq!(now(KV.read("nope", 0, &mut buf)), Ok(None));
        assert_eq!(KV.keys().collect::<Vec<_>>(), ["a/b.txt", "index.html"]);
    }

    #[test]
    fn the_read_write_interface_reads_the_embedded_store() {
        let mut kv = KV;
        assert_eq!(now(KvRead::get(&mut kv, "/a/b.txt")), Ok(b"hello".to_vec()));
        assert_eq!(
            now(KvRead::exists(&mut kv, "a")),
            Ok(Some(Kind::Dictionary))
        );
        assert_eq!(
            now(KvRead::exists(&mut kv, "a/b.txt")),
            Ok(Some(Kind::Value))
        );
        assert_eq!(now(KvRead::exists(&mut kv, "a/c")), Ok(None));
        assert_eq!(
            now(KvRead::get(&mut kv, "a")),
            Err(KvError::ValueExpected("a".into()))
        );
        assert_eq!(
            now(KvRead::get(&mut kv, "zz")),
            Err(KvError::NotFound("zz".into()))
        );
        assert_eq!(
            now(KvRead::list(&mut kv, "")),
            Ok(std::vec![
                ("a".into(), Kind::Dictionary),
                ("index.html".into(), Kind::Value)
            ])
        );
        assert_eq!(
            now(KvRead::list(&mut kv, "index.html")),
            Err(KvError::DictionaryExpected("index.html".into()))
        );
        assert_eq!(now(KvRead::size(&mut kv, "index.html")), Ok(3));
        let mut buf = [0u8; 4];
        assert_eq!(
            now(KvRead::get_range(&mut kv, "a/b.txt", 3, &mut buf)),
            Ok(2)
        );
        assert_eq!(&buf[..2], b"lo");
        assert_eq!(
            now(KvRead::digest(&mut kv, "a/b.txt")).as_deref(),
            Ok("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        let bad = now(KvRead::get(&mut kv, "a/../b")).unwrap_err();
        assert_eq!(
            std::format!("{bad}"),
            "invalid key 'a/../b': it has a '.' or '..' segment"
        );
        assert_eq!(bad.key(), "a/../b");
    }
}
