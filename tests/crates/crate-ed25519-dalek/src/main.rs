//! ed25519-dalek against RFC 8032 section 7.1 (TEST 1 and TEST 2): the public key from the
//! secret, the signature (Ed25519 signing is deterministic) and its verification.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::{Checks, unhex_array};

morgana::main!(app);

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};

/// (name, secret key, public key, message, signature), hex.
const TESTS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "test 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "test 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
];

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    for &(name, secret, public, message, signature) in TESTS {
        let key = SigningKey::from_bytes(&unhex_array(secret));
        let message = kat::unhex(message);
        c.bytes(
            &alloc::format!("ed25519-dalek rfc8032 {name} public key"),
            key.verifying_key().as_bytes(),
            public,
        );
        c.bytes(
            &alloc::format!("ed25519-dalek rfc8032 {name} signature"),
            &key.sign(&message).to_bytes(),
            signature,
        );
        let known = Signature::from_bytes(&unhex_array(signature));
        c.holds(
            &alloc::format!("ed25519-dalek rfc8032 {name} verifies"),
            key.verifying_key().verify(&message, &known).is_ok(),
        );
        c.holds(
            &alloc::format!("ed25519-dalek rfc8032 {name} rejects another message"),
            key.verifying_key().verify(b"another", &known).is_err(),
        );
    }
    c.finish()
}
