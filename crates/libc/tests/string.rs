//! string.h and strings.h against the host libc on random byte strings, including bytes above
//! 127 (which must compare as unsigned char).

extern crate morgana_libc;

mod common;

use common::Rng;
use core::ffi::{c_char, c_int, c_void};
use std::ffi::CString;

unsafe extern "C" {
    fn strcmp(a: *const c_char, b: *const c_char) -> c_int;
    fn strncmp(a: *const c_char, b: *const c_char, n: usize) -> c_int;
    fn strcasecmp(a: *const c_char, b: *const c_char) -> c_int;
    fn strncasecmp(a: *const c_char, b: *const c_char, n: usize) -> c_int;
    fn strchr(s: *const c_char, c: c_int) -> *mut c_char;
    fn strrchr(s: *const c_char, c: c_int) -> *mut c_char;
    fn strstr(h: *const c_char, n: *const c_char) -> *mut c_char;
    fn strpbrk(s: *const c_char, a: *const c_char) -> *mut c_char;
    fn strspn(s: *const c_char, a: *const c_char) -> usize;
    fn strcspn(s: *const c_char, r: *const c_char) -> usize;
    fn strnlen(s: *const c_char, n: usize) -> usize;
    fn memchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void;
    fn memrchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void;
    fn strncpy(d: *mut c_char, s: *const c_char, n: usize) -> *mut c_char;
    fn strncat(d: *mut c_char, s: *const c_char, n: usize) -> *mut c_char;

    fn morgana_strcmp(a: *const c_char, b: *const c_char) -> c_int;
    fn morgana_strncmp(a: *const c_char, b: *const c_char, n: usize) -> c_int;
    fn morgana_strcoll(a: *const c_char, b: *const c_char) -> c_int;
    fn morgana_strcasecmp(a: *const c_char, b: *const c_char) -> c_int;
    fn morgana_strncasecmp(a: *const c_char, b: *const c_char, n: usize) -> c_int;
    fn morgana_strchr(s: *const c_char, c: c_int) -> *mut c_char;
    fn morgana_strrchr(s: *const c_char, c: c_int) -> *mut c_char;
    fn morgana_strstr(h: *const c_char, n: *const c_char) -> *mut c_char;
    fn morgana_strpbrk(s: *const c_char, a: *const c_char) -> *mut c_char;
    fn morgana_strspn(s: *const c_char, a: *const c_char) -> usize;
    fn morgana_strcspn(s: *const c_char, r: *const c_char) -> usize;
    fn morgana_strnlen(s: *const c_char, n: usize) -> usize;
    fn morgana_memchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void;
    fn morgana_memrchr(s: *const c_void, c: c_int, n: usize) -> *mut c_void;
    fn morgana_strcpy(d: *mut c_char, s: *const c_char) -> *mut c_char;
    fn morgana_strncpy(d: *mut c_char, s: *const c_char, n: usize) -> *mut c_char;
    fn morgana_strcat(d: *mut c_char, s: *const c_char) -> *mut c_char;
    fn morgana_strncat(d: *mut c_char, s: *const c_char, n: usize) -> *mut c_char;
    fn morgana_strdup(s: *const c_char) -> *mut c_char;
    fn morgana_strndup(s: *const c_char, n: usize) -> *mut c_char;
    fn morgana_strtok(s: *mut c_char, d: *const c_char) -> *mut c_char;
    fn morgana_strtok_r(s: *mut c_char, d: *const c_char, save: *mut *mut c_char) -> *mut c_char;
    fn morgana_strerror(e: c_int) -> *mut c_char;
    fn morgana_free(p: *mut c_void);
}

const ALPHABET: &[u8] = b"abAB \x7f\x80\xff";

/// Offset of a returned pointer inside `base`, or None for NULL.
fn offset<T>(p: *mut T, base: *const c_char) -> Option<isize> {
    // SAFETY: every non-NULL result points into the string that starts at `base`.
    (!p.is_null()).then(|| unsafe { p.cast::<c_char>().offset_from(base) })
}

fn random_pairs(seed: u64, count: usize) -> Vec<(CString, CString)> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let a = rng.string(ALPHABET, 8);
            // Often share a prefix, so comparisons get past the first byte.
            let mut b = a[..rng.below(a.len() + 1)].to_vec();
            b.extend(rng.string(ALPHABET, 4));
            let c = |v: Vec<u8>| CString::new(v).expect("alphabet has no NUL");
            if rng.below(2) == 0 {
                (c(a), c(b))
            } else {
                (c(b), c(a))
            }
        })
        .collect()
}

#[test]
fn comparisons_match_host() {
    for (a, b) in random_pairs(1, 5000) {
        let (a, b) = (a.as_ptr(), b.as_ptr());
        // SAFETY: both strings are NUL-terminated.
        unsafe {
            assert_eq!(morgana_strcmp(a, b).signum(), strcmp(a, b).signum());
            assert_eq!(morgana_strcoll(a, b).signum(), strcmp(a, b).signum());
            assert_eq!(morgana_strcasecmp(a, b).signum(), strcasecmp(a, b).signum());
            for n in 0..10 {
                assert_eq!(morgana_strncmp(a, b, n).signum(), strncmp(a, b, n).signum());
                assert_eq!(
                    morgana_strncasecmp(a, b, n).signum(),
                    strncasecmp(a, b, n).signum()
                );
            }
        }
    }
}

#[test]
fn searches_match_host() {
    for (s, set) in random_pairs(2, 5000) {
        let (p, q) = (s.as_ptr(), set.as_ptr());
        let len = s.as_bytes().len();
        // SAFETY: both strings are NUL-terminated; memchr/memrchr/strnlen stay within `len + 1`.
        unsafe {
            for c in ALPHABET
                .iter()
                .map(|&b| c_int::from(b))
                .chain([0, 0x161, -1])
            {
                assert_eq!(
                    offset(morgana_strchr(p, c), p),
                    offset(strchr(p, c), p),
                    "strchr {s:?} {c}"
                );
                assert_eq!(
                    offset(morgana_strrchr(p, c), p),
                    offset(strrchr(p, c), p),
                    "strrchr {s:?} {c}"
                );
                for n in [0, len / 2, len, len + 1] {
                    let v = p.cast::<c_void>();
                    assert_eq!(
                        offset(morgana_memchr(v, c, n), p),
                        offset(memchr(v, c, n), p)
                    );
                    assert_eq!(
                        offset(morgana_memrchr(v, c, n), p),
                        offset(memrchr(v, c, n), p)
                    );
                }
            }
            assert_eq!(
                offset(morgana_strstr(p, q), p),
                offset(strstr(p, q), p),
                "strstr {s:?} {set:?}"
            );
            assert_eq!(offset(morgana_strpbrk(p, q), p), offset(strpbrk(p, q), p));
            assert_eq!(morgana_strspn(p, q), strspn(p, q));
            assert_eq!(morgana_strcspn(p, q), strcspn(p, q));
            for n in [0, 1, len, len + 5] {
                assert_eq!(morgana_strnlen(p, n), strnlen(p, n));
            }
        }
    }
}

#[test]
fn copies_match_host() {
    for (s, t) in random_pairs(3, 2000) {
        for n in 0..12 {
            let mut want = [0x55 as c_char; 32];
            let mut got = [0x55 as c_char; 32];
            // SAFETY: 32-byte buffers hold any 12-byte strncpy, and any strncat of a <= 11-byte
            // string (after strncpy of at most 11 bytes plus NUL) followed by at most 11 bytes.
            unsafe {
                strncpy(want.as_mut_ptr(), s.as_ptr(), n);
                morgana_strncpy(got.as_mut_ptr(), s.as_ptr(), n);
                assert_eq!(got, want, "strncpy {s:?} {n}");
                want[11] = 0;
                got[11] = 0;
                strncat(want.as_mut_ptr(), t.as_ptr(), n);
                morgana_strncat(got.as_mut_ptr(), t.as_ptr(), n);
                assert_eq!(got, want, "strncat {t:?} {n}");
            }
        }
        let mut buf = [0x55u8; 32];
        // SAFETY: s and t are at most 11 bytes each, the buffer 32.
        unsafe {
            let d = buf.as_mut_ptr().cast::<c_char>();
            assert_eq!(morgana_strcpy(d, s.as_ptr()), d);
            assert_eq!(morgana_strcat(d, t.as_ptr()), d);
        }
        let expected = [s.as_bytes(), t.as_bytes(), b"\0"].concat();
        assert_eq!(&buf[..expected.len()], &expected[..]);
        assert!(
            buf[expected.len()..].iter().all(|&b| b == 0x55),
            "wrote past the end"
        );
    }
}

#[test]
fn duplicates_are_fresh_heap_copies() {
    let s = c"duplicate me";
    // SAFETY: `s` is NUL-terminated; each copy is NUL-terminated and freed once.
    unsafe {
        let d = morgana_strdup(s.as_ptr());
        assert!(!d.is_null() && d.cast_const() != s.as_ptr());
        assert_eq!(core::ffi::CStr::from_ptr(d), s);
        morgana_free(d.cast());
        for (n, want) in [
            (0, c""),
            (4, c"dupl"),
            (12, c"duplicate me"),
            (99, c"duplicate me"),
        ] {
            let d = morgana_strndup(s.as_ptr(), n);
            assert_eq!(core::ffi::CStr::from_ptr(d), want);
            morgana_free(d.cast());
        }
    }
}

#[test]
fn tokens_split_on_any_delimiter() {
    let mut line = *b",,a,b;;c,\0";
    let mut save: *mut c_char = core::ptr::null_mut();
    let mut tokens = Vec::new();
    let delim = c",;".as_ptr();
    // SAFETY: `line` is a writable NUL-terminated string; `save` is only used by strtok_r.
    unsafe {
        let mut s = line.as_mut_ptr().cast::<c_char>();
        loop {
            let t = morgana_strtok_r(s, delim, &raw mut save);
            if t.is_null() {
                break;
            }
            tokens.push(core::ffi::CStr::from_ptr(t).to_owned());
            s = core::ptr::null_mut();
        }
        // Asking again after the end keeps answering NULL.
        assert!(morgana_strtok_r(core::ptr::null_mut(), delim, &raw mut save).is_null());
        let mut only = *b"  x  \0";
        let first = morgana_strtok(only.as_mut_ptr().cast(), c" ".as_ptr());
        assert_eq!(core::ffi::CStr::from_ptr(first), c"x");
        assert!(morgana_strtok(core::ptr::null_mut(), c" ".as_ptr()).is_null());
    }
    assert_eq!(tokens, [c"a", c"b", c"c"]);
}

#[test]
fn strerror_names_known_errors() {
    // SAFETY: strerror returns a static NUL-terminated string.
    unsafe {
        assert_eq!(
            core::ffi::CStr::from_ptr(morgana_strerror(12)),
            c"Cannot allocate memory"
        );
        assert_eq!(
            core::ffi::CStr::from_ptr(morgana_strerror(34)),
            c"Numerical result out of range"
        );
        assert_eq!(
            core::ffi::CStr::from_ptr(morgana_strerror(9999)),
            c"Unknown error"
        );
    }
}
