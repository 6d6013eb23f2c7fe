//! The strtol family against the host libc: same value, same errno, same end pointer, over
//! hand-picked edge cases and random strings, in every interesting base.

extern crate morgana_libc;

mod common;

use common::{Rng, errno_lock, host_errno, our_errno, set_host_errno, set_our_errno};
use core::ffi::{c_char, c_int, c_long, c_longlong, c_ulong, c_ulonglong};
use std::ffi::CString;

unsafe extern "C" {
    fn strtol(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_long;
    fn strtoul(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_ulong;
    fn strtoll(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_longlong;
    fn strtoull(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_ulonglong;
    fn morgana_strtol(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_long;
    fn morgana_strtoul(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_ulong;
    fn morgana_strtoll(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_longlong;
    fn morgana_strtoull(s: *const c_char, end: *mut *mut c_char, base: c_int) -> c_ulonglong;
    fn morgana_atoi(s: *const c_char) -> c_int;
    fn morgana_atol(s: *const c_char) -> c_long;
    fn morgana_atoll(s: *const c_char) -> c_longlong;
}

/// How to clear and read one library's errno.
type ErrnoAccess = (fn(c_int), fn() -> c_int);

type Parse<T> = unsafe extern "C" fn(*const c_char, *mut *mut c_char, c_int) -> T;

/// (value, errno, end offset) of one call, with errno cleared first.
fn run<T>(f: Parse<T>, errno: ErrnoAccess, s: &CString, base: c_int) -> (T, c_int, isize) {
    let mut end: *mut c_char = core::ptr::null_mut();
    errno.0(0);
    // SAFETY: `s` is NUL-terminated and `end` is a valid place for the end pointer.
    let value = unsafe { f(s.as_ptr(), &raw mut end, base) };
    // SAFETY: both libraries leave `end` pointing into `s` (or at its start).
    let offset = unsafe { end.offset_from(s.as_ptr()) };
    (value, errno.1(), offset)
}

fn compare(s: &CString, base: c_int) {
    let host: ErrnoAccess = (set_host_errno, host_errno);
    let ours: ErrnoAccess = (set_our_errno, our_errno);
    assert_eq!(
        run(morgana_strtol, ours, s, base),
        run(strtol, host, s, base),
        "strtol({s:?}, {base})"
    );
    assert_eq!(
        run(morgana_strtoul, ours, s, base),
        run(strtoul, host, s, base),
        "strtoul({s:?}, {base})"
    );
    assert_eq!(
        run(morgana_strtoll, ours, s, base),
        run(strtoll, host, s, base),
        "strtoll({s:?}, {base})"
    );
    assert_eq!(
        run(morgana_strtoull, ours, s, base),
        run(strtoull, host, s, base),
        "strtoull({s:?}, {base})"
    );
}

const BASES: &[c_int] = &[0, 2, 8, 10, 16, 36];

#[test]
fn edge_cases_match_host() {
    let _errno = errno_lock();
    let cases = [
        "",
        " ",
        "+",
        "-",
        "0",
        "-0",
        "+0",
        "00",
        "7",
        "-7",
        "  \t\n\x0b\x0c\r42xyz",
        "42 ",
        "+-3",
        "-+3",
        "0x",
        "0X",
        "0x1f",
        "-0x1F",
        "0xg",
        "0x 1",
        "0b101",
        "0777",
        "0779",
        "1010",
        "zz",
        "ZZ",
        "z{",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "-18446744073709551615",
        "-18446744073709551616",
        "99999999999999999999999999999999 tail",
        "-99999999999999999999999999999999",
        "0x7fffffffffffffff",
        "0x8000000000000000",
        "0xffffffffffffffff",
        "0x10000000000000000",
        "1111111111111111111111111111111111111111111111111111111111111111",
        "11111111111111111111111111111111111111111111111111111111111111111",
        "3w5e11264sgsf",
        "3w5e11264sgsg",
        "-3w5e11264sgsg",
        "1\u{80}",
        "\u{a0}5",
    ];
    for case in cases {
        let s = CString::new(case).expect("no NUL");
        for &base in BASES {
            compare(&s, base);
        }
    }
}

#[test]
fn random_strings_match_host() {
    let _errno = errno_lock();
    let mut rng = Rng::new(0x5eed_0001);
    let alphabet = b" \t+-0123456789abcdefxyzXYZ";
    for _ in 0..20_000 {
        let s = CString::new(rng.string(alphabet, 24)).expect("no NUL");
        compare(&s, BASES[rng.below(BASES.len())]);
    }
}

/// glibc returns without touching *endptr for a bad base; this library points it at the input,
/// as for any string without digits. Both return 0 with EINVAL.
#[test]
fn bad_base_is_einval_and_ends_at_start() {
    let _errno = errno_lock();
    let s = c"123";
    for base in [-1, 1, 37, 100] {
        let mut end: *mut c_char = std::ptr::dangling_mut::<c_char>();
        set_our_errno(0);
        // SAFETY: `s` is NUL-terminated and `end` is a valid place for the end pointer.
        let v = unsafe { morgana_strtol(s.as_ptr(), &raw mut end, base) };
        assert_eq!(
            (v, our_errno(), end.cast_const()),
            (0, 22, s.as_ptr()),
            "base {base}"
        );
    }
}

#[test]
fn null_endptr_is_allowed_and_atoi_family_parse_decimal() {
    // SAFETY: every argument is a NUL-terminated string; a NULL endptr is allowed.
    unsafe {
        assert_eq!(
            morgana_strtol(c"  -0x10".as_ptr(), core::ptr::null_mut(), 0),
            -16
        );
        assert_eq!(morgana_atoi(c" -123abc".as_ptr()), -123);
        assert_eq!(morgana_atoi(c"0x10".as_ptr()), 0);
        assert_eq!(morgana_atol(c"+9223372036854775807".as_ptr()), i64::MAX);
        assert_eq!(morgana_atoll(c"-9223372036854775808".as_ptr()), i64::MIN);
    }
}
