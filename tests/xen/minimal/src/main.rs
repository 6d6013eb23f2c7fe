//! The smallest PVH guest that ends cleanly: from the 32-bit entry it finds Xen's CPUID leaves,
//! installs the hypercall page and calls `SCHEDOP_shutdown(poweroff)`, without long mode,
//! memory setup or a runtime. `cargo xtask bench xen` compares Morgana's boot-to-exit time with
//! this guest's. On the host it is an empty program. Being its own backend, it holds the one
//! `unsafe` (its assembly) itself.
#![cfg_attr(target_os = "xen", no_std, no_main)]

#[cfg(target_os = "xen")]
core::arch::global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .balign 4
    .long morgana_pvh_start32
    .balign 4

    .section .text.boot, "ax"
    .code32
    .global morgana_pvh_start32
morgana_pvh_start32:
    movl $0x40000000, %esi
1:  movl %esi, %eax
    cpuid
    cmpl $0x566e6558, %ebx
    je 2f
    addl $0x100, %esi
    cmpl $0x40010000, %esi
    jb 1b
    jmp 3f
2:  leal 2(%esi), %eax
    cpuid
    movl %ebx, %ecx
    movl $minimal_hypercall_page, %eax
    xorl %edx, %edx
    wrmsr
    movl $2, %ebx
    movl $minimal_shutdown_reason, %ecx
    call minimal_hypercall_page + 29 * 32
3:  cli
    hlt
    jmp 3b

    .section .data.minimal, "aw"
    .balign 4
minimal_shutdown_reason:
    .long 0

    .section .text.minimal_hypercall_page, "ax"
    .balign 4096
minimal_hypercall_page:
    .fill 4096, 1, 0xc3
"#,
    options(att_syntax)
);

#[cfg(target_os = "xen")]
#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

#[cfg(not(target_os = "xen"))]
fn main() {}
