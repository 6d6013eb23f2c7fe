//! p256 against the P-256 example of RFC 6979 (appendix A.2.5: the public key of the private
//! key x, and the deterministic ECDSA signature with SHA-256 of "sample") and the known
//! multiples 2G and 3G of the generator (NIST P-256 point-multiplication vectors).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use kat::{Checks, unhex_array};

morgana::main!(app);

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{ProjectivePoint, Scalar};

async fn app(_spawner: morgana::Spawner) -> Result<(), alloc::string::String> {
    let mut c = Checks::new();
    let key = SigningKey::from_bytes(
        &unhex_array::<32>("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
            .into(),
    )
    .map_err(|e| alloc::format!("the RFC 6979 key: {e}"))?;
    c.bytes(
        "p256 rfc6979 a.2.5 public key",
        key.verifying_key().to_encoded_point(false).as_bytes(),
        "04 60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6         7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
    );
    let expected = "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716                    f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";
    let signature: Signature = key.sign(b"sample");
    c.bytes(
        "p256 rfc6979 a.2.5 sha256 signature",
        &signature.to_bytes(),
        expected,
    );
    let known = Signature::from_slice(&kat::unhex(expected))
        .map_err(|e| alloc::format!("the RFC 6979 signature: {e}"))?;
    c.holds(
        "p256 ecdsa verifies the rfc6979 signature",
        key.verifying_key().verify(b"sample", &known).is_ok(),
    );
    c.holds(
        "p256 ecdsa rejects another message",
        key.verifying_key().verify(b"test", &known).is_err(),
    );
    let multiples = [
        (
            2u64,
            "04 7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978                   07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1",
        ),
        (
            3u64,
            "04 5ecbe4d1a6330a44c8f7ef951d4bf165e6c6b721efada985fb41661bc6e7fd6c                   8734640c4998ff7e374b06ce1a64a2ecd82ab036384fb83d9a79b127a27d5032",
        ),
    ];
    for (k, point) in multiples {
        let p = (ProjectivePoint::GENERATOR * Scalar::from(k)).to_affine();
        c.bytes(
            &alloc::format!("p256 {k}G"),
            p.to_encoded_point(false).as_bytes(),
            point,
        );
    }
    c.finish()
}
