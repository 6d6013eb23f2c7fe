//! `_start`: from the tender's hand-over to the application (the order of spec section 4.7).
//!
//! 1. Own GDT, TSS and IDT ([`cpu::init`]): from here on a fault prints a trap line.
//! 2. The command line from the boot info; leading `--solo5:LEVEL` options set how much this
//!    backend prints and are removed.
//! 3. The memory layout ([`Layout`]): the heap from `_end` rounded up to a page to the guard,
//!    the guard, and the stack at the top of memory, where the tender put it. Our own page
//!    tables leave the guard unmapped ([`paging`]).
//! 4. The TSC clock, the manifest copy (validated), and the device table filled from it: each
//!    declared device with its manifest handle.
//! 5. [`morgana_rt::run`], which ends in [`HvtPlatform::exit`]: the `HALT` hypercall.

use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;

use morgana_rt::manifest::{Bindings, Device};
use morgana_rt::{Platform, Spawner};

use crate::block::Block;
use crate::cmdline::{self, LogLevel};
use crate::console::{LineBuf, abort, log};
use crate::memory::{BOOT_AREA, Layout};
use crate::net::Net;
use crate::{clock, console, cpu, devices, mft, paging, wait};
use morgana_hvt_abi::boot::{BootInfo, HVT_CMDLINE_SIZE, X86_BOOT_INFO_BASE};
use morgana_hvt_abi::mft::{MftEntry, MftHeader};

unsafe extern "C" {
    static _stext: u8;
    static _etext: u8;
    static _erodata: u8;
    static _edata: u8;
    static _end: u8;
}

/// The hvt platform: every service is a hypercall or the TSC.
#[derive(Debug)]
pub struct HvtPlatform;

static PLATFORM: HvtPlatform = HvtPlatform;

impl morgana_console::Console for HvtPlatform {
    fn write(&self, bytes: &[u8]) {
        console::write(bytes)
    }
}

impl morgana_clock::Clock for HvtPlatform {
    fn monotonic_ns(&self) -> u64 {
        clock::monotonic_ns()
    }
    fn wall_ns(&self) -> u64 {
        clock::wall_ns()
    }
}

impl morgana_entropy::SeedSource for HvtPlatform {
    fn fill_seed(&self, dest: &mut [u8]) -> Result<(), morgana_entropy::EntropyError> {
        crate::entropy::fill(dest)
    }
}

impl Platform for HvtPlatform {
    fn wait(&self, deadline_ns: Option<u64>) {
        wait::wait(deadline_ns)
    }

    fn exit(&self, status: u8) -> ! {
        // "solo5_exit({status}) called", without core::fmt (see `LineBuf::push_hex`).
        let mut line = LineBuf::new();
        line.push_str("solo5_exit(");
        line.push_decimal(u64::from(status));
        line.push_str(") called");
        line.print(LogLevel::Info);
        crate::hypercall::halt(status)
    }

    fn write_backtrace(&self) {
        let rbp = morgana_x86::backtrace::frame_pointer();
        morgana_x86::backtrace::walk(rbp, cpu::stack_range(), 0, |frame| {
            // Like the panic message, without the log prefix.
            let mut line = console::LineBuf::new();
            let _ = core::fmt::Write::write_fmt(&mut line, format_args!("{frame}\n"));
            self.write_error(line.as_bytes());
        });
    }
}

/// The NUL-terminated command line at `address`, checked to lie in the boot area.
fn command_line(info: &BootInfo) -> &'static str {
    let start = info.cmdline;
    let end = start.saturating_add(HVT_CMDLINE_SIZE as u64);
    if !BOOT_AREA.contains(&start) || end > BOOT_AREA.end {
        abort(format_args!(
            "the command line address {start:#x} is outside the boot area"
        ))
    }
    // SAFETY: the tender maps the whole boot area read-only and never changes it; the range
    // was checked above, so these 8192 bytes are readable for the rest of the program.
    let bytes: &'static [u8] =
        unsafe { core::slice::from_raw_parts(start as usize as *const u8, HVT_CMDLINE_SIZE) };
    let Some(len) = bytes.iter().position(|&b| b == 0) else {
        abort(format_args!("the command line is not NUL-terminated"))
    };
    match core::str::from_utf8(&bytes[..len]) {
        Ok(s) => s,
        Err(_) => abort(format_args!("the command line is not valid UTF-8")),
    }
}

/// The tender's manifest copy, validated.
fn manifest(info: &BootInfo) -> &'static [MftEntry] {
    let start = info.mft;
    let fits = |len: u64| {
        start
            .checked_add(len)
            .is_some_and(|end| end <= BOOT_AREA.end)
    };
    if !BOOT_AREA.contains(&start) || !start.is_multiple_of(8) || !fits(8) {
        abort(format_args!(
            "the manifest address {start:#x} is outside the boot area"
        ))
    }
    // SAFETY: 8 aligned, readable bytes of the read-only boot area (checked above).
    let header = unsafe { core::ptr::read(start as usize as *const MftHeader) };
    let entries = match mft::check_header(&header) {
        Ok(n) => n,
        Err(e) => abort(format_args!("the tender's manifest is invalid: {e}")),
    };
    if !fits(8 + (entries * size_of::<MftEntry>()) as u64) {
        abort(format_args!("the tender's manifest overruns the boot area"))
    }
    // SAFETY: the entries follow the header, 8-aligned, inside the read-only boot area
    // (checked above), and the tender never changes them while the guest runs.
    let entries: &'static [MftEntry] =
        unsafe { core::slice::from_raw_parts((start as usize + 8) as *const MftEntry, entries) };
    if let Err(e) = mft::check_entries(entries) {
        abort(format_args!("the tender's manifest is invalid: {e}"))
    }
    entries
}

/// The manifest handle and entry of the declared `device`.
///
/// Aborts when the tender's copy does not match the declaration (the device missing, of
/// another type, or not attached): that is the tender's fault, not the application's.
fn manifest_entry(manifest: &'static [MftEntry], device: Device) -> (u64, &'static MftEntry) {
    let kind = device.kind;
    let Some((handle, entry)) = mft::find(manifest, device.name) else {
        abort(format_args!(
            "device '{}' is missing from the tender's manifest",
            device.name
        ))
    };
    if entry.kind != mft::entry_kind(kind) {
        abort(format_args!(
            "device '{}' has type {:#x} in the tender's manifest, expected a {kind} device",
            device.name, entry.kind
        ))
    }
    if entry.attached == 0 {
        abort(format_args!(
            "device '{}' of type {kind} declared but not attached",
            device.name
        ))
    }
    log(
        LogLevel::Debug,
        format_args!("{kind} device '{}' is handle {handle}", device.name),
    );
    (handle as u64, entry)
}

/// Binds every declared device to its manifest entry.
fn bind(declared: &'static [Device], manifest: &'static [MftEntry]) -> Bindings<Net, Block> {
    let bound = Bindings::bind(
        declared,
        |d| {
            let (handle, entry) = manifest_entry(manifest, d);
            Ok::<_, core::convert::Infallible>(Net::attach(handle, entry))
        },
        |d| {
            let (handle, entry) = manifest_entry(manifest, d);
            Ok(Block::attach(d, handle, entry))
        },
    );
    let Ok(bound) = bound;
    bound
}

fn symbol_address(symbol: *const u8) -> u64 {
    symbol as u64
}

/// Boots the unikernel: called by the `_start` the facade's `main!` emits, with the value
/// the tender put in `%rdi` (the boot info's address, always 0x10000).
pub fn start<F, Fut, E>(boot_info: u64, devices: &'static [Device], app: F) -> !
where
    F: FnOnce(Spawner) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: core::fmt::Display,
{
    cpu::init();
    // A hard-float image may run code that picks AVX by CPUID: enable the state it needs. A
    // soft-float one has no vector instruction to enable anything for.
    #[cfg(target_feature = "sse2")]
    // SAFETY: first thing at boot, at CPL 0, on the only vCPU.
    unsafe {
        morgana_x86::enable_vector_state();
    }
    if boot_info != X86_BOOT_INFO_BASE {
        abort(format_args!(
            "boot info at {boot_info:#x}, expected 0x10000"
        ))
    }
    // SAFETY: the tender wrote the boot info at 0x10000 (checked above) in its read-only
    // area; a pre-0.11 tender wrote only 40 bytes, but the manifest copy follows them, so all
    // 56 are readable either way (`ring_offered` copes with what they then contain).
    let info = unsafe { core::ptr::read(boot_info as usize as *const BootInfo) };
    let (level, rest) = match cmdline::strip_options(command_line(&info)) {
        Ok(parsed) => parsed,
        Err(e) => console::fail(format_args!("{e}")),
    };
    console::set_level(level);

    // Linker-script symbols: only their addresses mean something.
    let (text, etext, erodata, edata, end) = (
        symbol_address(&raw const _stext),
        symbol_address(&raw const _etext),
        symbol_address(&raw const _erodata),
        symbol_address(&raw const _edata),
        symbol_address(&raw const _end),
    );
    let Some(layout) = Layout::new(end, info.mem_size) else {
        abort(format_args!("Not enough memory"))
    };
    paging::install(info.mem_size, layout.guard.clone());
    cpu::set_stack(&layout);
    // The banner and "Memory map: {} MiB addressable: text {:#x}-{:#x} rodata -{:#x} data -{:#x}
    // heap >= {:#x} < stack < {:#x}", built without core::fmt and printed with one PUTS: under
    // KVM-PVM every guest instruction and every exit costs (see `LineBuf::push_hex`).
    if console::enabled(LogLevel::Info) {
        let mut line = LineBuf::new();
        line.push_str("Morgana hvt guest, Solo5 ABI version 2\nSolo5: Memory map: ");
        line.push_decimal(info.mem_size >> 20);
        line.push_str(" MiB addressable: text ");
        line.push_hex(text);
        for (label, value) in [
            ("-", etext - 1),
            (" rodata -", erodata - 1),
            (" data -", edata - 1),
            (" heap >= ", end.next_multiple_of(4096)),
            (" < stack < ", info.mem_size),
        ] {
            line.push_str(label);
            line.push_hex(value);
        }
        line.print(LogLevel::Info);
    }
    // A soft-float image relies on the tender hiding SIMD from CPUID (morgana-hvt does, on a
    // KVM that intercepts CPUID). Where it shows through (KVM-PVM, Solo5's own tender), code
    // that picks SIMD by CPUID may compute wrong results: say so.
    #[cfg(not(target_feature = "sse2"))]
    if cpu::cpuid(1, 0).3 & (1 << 26) != 0 {
        console::log_line(
            LogLevel::Warn,
            b"warning: CPUID shows SIMD to this soft-float image; code choosing SIMD by CPUID \
              may give wrong results: run it under morgana-hvt on hardware KVM, or hard-float",
        );
    }
    // SAFETY: the heap lies between the image's end and the stack's guard, is mapped
    // read-write, and nothing else uses it.
    unsafe {
        morgana_rt::heap::init(
            layout.heap.start as usize as *mut u8,
            (layout.heap.end - layout.heap.start) as usize,
        )
    };

    if !clock::init(info.cpu_cycle_freq) {
        abort(format_args!("the tender reports a TSC frequency of 0"))
    }
    let manifest = manifest(&info);
    devices::install(bind(devices, manifest));
    if info.ring_offered() {
        log(
            LogLevel::Debug,
            format_args!(
                "network ring offered at {:#x}; using hypercalls",
                info.net_ring
            ),
        );
    }
    // C code in the image (cc-built crates) prints through the freestanding libc.
    morgana_libc::set_console_writer(morgana_rt::console_write);
    let args: Vec<String> = cmdline::split_args(rest);
    morgana_rt::run(&PLATFORM, args, app)
}
