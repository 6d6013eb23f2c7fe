//! Signature verification for certificates and handshakes: ECDSA on P-256 and P-384 (`p256`,
//! `p384`), Ed25519 (`ed25519-dalek`) and RSA PKCS#1 v1.5 and PSS (`rsa`, 2048 to 8192 bits).
//!
//! Keys arrive as webpki hands them over: the subject public key's bits (an uncompressed SEC1
//! point, a raw Ed25519 key, a PKCS#1 `RSAPublicKey`).

use rustls::SignatureScheme;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls_pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use sha2::Digest;

/// The hash a signature was made over.
#[derive(Debug, Clone, Copy)]
enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn digest(self, message: &[u8], out: &mut [u8; 64]) -> usize {
        match self {
            HashAlg::Sha256 => put(out, &sha2::Sha256::digest(message)),
            HashAlg::Sha384 => put(out, &sha2::Sha384::digest(message)),
            HashAlg::Sha512 => put(out, &sha2::Sha512::digest(message)),
        }
    }
}

fn put(out: &mut [u8; 64], digest: &[u8]) -> usize {
    out[..digest.len()].copy_from_slice(digest);
    digest.len()
}

/// The curve of an ECDSA key.
#[derive(Debug, Clone, Copy)]
enum Curve {
    P256,
    P384,
}

/// ECDSA with an ASN.1 DER signature.
#[derive(Debug)]
struct Ecdsa {
    curve: Curve,
    hash: HashAlg,
}

impl SignatureVerificationAlgorithm for Ecdsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use ecdsa_verify::PrehashVerifier;
        let mut digest = [0u8; 64];
        let len = self.hash.digest(message, &mut digest);
        let prehash = &digest[..len];
        match self.curve {
            Curve::P256 => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                    .map_err(|_| InvalidSignature)?;
                let sig =
                    p256::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
                key.verify_prehash(prehash, &sig)
                    .map_err(|_| InvalidSignature)
            }
            Curve::P384 => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                    .map_err(|_| InvalidSignature)?;
                let sig =
                    p384::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
                key.verify_prehash(prehash, &sig)
                    .map_err(|_| InvalidSignature)
            }
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        match self.curve {
            Curve::P256 => alg_id::ECDSA_P256,
            Curve::P384 => alg_id::ECDSA_P384,
        }
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.hash {
            HashAlg::Sha256 => alg_id::ECDSA_SHA256,
            HashAlg::Sha384 => alg_id::ECDSA_SHA384,
            HashAlg::Sha512 => alg_id::ECDSA_SHA512,
        }
    }
}

/// The ECDSA verification traits, under one name for both curves.
mod ecdsa_verify {
    pub use p256::ecdsa::signature::hazmat::PrehashVerifier;
}

/// Ed25519 (RFC 8032).
#[derive(Debug)]
struct Ed25519;

impl SignatureVerificationAlgorithm for Ed25519 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use ed25519_dalek::Verifier;
        let key: &[u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(key).map_err(|_| InvalidSignature)?;
        let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &sig).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }
}

/// RSA padding.
#[derive(Debug, Clone, Copy)]
enum Padding {
    Pkcs1,
    Pss,
}

/// RSA signatures with keys of 2048 to 8192 bits.
#[derive(Debug)]
struct Rsa {
    padding: Padding,
    hash: HashAlg,
}

/// Smallest and largest RSA modulus accepted, in bits (as webpki's other providers do).
const RSA_BITS: core::ops::RangeInclusive<usize> = 2048..=8192;

impl SignatureVerificationAlgorithm for Rsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPublicKey::from_pkcs1_der(public_key).map_err(|_| InvalidSignature)?;
        if !RSA_BITS.contains(&key.n().bits()) {
            return Err(InvalidSignature);
        }
        let mut digest = [0u8; 64];
        let len = self.hash.digest(message, &mut digest);
        let hashed = &digest[..len];
        let result = match (self.padding, self.hash) {
            (Padding::Pkcs1, HashAlg::Sha256) => {
                key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), hashed, signature)
            }
            (Padding::Pkcs1, HashAlg::Sha384) => {
                key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), hashed, signature)
            }
            (Padding::Pkcs1, HashAlg::Sha512) => {
                key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha512>(), hashed, signature)
            }
            (Padding::Pss, HashAlg::Sha256) => {
                key.verify(rsa::Pss::new::<sha2::Sha256>(), hashed, signature)
            }
            (Padding::Pss, HashAlg::Sha384) => {
                key.verify(rsa::Pss::new::<sha2::Sha384>(), hashed, signature)
            }
            (Padding::Pss, HashAlg::Sha512) => {
                key.verify(rsa::Pss::new::<sha2::Sha512>(), hashed, signature)
            }
        };
        result.map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match (self.padding, self.hash) {
            (Padding::Pkcs1, HashAlg::Sha256) => alg_id::RSA_PKCS1_SHA256,
            (Padding::Pkcs1, HashAlg::Sha384) => alg_id::RSA_PKCS1_SHA384,
            (Padding::Pkcs1, HashAlg::Sha512) => alg_id::RSA_PKCS1_SHA512,
            (Padding::Pss, HashAlg::Sha256) => alg_id::RSA_PSS_SHA256,
            (Padding::Pss, HashAlg::Sha384) => alg_id::RSA_PSS_SHA384,
            (Padding::Pss, HashAlg::Sha512) => alg_id::RSA_PSS_SHA512,
        }
    }
}

static ECDSA_P256_SHA256: Ecdsa = Ecdsa {
    curve: Curve::P256,
    hash: HashAlg::Sha256,
};
static ECDSA_P256_SHA384: Ecdsa = Ecdsa {
    curve: Curve::P256,
    hash: HashAlg::Sha384,
};
static ECDSA_P384_SHA256: Ecdsa = Ecdsa {
    curve: Curve::P384,
    hash: HashAlg::Sha256,
};
static ECDSA_P384_SHA384: Ecdsa = Ecdsa {
    curve: Curve::P384,
    hash: HashAlg::Sha384,
};
static ED25519: Ed25519 = Ed25519;
static RSA_PKCS1_SHA256: Rsa = Rsa {
    padding: Padding::Pkcs1,
    hash: HashAlg::Sha256,
};
static RSA_PKCS1_SHA384: Rsa = Rsa {
    padding: Padding::Pkcs1,
    hash: HashAlg::Sha384,
};
static RSA_PKCS1_SHA512: Rsa = Rsa {
    padding: Padding::Pkcs1,
    hash: HashAlg::Sha512,
};
static RSA_PSS_SHA256: Rsa = Rsa {
    padding: Padding::Pss,
    hash: HashAlg::Sha256,
};
static RSA_PSS_SHA384: Rsa = Rsa {
    padding: Padding::Pss,
    hash: HashAlg::Sha384,
};
static RSA_PSS_SHA512: Rsa = Rsa {
    padding: Padding::Pss,
    hash: HashAlg::Sha512,
};

/// Every algorithm above, and which serve each TLS signature scheme.
pub static ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        &ECDSA_P256_SHA256,
        &ECDSA_P256_SHA384,
        &ECDSA_P384_SHA256,
        &ECDSA_P384_SHA384,
        &ED25519,
        &RSA_PKCS1_SHA256,
        &RSA_PKCS1_SHA384,
        &RSA_PKCS1_SHA512,
        &RSA_PSS_SHA256,
        &RSA_PSS_SHA384,
        &RSA_PSS_SHA512,
    ],
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[&ECDSA_P384_SHA384, &ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[&ECDSA_P256_SHA256, &ECDSA_P384_SHA256],
        ),
        (SignatureScheme::ED25519, &[&ED25519]),
        (SignatureScheme::RSA_PSS_SHA512, &[&RSA_PSS_SHA512]),
        (SignatureScheme::RSA_PSS_SHA384, &[&RSA_PSS_SHA384]),
        (SignatureScheme::RSA_PSS_SHA256, &[&RSA_PSS_SHA256]),
        (SignatureScheme::RSA_PKCS1_SHA512, &[&RSA_PKCS1_SHA512]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[&RSA_PKCS1_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[&RSA_PKCS1_SHA256]),
    ],
};
