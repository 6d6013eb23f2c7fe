//! Server (and client) private keys: ECDSA P-256 (`p256`) and Ed25519 (`ed25519-dalek`), from
//! PKCS#8 or SEC1 DER. Signatures are deterministic (RFC 6979 for ECDSA).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rustls::crypto::KeyProvider;
use rustls::sign::{Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};
use rustls_pki_types::{PrivateKeyDer, SubjectPublicKeyInfoDer};

/// Loads the private keys this provider can sign with.
#[derive(Debug)]
pub struct Keys;

impl KeyProvider for Keys {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, Error> {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        let unsupported = || {
            Error::General("unsupported private key: expected an ECDSA P-256 or Ed25519 key".into())
        };
        match &key_der {
            PrivateKeyDer::Pkcs8(der) => {
                if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_der(der.secret_pkcs8_der()) {
                    return Ok(Arc::new(EcdsaP256::new(key)?));
                }
                if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_der(der.secret_pkcs8_der()) {
                    return Ok(Arc::new(Ed25519::new(key)?));
                }
                Err(unsupported())
            }
            PrivateKeyDer::Sec1(der) => {
                let key = p256::SecretKey::from_sec1_der(der.secret_sec1_der())
                    .map_err(|_| unsupported())?;
                Ok(Arc::new(EcdsaP256::new(key.into())?))
            }
            _ => Err(unsupported()),
        }
    }
}

/// The DER SubjectPublicKeyInfo of a key, to match it against its certificate.
fn spki(der: Result<impl AsRef<[u8]>, impl core::fmt::Debug>) -> Result<Vec<u8>, Error> {
    der.map(|d| d.as_ref().to_vec())
        .map_err(|_| Error::General("cannot encode the public key".into()))
}

/// An ECDSA P-256 key, signing with SHA-256.
#[derive(Clone)]
struct EcdsaP256 {
    key: p256::ecdsa::SigningKey,
    spki: Vec<u8>,
}

impl core::fmt::Debug for EcdsaP256 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EcdsaP256 { .. }")
    }
}

impl EcdsaP256 {
    fn new(key: p256::ecdsa::SigningKey) -> Result<Self, Error> {
        use p256::pkcs8::EncodePublicKey as _;
        let spki = spki(p256::PublicKey::from(key.verifying_key()).to_public_key_der())?;
        Ok(EcdsaP256 { key, spki })
    }
}

impl SigningKey for EcdsaP256 {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| Box::new(self.clone()) as Box<dyn Signer>)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(&self.spki[..]))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl Signer for EcdsaP256 {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use p256::ecdsa::signature::Signer as _;
        let sig: p256::ecdsa::Signature = self
            .key
            .try_sign(message)
            .map_err(|_| Error::General("ECDSA signing failed".into()))?;
        Ok(sig.to_der().as_bytes().to_vec())
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}

/// An Ed25519 key.
#[derive(Clone)]
struct Ed25519 {
    key: ed25519_dalek::SigningKey,
    spki: Vec<u8>,
}

impl core::fmt::Debug for Ed25519 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Ed25519 { .. }")
    }
}

impl Ed25519 {
    fn new(key: ed25519_dalek::SigningKey) -> Result<Self, Error> {
        use ed25519_dalek::pkcs8::EncodePublicKey as _;
        let spki = spki(key.verifying_key().to_public_key_der())?;
        Ok(Ed25519 { key, spki })
    }
}

impl SigningKey for Ed25519 {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ED25519)
            .then(|| Box::new(self.clone()) as Box<dyn Signer>)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(&self.spki[..]))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ED25519
    }
}

impl Signer for Ed25519 {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(message).to_bytes().to_vec())
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}
