//! The guard below a boot stack, and the one line every bare-metal backend prints when the
//! stack runs into it.
//!
//! Each backend leaves [`GUARD_SIZE`] bytes directly below its stack unmapped in its page
//! tables. The images are built with inline stack probes (`"stack-probes"` in the target
//! JSONs): a frame larger than a page touches each page on its way down, so even a large
//! frame cannot step over the guard, and the first write past the stack's bottom is a page
//! fault at an address inside the guard. The trap handlers run on their own stacks (IST), so
//! the fault is delivered although the interrupted stack is full; a handler that sees a page
//! fault in the guard ([`overflow`]) prints [`StackOverflow`] instead of its usual trap line.

use core::fmt;
use core::ops::Range;

/// Bytes of the unmapped guard below a stack: four pages, page-aligned.
pub const GUARD_SIZE: u64 = 16 * 1024;

/// The page-fault vector.
pub const PAGE_FAULT: u64 = 14;

/// The guard below a stack whose lowest address is `stack_bottom` (page-aligned).
pub fn guard_below(stack_bottom: u64) -> Range<u64> {
    stack_bottom.saturating_sub(GUARD_SIZE)..stack_bottom
}

/// The report of a trap when it is a stack overflow: exception `vector` with the faulting
/// address `cr2` inside `guard`; `None` for any other trap.
pub fn overflow(vector: u64, cr2: u64, guard: &Range<u64>) -> Option<StackOverflow> {
    (vector == PAGE_FAULT && guard.contains(&cr2)).then_some(StackOverflow { address: cr2 })
}

/// A page fault in the guard below the stack.
///
/// Displays as `trap: stack overflow (page fault at 0x… in the guard page below the stack)`:
/// the same words on every backend (hvt adds its `Solo5: ` log prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackOverflow {
    /// The faulting address (CR2).
    pub address: u64,
}

impl fmt::Display for StackOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "trap: stack overflow (page fault at {:#x} in the guard page below the stack)",
            self.address
        )
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    #[test]
    fn only_a_page_fault_inside_the_guard_is_an_overflow() {
        let guard = guard_below(0x20_0000);
        assert_eq!(guard, 0x1f_c000..0x20_0000);
        assert_eq!(
            overflow(14, 0x1f_fff8, &guard)
                .map(|o| o.to_string())
                .as_deref(),
            Some("trap: stack overflow (page fault at 0x1ffff8 in the guard page below the stack)")
        );
        assert!(overflow(14, 0x1f_c000, &guard).is_some());
        assert_eq!(overflow(14, 0x20_0000, &guard), None, "the stack itself");
        assert_eq!(overflow(14, 0x1f_bfff, &guard), None, "below the guard");
        assert_eq!(overflow(13, 0x1f_fff8, &guard), None, "not a page fault");
        assert_eq!(guard_below(0x1000), 0..0x1000);
    }
}
