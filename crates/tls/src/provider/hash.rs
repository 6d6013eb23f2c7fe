//! SHA-2 hashes and HMACs for rustls, from the `sha2` and `hmac` crates.

use alloc::boxed::Box;
use core::marker::PhantomData;

use hmac::{Mac, SimpleHmac};
use rustls::crypto::{hash, hmac as rhmac};
use sha2::Digest;

/// A SHA-2 hash function named by `ALG`.
pub struct Sha2<D>(PhantomData<fn() -> D>, hash::HashAlgorithm);

/// SHA-256.
pub static SHA256: Sha2<sha2::Sha256> = Sha2(PhantomData, hash::HashAlgorithm::SHA256);
/// SHA-384.
pub static SHA384: Sha2<sha2::Sha384> = Sha2(PhantomData, hash::HashAlgorithm::SHA384);

impl<D> hash::Hash for Sha2<D>
where
    D: Digest + Clone + Send + Sync + 'static,
{
    fn start(&self) -> Box<dyn hash::Context> {
        Box::new(HashContext(D::new()))
    }

    fn hash(&self, data: &[u8]) -> hash::Output {
        hash::Output::new(&D::digest(data))
    }

    fn output_len(&self) -> usize {
        <D as Digest>::output_size()
    }

    fn algorithm(&self) -> hash::HashAlgorithm {
        self.1
    }
}

struct HashContext<D>(D);

impl<D> hash::Context for HashContext<D>
where
    D: Digest + Clone + Send + Sync + 'static,
{
    fn fork_finish(&self) -> hash::Output {
        hash::Output::new(&self.0.clone().finalize())
    }

    fn fork(&self) -> Box<dyn hash::Context> {
        Box::new(HashContext(self.0.clone()))
    }

    fn finish(self: Box<Self>) -> hash::Output {
        hash::Output::new(&self.0.finalize())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
}

/// HMAC over the hash `D`.
pub struct Hmac<D>(PhantomData<fn() -> D>);

/// HMAC-SHA256.
pub static HMAC_SHA256: Hmac<sha2::Sha256> = Hmac(PhantomData);
/// HMAC-SHA384.
pub static HMAC_SHA384: Hmac<sha2::Sha384> = Hmac(PhantomData);

impl<D> rhmac::Hmac for Hmac<D>
where
    D: Digest + hmac::digest::core_api::BlockSizeUser + Clone + Send + Sync + 'static,
{
    fn with_key(&self, key: &[u8]) -> Box<dyn rhmac::Key> {
        // SimpleHmac takes keys of any length (longer ones are hashed first), so this cannot fail.
        match SimpleHmac::<D>::new_from_slice(key) {
            Ok(mac) => Box::new(HmacKey(mac)),
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        }
    }

    fn hash_output_len(&self) -> usize {
        <D as Digest>::output_size()
    }
}

struct HmacKey<D: Digest + hmac::digest::core_api::BlockSizeUser>(SimpleHmac<D>);

impl<D> rhmac::Key for HmacKey<D>
where
    D: Digest + hmac::digest::core_api::BlockSizeUser + Clone + Send + Sync + 'static,
{
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> rhmac::Tag {
        let mut mac = self.0.clone();
        mac.update(first);
        for m in middle {
            mac.update(m);
        }
        mac.update(last);
        rhmac::Tag::new(&mac.finalize().into_bytes())
    }

    fn tag_len(&self) -> usize {
        <D as Digest>::output_size()
    }
}
