//! ctype.h over every unsigned char value and EOF, against the host libc in the C locale
//! (a Rust test process never calls setlocale, so the host is in the C locale).

extern crate morgana_libc;

use core::ffi::c_int;

macro_rules! classes {
    ($($name:ident / $ours:ident),* $(,)?) => {
        unsafe extern "C" {
            $(fn $name(c: c_int) -> c_int; fn $ours(c: c_int) -> c_int;)*
        }
        /// (name, host, ours) for every function.
        const FUNCTIONS: &[(&str, unsafe extern "C" fn(c_int) -> c_int, unsafe extern "C" fn(c_int) -> c_int)] =
            &[$((stringify!($name), $name, $ours)),*];
    };
}

classes!(
    isalnum / morgana_isalnum,
    isalpha / morgana_isalpha,
    isascii / morgana_isascii,
    isblank / morgana_isblank,
    iscntrl / morgana_iscntrl,
    isdigit / morgana_isdigit,
    isgraph / morgana_isgraph,
    islower / morgana_islower,
    isprint / morgana_isprint,
    ispunct / morgana_ispunct,
    isspace / morgana_isspace,
    isupper / morgana_isupper,
    isxdigit / morgana_isxdigit,
    tolower / morgana_tolower,
    toupper / morgana_toupper,
);

#[test]
fn every_byte_and_eof_match_host() {
    let mut checked = 0;
    for &(name, host, ours) in FUNCTIONS {
        for c in (0..=255).chain([-1]) {
            // SAFETY: every argument is an unsigned char value or EOF, as ctype.h requires.
            let (want, got) = unsafe { (host(c), ours(c)) };
            if name.starts_with("to") {
                assert_eq!(got, want, "{name}({c})");
            } else {
                assert_eq!(got != 0, want != 0, "{name}({c})");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 15 * 257);
}
