//! The guest's own page tables: the tender's identity map with the stack's guard left out.
//!
//! The tender's tables (spec section 2.2) live in pages the guest cannot see, so the guest
//! cannot unmap a page in them; it builds the same map in its own tables instead and loads
//! them into CR3. The same as the tender's: identity, supervisor-only, no NX bits; the first
//! 2 MiB in 4 KiB pages (below 0x10000 not present, the boot area read-only, the rest
//! read-write); 2 MiB pages above, up to `mem_size`. Different in one place: the 2 MiB page
//! that holds the guard below the stack ([`crate::memory::Layout::guard`]) is split into 4 KiB
//! pages, and the guard's are not present. Any tender of the ABI (Solo5's `solo5-hvt` too)
//! hands over the same memory, so the guest's tables only remove pages from what it may use.
//!
//! The tables live in the guard itself: the CPU reads them by physical address, and once they
//! are loaded nothing can write them (they are not mapped), while they take no memory from the
//! heap or the image. Under instruction emulation (KVM-PVM) every instruction counts: the
//! tables are cleared by one `rep stosq` and their entries filled eight to a turn of a loop of
//! `stosq` and `add` (2.1 instructions an entry).

use core::arch::asm;
use core::ops::Range;

use crate::memory::BOOT_AREA;

const PRESENT: u64 = 1;
const WRITABLE: u64 = 2;
const LARGE: u64 = 0x80;
const PAGE: u64 = 4096;
const LARGE_PAGE: u64 = 2 << 20;
/// Entries in a table.
const ENTRIES: usize = 512;

/// Writes `entries.len()` (at least 1) entries: `first`, `first + step`, ...
///
/// Eight entries a turn of the loop after the first `len % 8` one at a time: 2.1 instructions
/// an entry instead of 3, which counts under instruction emulation (KVM-PVM), where the
/// page tables were a third of `noop`'s boot. Never inlined: one copy of the loop, not one
/// per table.
#[inline(never)]
fn fill(entries: &mut [u64], first: u64, step: u64) {
    assert!(!entries.is_empty());
    // SAFETY: `stosq` writes one word at `rdi` and advances it; the loops write `len % 8`
    // words, then `len / 8` times 8, so `len` words from the slice's start, all inside it;
    // DF is clear (the tender's RFLAGS is 0x2 and nothing sets it).
    unsafe {
        asm!(
            "jrcxz 3f",
            "2:",
            "stosq",
            "add rax, {step}",
            "loop 2b",
            "3:",
            "test {groups}, {groups}",
            "jz 5f",
            "4:",
            ".rept 8",
            "stosq",
            "add rax, {step}",
            ".endr",
            "dec {groups}",
            "jnz 4b",
            "5:",
            step = in(reg) step,
            groups = inout(reg) entries.len() / 8 => _,
            inout("rdi") entries.as_mut_ptr() => _,
            inout("rcx") entries.len() % 8 => _,
            inout("rax") first => _,
            options(nostack),
        );
    }
}

/// Zeroes `entries` with one `rep stosq`.
fn zero(entries: &mut [u64]) {
    // SAFETY: `rep stosq` writes `rcx` = `entries.len()` zero words from the slice's start, all
    // inside it; DF is clear (see `fill`).
    unsafe {
        asm!(
            "rep stosq",
            inout("rdi") entries.as_mut_ptr() => _,
            inout("rcx") entries.len() => _,
            in("rax") 0u64,
            options(nostack),
        );
    }
}

/// Builds the tables for `mem_size` bytes (a multiple of 2 MiB, at most 4 GiB) in `guard`
/// (page-aligned, above the first 2 MiB or in them, inside one 2 MiB page, room for 4 tables
/// plus one per GiB) and loads them, which unmaps the guard.
///
/// Must run once, at boot, while nothing uses the guard's memory.
pub fn install(mem_size: u64, guard: Range<u64>) {
    let gibs = mem_size.div_ceil(1 << 30) as usize;
    let pages = 4 + gibs;
    // The message is short on purpose: the condition's own text would be 250 bytes of every
    // image, for a check that only a wrong `memory::Layout` can fail.
    assert!(
        guard.start.is_multiple_of(PAGE)
            && (guard.end - guard.start) / PAGE >= pages as u64
            && guard.start / LARGE_PAGE == (guard.end - 1) / LARGE_PAGE,
        "the page tables do not fit the guard"
    );
    // In the guard, page by page: PML4, PDPT, one directory per GiB, the first 2 MiB's table,
    // the guard's 2 MiB's table.
    // SAFETY: the guard is RAM the tender maps read-write, inside the stack's reserve below
    // the stack (`memory::Layout`), which boot has not grown into; nothing else refers to it,
    // and these `pages` pages lie inside it (checked above).
    let tables: &mut [u64] = unsafe {
        core::slice::from_raw_parts_mut(guard.start as usize as *mut u64, pages * ENTRIES)
    };
    zero(tables);
    let (pml4, rest) = tables.split_at_mut(ENTRIES);
    let (pdpt, rest) = rest.split_at_mut(ENTRIES);
    let (pd, rest) = rest.split_at_mut(gibs * ENTRIES);
    let (pt0, guard_pt) = rest.split_at_mut(ENTRIES);
    let address = |table: &[u64]| table.as_ptr() as u64;

    pml4[0] = address(pdpt) | PRESENT | WRITABLE;
    fill(&mut pdpt[..gibs], address(pd) | PRESENT | WRITABLE, PAGE);
    let regions = (mem_size / LARGE_PAGE) as usize;
    if regions > 1 {
        fill(
            &mut pd[1..regions],
            LARGE_PAGE | PRESENT | WRITABLE | LARGE,
            LARGE_PAGE,
        );
    }
    let first_rw = (BOOT_AREA.end / PAGE) as usize;
    fill(
        &mut pt0[(BOOT_AREA.start / PAGE) as usize..first_rw],
        BOOT_AREA.start | PRESENT,
        PAGE,
    );
    fill(
        &mut pt0[first_rw..],
        BOOT_AREA.end | PRESENT | WRITABLE,
        PAGE,
    );
    pd[0] = address(pt0) | PRESENT | WRITABLE;

    let region = guard.start / LARGE_PAGE;
    let table = if region == 0 {
        pt0
    } else {
        fill(guard_pt, (region * LARGE_PAGE) | PRESENT | WRITABLE, PAGE);
        pd[region as usize] = address(guard_pt) | PRESENT | WRITABLE;
        guard_pt
    };
    let first = ((guard.start % LARGE_PAGE) / PAGE) as usize;
    let count = ((guard.end - guard.start) / PAGE) as usize;
    table[first..first + count].fill(0);
    let root = address(pml4);

    // SAFETY: the new tables map everything the tender's map, at the same addresses with the
    // same rights, except the guard, which holds only these tables: the code, the stack and
    // the data in use stay where they are. Loading CR3 flushes the old translations.
    unsafe {
        asm!("mov cr3, {}", in(reg) root, options(nostack, preserves_flags));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_writes_exactly_the_slice_with_the_steps() {
        for len in (1..=20).chain([255, 256, 496, 512]) {
            let mut words = [u64::MAX; 520];
            fill(&mut words[1..=len], 0x1003, PAGE);
            assert_eq!(words[0], u64::MAX, "{len}: before");
            for (i, &w) in words[1..=len].iter().enumerate() {
                assert_eq!(w, 0x1003 + i as u64 * PAGE, "{len}: entry {i}");
            }
            assert!(
                words[len + 1..].iter().all(|&w| w == u64::MAX),
                "{len}: after"
            );
        }
    }
}
