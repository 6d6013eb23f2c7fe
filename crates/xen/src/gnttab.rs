//! Grant tables, version 1: frames mapped with `XENMEM_add_to_physmap` over our own pages;
//! references handed out from 8 upwards (0-7 belong to the toolstack).

use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering, fence};

use crate::abi::{self, AddToPhysmap, GrantEntryV1, PAGE_SIZE, hypercall};
use crate::hypercall::op;

/// Grant table frames mapped.
pub const FRAMES: usize = 2;
/// Grant references available.
pub const ENTRIES: u32 = (FRAMES * abi::GRANTS_PER_FRAME) as u32;

#[repr(C, align(4096))]
struct Frames([u8; FRAMES * PAGE_SIZE]);

// Xen replaces these pages' backing with the grant table frames.
static mut TABLE: Frames = Frames([0; FRAMES * PAGE_SIZE]);
static ENTRIES_PTR: AtomicPtr<GrantEntryV1> = AtomicPtr::new(core::ptr::null_mut());
static NEXT_REF: AtomicU32 = AtomicU32::new(abi::GNTTAB_RESERVED_ENTRIES);

/// Maps the grant table; returns the hypercall's error on failure.
pub fn init() -> Result<(), isize> {
    let base = core::ptr::addr_of_mut!(TABLE) as u64;
    for i in 0..FRAMES {
        let mut arg = AddToPhysmap {
            domid: abi::DOMID_SELF,
            size: 0,
            space: abi::XENMAPSPACE_GRANT_TABLE,
            idx: i as u64,
            gpfn: (base >> 12) + i as u64,
        };
        // SAFETY: XENMEM_add_to_physmap takes an `xen_add_to_physmap`; the target frames are
        // our own page-aligned static that nothing else uses.
        let rc = unsafe { op(hypercall::MEMORY_OP, abi::XENMEM_ADD_TO_PHYSMAP, &mut arg) };
        if rc < 0 {
            return Err(rc);
        }
    }
    ENTRIES_PTR.store(base as *mut GrantEntryV1, Ordering::Release);
    Ok(())
}

/// Why a page could not be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantError {
    /// The grant table is not mapped.
    NoTable,
    /// Every reference is in use.
    Exhausted,
}

/// Grants domain `domid` access to the page at physical address `page`; returns the reference.
/// Grants last for the program's lifetime (devices keep their pages).
pub fn grant(domid: u16, page: u64, readonly: bool) -> Result<u32, GrantError> {
    let table = ENTRIES_PTR.load(Ordering::Acquire);
    if table.is_null() {
        return Err(GrantError::NoTable);
    }
    let r = NEXT_REF.fetch_add(1, Ordering::Relaxed);
    if r >= ENTRIES {
        return Err(GrantError::Exhausted);
    }
    let flags = abi::GTF_PERMIT_ACCESS | if readonly { abi::GTF_READONLY } else { 0 };
    // SAFETY: `r` is in bounds of the mapped table and was handed out once; the entry is
    // published by writing `flags` last, after a release fence, as the grant protocol requires.
    unsafe {
        let e = table.add(r as usize);
        core::ptr::write_volatile(core::ptr::addr_of_mut!((*e).domid), domid);
        core::ptr::write_volatile(core::ptr::addr_of_mut!((*e).frame), (page >> 12) as u32);
        fence(Ordering::Release);
        core::ptr::write_volatile(core::ptr::addr_of_mut!((*e).flags), flags);
    }
    Ok(r)
}
