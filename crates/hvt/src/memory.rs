//! The guest's memory layout, as the tender hands it over (spec section 2.2).
//!
//! ```text
//! 0x10000 .. 0x100000      boot info, manifest copy, command line (read-only)
//! 0x100000 .. _end         the image
//! _end (page up) .. H      the heap
//! H .. mem_size            the stack, STACK_SIZE bytes (rsp starts at mem_size - 8)
//! ```

/// Bytes kept for the stack at the top of memory; the heap ends below.
pub const STACK_SIZE: u64 = 256 * 1024;
/// The smallest heap worth booting with. With the stack, the same 512 KiB Solo5 asks for.
pub const MIN_HEAP_SIZE: u64 = 256 * 1024;
/// The tender's read-only area for the boot info, the manifest copy and the command line.
pub const BOOT_AREA: core::ops::Range<u64> = 0x1_0000..0x10_0000;

/// The heap's range, `[start, end)`, or `None` when memory is too small.
pub fn heap_range(image_end: u64, mem_size: u64) -> Option<(u64, u64)> {
    let start = image_end.checked_next_multiple_of(4096)?;
    let end = mem_size.checked_sub(STACK_SIZE)?;
    (end >= start && end - start >= MIN_HEAP_SIZE).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_fits_between_image_and_stack() {
        assert_eq!(
            heap_range(0x10a123, 8 << 20),
            Some((0x10b000, (8 << 20) - STACK_SIZE))
        );
        // 2 MiB holds a small image, 256 KiB of stack and 256 KiB of heap.
        assert!(heap_range(0x140000, 2 << 20).is_some());
        assert_eq!(heap_range(0x180001, 2 << 20), None);
        assert_eq!(heap_range(0x100000, 0x100000), None);
        assert_eq!(heap_range(u64::MAX, 8 << 20), None);
    }
}
