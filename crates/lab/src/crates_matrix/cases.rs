//! What each binary of the crate matrix must print (one line per known-answer check, then
//! `SUCCESS`), and which builds must fail and how.

use morgana_build::baremetal::Float;

use crate::kvmlab::suite::{Case, Expect};

const SHA2: &[&str] = &[
    "sha2 sha256(\"abc\") ok",
    "sha2 sha256(448-bit message) ok",
    "sha2 sha256(million a) ok",
    "sha2 sha512(\"abc\") ok",
    "SUCCESS",
];

const BLAKE3: &[&str] = &[
    "blake3 hash(0 bytes) ok",
    "blake3 hash(1 bytes) ok",
    "blake3 hash(1024 bytes) ok",
    "blake3 hash(1025 bytes) ok",
    "blake3 hash(8193 bytes) ok",
    "blake3 hash(16384 bytes) ok",
    "blake3 hash(102400 bytes) ok",
    "blake3 keyed_hash(102400 bytes) ok",
    "SUCCESS",
];

const AES_GCM: &[&str] = &[
    "aes-gcm aes128 test case 2 ok",
    "aes-gcm aes128 test case 3 ok",
    "aes-gcm aes128 test case 3 decrypt ok",
    "aes-gcm aes128 rejects a changed ciphertext ok",
    "aes-gcm aes256 test case 14 ok",
    "SUCCESS",
];

const CHACHA20POLY1305: &[&str] = &[
    "chacha20poly1305 rfc8439 2.8.2 seal ok",
    "chacha20poly1305 rfc8439 2.8.2 open ok",
    "chacha20poly1305 rejects a changed ciphertext ok",
    "chacha20poly1305 1 KiB round trip ok",
    "SUCCESS",
];

const X25519: &[&str] = &[
    "x25519-dalek rfc7748 5.2 vector 1 ok",
    "x25519-dalek rfc7748 6.1 alice public ok",
    "x25519-dalek rfc7748 6.1 bob public ok",
    "x25519-dalek rfc7748 6.1 shared secret ok",
    "SUCCESS",
];

const ED25519: &[&str] = &[
    "ed25519-dalek rfc8032 test 1 public key ok",
    "ed25519-dalek rfc8032 test 1 signature ok",
    "ed25519-dalek rfc8032 test 1 verifies ok",
    "ed25519-dalek rfc8032 test 1 rejects another message ok",
    "ed25519-dalek rfc8032 test 2 public key ok",
    "ed25519-dalek rfc8032 test 2 signature ok",
    "ed25519-dalek rfc8032 test 2 verifies ok",
    "ed25519-dalek rfc8032 test 2 rejects another message ok",
    "SUCCESS",
];

const P256: &[&str] = &[
    "p256 rfc6979 a.2.5 public key ok",
    "p256 rfc6979 a.2.5 sha256 signature ok",
    "p256 ecdsa verifies the rfc6979 signature ok",
    "p256 ecdsa rejects another message ok",
    "p256 2G ok",
    "p256 3G ok",
    "SUCCESS",
];

const SERDE_JSON: &[&str] = &[
    "serde_json 3.141592653589793 ok",
    "serde_json 1e-7 ok",
    "serde_json 2.5e300 ok",
    "serde_json -0.0 ok",
    "serde_json 18446744073709551615 ok",
    "serde_json 0.1+0.2 ok",
    "serde_json 0.1+0.2 bits ok",
    "serde_json document ok",
    "SUCCESS",
];

const MINIZ: &[&str] = &[
    "miniz_oxide inflate known zlib stream ok",
    "miniz_oxide zlib trailer is adler32 ok",
    "miniz_oxide level 1 round trip ok",
    "miniz_oxide level 1 compresses ok",
    "miniz_oxide level 6 round trip ok",
    "miniz_oxide level 6 compresses ok",
    "miniz_oxide level 10 round trip ok",
    "miniz_oxide level 10 compresses ok",
    "SUCCESS",
];

const LZ4_FLEX: &[&str] = &[
    "lz4_flex literal block ok",
    "lz4_flex block with a match ok",
    "lz4_flex rejects an offset before the start ok",
    "lz4_flex 64 KiB round trip ok",
    "lz4_flex compresses ok",
    "SUCCESS",
];

const POSTCARD: &[&str] = &[
    "postcard encode ok",
    "postcard decode ok",
    "postcard rejects a truncated message ok",
    "SUCCESS",
];

const RAND: &[&str] = &[
    "rand chacha20 first u64 ok",
    "rand chacha20 block 0 ok",
    "rand chacha20 block 1 ok",
    "rand OsRng two draws differ ok",
    "rand ChaCha20Rng::try_from_os_rng ok",
    "SUCCESS",
];

const CC: &[&str] = &[
    "cc fnv1a32(\"\") ok",
    "cc fnv1a32(\"a\") ok",
    "cc fnv1a32(\"foobar\") ok",
    "cc fnv1a64(\"a\") ok",
    "cc fnv1a64(\"foobar\") ok",
    "cc crc32(\"123456789\") ok",
    "SUCCESS",
];

/// How an image of the matrix is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// As a user builds it, with the crates' default code selection.
    Default,
    /// Soft-float with the crates' cfgs that compile out their SIMD backends
    /// ([`super::PORTABLE_CFGS`]): what to use where the default soft-float build fails.
    Portable,
}

/// One lab case of the matrix and the flavour of its image.
#[derive(Debug)]
pub struct MatrixCase {
    /// The case (its `package` is the binary of `tests/crates`).
    pub case: Case,
    /// How its image is built.
    pub flavour: Flavour,
}

/// One matrix case: name, package, float mode, flavour, the exact output.
macro_rules! case {
    ($name:literal, $package:literal, $float:expr, $flavour:expr, $lines:expr) => {
        MatrixCase {
            case: Case {
                name: $name,
                package: $package,
                float: $float,
                options: &["--mem=16"],
                args: &[],
                setup: None,
                during: None,
                after: None,
                disks: 0,
                tools: &[],
                files: &[],
                hold_client: false,
                timeout_s: 60,
                lab_certs: false,
                end: crate::kvmlab::State::Exited,
                status: 0,
                expect: &[Expect::Output($lines)],
            },
            flavour: $flavour,
        }
    };
}

use Flavour::{Default as D, Portable as P};
use Float::{Hard as H, Soft as S};

/// Every image of the matrix that must build and give the known answers in the lab.
pub const RUNS: &[MatrixCase] = &[
    case!("crates-sha2-hard", "crate-sha2", H, D, SHA2),
    case!(
        "crates-sha2-force-soft-hard",
        "crate-sha2-force-soft",
        H,
        D,
        SHA2
    ),
    case!(
        "crates-sha2-force-soft-soft",
        "crate-sha2-force-soft",
        S,
        D,
        SHA2
    ),
    case!("crates-blake3-hard", "crate-blake3", H, D, BLAKE3),
    case!("crates-blake3-soft", "crate-blake3", S, D, BLAKE3),
    case!("crates-blake3-pure-hard", "crate-blake3-pure", H, D, BLAKE3),
    case!("crates-blake3-pure-soft", "crate-blake3-pure", S, D, BLAKE3),
    case!("crates-aes-gcm-hard", "crate-aes-gcm", H, D, AES_GCM),
    case!(
        "crates-aes-gcm-soft-portable",
        "crate-aes-gcm",
        S,
        P,
        AES_GCM
    ),
    case!(
        "crates-chacha20poly1305-hard",
        "crate-chacha20poly1305",
        H,
        D,
        CHACHA20POLY1305
    ),
    case!(
        "crates-chacha20poly1305-soft-portable",
        "crate-chacha20poly1305",
        S,
        P,
        CHACHA20POLY1305
    ),
    case!(
        "crates-x25519-dalek-hard",
        "crate-x25519-dalek",
        H,
        D,
        X25519
    ),
    case!(
        "crates-x25519-dalek-soft-portable",
        "crate-x25519-dalek",
        S,
        P,
        X25519
    ),
    case!(
        "crates-ed25519-dalek-hard",
        "crate-ed25519-dalek",
        H,
        D,
        ED25519
    ),
    case!(
        "crates-ed25519-dalek-soft-portable",
        "crate-ed25519-dalek",
        S,
        P,
        ED25519
    ),
    case!("crates-p256-hard", "crate-p256", H, D, P256),
    case!("crates-p256-soft-portable", "crate-p256", S, P, P256),
    case!(
        "crates-serde-json-hard",
        "crate-serde-json",
        H,
        D,
        SERDE_JSON
    ),
    case!(
        "crates-serde-json-soft",
        "crate-serde-json",
        S,
        D,
        SERDE_JSON
    ),
    case!("crates-miniz-oxide-hard", "crate-miniz-oxide", H, D, MINIZ),
    case!("crates-miniz-oxide-soft", "crate-miniz-oxide", S, D, MINIZ),
    case!("crates-lz4-flex-hard", "crate-lz4-flex", H, D, LZ4_FLEX),
    case!("crates-lz4-flex-soft", "crate-lz4-flex", S, D, LZ4_FLEX),
    case!("crates-postcard-hard", "crate-postcard", H, D, POSTCARD),
    case!("crates-postcard-soft", "crate-postcard", S, D, POSTCARD),
    case!("crates-rand-hard", "crate-rand", H, D, RAND),
    case!("crates-rand-soft", "crate-rand", S, D, RAND),
    case!("crates-cc-hard", "crate-cc", H, D, CC),
    case!("crates-cc-soft", "crate-cc", S, D, CC),
];

/// A build of the matrix that must fail, and a text its error output must contain.
#[derive(Debug)]
pub struct BuildFails {
    /// Check name.
    pub name: &'static str,
    /// The binary of `tests/crates`.
    pub package: &'static str,
    /// Float mode.
    pub float: Float,
    /// Text the build's error output contains.
    pub message: &'static str,
}

/// LLVM's x86 back end cannot lower SSE intrinsics in a function of a soft-float target
/// (`#[target_feature(enable = "...")]` code behind run-time detection).
const LLVM_SPLIT: &str = "LLVM ERROR: Do not know how to split the result of this operator!";
/// The same back end crashing instead (rustc stops with an illegal instruction).
const RUSTC_SIGILL: &str = "rustc interrupted by SIGILL";

/// The default soft-float builds that fail (use [`Flavour::Portable`] or a soft feature).
pub const BUILD_FAILS: &[BuildFails] = &[
    BuildFails {
        name: "crates-sha2-soft-build",
        package: "crate-sha2",
        float: S,
        message: LLVM_SPLIT,
    },
    BuildFails {
        name: "crates-p256-soft-build",
        package: "crate-p256",
        float: S,
        message: LLVM_SPLIT,
    },
    BuildFails {
        name: "crates-aes-gcm-soft-build",
        package: "crate-aes-gcm",
        float: S,
        message: LLVM_SPLIT,
    },
    BuildFails {
        name: "crates-chacha20poly1305-soft-build",
        package: "crate-chacha20poly1305",
        float: S,
        // A crash (`RUSTC_SIGILL`) before release images were built with LTO.
        message: LLVM_SPLIT,
    },
    BuildFails {
        name: "crates-x25519-dalek-soft-build",
        package: "crate-x25519-dalek",
        float: S,
        message: RUSTC_SIGILL,
    },
    BuildFails {
        name: "crates-ed25519-dalek-soft-build",
        package: "crate-ed25519-dalek",
        float: S,
        message: RUSTC_SIGILL,
    },
];
