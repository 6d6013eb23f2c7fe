//! x25519-dalek against RFC 7748 (section 5.2, first scalar multiplication; section 6.1, the
//! Diffie-Hellman example). curve25519-dalek picks an AVX2 backend by CPUID at run time on
//! x86_64.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::{Checks, unhex_array};

morgana::main!(app);

use x25519_dalek::{PublicKey, StaticSecret, x25519};

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    c.bytes(
        "x25519-dalek rfc7748 5.2 vector 1",
        &x25519(
            unhex_array("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
            unhex_array("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
        ),
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    );
    let alice = StaticSecret::from(unhex_array::<32>(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    ));
    let bob = StaticSecret::from(unhex_array::<32>(
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    ));
    c.bytes(
        "x25519-dalek rfc7748 6.1 alice public",
        PublicKey::from(&alice).as_bytes(),
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    );
    c.bytes(
        "x25519-dalek rfc7748 6.1 bob public",
        PublicKey::from(&bob).as_bytes(),
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    );
    c.bytes(
        "x25519-dalek rfc7748 6.1 shared secret",
        alice.diffie_hellman(&PublicKey::from(&bob)).as_bytes(),
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
    );
    c.finish()
}
