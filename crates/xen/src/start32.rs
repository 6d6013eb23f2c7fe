//! The PVH entry: from 32-bit protected mode without paging to long mode on our own page tables.
//!
//! Xen enters at the address in the `XEN_ELFNOTE_PHYS32_ENTRY` note with `%ebx` holding the
//! physical address of the [`crate::abi::HvmStartInfo`], paging off and interrupts off. We
//! identity-map the first 4 GiB with 2 MiB pages (which covers the special pages Xen puts just
//! below 4 GiB: console and xenstore rings), except the 2 MiB around the stack's guard, which
//! are mapped with 4 KiB pages so that the guard's can be left out. Then we load a GDT with a
//! 64-bit code segment, enable PAE, long mode and paging, switch to our stack and call
//! `morgana_xen_boot(start_info)`. SSE is enabled here too (CR4.OSFXSR|OSXMMEXCPT, CR0.MP set
//! and CR0.EM clear), before any compiled code runs: a hard-float image uses it from its first
//! Rust instruction.
//!
//! In `.bss`, from low to high: the page tables, the guard ([`GUARD_SIZE`] bytes, unmapped,
//! aligned to its size so that it lies within one 2 MiB page), the stack ([`STACK_SIZE`]). A
//! stack overflow is a page fault in the guard, which [`crate::traps`] reports as such, never
//! a write into the page tables or anything else.

core::arch::global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long {phys32_entry}
    .asciz "Xen"
    .balign 4
    .long morgana_pvh_start32
    .balign 4

    .section .text.boot, "ax"
    .code32
    .global morgana_pvh_start32
morgana_pvh_start32:
    cli
    cld
    movl %ebx, morgana_start_info_paddr

    /* PML4[0] -> PDPT; PDPT[0..4] -> four page directories; each PD entry maps 2 MiB. */
    movl $morgana_pdpt, %eax
    orl $3, %eax
    movl %eax, morgana_pml4
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    addl $morgana_pd, %eax
    orl $3, %eax
    movl %eax, morgana_pdpt(,%ecx,8)
    incl %ecx
    cmpl $4, %ecx
    jb 1b
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, morgana_pd(,%ecx,8)
    movl $0, morgana_pd+4(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jb 2b

    /* The 2 MiB page that holds the guard becomes a table of 4 KiB pages without the guard's. */
    movl $morgana_stack_guard, %edx
    andl $0xffe00000, %edx
    xorl %ecx, %ecx
5:  movl %ecx, %eax
    shll $12, %eax
    addl %edx, %eax
    orl $3, %eax
    movl %eax, morgana_guard_pt(,%ecx,8)
    incl %ecx
    cmpl $512, %ecx
    jb 5b
    movl $morgana_stack_guard, %eax
    subl %edx, %eax
    shrl $12, %eax
    movl ${guard_pages}, %ecx
6:  movl $0, morgana_guard_pt(,%eax,8)
    incl %eax
    decl %ecx
    jnz 6b
    shrl $21, %edx
    movl $morgana_guard_pt, %eax
    orl $3, %eax
    movl %eax, morgana_pd(,%edx,8)

    movl %cr4, %eax
    orl $0x620, %eax
    movl %eax, %cr4
    movl $morgana_pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    andl $0xfffffffb, %eax
    orl $0x80000003, %eax
    movl %eax, %cr0
    lgdt morgana_gdt_ptr
    ljmp $0x08, $3f

    .code64
3:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $morgana_stack_top, %rsp
    xorl %ebp, %ebp
    movl morgana_start_info_paddr, %edi
    call morgana_xen_boot
4:  hlt
    jmp 4b

    .section .rodata.morgana_gdt, "a"
    .balign 16
morgana_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
morgana_gdt_end:
    .balign 4
morgana_gdt_ptr:
    .word morgana_gdt_end - morgana_gdt - 1
    .long morgana_gdt

    .section .data.morgana_start_info, "aw"
    .balign 4
    .global morgana_start_info_paddr
morgana_start_info_paddr:
    .long 0

    .section .bss.morgana_boot, "aw", @nobits
    .balign 4096
morgana_pml4:
    .skip 4096
morgana_pdpt:
    .skip 4096
morgana_pd:
    .skip 4 * 4096
morgana_guard_pt:
    .skip 4096
    .balign {guard_size}
    .global morgana_stack_guard
morgana_stack_guard:
    .skip {guard_size}
    .global morgana_stack
morgana_stack:
    .skip {stack_size}
    .global morgana_stack_top
morgana_stack_top:
"#,
    phys32_entry = const crate::abi::XEN_ELFNOTE_PHYS32_ENTRY,
    stack_size = const STACK_SIZE,
    guard_size = const GUARD_SIZE,
    guard_pages = const GUARD_SIZE / 4096,
    options(att_syntax)
);

/// Bytes of the boot stack, on which the whole unikernel runs. embassy-net fills the direct
/// stack's socket table through a temporary on the stack (about 1.3 MB for
/// `morgana_tcpip::MAX_SOCKETS` sockets), which a smaller stack would overflow into its guard;
/// in `.bss`, so it costs guest memory but no image bytes.
pub const STACK_SIZE: usize = 2 * 1024 * 1024;

/// Bytes of the unmapped guard directly below the stack.
pub const GUARD_SIZE: usize = morgana_x86::guard::GUARD_SIZE as usize;

unsafe extern "C" {
    /// The bottom of the guard below the boot stack (an address only).
    static morgana_stack_guard: u8;
    /// The bottom of the boot stack (an address only).
    static morgana_stack: u8;
    /// The top of the boot stack (an address only).
    static morgana_stack_top: u8;
}

/// The boot stack's address range, for backtraces.
pub fn stack_range() -> core::ops::Range<u64> {
    (&raw const morgana_stack) as u64..(&raw const morgana_stack_top) as u64
}

/// The unmapped guard's address range, directly below [`stack_range`].
pub fn guard_range() -> core::ops::Range<u64> {
    (&raw const morgana_stack_guard) as u64..(&raw const morgana_stack) as u64
}
