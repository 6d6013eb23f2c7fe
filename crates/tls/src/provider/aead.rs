//! AES-GCM and ChaCha20-Poly1305 record protection for TLS 1.3 and TLS 1.2, from the
//! `aes-gcm` and `chacha20poly1305` crates.

use alloc::boxed::Box;
use core::marker::PhantomData;

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use rustls::crypto::cipher::{
    AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv, KeyBlockShape, MessageDecrypter,
    MessageEncrypter, NONCE_LEN, Nonce, OutboundOpaqueMessage, OutboundPlainMessage,
    PrefixedPayload, Tls12AeadAlgorithm, Tls13AeadAlgorithm, UnsupportedOperationError,
    make_tls12_aad, make_tls13_aad,
};
use rustls::{ConnectionTrafficSecrets, ContentType, Error, ProtocolVersion};

/// Every AEAD used here has a 16-byte tag.
const TAG_LEN: usize = 16;

/// The explicit part of a TLS 1.2 AES-GCM nonce, sent before each record's ciphertext.
const GCM_EXPLICIT_NONCE_LEN: usize = 8;

/// An AEAD from RustCrypto with its key length and the traffic-secret form rustls exports.
pub trait Cipher:
    AeadInPlace<NonceSize = U12, TagSize = U16> + KeyInit + Send + Sync + 'static
{
    /// Key length in bytes.
    const KEY_LEN: usize;
    /// The key and IV as rustls names them for export.
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets;
}

impl Cipher for Aes128Gcm {
    const KEY_LEN: usize = 16;
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv }
    }
}

impl Cipher for Aes256Gcm {
    const KEY_LEN: usize = 32;
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes256Gcm { key, iv }
    }
}

impl Cipher for ChaCha20Poly1305 {
    const KEY_LEN: usize = 32;
    fn secrets(key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv }
    }
}

/// rustls derives keys of [`Cipher::KEY_LEN`] bytes (the suite's key length); a longer key
/// (only callers outside rustls can make one) is cut to that length.
fn cipher<C: Cipher>(key: &AeadKey) -> C {
    match key.as_ref().get(..C::KEY_LEN).map(C::new_from_slice) {
        Some(Ok(c)) => c,
        _ => unreachable!("rustls derives keys of the suite's length"),
    }
}

/// TLS 1.3 record protection with the AEAD `C`.
pub struct Tls13<C>(PhantomData<fn() -> C>);

/// TLS 1.3 AES-128-GCM.
pub static TLS13_AES_128_GCM: Tls13<Aes128Gcm> = Tls13(PhantomData);
/// TLS 1.3 AES-256-GCM.
pub static TLS13_AES_256_GCM: Tls13<Aes256Gcm> = Tls13(PhantomData);
/// TLS 1.3 ChaCha20-Poly1305.
pub static TLS13_CHACHA20_POLY1305: Tls13<ChaCha20Poly1305> = Tls13(PhantomData);

impl<C: Cipher> Tls13AeadAlgorithm for Tls13<C> {
    fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        Box::new(Tls13Crypter::<C> {
            cipher: cipher(&key),
            iv,
        })
    }

    fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        Box::new(Tls13Crypter::<C> {
            cipher: cipher(&key),
            iv,
        })
    }

    fn key_len(&self) -> usize {
        C::KEY_LEN
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok(C::secrets(key, iv))
    }
}

struct Tls13Crypter<C> {
    cipher: C,
    iv: Iv,
}

impl<C: Cipher> MessageEncrypter for Tls13Crypter<C> {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total_len = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total_len);
        payload.extend_from_chunks(&msg.payload);
        payload.extend_from_slice(&msg.typ.to_array());
        let nonce = Nonce::new(&self.iv, seq).0;
        let tag = self
            .cipher
            .encrypt_in_place_detached(&nonce.into(), &make_tls13_aad(total_len), payload.as_mut())
            .map_err(|_| Error::EncryptError)?;
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(
            ContentType::ApplicationData,
            // TLS 1.3 records carry the legacy version 1.2 (RFC 8446, section 5.1).
            ProtocolVersion::TLSv1_2,
            payload,
        ))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + 1 + TAG_LEN
    }
}

impl<C: Cipher> MessageDecrypter for Tls13Crypter<C> {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut msg.payload;
        let Some(plain_len) = payload.len().checked_sub(TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let aad = make_tls13_aad(payload.len());
        let nonce = Nonce::new(&self.iv, seq).0;
        let (text, tag) = payload.split_at_mut(plain_len);
        self.cipher
            .decrypt_in_place_detached(&nonce.into(), &aad, text, (&*tag).into())
            .map_err(|_| Error::DecryptError)?;
        payload.truncate(plain_len);
        msg.into_tls13_unpadded_message()
    }
}

/// TLS 1.2 AES-GCM: a 4-byte implicit salt and an 8-byte explicit nonce per record.
pub struct Tls12Gcm<C>(PhantomData<fn() -> C>);

/// TLS 1.2 AES-128-GCM.
pub static TLS12_AES_128_GCM: Tls12Gcm<Aes128Gcm> = Tls12Gcm(PhantomData);
/// TLS 1.2 AES-256-GCM.
pub static TLS12_AES_256_GCM: Tls12Gcm<Aes256Gcm> = Tls12Gcm(PhantomData);

/// The 12-byte GCM IV from the key block: salt then the initial explicit nonce.
fn gcm_iv(salt: &[u8], explicit: &[u8]) -> Iv {
    let mut iv = [0u8; NONCE_LEN];
    iv[..4].copy_from_slice(&salt[..4]);
    iv[4..].copy_from_slice(&explicit[..GCM_EXPLICIT_NONCE_LEN]);
    Iv::new(iv)
}

impl<C: Cipher> Tls12AeadAlgorithm for Tls12Gcm<C> {
    fn encrypter(&self, key: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        Box::new(Tls12GcmCrypter::<C> {
            cipher: cipher(&key),
            iv: gcm_iv(iv, extra),
        })
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        Box::new(Tls12GcmCrypter::<C> {
            cipher: cipher(&key),
            iv: gcm_iv(iv, &[0; GCM_EXPLICIT_NONCE_LEN]),
        })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape {
            enc_key_len: C::KEY_LEN,
            fixed_iv_len: 4,
            explicit_nonce_len: GCM_EXPLICIT_NONCE_LEN,
        }
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: &[u8],
        explicit: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok(C::secrets(key, gcm_iv(iv, explicit)))
    }
}

struct Tls12GcmCrypter<C> {
    cipher: C,
    /// For encryption: salt and initial explicit nonce; for decryption only the salt counts.
    iv: Iv,
}

impl<C: Cipher> MessageEncrypter for Tls12GcmCrypter<C> {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total_len = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total_len);
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = make_tls12_aad(seq, msg.typ, msg.version, msg.payload.len());
        payload.extend_from_slice(&nonce[4..]);
        payload.extend_from_chunks(&msg.payload);
        let tag = self
            .cipher
            .encrypt_in_place_detached(
                &nonce.into(),
                &aad,
                &mut payload.as_mut()[GCM_EXPLICIT_NONCE_LEN..],
            )
            .map_err(|_| Error::EncryptError)?;
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + GCM_EXPLICIT_NONCE_LEN + TAG_LEN
    }
}

impl<C: Cipher> MessageDecrypter for Tls12GcmCrypter<C> {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut msg.payload;
        let Some(plain_len) = payload.len().checked_sub(GCM_EXPLICIT_NONCE_LEN + TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..4].copy_from_slice(&self.iv.as_ref()[..4]);
        nonce[4..].copy_from_slice(&payload[..GCM_EXPLICIT_NONCE_LEN]);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, plain_len);
        let (text, tag) = payload[GCM_EXPLICIT_NONCE_LEN..].split_at_mut(plain_len);
        self.cipher
            .decrypt_in_place_detached(&nonce.into(), &aad, text, (&*tag).into())
            .map_err(|_| Error::DecryptError)?;
        payload.copy_within(
            GCM_EXPLICIT_NONCE_LEN..GCM_EXPLICIT_NONCE_LEN + plain_len,
            0,
        );
        payload.truncate(plain_len);
        Ok(msg.into_plain_message())
    }
}

/// TLS 1.2 ChaCha20-Poly1305 (RFC 7905): the nonce is the IV XOR the sequence number.
pub struct Tls12ChaCha;

/// TLS 1.2 ChaCha20-Poly1305.
pub static TLS12_CHACHA20_POLY1305: Tls12ChaCha = Tls12ChaCha;

impl Tls12AeadAlgorithm for Tls12ChaCha {
    fn encrypter(&self, key: AeadKey, iv: &[u8], _extra: &[u8]) -> Box<dyn MessageEncrypter> {
        Box::new(Tls12ChaChaCrypter {
            cipher: cipher(&key),
            iv: Iv::copy(iv),
        })
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        Box::new(Tls12ChaChaCrypter {
            cipher: cipher(&key),
            iv: Iv::copy(iv),
        })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape {
            enc_key_len: 32,
            fixed_iv_len: NONCE_LEN,
            explicit_nonce_len: 0,
        }
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: &[u8],
        _explicit: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok(ChaCha20Poly1305::secrets(key, Iv::copy(iv)))
    }
}

struct Tls12ChaChaCrypter {
    cipher: ChaCha20Poly1305,
    iv: Iv,
}

impl MessageEncrypter for Tls12ChaChaCrypter {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total_len = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total_len);
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = make_tls12_aad(seq, msg.typ, msg.version, msg.payload.len());
        payload.extend_from_chunks(&msg.payload);
        let tag = self
            .cipher
            .encrypt_in_place_detached(&nonce.into(), &aad, payload.as_mut())
            .map_err(|_| Error::EncryptError)?;
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + TAG_LEN
    }
}

impl MessageDecrypter for Tls12ChaChaCrypter {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut msg.payload;
        let Some(plain_len) = payload.len().checked_sub(TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = make_tls12_aad(seq, msg.typ, msg.version, plain_len);
        let (text, tag) = payload.split_at_mut(plain_len);
        self.cipher
            .decrypt_in_place_detached(&nonce.into(), &aad, text, (&*tag).into())
            .map_err(|_| Error::DecryptError)?;
        payload.truncate(plain_len);
        Ok(msg.into_plain_message())
    }
}
