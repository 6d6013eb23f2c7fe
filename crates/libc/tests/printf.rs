//! `snprintf` (and, through it, `vsnprintf`) against the host libc's on the same formats and
//! arguments: same return value and same bytes in the whole buffer, including what lies beyond
//! the terminating NUL (nothing may be written past `n`).

extern crate morgana_libc;

use core::ffi::{CStr, c_char, c_int, c_long, c_void};
use std::ffi::CString;

unsafe extern "C" {
    fn snprintf(buf: *mut c_char, n: usize, fmt: *const c_char, ...) -> c_int;
    fn morgana_snprintf(buf: *mut c_char, n: usize, fmt: *const c_char, ...) -> c_int;
}

const BUF: usize = 160;

/// Formats with both libraries into buffers of `BUF` bytes (told they hold `n`), and compares.
macro_rules! same {
    ($n:expr, $fmt:expr $(, $arg:expr)*) => {{
        let fmt: &CStr = $fmt;
        let n: usize = $n;
        assert!(n <= BUF);
        let mut want = [0x55u8; BUF];
        let mut got = [0x55u8; BUF];
        // SAFETY: both buffers hold BUF >= n bytes; each format's conversions match the types
        // of the arguments given (checked by the test author, not by the compiler).
        let (rw, rg) = unsafe {
            (
                snprintf(want.as_mut_ptr().cast(), n, fmt.as_ptr() $(, $arg)*),
                morgana_snprintf(got.as_mut_ptr().cast(), n, fmt.as_ptr() $(, $arg)*),
            )
        };
        assert_eq!(
            (rg, String::from_utf8_lossy(&got)),
            (rw, String::from_utf8_lossy(&want)),
            "format {fmt:?} n={n}"
        );
    }};
}

const VALUES: &[i64] = &[
    0,
    1,
    -1,
    7,
    -42,
    127,
    128,
    255,
    256,
    -129,
    32767,
    -32768,
    65535,
    2147483647,
    -2147483648,
    4294967295,
    123456789012,
    i64::MAX,
    i64::MIN,
];

/// Every integer conversion x length modifier x flag set x width x precision x value.
#[test]
fn integer_conversions_match_host() {
    let flag_chars = ['-', '+', ' ', '#', '0'];
    let mut formats = 0;
    for conv in ["d", "i", "u", "x", "X", "o"] {
        for len in ["", "hh", "h", "l", "ll", "z", "j", "t"] {
            for flag_set in 0..32u32 {
                let flags: String = (0..5)
                    .filter(|bit| flag_set & (1 << bit) != 0)
                    .map(|bit| flag_chars[bit])
                    .collect();
                for width in ["", "1", "6", "25"] {
                    for prec in ["", ".", ".0", ".1", ".5", ".22"] {
                        let fmt = CString::new(format!("[%{flags}{width}{prec}{len}{conv}]"))
                            .expect("no NUL in format");
                        formats += 1;
                        for &v in VALUES {
                            if matches!(len, "" | "hh" | "h") {
                                same!(BUF, &fmt, v as c_int);
                            } else {
                                same!(BUF, &fmt, v);
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(formats, 6 * 8 * 32 * 4 * 6);
}

#[test]
fn strings_and_chars_match_host() {
    for flags in ["", "-"] {
        for width in ["", "1", "4", "12"] {
            for prec in ["", ".", ".0", ".3", ".20"] {
                let fmt = CString::new(format!("<%{flags}{width}{prec}s>")).expect("no NUL");
                for s in [c"", c"a", c"hello", c"hello, wide world"] {
                    same!(BUF, &fmt, s.as_ptr());
                }
            }
            let fmt = CString::new(format!("<%{flags}{width}c>")).expect("no NUL");
            for c in [b'a', b' ', b'~', 0x80, 0xff] {
                same!(BUF, &fmt, c_int::from(c));
            }
        }
    }
    // A NULL string, and a precision that stops before an unterminated array's end.
    same!(
        BUF,
        c"[%s] [%10s] [%-8s] [%.6s]",
        core::ptr::null::<c_char>(),
        core::ptr::null::<c_char>(),
        core::ptr::null::<c_char>(),
        core::ptr::null::<c_char>()
    );
    let unterminated = [b'x'; 4];
    same!(
        BUF,
        c"%.4s|%.2s",
        unterminated.as_ptr(),
        unterminated.as_ptr()
    );
}

#[test]
fn pointers_match_host() {
    let pointers: [*const c_void; 4] = [
        core::ptr::null(),
        0x1234 as *const c_void,
        0xffff_8000_dead_beef_usize as *const c_void,
        usize::MAX as *const c_void,
    ];
    for fmt in [c"%p", c"[%20p]", c"[%-20p]", c"[%3p]"] {
        for p in pointers {
            same!(BUF, fmt, p);
        }
    }
}

#[test]
fn star_width_and_precision_match_host() {
    for w in [-12, -1, 0, 1, 9] {
        for p in [-5, -1, 0, 2, 8] {
            same!(BUF, c"[%*.*d]", w as c_int, p as c_int, 1234 as c_int);
            same!(BUF, c"[%-*.*x]", w as c_int, p as c_int, 0xbeef as c_int);
            same!(BUF, c"[%*.*s]", w as c_int, p as c_int, c"abcdef".as_ptr());
            same!(BUF, c"[%0*d]", w as c_int, -77 as c_int);
        }
    }
}

#[test]
fn literals_percent_and_mixed_arguments_match_host() {
    same!(BUF, c"");
    same!(BUF, c"plain text");
    same!(BUF, c"100%% sure, %d%%", 5 as c_int);
    same!(
        BUF,
        c"%s=%d (%#x) %c%c %lu %lld %zd %hhu",
        c"answer".as_ptr(),
        42 as c_int,
        42 as c_int,
        c_int::from(b'o'),
        c_int::from(b'k'),
        u64::MAX,
        i64::MIN,
        -5isize,
        300 as c_int
    );
}

#[test]
fn truncation_and_return_value_match_host() {
    for n in 0..=20 {
        same!(
            n,
            c"%d:%s|%5x",
            12345 as c_int,
            c"abcdef".as_ptr(),
            0xab as c_int
        );
    }
    // n = 0 with a NULL buffer: nothing is written, the full length is returned.
    // SAFETY: with n = 0 neither function touches the buffer; the arguments match the format.
    let (rw, rg) = unsafe {
        (
            snprintf(
                core::ptr::null_mut(),
                0,
                c"%s-%d".as_ptr(),
                c"abc".as_ptr(),
                99 as c_int,
            ),
            morgana_snprintf(
                core::ptr::null_mut(),
                0,
                c"%s-%d".as_ptr(),
                c"abc".as_ptr(),
                99 as c_int,
            ),
        )
    };
    assert_eq!((rg, rw), (6, 6));
}

#[test]
fn percent_n_stores_the_count_so_far() {
    let mut buf = [0u8; 32];
    let (mut n_int, mut n_long, mut n_char): (c_int, c_long, i8) = (-1, -1, -1);
    // SAFETY: buf holds 32 bytes; each %n has a pointer to a variable of the matching type.
    let r = unsafe {
        morgana_snprintf(
            buf.as_mut_ptr().cast(),
            4,
            c"ab%ncdef%ln%d%hhn".as_ptr(),
            &raw mut n_int,
            &raw mut n_long,
            12345 as c_int,
            &raw mut n_char,
        )
    };
    assert_eq!((r, n_int, n_long, n_char), (11, 2, 6, 11));
    assert_eq!(&buf[..4], b"abc\0");
}

/// Floating point is out of scope (bare-metal images have no SSE): the specification itself is
/// printed, and on the host (SSE present) the double is consumed so later arguments stay right.
#[test]
fn floating_point_prints_its_specification() {
    let mut buf = [0u8; 64];
    // SAFETY: buf holds 64 bytes; the arguments match the format's conversions.
    let r = unsafe {
        morgana_snprintf(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%f|%d|%-8.2e|%G|%s".as_ptr(),
            1.5f64,
            7 as c_int,
            2.5f64,
            3.0f64,
            c"end".as_ptr(),
        )
    };
    let text = CStr::from_bytes_until_nul(&buf).expect("terminated");
    assert_eq!(text, c"%f|7|%-8.2e|%G|end");
    assert_eq!(r, 18);
}

#[test]
fn unknown_conversions_are_printed_as_they_stand() {
    let mut buf = [0u8; 32];
    // SAFETY: buf holds 32 bytes; %y consumes nothing, %d takes the one int.
    let r = unsafe {
        morgana_snprintf(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"a%-5yb%d%".as_ptr(),
            3 as c_int,
        )
    };
    assert_eq!(
        CStr::from_bytes_until_nul(&buf).expect("terminated"),
        c"a%-5yb3%"
    );
    assert_eq!(r, 8);
}
