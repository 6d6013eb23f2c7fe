//! The IDT: every CPU exception is reported on the console (vector, name, error code, `rip`,
//! `cr2`) with the call stack ([`morgana_x86::backtrace`]) and ends the domain as crashed with
//! the abort status. A page fault in the guard below the boot stack is reported as a stack
//! overflow ([`morgana_x86::guard`]) instead.
//!
//! The handlers run on stacks of their own (the TSS's IST), not on the interrupted one: a
//! fault caused by a full stack could not push its frame there, and would become a double
//! fault, then a triple fault with no message.

use core::fmt::Write;

use morgana_x86::backtrace::{self, Frame, Kind};
use morgana_x86::guard;

/// What the stubs push before calling [`morgana_trap`].
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    /// Exception vector.
    pub vector: u64,
    /// Error code (0 for vectors without one).
    pub error: u64,
    /// Faulting instruction.
    pub rip: u64,
    /// Code segment.
    pub cs: u64,
    /// Flags.
    pub rflags: u64,
    /// The interrupted stack pointer (pushed in long mode whatever the privilege level).
    pub rsp: u64,
    /// The interrupted stack segment.
    pub ss: u64,
}

// Per-vector stubs: push a zero error code where the CPU pushes none, push the vector, then the
// common path passes a pointer to the frame, CR2 and the interrupted code's frame pointer to
// `morgana_trap` (which never returns).
core::arch::global_asm!(
    r#"
    .section .text.morgana_traps, "ax"
    .code64
    .altmacro
    .macro morgana_stub n
    .balign 16
    morgana_trap_stub_\n:
    .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    .else
        pushq $0
    .endif
        pushq $\n
        jmp morgana_trap_common
    .endm
    .set i, 0
    .rept 32
        morgana_stub %i
        .set i, i + 1
    .endr

morgana_trap_common:
    # Rust code may assume the direction flag clear (the ABI's rule); the trapped code may
    # have had it set (a backward copy).
    cld
    movq %rsp, %rdi
    movq %cr2, %rsi
    movq %rbp, %rdx
    andq $-16, %rsp
    call morgana_trap
    ud2

    .section .rodata.morgana_trap_table, "a"
    .balign 8
    .global morgana_trap_stubs
morgana_trap_stubs:
    .macro morgana_stub_addr n
        .quad morgana_trap_stub_\n
    .endm
    .set i, 0
    .rept 32
        morgana_stub_addr %i
        .set i, i + 1
    .endr
    .noaltmacro
"#,
    options(att_syntax)
);

unsafe extern "C" {
    static morgana_trap_stubs: [u64; 32];
}

#[repr(C, align(16))]
struct Idt([[u64; 2]; 32]);

static mut IDT: Idt = Idt([[0; 2]; 32]);

/// The GDT of [`crate::start32`] (null, code 0x08, data 0x10) plus the TSS descriptor (0x18,
/// two slots), filled by [`install`].
#[repr(C, align(16))]
struct Gdt([u64; 5]);

static mut GDT: Gdt = Gdt([0, 0x00af_9a00_0000_ffff, 0x00cf_9200_0000_ffff, 0, 0]);

/// TSS selector.
const TSS_SELECTOR: u16 = 0x18;

/// The 104-byte 64-bit TSS as words (its 8-byte fields are not 8-aligned).
#[repr(C, align(16))]
struct Tss([u32; 26]);

static mut TSS: Tss = Tss([0; 26]);

/// A stack for the trap handlers.
#[repr(C, align(16))]
struct TrapStack([u8; 16384]);

/// IST1: every exception but the next two. The report is formatted on it.
static mut TRAP_STACK: TrapStack = TrapStack([0; 16384]);
/// IST2: NMI and double fault, so that a fault on IST1 still has a stack.
static mut FAULT_STACK: TrapStack = TrapStack([0; 16384]);

/// Fills and loads the GDT with the TSS (whose IST names the trap stacks), and the IDT;
/// called once at boot.
pub fn install() {
    // SAFETY: boot is single-threaded and runs this once before anything reads the tables;
    // the stub table is a read-only array of 32 addresses defined above. The new GDT has the
    // same code and data descriptors at the same selectors as the boot one, so the segment
    // registers stay valid without a reload, and the TSS descriptor is available until `ltr`
    // marks it busy.
    unsafe {
        let tss = &mut *core::ptr::addr_of_mut!(TSS);
        let ist = |stack: *const TrapStack| stack as u64 + size_of::<TrapStack>() as u64;
        for (n, top) in [
            ist(core::ptr::addr_of!(TRAP_STACK)),
            ist(core::ptr::addr_of!(FAULT_STACK)),
        ]
        .into_iter()
        .enumerate()
        {
            // IST n+1 is at byte 36 + 8n.
            tss.0[9 + 2 * n] = top as u32;
            tss.0[10 + 2 * n] = (top >> 32) as u32;
        }
        tss.0[25] = 104 << 16; // I/O map base past the end: no I/O bitmap
        let gdt = &mut *core::ptr::addr_of_mut!(GDT);
        [gdt.0[3], gdt.0[4]] = morgana_x86::tss_descriptor(tss.0.as_ptr() as u64);
        let gdt_pointer = descriptor_pointer(gdt.0.as_ptr() as u64, size_of::<Gdt>());
        core::arch::asm!(
            "lgdt [{}]",
            "ltr {:x}",
            in(reg) gdt_pointer.as_ptr(),
            in(reg) TSS_SELECTOR,
            options(nostack)
        );

        let idt = &mut *core::ptr::addr_of_mut!(IDT);
        for (vector, (entry, &handler)) in
            idt.0.iter_mut().zip(morgana_trap_stubs.iter()).enumerate()
        {
            let ist = if vector == 2 || vector == 8 { 2 } else { 1 };
            // 64-bit interrupt gate, present, DPL 0, selector 0x08, on stack IST `ist`.
            let low = (handler & 0xffff)
                | (0x08 << 16)
                | (ist << 32)
                | (0x8e00u64 << 32)
                | ((handler >> 16) & 0xffff) << 48;
            entry[0] = low;
            entry[1] = handler >> 32;
        }
        let pointer = descriptor_pointer(idt as *const Idt as u64, size_of::<Idt>());
        core::arch::asm!("lidt [{}]", in(reg) pointer.as_ptr(), options(readonly, nostack));
    }
}

/// The operand of `lgdt`/`lidt` for a table at `base` of `size` bytes.
fn descriptor_pointer(base: u64, size: usize) -> [u16; 5] {
    [
        (size - 1) as u16,
        base as u16,
        (base >> 16) as u16,
        (base >> 32) as u16,
        (base >> 48) as u16,
    ]
}

fn name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        2 => "NMI",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point error",
        _ => "reserved",
    }
}

struct Report([u8; 160], usize);

impl Write for Report {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.0.len() - self.1);
        self.0[self.1..self.1 + n].copy_from_slice(&s.as_bytes()[..n]);
        self.1 += n;
        Ok(())
    }
}

/// Called by the stubs with the frame, CR2 (read first thing, before anything can fault) and
/// the interrupted code's `rbp`, from which its call stack is printed.
#[unsafe(no_mangle)]
extern "C" fn morgana_trap(frame: &TrapFrame, cr2: u64, rbp: u64) -> ! {
    let mut r = Report([0; 160], 0);
    match guard::overflow(frame.vector, cr2, frame.rsp, &crate::start32::guard_range()) {
        Some(overflow) => {
            let _ = writeln!(r, "{overflow}");
        }
        None => {
            let _ = writeln!(
                r,
                "trap: vector {} ({}), error {:#x}, rip {:#x}, cr2 {:#x}",
                frame.vector,
                name(frame.vector),
                frame.error,
                frame.rip,
                cr2
            );
        }
    }
    crate::console::write(&r.0[..r.1]);
    let pc = Frame {
        index: 0,
        kind: Kind::Pc,
        address: frame.rip,
    };
    print_frame(pc);
    backtrace::walk(rbp, crate::start32::stack_range(), 1, print_frame);
    crate::shutdown::exit(morgana_rt::EXIT_ABORT)
}

/// Prints one backtrace line on the console.
pub fn print_frame(frame: Frame) {
    let mut r = Report([0; 160], 0);
    let _ = writeln!(r, "{frame}");
    crate::console::write(&r.0[..r.1]);
}
