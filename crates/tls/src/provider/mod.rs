//! A rustls [`CryptoProvider`] built from RustCrypto crates, pure Rust, correct in hard- and
//! soft-float images.
//!
//! | | |
//! |---|---|
//! | TLS 1.3 suites | AES-128-GCM-SHA256, AES-256-GCM-SHA384, CHACHA20-POLY1305-SHA256 |
//! | TLS 1.2 suites | ECDHE-ECDSA and ECDHE-RSA with AES-128/256-GCM and CHACHA20-POLY1305 |
//! | key exchange | X25519, secp256r1 |
//! | verification | ECDSA P-256/P-384, Ed25519, RSA PKCS#1 v1.5 and PSS (2048–8192 bits) |
//! | signing keys | ECDSA P-256, Ed25519 (PKCS#8 or SEC1) |
//!
//! Why not `ring` or `aws-lc-rs`: both choose AES-NI/AVX code by CPUID at run time with no
//! switch to turn that off, and a soft-float image may be shown those features (see
//! `docs/crates.md`). The RustCrypto crates have such switches; the build tool sets them for
//! soft-float images, and this crate turns on `sha2`'s `force-soft` there.

mod aead;
mod hash;
mod kx;
mod random;
mod sign;
mod verify;

use alloc::vec;

use rustls::crypto::CryptoProvider;
use rustls::crypto::tls12::PrfUsingHmac;
use rustls::crypto::tls13::HkdfUsingHmac;
use rustls::crypto::{CipherSuiteCommon, KeyExchangeAlgorithm};
use rustls::pki_types::UnixTime;
use rustls::time_provider::TimeProvider;
use rustls::{
    CipherSuite, SignatureScheme, SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite,
};

pub use random::EntropyRandom;

static TLS13_AES_128_GCM_SHA256: Tls13CipherSuite = Tls13CipherSuite {
    common: CipherSuiteCommon {
        suite: CipherSuite::TLS13_AES_128_GCM_SHA256,
        hash_provider: &hash::SHA256,
        confidentiality_limit: 1 << 24,
    },
    hkdf_provider: &HkdfUsingHmac(&hash::HMAC_SHA256),
    aead_alg: &aead::TLS13_AES_128_GCM,
    quic: None,
};

static TLS13_AES_256_GCM_SHA384: Tls13CipherSuite = Tls13CipherSuite {
    common: CipherSuiteCommon {
        suite: CipherSuite::TLS13_AES_256_GCM_SHA384,
        hash_provider: &hash::SHA384,
        confidentiality_limit: 1 << 24,
    },
    hkdf_provider: &HkdfUsingHmac(&hash::HMAC_SHA384),
    aead_alg: &aead::TLS13_AES_256_GCM,
    quic: None,
};

static TLS13_CHACHA20_POLY1305_SHA256: Tls13CipherSuite = Tls13CipherSuite {
    common: CipherSuiteCommon {
        suite: CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        hash_provider: &hash::SHA256,
        confidentiality_limit: u64::MAX,
    },
    hkdf_provider: &HkdfUsingHmac(&hash::HMAC_SHA256),
    aead_alg: &aead::TLS13_CHACHA20_POLY1305,
    quic: None,
};

/// The TLS 1.2 signature schemes of ECDSA certificates.
static TLS12_ECDSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ED25519,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ECDSA_NISTP256_SHA256,
];

/// The TLS 1.2 signature schemes of RSA certificates.
static TLS12_RSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
];

macro_rules! tls12_suite {
    ($name:ident, $suite:ident, $hash:expr, $hmac:expr, $sign:expr, $aead:expr, $limit:expr) => {
        static $name: Tls12CipherSuite = Tls12CipherSuite {
            common: CipherSuiteCommon {
                suite: CipherSuite::$suite,
                hash_provider: $hash,
                confidentiality_limit: $limit,
            },
            kx: KeyExchangeAlgorithm::ECDHE,
            sign: $sign,
            aead_alg: $aead,
            prf_provider: &PrfUsingHmac($hmac),
        };
    };
}

tls12_suite!(
    ECDHE_ECDSA_AES_128_GCM,
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    &hash::SHA256,
    &hash::HMAC_SHA256,
    TLS12_ECDSA_SCHEMES,
    &aead::TLS12_AES_128_GCM,
    1 << 24
);
tls12_suite!(
    ECDHE_ECDSA_AES_256_GCM,
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    &hash::SHA384,
    &hash::HMAC_SHA384,
    TLS12_ECDSA_SCHEMES,
    &aead::TLS12_AES_256_GCM,
    1 << 24
);
tls12_suite!(
    ECDHE_ECDSA_CHACHA20_POLY1305,
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    &hash::SHA256,
    &hash::HMAC_SHA256,
    TLS12_ECDSA_SCHEMES,
    &aead::TLS12_CHACHA20_POLY1305,
    u64::MAX
);
tls12_suite!(
    ECDHE_RSA_AES_128_GCM,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    &hash::SHA256,
    &hash::HMAC_SHA256,
    TLS12_RSA_SCHEMES,
    &aead::TLS12_AES_128_GCM,
    1 << 24
);
tls12_suite!(
    ECDHE_RSA_AES_256_GCM,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    &hash::SHA384,
    &hash::HMAC_SHA384,
    TLS12_RSA_SCHEMES,
    &aead::TLS12_AES_256_GCM,
    1 << 24
);
tls12_suite!(
    ECDHE_RSA_CHACHA20_POLY1305,
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    &hash::SHA256,
    &hash::HMAC_SHA256,
    TLS12_RSA_SCHEMES,
    &aead::TLS12_CHACHA20_POLY1305,
    u64::MAX
);

/// The provider: every suite, group and algorithm listed in the module documentation,
/// TLS 1.3 suites first; AES-GCM before ChaCha20-Poly1305.
pub fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            SupportedCipherSuite::Tls13(&TLS13_AES_128_GCM_SHA256),
            SupportedCipherSuite::Tls13(&TLS13_AES_256_GCM_SHA384),
            SupportedCipherSuite::Tls13(&TLS13_CHACHA20_POLY1305_SHA256),
            SupportedCipherSuite::Tls12(&ECDHE_ECDSA_AES_128_GCM),
            SupportedCipherSuite::Tls12(&ECDHE_ECDSA_AES_256_GCM),
            SupportedCipherSuite::Tls12(&ECDHE_ECDSA_CHACHA20_POLY1305),
            SupportedCipherSuite::Tls12(&ECDHE_RSA_AES_128_GCM),
            SupportedCipherSuite::Tls12(&ECDHE_RSA_AES_256_GCM),
            SupportedCipherSuite::Tls12(&ECDHE_RSA_CHACHA20_POLY1305),
        ],
        kx_groups: vec![&kx::X25519, &kx::Secp256r1],
        signature_verification_algorithms: verify::ALGORITHMS,
        secure_random: &EntropyRandom,
        key_provider: &sign::Keys,
    }
}

/// Certificate validity time from a wall clock giving nanoseconds since the Unix epoch
/// (`morgana::clock::wall_ns`).
#[derive(Debug, Clone, Copy)]
pub struct WallClock(pub fn() -> u64);

impl TimeProvider for WallClock {
    fn current_time(&self) -> Option<UnixTime> {
        let ns = (self.0)();
        // A clock still at the epoch was never set: say so rather than claim 1970.
        (ns != 0).then(|| UnixTime::since_unix_epoch(core::time::Duration::from_nanos(ns)))
    }
}
