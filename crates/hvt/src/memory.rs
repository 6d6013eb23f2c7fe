//! The guest's memory layout: what the tender hands over (spec section 2.2) and how this
//! backend divides it.
//!
//! ```text
//! 0x10000 .. 0x100000      boot info, manifest copy, command line (read-only)
//! 0x100000 .. _end         the image
//! _end (page up) .. R      the heap
//! R .. mem_size            the stack reserve, stack_size(mem_size) bytes:
//!   R .. R + GUARD_SIZE      the guard, unmapped; it holds the page tables (crate::paging)
//!   R + GUARD_SIZE .. top    the stack (rsp starts at mem_size - 8)
//! ```
//!
//! The tender starts the guest with `rsp` at the top of memory; the stack grows down from
//! there into the guard, where an overflow is a page fault that the trap handler reports as a
//! stack overflow, never a write into the heap. The guard comes out of the stack's reserve,
//! so the heap is what it was without one.

use core::ops::Range;

pub use morgana_x86::guard::GUARD_SIZE;

/// The smallest stack reserve, guard included: the 256 KiB Solo5 keeps for its stack.
pub const MIN_STACK_SIZE: u64 = 256 * 1024;
/// The largest stack reserve, guard included: room for embassy-net's temporary copy of the
/// largest socket table (about 1.3 MB for `morgana_tcpip::MAX_SOCKETS`), which only a service
/// given that much memory asks for.
pub const MAX_STACK_SIZE: u64 = 2 * 1024 * 1024;
/// The smallest heap worth booting with. With the smallest stack reserve, the same 512 KiB
/// Solo5 asks for.
pub const MIN_HEAP_SIZE: u64 = 256 * 1024;
/// The tender's read-only area for the boot info, the manifest copy and the command line.
pub const BOOT_AREA: core::ops::Range<u64> = 0x1_0000..0x10_0000;
/// The most guest memory the ABI allows (4 page directories of 2 MiB pages).
pub const MAX_MEMORY: u64 = 4 << 30;

/// Bytes of the stack's reserve (guard included) for `mem_size` bytes of memory: a sixteenth
/// of it, between [`MIN_STACK_SIZE`] and [`MAX_STACK_SIZE`], a multiple of 128 KiB.
///
/// A network service's largest stack use, the socket table's temporary, grows with the
/// sockets it asks for, which grow with its memory (about 2% of it): a sixteenth holds it.
pub fn stack_size(mem_size: u64) -> u64 {
    (mem_size / 16 / 4096 * 4096).clamp(MIN_STACK_SIZE, MAX_STACK_SIZE)
}

/// Where everything above the image goes, for one memory size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The heap, from the image's end (page up) to the guard.
    pub heap: Range<u64>,
    /// The unmapped guard directly below the stack.
    pub guard: Range<u64>,
    /// The stack, up to the top of memory.
    pub stack: Range<u64>,
}

impl Layout {
    /// The layout for an image ending at `image_end` in `mem_size` bytes of memory; `None`
    /// when the memory is too small for a heap of [`MIN_HEAP_SIZE`], larger than
    /// [`MAX_MEMORY`] or not in whole 2 MiB pages (the tender's rounding).
    ///
    /// The guard lies inside one 2 MiB page: the stack is a multiple of 128 KiB.
    pub fn new(image_end: u64, mem_size: u64) -> Option<Layout> {
        if mem_size > MAX_MEMORY || !mem_size.is_multiple_of(2 << 20) {
            return None;
        }
        let heap_start = image_end.checked_next_multiple_of(4096)?;
        let reserve = mem_size.checked_sub(stack_size(mem_size))?;
        let stack_bottom = reserve + GUARD_SIZE;
        (reserve >= heap_start && reserve - heap_start >= MIN_HEAP_SIZE).then_some(Layout {
            heap: heap_start..reserve,
            guard: morgana_x86::guard::guard_below(stack_bottom),
            stack: stack_bottom..mem_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_grows_with_memory_between_256_kib_and_2_mib() {
        assert_eq!(stack_size(2 << 20), 256 * 1024);
        assert_eq!(stack_size(4 << 20), 256 * 1024);
        assert_eq!(stack_size(8 << 20), 512 * 1024);
        assert_eq!(stack_size(32 << 20), 2 << 20);
        assert_eq!(stack_size(4 << 30), 2 << 20);
    }

    #[test]
    fn heap_guard_and_stack_follow_each_other_up_to_the_top() {
        let mem = 8 << 20;
        let reserve = mem - (512 << 10);
        assert_eq!(
            Layout::new(0x10a123, mem),
            Some(Layout {
                heap: 0x10b000..reserve,
                guard: reserve..reserve + GUARD_SIZE,
                stack: reserve + GUARD_SIZE..mem,
            })
        );
        // 2 MiB holds a small image, 256 KiB of stack reserve and 256 KiB of heap.
        assert!(Layout::new(0x180000, 2 << 20).is_some());
        assert_eq!(Layout::new(0x180001, 2 << 20), None);
        assert_eq!(Layout::new(0x100000, 0x100000), None);
        assert_eq!(Layout::new(u64::MAX, 8 << 20), None);
        assert_eq!(Layout::new(0x140000, MAX_MEMORY + (2 << 20)), None);
        assert_eq!(Layout::new(0x140000, (8 << 20) + 4096), None);
    }

    #[test]
    fn the_guard_never_straddles_two_2_mib_pages() {
        for mem in (1..=2048).map(|n| n * (2u64 << 20)) {
            let layout = Layout::new(0x140000, mem).expect("a layout");
            let guard = layout.guard;
            assert_eq!(guard.end - guard.start, GUARD_SIZE);
            assert_eq!(guard.start >> 21, (guard.end - 1) >> 21, "{mem:#x}");
        }
    }
}
