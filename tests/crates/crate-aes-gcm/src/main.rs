//! aes-gcm against the test cases of the GCM specification (McGrew and Viega, "The Galois/
//! Counter Mode of Operation", test cases 2, 3 and 14). On x86_64 the aes and ghash crates pick
//! AES-NI and PCLMULQDQ code by CPUID at run time.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::{Checks, unhex};

morgana::main!(app);

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce};

/// Encrypts `plain` with `aad` under `key` and `iv`; returns ciphertext and tag.
fn seal<C: KeyInit + Aead>(key: &str, iv: &str, plain: &str, aad: &str) -> alloc::vec::Vec<u8> {
    let cipher = C::new_from_slice(&unhex(key)).expect("key length");
    let iv = unhex(iv);
    let (plain, aad) = (unhex(plain), unhex(aad));
    let payload = Payload {
        msg: &plain,
        aad: &aad,
    };
    cipher
        .encrypt(Nonce::from_slice(&iv), payload)
        .expect("encryption of a short message")
}

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    let zero_iv = "000000000000000000000000";
    let zero_block = "00000000000000000000000000000000";
    c.bytes(
        "aes-gcm aes128 test case 2",
        &seal::<Aes128Gcm>(zero_block, zero_iv, zero_block, ""),
        "0388dace60b6a392f328c2b971b2fe78 ab6e47d42cec13bdf53a67b21257bddf",
    );
    let key3 = "feffe9928665731c6d6a8f9467308308";
    let iv3 = "cafebabefacedbaddecaf888";
    let plain3 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72                  1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
    let sealed3 = seal::<Aes128Gcm>(key3, iv3, plain3, "");
    c.bytes(
        "aes-gcm aes128 test case 3",
        &sealed3,
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e         21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985         4d5c2af327cd64a62cf35abd2ba6fab4",
    );
    let cipher = Aes128Gcm::new_from_slice(&unhex(key3)).expect("key length");
    let opened = cipher.decrypt(Nonce::from_slice(&unhex(iv3)), sealed3.as_slice());
    c.bytes(
        "aes-gcm aes128 test case 3 decrypt",
        &opened.unwrap_or_default(),
        plain3,
    );
    let mut forged = sealed3.clone();
    forged[0] ^= 1;
    let rejected = cipher.decrypt(Nonce::from_slice(&unhex(iv3)), forged.as_slice());
    c.holds(
        "aes-gcm aes128 rejects a changed ciphertext",
        rejected.is_err(),
    );
    c.bytes(
        "aes-gcm aes256 test case 14",
        &seal::<Aes256Gcm>(
            &alloc::format!("{zero_block}{zero_block}"),
            zero_iv,
            zero_block,
            "",
        ),
        "cea7403d4d606b6e074ec5d3baf39d18 d0d1c8a799996bf0265b98b5d48ab919",
    );
    c.finish()
}
