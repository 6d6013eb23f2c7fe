//! qsort, bsearch and abs; malloc, calloc, realloc and free on the Rust global allocator.

extern crate morgana_libc;

mod common;

use common::{Rng, errno_lock, our_errno, set_our_errno};
use core::ffi::{c_int, c_long, c_longlong, c_void};

type Compare = unsafe extern "C" fn(*const c_void, *const c_void) -> c_int;

unsafe extern "C" {
    fn morgana_qsort(base: *mut c_void, n: usize, size: usize, cmp: Compare);
    fn morgana_bsearch(
        key: *const c_void,
        base: *const c_void,
        n: usize,
        size: usize,
        cmp: Compare,
    ) -> *mut c_void;
    fn morgana_abs(x: c_int) -> c_int;
    fn morgana_labs(x: c_long) -> c_long;
    fn morgana_llabs(x: c_longlong) -> c_longlong;
    fn morgana_malloc(n: usize) -> *mut c_void;
    fn morgana_calloc(n: usize, size: usize) -> *mut c_void;
    fn morgana_realloc(p: *mut c_void, n: usize) -> *mut c_void;
    fn morgana_free(p: *mut c_void);
}

unsafe extern "C" fn compare_i32(a: *const c_void, b: *const c_void) -> c_int {
    // SAFETY: qsort/bsearch hand us pointers to elements of an i32 array.
    let (a, b) = unsafe { (a.cast::<i32>().read(), b.cast::<i32>().read()) };
    a.cmp(&b) as c_int
}

/// A 13-byte record (odd size, no padding) ordered by its key; `tag` tells copies apart.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, packed)]
struct Record {
    key: u8,
    tag: u32,
    filler: [u8; 8],
}

unsafe extern "C" fn compare_record(a: *const c_void, b: *const c_void) -> c_int {
    // SAFETY: qsort hands us pointers to elements of a Record array (alignment 1).
    let (a, b) = unsafe { (a.cast::<Record>().read(), b.cast::<Record>().read()) };
    a.key.cmp(&b.key) as c_int
}

#[test]
fn qsort_sorts_random_arrays() {
    let mut rng = Rng::new(7);
    for len in (0..64).chain([100, 257, 1000, 4096]) {
        let range = [3, 50, 1 << 30][rng.below(3)];
        let mut values: Vec<i32> = (0..len)
            .map(|_| rng.below(range) as i32 - (range / 2) as i32)
            .collect();
        let mut reference = values.clone();
        reference.sort_unstable();
        // SAFETY: `values` holds `len` i32 elements, compared by `compare_i32`.
        unsafe { morgana_qsort(values.as_mut_ptr().cast(), values.len(), 4, compare_i32) };
        assert_eq!(values, reference, "len {len}");
    }
    // Already sorted and reversed inputs.
    for mut values in [(0..500).collect::<Vec<i32>>(), (0..500).rev().collect()] {
        // SAFETY: as above.
        unsafe { morgana_qsort(values.as_mut_ptr().cast(), values.len(), 4, compare_i32) };
        assert_eq!(values, (0..500).collect::<Vec<i32>>());
    }
}

#[test]
fn qsort_moves_whole_records() {
    let mut rng = Rng::new(8);
    let mut records: Vec<Record> = (0..300)
        .map(|tag| Record {
            key: rng.below(20) as u8,
            tag,
            filler: [tag as u8; 8],
        })
        .collect();
    // SAFETY: `records` holds 300 Records of size_of::<Record>() bytes each.
    unsafe {
        morgana_qsort(
            records.as_mut_ptr().cast(),
            records.len(),
            size_of::<Record>(),
            compare_record,
        )
    };
    assert!(records.windows(2).all(|w| w[0].key <= w[1].key));
    let mut tags: Vec<u32> = records.iter().map(|r| r.tag).collect();
    tags.sort_unstable();
    assert_eq!(
        tags,
        (0..300).collect::<Vec<u32>>(),
        "every record exactly once"
    );
    assert!(
        records.iter().all(|r| r.filler == [r.tag as u8; 8]),
        "records kept whole"
    );
}

#[test]
fn bsearch_finds_present_keys_only() {
    let sorted: Vec<i32> = (0..200).map(|i| i * 3).collect();
    for key in -3..610 {
        // SAFETY: `sorted` holds 200 sorted i32 elements; `key` outlives the call.
        let found = unsafe {
            morgana_bsearch(
                (&raw const key).cast(),
                sorted.as_ptr().cast(),
                200,
                4,
                compare_i32,
            )
        };
        let want = sorted.binary_search(&key).ok();
        // SAFETY: a non-NULL result points into `sorted`.
        let got = (!found.is_null())
            .then(|| unsafe { found.cast::<i32>().offset_from(sorted.as_ptr()) } as usize);
        assert_eq!(got, want, "key {key}");
    }
    // SAFETY: an empty array is never dereferenced.
    let none = unsafe {
        morgana_bsearch(
            (&raw const sorted[0]).cast(),
            sorted.as_ptr().cast(),
            0,
            4,
            compare_i32,
        )
    };
    assert!(none.is_null());
}

#[test]
fn abs_family() {
    // SAFETY: pure functions on values whose absolute value is representable.
    unsafe {
        assert_eq!((morgana_abs(-5), morgana_abs(5), morgana_abs(0)), (5, 5, 0));
        assert_eq!(morgana_abs(c_int::MIN + 1), c_int::MAX);
        assert_eq!(morgana_labs(-(1 << 40)), 1 << 40);
        assert_eq!(morgana_llabs(i64::MIN + 1), i64::MAX);
    }
}

#[test]
fn malloc_blocks_are_aligned_distinct_and_usable() {
    let mut blocks = Vec::new();
    for size in (0..100).chain([1000, 4096, 65537]) {
        // SAFETY: malloc is always safe to call.
        let p = unsafe { morgana_malloc(size) };
        assert!(!p.is_null(), "malloc({size})");
        assert_eq!(p as usize % 16, 0, "malloc({size}) alignment");
        // SAFETY: the block holds `size` bytes.
        unsafe { p.cast::<u8>().write_bytes(size as u8, size) };
        blocks.push((p, size));
    }
    let mut starts: Vec<usize> = blocks.iter().map(|&(p, _)| p as usize).collect();
    starts.sort_unstable();
    starts.dedup();
    assert_eq!(
        starts.len(),
        blocks.len(),
        "every block distinct, malloc(0) included"
    );
    for (p, size) in blocks {
        // SAFETY: each block holds `size` bytes written above; each is freed once.
        unsafe {
            let bytes = core::slice::from_raw_parts(p.cast::<u8>(), size);
            assert!(
                bytes.iter().all(|&b| b == size as u8),
                "block of {size} overwritten"
            );
            morgana_free(p);
        }
    }
    // SAFETY: free(NULL) is defined to do nothing.
    unsafe { morgana_free(core::ptr::null_mut()) };
}

#[test]
fn calloc_zeroes_and_rejects_overflow() {
    let _errno = errno_lock();
    // SAFETY: calloc is always safe; the block is read within its 8 * 1000 bytes, then freed.
    unsafe {
        // Dirty the heap first so a zeroed block is not just luck.
        let dirty = morgana_malloc(8000);
        dirty.cast::<u8>().write_bytes(0xaa, 8000);
        morgana_free(dirty);
        let p = morgana_calloc(1000, 8);
        assert!(!p.is_null() && (p as usize).is_multiple_of(16));
        assert!(
            core::slice::from_raw_parts(p.cast::<u8>(), 8000)
                .iter()
                .all(|&b| b == 0)
        );
        morgana_free(p);

        set_our_errno(0);
        assert!(morgana_calloc(usize::MAX / 2, 3).is_null());
        assert_eq!(our_errno(), 12, "ENOMEM");
        set_our_errno(0);
        assert!(morgana_malloc(usize::MAX - 8).is_null());
        assert_eq!(our_errno(), 12, "ENOMEM");
    }
}

#[test]
fn realloc_keeps_contents_and_handles_null_and_zero() {
    let _errno = errno_lock();
    // SAFETY: every access stays within the current size of the block; each block is freed once.
    unsafe {
        let mut p = morgana_realloc(core::ptr::null_mut(), 10).cast::<u8>();
        assert!(!p.is_null() && (p as usize).is_multiple_of(16));
        for i in 0..10 {
            p.add(i).write(i as u8);
        }
        let mut size = 10;
        for new_size in [11, 3000, 100_000, 5, 70] {
            p = morgana_realloc(p.cast(), new_size).cast::<u8>();
            assert!(
                !p.is_null() && (p as usize).is_multiple_of(16),
                "realloc to {new_size}"
            );
            let kept = size.min(new_size);
            let bytes = core::slice::from_raw_parts(p, kept);
            assert!(
                bytes.iter().enumerate().all(|(i, &b)| b == i as u8),
                "contents after realloc to {new_size}"
            );
            for i in kept..new_size {
                p.add(i).write(i as u8);
            }
            size = new_size;
        }
        // Failure leaves the block intact.
        set_our_errno(0);
        assert!(morgana_realloc(p.cast(), usize::MAX).is_null());
        assert_eq!(our_errno(), 12);
        assert_eq!(p.add(69).read(), 69);
        // realloc(p, 0) gives back a unique block that free accepts.
        let z = morgana_realloc(p.cast(), 0);
        assert!(!z.is_null());
        morgana_free(z);
    }
}
