//! Little-endian field codecs over fixed-size byte arrays. Offsets are constants of the
//! callers, checked by their layout tests, so indexing cannot go out of range.

pub(crate) const fn u16_at<const N: usize>(b: &[u8; N], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) const fn u32_at<const N: usize>(b: &[u8; N], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) const fn u64_at<const N: usize>(b: &[u8; N], at: usize) -> u64 {
    u64::from_le_bytes([
        b[at],
        b[at + 1],
        b[at + 2],
        b[at + 3],
        b[at + 4],
        b[at + 5],
        b[at + 6],
        b[at + 7],
    ])
}

pub(crate) fn put<const N: usize, const M: usize>(b: &mut [u8; N], at: usize, v: [u8; M]) {
    b[at..at + M].copy_from_slice(&v);
}

/// The first `N` bytes of `bytes` as an array, or `None` when it is shorter.
pub(crate) fn prefix<const N: usize>(bytes: &[u8]) -> Option<&[u8; N]> {
    bytes.get(..N)?.try_into().ok()
}
