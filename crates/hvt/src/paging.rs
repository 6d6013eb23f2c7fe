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
//! Under instruction emulation (KVM-PVM) every instruction counts: each table is filled by a
//! three-instruction loop (`stosq`, `add`, `loop`), about 3,000 instructions in all at 4 MiB.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::ops::Range;

use crate::memory::BOOT_AREA;

const PRESENT: u64 = 1;
const WRITABLE: u64 = 2;
const LARGE: u64 = 0x80;
const PAGE: u64 = 4096;
const LARGE_PAGE: u64 = 2 << 20;

/// One page of 512 entries.
#[repr(C, align(4096))]
struct Table([u64; 512]);

/// All the tables, in `.bss` (zero: nothing present) until [`install`] fills them.
#[repr(C, align(4096))]
struct Tables {
    pml4: Table,
    pdpt: Table,
    /// Four page directories, one per GiB, as one array of 2 MiB entries.
    pd: [Table; 4],
    /// The first 2 MiB in 4 KiB pages.
    pt0: Table,
    /// The 2 MiB that hold the guard, in 4 KiB pages (unused when that is the first 2 MiB).
    guard_pt: Table,
}

struct TablesCell(UnsafeCell<Tables>);

// SAFETY: one vCPU and no interrupts; only `install` writes, once, before CR3 names them.
unsafe impl Sync for TablesCell {}

static TABLES: TablesCell = TablesCell(UnsafeCell::new(Tables {
    pml4: Table([0; 512]),
    pdpt: Table([0; 512]),
    pd: [const { Table([0; 512]) }; 4],
    pt0: Table([0; 512]),
    guard_pt: Table([0; 512]),
}));

/// Writes `count` (at least 1) entries from `entries[0]` on: `first`, `first + step`, ...
fn fill(entries: &mut [u64], first: u64, step: u64) {
    assert!(!entries.is_empty());
    // SAFETY: `stosq` writes `rcx` = `entries.len()` words from `rdi` = the slice's start up,
    // all inside the slice; DF is clear (the tender's RFLAGS is 0x2 and nothing sets it).
    unsafe {
        asm!(
            "2:",
            "stosq",
            "add rax, {step}",
            "loop 2b",
            step = in(reg) step,
            inout("rdi") entries.as_mut_ptr() => _,
            inout("rcx") entries.len() => _,
            inout("rax") first => _,
            options(nostack),
        );
    }
}

/// Builds the tables for `mem_size` bytes (a multiple of 2 MiB, at most 4 GiB) with `guard`
/// (page-aligned, inside one 2 MiB page above the first) not present, and loads them.
///
/// Must run once, at boot, before anything relies on the guard.
pub fn install(mem_size: u64, guard: Range<u64>) {
    // SAFETY: called once at boot on the only vCPU, before the CPU uses these tables, so
    // this is the only reference.
    let t = unsafe { &mut *TABLES.0.get() };
    let address = |table: &Table| table.0.as_ptr() as u64;

    t.pml4.0[0] = address(&t.pdpt) | PRESENT | WRITABLE;
    let gibs = mem_size.div_ceil(1 << 30) as usize;
    fill(
        &mut t.pdpt.0[..gibs],
        address(&t.pd[0]) | PRESENT | WRITABLE,
        PAGE,
    );
    // SAFETY: the four directories are contiguous (`repr(C)`, page-sized, page-aligned):
    // one array of 2048 entries.
    let pd: &mut [u64; 2048] = unsafe { &mut *t.pd.as_mut_ptr().cast::<[u64; 2048]>() };
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
        &mut t.pt0.0[(BOOT_AREA.start / PAGE) as usize..first_rw],
        BOOT_AREA.start | PRESENT,
        PAGE,
    );
    fill(
        &mut t.pt0.0[first_rw..],
        BOOT_AREA.end | PRESENT | WRITABLE,
        PAGE,
    );
    pd[0] = address(&t.pt0) | PRESENT | WRITABLE;

    let region = guard.start / LARGE_PAGE;
    let table = if region == 0 {
        &mut t.pt0
    } else {
        fill(
            &mut t.guard_pt.0,
            (region * LARGE_PAGE) | PRESENT | WRITABLE,
            PAGE,
        );
        pd[region as usize] = address(&t.guard_pt) | PRESENT | WRITABLE;
        &mut t.guard_pt
    };
    let first = ((guard.start % LARGE_PAGE) / PAGE) as usize;
    let pages = ((guard.end - guard.start) / PAGE) as usize;
    table.0[first..first + pages].fill(0);

    // SAFETY: the new tables map everything the tender's map, at the same addresses with the
    // same rights, except the guard, which nothing uses: the code, the stack and the data in
    // use stay where they are. Loading CR3 flushes the old translations.
    unsafe {
        asm!("mov cr3, {}", in(reg) address(&t.pml4), options(nostack, preserves_flags));
    }
}
