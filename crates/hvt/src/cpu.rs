//! The CPU state this backend owns: GDT, TSS with IST stacks, IDT and the trap handler; and
//! the few instructions the clock and the entropy source need.
//!
//! The tender's GDT lives in a page the guest cannot read, so segment registers can only be
//! reloaded after loading our own. There is no IDT at entry: any fault before [`init`] is a
//! triple fault. After it, every exception lands in [`on_trap`], which prints one line about
//! the trap (a page fault in the guard below the stack is a stack overflow, see
//! [`morgana_x86::guard`]) and the interrupted call stack, and halts with status 255. The
//! handlers run on their own IST stacks, so a full stack still gets its report. Interrupts are
//! never enabled.

use core::arch::{asm, global_asm};
use core::cell::UnsafeCell;
use core::fmt::Write as _;
use core::sync::atomic::{AtomicU64, Ordering};

use morgana_hvt_abi::hypercall::HVT_HALT_COOKIE_MAX;
use morgana_hvt_abi::trap::TrapRegs;
use morgana_x86::backtrace::{self, Frame, Kind};
use morgana_x86::guard;

use crate::cmdline::LogLevel;
use crate::console::{LineBuf, log_line};
use crate::memory::Layout;

/// Code segment selector.
const KERNEL_CS: u16 = 0x08;
/// Data segment selector.
const KERNEL_DS: u16 = 0x10;
/// TSS selector (the descriptor takes two GDT slots).
const TSS_SELECTOR: u16 = 0x18;
/// Number of IDT entries: the CPU exceptions. No interrupt is ever enabled.
const VECTORS: usize = 32;
/// Exceptions that push an error code.
const HAS_ERROR_CODE: [usize; 10] = [8, 10, 11, 12, 13, 14, 17, 21, 29, 30];

#[repr(C, align(16))]
struct Stack<const N: usize>([u8; N]);

/// Descriptor tables, all zero until [`init`] fills them (so they live in `.bss`).
#[repr(C, align(16))]
struct Tables {
    gdt: [u64; 5],
    /// The 104-byte 64-bit TSS as words; it has unaligned 8-byte fields.
    tss: [u32; 26],
    idt: [u64; 2 * VECTORS],
}

/// The IST stacks, in `.bss` too.
#[repr(C, align(16))]
struct Stacks {
    /// IST1: reserved for interrupts, which never come.
    irq: Stack<4096>,
    /// IST2: traps. Larger than Solo5's 4 KiB because the report is formatted on it.
    trap: Stack<16384>,
    /// IST3: NMI and double fault.
    nmi: Stack<4096>,
}

/// Memory written once by [`init`] and afterwards used by the CPU only.
struct CpuCell<T>(UnsafeCell<T>);

// SAFETY: one vCPU and no interrupts: only `init` writes, before the CPU ever reads them.
unsafe impl<T> Sync for CpuCell<T> {}

static TABLES: CpuCell<Tables> = CpuCell(UnsafeCell::new(Tables {
    gdt: [0; 5],
    tss: [0; 26],
    idt: [0; 2 * VECTORS],
}));

static STACKS: CpuCell<Stacks> = CpuCell(UnsafeCell::new(Stacks {
    irq: Stack([0; 4096]),
    trap: Stack([0; 16384]),
    nmi: Stack([0; 4096]),
}));

/// The operand of `lgdt`/`lidt`.
#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

fn stack_top<const N: usize>(s: &Stack<N>) -> u64 {
    s.0.as_ptr() as u64 + N as u64
}

fn set_tss_u64(tss: &mut [u32; 26], byte_offset: usize, value: u64) {
    tss[byte_offset / 4] = value as u32;
    tss[byte_offset / 4 + 1] = (value >> 32) as u32;
}

/// An interrupt gate to `handler` on IST stack `ist`, present, DPL 0.
fn gate(handler: u64, ist: u8) -> [u64; 2] {
    let low = (handler & 0xFFFF)
        | (u64::from(KERNEL_CS) << 16)
        | (u64::from(ist) << 32)
        | (0x8E << 40)
        | (((handler >> 16) & 0xFFFF) << 48);
    [low, handler >> 32]
}

// One stub per exception: push a zero error code where the CPU pushes none, push the vector,
// then join the common path, which saves the general registers (for the call stack and for
// the tender's core file) and passes the whole frame to `on_trap` on an aligned stack.
//
// The stubs are STUB_STRIDE bytes apart in one block that does not cross a 64 KiB boundary,
// so that the IDT is filled by adding the stride (see `init`): under instruction emulation
// (KVM-PVM) every boot instruction counts, and splitting 32 addresses into gate fields cost
// 700. The linker script puts the block first in the text, right after the headers, and
// checks the boundary; aligning it to its own size instead would cost up to 512 bytes of
// padding in every image.
macro_rules! trap_stubs {
    ($($vec:literal: $err:literal),* $(,)?) => {
        global_asm!(
            ".pushsection .text.morgana_traps,\"ax\",@progbits",
            ".balign 16",
            "morgana_trap_stubs:",
            $(
                ".balign 16",
                concat!(".if ", $err, " == 0"),
                "push 0",
                ".endif",
                concat!("push ", $vec),
                "jmp morgana_trap_common",
            )*
            "morgana_trap_common:",
            "push rax", "push rbx", "push rcx", "push rdx", "push rsi", "push rdi", "push rbp",
            "push r8", "push r9", "push r10", "push r11", "push r12", "push r13", "push r14",
            "push r15",
            // Rust code may assume the direction flag clear (the ABI's rule); the trapped code
            // may have had it set (a backward copy), and the report copies with `rep movsb`.
            "cld",
            "mov rdi, rsp",
            "and rsp, -16",
            "call {handler}",
            "ud2",
            ".popsection",
            handler = sym on_trap,
        );
    };
}

trap_stubs!(
    0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 1, 9: 0, 10: 1, 11: 1, 12: 1, 13: 1,
    14: 1, 15: 0, 16: 0, 17: 1, 18: 0, 19: 0, 20: 0, 21: 1, 22: 0, 23: 0, 24: 0, 25: 0, 26: 0,
    27: 0, 28: 0, 29: 1, 30: 1, 31: 0,
);

/// Distance between two stubs; `.balign 16` in the block above.
const STUB_STRIDE: u64 = 16;

unsafe extern "C" {
    /// The first stub (vector 0); vector v's is `STUB_STRIDE * v` bytes further.
    static morgana_trap_stubs: u8;
}

/// Loads our GDT (and reloads every segment register), the TSS and the IDT.
///
/// Must run first in `_start`, once.
pub fn init() {
    debug_assert!(HAS_ERROR_CODE.iter().all(|&v| v < VECTORS));
    // SAFETY: called once at boot on the only vCPU, before anything else uses the tables or
    // the stacks, so these references are the only ones.
    let (t, stacks) = unsafe { (&mut *TABLES.0.get(), &*STACKS.0.get()) };

    t.gdt = [0, 0x00AF_9900_0000_FFFF, 0x00CF_9300_0000_FFFF, 0, 0];
    set_tss_u64(&mut t.tss, 36, stack_top(&stacks.irq)); // IST1
    set_tss_u64(&mut t.tss, 44, stack_top(&stacks.trap)); // IST2
    set_tss_u64(&mut t.tss, 52, stack_top(&stacks.nmi)); // IST3
    t.tss[25] = 104 << 16; // I/O map base past the end: no I/O bitmap
    [t.gdt[3], t.gdt[4]] = morgana_x86::tss_descriptor(t.tss.as_ptr() as u64);

    // The block of stubs (32 * 16 bytes) does not cross a 64 KiB boundary (the linker script
    // checks it): the stubs' addresses differ in their low 16 bits only, and so do their
    // gates' low words, by the stride.
    let first = (&raw const morgana_trap_stubs) as u64;
    debug_assert!(first >> 16 == (first + STUB_STRIDE * VECTORS as u64 - 1) >> 16);
    let [first_low, high] = gate(first, 2);
    let mut low = first_low;
    for pair in t.idt.chunks_exact_mut(2) {
        pair[0] = low;
        pair[1] = high;
        low += STUB_STRIDE;
    }
    // NMI and double fault run on their own stack (IST3).
    for vector in [2, 8] {
        t.idt[2 * vector] = gate(first + STUB_STRIDE * vector as u64, 3)[0];
    }

    let gdtr = DescriptorPointer {
        limit: (size_of::<[u64; 5]>() - 1) as u16,
        base: t.gdt.as_ptr() as u64,
    };
    let idtr = DescriptorPointer {
        limit: (size_of::<[u64; 2 * VECTORS]>() - 1) as u16,
        base: t.idt.as_ptr() as u64,
    };
    // SAFETY: the descriptors describe valid, static tables; the far return reloads CS with
    // our 64-bit code segment at the next instruction, the data selectors name our flat data
    // segment (which also zeroes the FS and GS bases, so stray TLS accesses hit the unmapped
    // zero page), and the TSS descriptor is available until `ltr` marks it busy.
    unsafe {
        asm!(
            "lgdt [{gdtr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov {sel:x}, {ds}",
            "mov ds, {sel:x}",
            "mov es, {sel:x}",
            "mov ss, {sel:x}",
            "mov fs, {sel:x}",
            "mov gs, {sel:x}",
            "mov {sel:x}, {tss}",
            "ltr {sel:x}",
            "lidt [{idtr}]",
            gdtr = in(reg) &gdtr,
            idtr = in(reg) &idtr,
            cs = const KERNEL_CS as u64,
            ds = const KERNEL_DS,
            tss = const TSS_SELECTOR,
            tmp = out(reg) _,
            sel = out(reg) _,
        );
    }
}

/// What the stubs leave on the trap stack.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    /// `r15` down to `r8`, then `rbp`, `rdi`, `rsi`, `rdx`, `rcx`, `rbx`, `rax`: the order the
    /// common path pushes them in, reversed.
    pub gprs_reversed: [u64; 15],
    /// The exception vector.
    pub vector: u64,
    /// The CPU's error code, or 0.
    pub error_code: u64,
    /// Where the trap happened.
    pub rip: u64,
    /// The code segment then.
    pub cs: u64,
    /// RFLAGS then.
    pub rflags: u64,
    /// The stack pointer then.
    pub rsp: u64,
    /// The stack segment then.
    pub ss: u64,
}

/// The mnemonic of exception `vector`.
pub fn trap_name(vector: u64) -> &'static str {
    const NAMES: [&str; VECTORS] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP", "#SS",
        "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23", "#24", "#25",
        "#26", "#27", "#HV", "#VC", "#SX", "#31",
    ];
    NAMES.get(vector as usize).copied().unwrap_or("#??")
}

/// The stack's bounds; both 0 until [`set_stack`] (no backtraces, no guard).
static STACK_BOTTOM: AtomicU64 = AtomicU64::new(0);
static STACK_TOP: AtomicU64 = AtomicU64::new(0);

/// Records where the stack and its guard are (from the boot's [`Layout`]).
pub fn set_stack(layout: &Layout) {
    STACK_BOTTOM.store(layout.stack.start, Ordering::Relaxed);
    STACK_TOP.store(layout.stack.end, Ordering::Relaxed);
}

/// The stack's address range, mapped read-write (empty before boot set it).
pub fn stack_range() -> core::ops::Range<u64> {
    STACK_BOTTOM.load(Ordering::Relaxed)..STACK_TOP.load(Ordering::Relaxed)
}

/// The unmapped guard below the stack (empty before boot set it).
pub fn guard_range() -> core::ops::Range<u64> {
    let bottom = STACK_BOTTOM.load(Ordering::Relaxed);
    if bottom == 0 {
        return 0..0;
    }
    guard::guard_below(bottom)
}

/// Prints one backtrace line (a `Solo5: ` log line at error level).
pub fn print_frame(frame: Frame) {
    let mut line = LineBuf::new();
    let _ = write!(line, "{frame}");
    log_line(LogLevel::Error, line.as_bytes());
}

/// The registers at the trap, for the tender's core file.
fn trap_regs(frame: &TrapFrame, cr2: u64) -> TrapRegs {
    let mut gprs = frame.gprs_reversed;
    gprs.reverse();
    TrapRegs {
        vector: frame.vector,
        error: frame.error_code,
        cr2,
        rip: frame.rip,
        cs: frame.cs,
        rflags: frame.rflags,
        rsp: frame.rsp,
        ss: frame.ss,
        gprs,
    }
}

extern "C" fn on_trap(frame: &TrapFrame) -> ! {
    // The interrupted code's frame pointer: `rbp`, the seventh register pushed.
    let rbp = frame.gprs_reversed[8];
    let cr2: u64;
    // SAFETY: reading CR2 has no side effects; we run at CPL 0.
    unsafe { asm!("mov {}, cr2", out(reg) cr2, options(nomem, nostack, preserves_flags)) };
    let mut line = LineBuf::new();
    let _ = match guard::overflow(frame.vector, cr2, frame.rsp, &guard_range()) {
        Some(overflow) => write!(line, "{overflow}"),
        None => write!(
            line,
            "trap: type={} ec={:#x} rip={:#x} rsp={:#x} rflags={:#x} cr2={:#x}",
            trap_name(frame.vector),
            frame.error_code,
            frame.rip,
            frame.rsp,
            frame.rflags,
            cr2
        ),
    };
    log_line(LogLevel::Error, line.as_bytes());
    print_frame(Frame {
        index: 0,
        kind: Kind::Pc,
        address: frame.rip,
    });
    backtrace::walk(rbp, stack_range(), 1, print_frame);
    log_line(LogLevel::Error, b"ABORT: fatal trap");
    let mut cookie = [0u8; HVT_HALT_COOKIE_MAX as usize];
    cookie[..TrapRegs::SIZE].copy_from_slice(&trap_regs(frame, cr2).encode());
    crate::hypercall::halt_with_cookie(morgana_rt::EXIT_ABORT, &cookie)
}

/// The time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC is always available on x86_64 and reads a counter only.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// `cpuid` leaf `leaf`, sub-leaf `sub`: (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// One RDRAND or RDSEED result: `None` when the CPU had none ready (carry clear).
pub fn rdrand64(seed: bool) -> Option<u64> {
    let value: u64;
    let ok: u8;
    // SAFETY: the caller checked CPUID for the instruction; it only writes the registers.
    unsafe {
        if seed {
            asm!("rdseed {v}", "setc {ok}", v = out(reg) value, ok = out(reg_byte) ok, options(nomem, nostack));
        } else {
            asm!("rdrand {v}", "setc {ok}", v = out(reg) value, ok = out(reg_byte) ok, options(nomem, nostack));
        }
    }
    (ok != 0).then_some(value)
}
