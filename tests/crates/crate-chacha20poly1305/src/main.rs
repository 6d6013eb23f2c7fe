//! chacha20poly1305 against RFC 8439 section 2.8.2 (the AEAD example). On x86_64 chacha20
//! picks AVX2 or SSE2 code, and poly1305 AVX2 code, by CPUID at run time.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::{Checks, unhex};

morgana::main!(app);

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

const PLAIN: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only \
one tip for the future, sunscreen would be it.";

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    let key = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    let nonce = unhex("070000004041424344454647");
    let aad = unhex("50515253c0c1c2c3c4c5c6c7");
    let cipher = ChaCha20Poly1305::new_from_slice(&key).expect("key length");
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: PLAIN,
                aad: &aad,
            },
        )
        .expect("encryption of a short message");
    c.bytes(
        "chacha20poly1305 rfc8439 2.8.2 seal",
        &sealed,
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6         3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36         92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc         3ff4def08e4b7a9de576d26586cec64b6116         1ae10b594f09e26a7e902ecbd0600691",
    );
    let opened = cipher.decrypt(
        Nonce::from_slice(&nonce),
        Payload {
            msg: &sealed,
            aad: &aad,
        },
    );
    c.text(
        "chacha20poly1305 rfc8439 2.8.2 open",
        core::str::from_utf8(&opened.unwrap_or_default()).unwrap_or("(not UTF-8)"),
        core::str::from_utf8(PLAIN).unwrap_or_default(),
    );
    let mut forged = sealed.clone();
    forged[1] ^= 0x80;
    let rejected = cipher.decrypt(
        Nonce::from_slice(&nonce),
        Payload {
            msg: &forged,
            aad: &aad,
        },
    );
    c.holds(
        "chacha20poly1305 rejects a changed ciphertext",
        rejected.is_err(),
    );
    // Long enough for the 4-block (AVX2) and 2-block (SSE2) paths: 1 KiB of zeros under the
    // same key and nonce must open again to itself.
    let zeros = [0u8; 1024];
    let long = cipher
        .encrypt(Nonce::from_slice(&nonce), &zeros[..])
        .expect("encryption");
    let back = cipher
        .decrypt(Nonce::from_slice(&nonce), long.as_slice())
        .unwrap_or_default();
    c.holds("chacha20poly1305 1 KiB round trip", back == zeros);
    c.finish()
}
