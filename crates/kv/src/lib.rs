//! A read-only key-value store: the interface ([`KvRo`]) and a store whose contents are
//! embedded in the image at build time ([`StaticKv`]), like MirageOS's `KV_RO` and its crunched
//! stores.
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

#[cfg(feature = "build")]
pub mod build;

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
}
