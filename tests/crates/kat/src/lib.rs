//! Known-answer checks: each check prints `NAME ok`, or `NAME MISMATCH got G expected E`;
//! [`Checks::finish`] prints `SUCCESS` when all passed and is an error otherwise, so the image
//! exits with status 1 on any wrong answer.
#![forbid(unsafe_code)]
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use core::fmt::Write;

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The bytes of the hex string `text` (spaces ignored, so vectors can be split as printed in
/// their standards). Panics on a malformed vector: vectors are constants of the program.
pub fn unhex(text: &str) -> alloc::vec::Vec<u8> {
    let digits: alloc::vec::Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd hex vector {text}");
    digits
        .chunks(2)
        .map(|pair| {
            let s = core::str::from_utf8(pair).expect("ASCII hex vector");
            u8::from_str_radix(s, 16).expect("hex vector")
        })
        .collect()
}

/// [`unhex`] into a fixed-size array.
pub fn unhex_array<const N: usize>(text: &str) -> [u8; N] {
    let v = unhex(text);
    v.try_into().expect("hex vector of the right length")
}

/// A run of checks, counting mismatches.
#[derive(Debug, Default)]
pub struct Checks {
    failed: u32,
}

impl Checks {
    /// A run with no check yet.
    pub fn new() -> Checks {
        Checks::default()
    }

    /// Checks that `got` equals `expected`, both shown as text.
    pub fn text(&mut self, name: &str, got: &str, expected: &str) {
        if got == expected {
            morgana::println!("{name} ok");
        } else {
            self.failed += 1;
            morgana::println!("{name} MISMATCH got {got:?} expected {expected:?}");
        }
    }

    /// Checks that the bytes `got` equal the hex vector `expected_hex`.
    pub fn bytes(&mut self, name: &str, got: &[u8], expected_hex: &str) {
        let expected = hex(&unhex(expected_hex));
        self.text(name, &hex(got), &expected);
    }

    /// Checks a condition that has no value to show (a verification that must succeed).
    pub fn holds(&mut self, name: &str, held: bool) {
        self.text(name, if held { "true" } else { "false" }, "true");
    }

    /// Prints `SUCCESS` when every check passed; otherwise the error names the count.
    pub fn finish(self) -> Result<(), String> {
        if self.failed == 0 {
            morgana::println!("SUCCESS");
            Ok(())
        } else {
            Err(format!("{} check(s) gave a wrong answer", self.failed))
        }
    }
}
