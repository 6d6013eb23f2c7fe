//! Xen detection and hypercalls through the hypercall page.
//!
//! Xen fills the page (one 32-byte stub per hypercall, `vmcall` or `vmmcall` depending on the
//! CPU vendor) once we write its physical address to the MSR that CPUID names. Every hypercall
//! goes through the page, so the backend never needs to know the vendor.

use crate::abi::PAGE_SIZE;

core::arch::global_asm!(
    r#"
    .section .text.morgana_hypercall_page, "ax"
    .balign 4096
    .global morgana_hypercall_page
morgana_hypercall_page:
    .fill 4096, 1, 0xc3
"#,
    options(att_syntax)
);

unsafe extern "C" {
    static morgana_hypercall_page: [u8; PAGE_SIZE];
}

fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid(leaf);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Finds Xen's CPUID leaves ("XenVMMXenVMM" at 0x40000000 + k * 0x100) and installs the
/// hypercall page. Returns Xen's CPUID base, or `None` when not running on Xen.
pub fn init() -> Option<u32> {
    let base = (0..0x100u32)
        .map(|k| 0x4000_0000 + k * 0x100)
        .take(16)
        .find(|&leaf| {
            let (max, b, c, d) = cpuid(leaf);
            b == 0x566e_6558 && c == 0x65584d4d && d == 0x4d4d_566e && max >= leaf + 2
        })?;
    let (_, msr, _, _) = cpuid(base + 2);
    let page = core::ptr::addr_of!(morgana_hypercall_page) as u64;
    // SAFETY: writing the page's physical address (identity-mapped) to Xen's hypercall MSR
    // makes Xen overwrite the page with hypercall stubs; nothing else uses that page.
    unsafe {
        core::arch::asm!("wrmsr", in("ecx") msr, in("eax") page as u32, in("edx") (page >> 32) as u32,
            options(nostack));
    }
    // The page was filled with `ret` (0xc3); Xen's first stub starts with `mov eax, 0`.
    // SAFETY: the page is mapped and Xen has finished writing it when wrmsr returns.
    let first = unsafe { core::ptr::read_volatile(page as *const u8) };
    (first != 0xc3).then_some(base)
}

/// Calls hypercall `number` with up to five arguments; returns Xen's result (negative errno on
/// failure).
///
/// # Safety
/// The arguments must be what hypercall `number` expects; pointers must point at live memory
/// of the right layout that Xen may read and write for the duration of the call.
pub unsafe fn call(number: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> isize {
    let entry = core::ptr::addr_of!(morgana_hypercall_page) as usize + number * 32;
    let ret: isize;
    // SAFETY: the stub at `entry` is Xen's hypercall trampoline (`mov eax, N; vm[m]call; ret`);
    // the caller vouches for the arguments. Argument registers may be clobbered by Xen.
    unsafe {
        core::arch::asm!(
            "call {entry}",
            entry = in(reg) entry,
            inlateout("rax") 0isize => ret,
            inlateout("rdi") a1 => _,
            inlateout("rsi") a2 => _,
            inlateout("rdx") a3 => _,
            inlateout("r10") a4 => _,
            inlateout("r8") a5 => _,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    ret
}

/// Calls a hypercall whose one argument structure is `arg` after command `cmd`.
///
/// # Safety
/// `T` must be the structure hypercall `number` expects for `cmd`.
pub unsafe fn op<T>(number: usize, cmd: usize, arg: &mut T) -> isize {
    // SAFETY: forwarded contract; `arg` is live and exclusive for the call.
    unsafe { call(number, cmd, arg as *mut T as usize, 0, 0, 0) }
}
