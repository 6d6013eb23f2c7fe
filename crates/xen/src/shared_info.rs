//! The shared info page: event channel bits, the vCPU pvclock and the wall clock.

use core::sync::atomic::{AtomicPtr, Ordering};

use crate::abi::{self, AddToPhysmap, PAGE_SIZE, SharedInfo, hypercall};
use crate::hypercall::op;

#[repr(C, align(4096))]
struct Page([u8; PAGE_SIZE]);

// Xen replaces this page's backing with the shared info frame.
static mut SHARED_INFO_PAGE: Page = Page([0; PAGE_SIZE]);
static SHARED_INFO: AtomicPtr<SharedInfo> = AtomicPtr::new(core::ptr::null_mut());

/// Maps the shared info page; returns the hypercall's error on failure.
pub fn init() -> Result<(), isize> {
    let page = core::ptr::addr_of_mut!(SHARED_INFO_PAGE);
    let mut arg = AddToPhysmap {
        domid: abi::DOMID_SELF,
        size: 0,
        space: abi::XENMAPSPACE_SHARED_INFO,
        idx: 0,
        gpfn: page as u64 >> 12,
    };
    // SAFETY: XENMEM_add_to_physmap takes an `xen_add_to_physmap`; the target frame is our own
    // page-aligned static that nothing else uses.
    let rc = unsafe { op(hypercall::MEMORY_OP, abi::XENMEM_ADD_TO_PHYSMAP, &mut arg) };
    if rc < 0 {
        return Err(rc);
    }
    SHARED_INFO.store(page.cast(), Ordering::Release);
    Ok(())
}

/// The mapped shared info page, once [`init`] succeeded.
pub fn page() -> Option<*mut SharedInfo> {
    let p = SHARED_INFO.load(Ordering::Acquire);
    (!p.is_null()).then_some(p)
}
