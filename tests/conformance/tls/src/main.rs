//! Conformance `tls`: morgana-tls's crypto provider, in an image, gives the answers another
//! implementation gives, and completes handshakes with itself over every suite.
//!
//! - TLS 1.3 records (AES-256-GCM, ChaCha20-Poly1305; key `00..1f`, IV `64..6f`, sequence 7,
//!   plaintext `morgana record`) through rustls's record-protection interface, SHA-256 and
//!   SHA-384 of `abc`, HKDF-SHA256 of RFC 5869's first case, an ECDSA P-256 and two RSA-2048
//!   signatures over `signed by the host` (each verified, and refused with a byte flipped):
//!   the expected bytes come from Python's `cryptography` (`src/vectors.rs`).
//! - A TLS 1.3 or 1.2 handshake for each suite (ECDSA certificate), client and server in this
//!   image over an in-memory pipe, then 40000 bytes each way; `--suites=N` for only the first
//!   N (a TLS 1.3 and a TLS 1.2 one first).
//!
//! One line per check, `SUCCESS` at the end, status 0; a mismatch is an `error:` line and
//! status 1. In a hard-float image the crates may take their AES-NI/AVX code; in a soft-float
//! one they must not (docs/crates.md).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

mod pipe;
mod vectors;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use embedded_io_async::{Read, Write};
use morgana_tls::rustls::crypto::cipher::{AeadKey, Iv, OutboundChunks, OutboundPlainMessage};
use morgana_tls::rustls::{
    self, CipherSuite, ContentType, ProtocolVersion, SignatureScheme, SupportedCipherSuite,
};
use morgana_tls::{Roots, WallClock};

morgana::main!(app);

const CHAIN: &[u8] = include_bytes!("../../../../examples/https-server/certs/chain.pem");
const KEY: &[u8] = include_bytes!("../../../../examples/https-server/certs/key.pem");
const CA: &[u8] = include_bytes!("../../../../examples/https-server/certs/ca.pem");

fn unhex(s: &str) -> Vec<u8> {
    let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
    s.as_bytes()
        .chunks(2)
        .map(|p| digit(p[0]) << 4 | digit(p[1]))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn expect(what: &str, got: &[u8], want: &str) -> Result<(), morgana::Error> {
    if hex(got) == want {
        morgana::println!("{what} ok");
        Ok(())
    } else {
        Err(format!("{what} MISMATCH got {} expected {want}", hex(got)).into())
    }
}

fn suite(id: CipherSuite) -> Result<SupportedCipherSuite, morgana::Error> {
    morgana_tls::provider::provider()
        .cipher_suites
        .into_iter()
        .find(|s| s.suite() == id)
        .ok_or_else(|| format!("no suite {id:?}").into())
}

fn known_answers() -> Result<(), morgana::Error> {
    for (id, want) in [
        (
            CipherSuite::TLS13_AES_256_GCM_SHA384,
            vectors::AES256_RECORD,
        ),
        (
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            vectors::CHACHA_RECORD,
        ),
    ] {
        let SupportedCipherSuite::Tls13(s) = suite(id)? else {
            return Err("not a TLS 1.3 suite".into());
        };
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let iv: [u8; 12] = core::array::from_fn(|i| 100 + i as u8);
        let mut enc = s.aead_alg.encrypter(AeadKey::from(key), Iv::new(iv));
        let msg = OutboundPlainMessage {
            typ: ContentType::ApplicationData,
            version: ProtocolVersion::TLSv1_2,
            payload: OutboundChunks::Single(b"morgana record"),
        };
        let record = enc
            .encrypt(msg, 7)
            .map_err(|e| format!("sealing a record: {e}"))?
            .encode();
        expect(&format!("record {id:?}"), &record, want)?;
        let mut dec = s.aead_alg.decrypter(AeadKey::from(key), Iv::new(iv));
        let mut bytes = record.clone();
        let opaque = rustls::crypto::cipher::InboundOpaqueMessage::new(
            ContentType::ApplicationData,
            ProtocolVersion::TLSv1_2,
            &mut bytes[5..],
        );
        let plain = dec
            .decrypt(opaque, 7)
            .map_err(|e| format!("opening a record: {e}"))?;
        expect(
            &format!("open {id:?}"),
            plain.payload,
            &hex(b"morgana record"),
        )?;
    }
    let SupportedCipherSuite::Tls13(s256) = suite(CipherSuite::TLS13_AES_128_GCM_SHA256)? else {
        return Err("not a TLS 1.3 suite".into());
    };
    let SupportedCipherSuite::Tls13(s384) = suite(CipherSuite::TLS13_AES_256_GCM_SHA384)? else {
        return Err("not a TLS 1.3 suite".into());
    };
    expect(
        "sha256(abc)",
        s256.common.hash_provider.hash(b"abc").as_ref(),
        vectors::SHA256_ABC,
    )?;
    expect(
        "sha384(abc)",
        s384.common.hash_provider.hash(b"abc").as_ref(),
        vectors::SHA384_ABC,
    )?;
    let salt: Vec<u8> = (0..13).collect();
    let info: Vec<u8> = (0xf0..0xfa).collect();
    let prk = s256
        .hkdf_provider
        .extract_from_secret(Some(&salt), &[0x0b; 22]);
    let mut okm = [0u8; 32];
    prk.expand_slice(&[&info], &mut okm)
        .map_err(|_| "HKDF expand failed")?;
    expect("hkdf-sha256 rfc5869 case 1", &okm, vectors::HKDF_RFC5869_1)?;

    let algorithms = morgana_tls::provider::provider().signature_verification_algorithms;
    let message = b"signed by the host";
    for (scheme, public, signature) in [
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            vectors::P256_PUBLIC,
            vectors::P256_SIGNATURE,
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            vectors::RSA_PUBLIC,
            vectors::RSA_PKCS1_SIGNATURE,
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            vectors::RSA_PUBLIC,
            vectors::RSA_PSS_SIGNATURE,
        ),
    ] {
        let alg = algorithms
            .mapping
            .iter()
            .find(|(s, _)| *s == scheme)
            .and_then(|(_, algs)| algs.first())
            .ok_or("no algorithm for the scheme")?;
        let (public, mut signature) = (unhex(public), unhex(signature));
        if alg.verify_signature(&public, message, &signature).is_err() {
            return Err(format!("{scheme:?} signature MISMATCH: refused").into());
        }
        let last = signature.len() - 1;
        signature[last] ^= 1;
        if alg.verify_signature(&public, message, &signature).is_ok() {
            return Err(format!("{scheme:?} signature MISMATCH: a bad one accepted").into());
        }
        morgana::println!("{scheme:?} signature ok");
    }
    Ok(())
}

/// A handshake over `id`, then 40000 bytes each way.
async fn handshake(id: CipherSuite) -> Result<(), morgana::Error> {
    let clock = WallClock(morgana::clock::wall_ns);
    let server = morgana_tls::server_config(CHAIN, KEY, clock)?;
    let one = suite(id)?;
    let mut provider = morgana_tls::provider::provider();
    provider.cipher_suites = vec![one];
    let client =
        morgana_tls::config::client_config_with(provider, &[one.version()], Roots::Pem(CA), clock)?;
    let (a, b) = (pipe::Half::default(), pipe::Half::default());
    let (server_end, client_end) = (pipe::End::new(&a, &b), pipe::End::new(&b, &a));
    let data: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let serve = async {
        let mut tls = morgana_tls::accept(server_end, &server).await?;
        let mut got = vec![0u8; data.len()];
        tls.read_exact(&mut got)
            .await
            .map_err(|_| morgana_tls::TlsError::Closed)?;
        tls.write_all(&got).await?;
        tls.close().await?;
        Ok::<_, morgana_tls::TlsError>(got == data)
    };
    let call = async {
        let mut tls = morgana_tls::connect(client_end, &client, "localhost").await?;
        tls.write_all(&data)
            .await
            .map_err(morgana_tls::ConnectError::Tls)?;
        let mut back = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = tls
                .read(&mut buf)
                .await
                .map_err(morgana_tls::ConnectError::Tls)?;
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        let version = tls.connection().protocol_version();
        Ok::<_, morgana_tls::ConnectError>((back == data, version))
    };
    let (served, called) = embassy_futures::join::join(serve, call).await;
    let (same_back, version) = called?;
    if !served? || !same_back {
        return Err(format!("handshake {id:?} MISMATCH: the data changed").into());
    }
    morgana::println!("handshake {id:?} {version:?}: 40000 bytes each way ok");
    Ok(())
}

/// The suites handshaken, in order (`--suites=N` takes the first N).
const SUITES: &[CipherSuite] = &[
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
];

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = morgana::BootArgs::from_boot();
    let count: usize = args.with_default("suites", SUITES.len())?;
    args.finish()?;
    known_answers()?;
    for id in SUITES.iter().take(count) {
        handshake(*id).await?;
    }
    morgana::println!("SUCCESS");
    Ok(())
}
