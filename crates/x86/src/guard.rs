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

/// Bytes of the unmapped guard below a stack: eight pages, page-aligned (the hvt backend keeps
/// its page tables in them, where nothing can write them once they are loaded).
pub const GUARD_SIZE: u64 = 32 * 1024;

/// The page-fault vector.
pub const PAGE_FAULT: u64 = 14;

/// The guard below a stack whose lowest address is `stack_bottom` (page-aligned).
pub fn guard_below(stack_bottom: u64) -> Range<u64> {
    stack_bottom.saturating_sub(GUARD_SIZE)..stack_bottom
}

/// The report of a trap when it is a stack overflow: exception `vector` with the faulting
/// address `cr2` inside `guard`, or, where CR2 does not hold it (the Xen lab under QEMU's
/// emulation reports 0), with the interrupted stack pointer `rsp` inside the guard or at its
/// top (a `push` or `call` at the very bottom of the stack faults before it moves `rsp`);
/// `None` for any other trap.
pub fn overflow(vector: u64, cr2: u64, rsp: u64, guard: &Range<u64>) -> Option<StackOverflow> {
    if vector != PAGE_FAULT {
        return None;
    }
    if guard.contains(&cr2) {
        Some(StackOverflow::Address(cr2))
    } else if (guard.start..=guard.end).contains(&rsp) && !guard.is_empty() {
        Some(StackOverflow::StackPointer(rsp))
    } else {
        None
    }
}

/// A page fault in the guard below the stack, and how it is known.
///
/// Displays as `trap: stack overflow (page fault at 0x… in the guard page below the stack)`:
/// the same words on every backend (hvt adds its `Solo5: ` log prefix); when only the stack
/// pointer shows it, `trap: stack overflow (page fault, stack pointer 0x… at the guard page
/// below the stack)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackOverflow {
    /// The faulting address (CR2), inside the guard.
    Address(u64),
    /// The interrupted stack pointer, inside the guard or at its top; CR2 was elsewhere.
    StackPointer(u64),
}

impl fmt::Display for StackOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackOverflow::Address(a) => write!(
                f,
                "trap: stack overflow (page fault at {a:#x} in the guard page below the stack)"
            ),
            StackOverflow::StackPointer(sp) => write!(
                f,
                "trap: stack overflow (page fault, stack pointer {sp:#x} at the guard page \
                 below the stack)"
            ),
        }
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
        assert_eq!(guard, 0x1f_8000..0x20_0000);
        let elsewhere = 0x20_0100;
        assert_eq!(
            overflow(14, 0x1f_fff8, elsewhere, &guard)
                .map(|o| o.to_string())
                .as_deref(),
            Some("trap: stack overflow (page fault at 0x1ffff8 in the guard page below the stack)")
        );
        assert!(overflow(14, 0x1f_8000, elsewhere, &guard).is_some());
        assert_eq!(
            overflow(14, 0x20_0000, elsewhere, &guard),
            None,
            "the stack"
        );
        assert_eq!(overflow(14, 0x1f_7fff, elsewhere, &guard), None, "below");
        assert_eq!(
            overflow(13, 0x1f_fff8, 0x1f_fff8, &guard),
            None,
            "not a #PF"
        );
        assert_eq!(guard_below(0x1000), 0..0x1000);
    }

    #[test]
    fn without_cr2_the_stack_pointer_in_the_guard_or_at_its_top_tells() {
        let guard = guard_below(0x20_0000);
        assert_eq!(
            overflow(14, 0, 0x20_0000, &guard)
                .map(|o| o.to_string())
                .as_deref(),
            Some(
                "trap: stack overflow (page fault, stack pointer 0x200000 at the guard page \
                 below the stack)"
            )
        );
        assert_eq!(
            overflow(14, 0, 0x1f_8000, &guard),
            Some(StackOverflow::StackPointer(0x1f_8000))
        );
        assert_eq!(overflow(14, 0, 0x20_0008, &guard), None);
        assert_eq!(overflow(14, 0, 0x1f_7ff8, &guard), None);
        assert_eq!(overflow(14, 0, 0, &(0..0)), None, "no guard yet");
    }
}
