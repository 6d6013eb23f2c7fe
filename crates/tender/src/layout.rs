//! Guest memory layout below 1 MiB (spec 2.2, 2.4): the boot GDT, the identity-mapping page
//! tables, the boot info, the manifest copy and the command line; plus the ELF loader that
//! copies segments above 1 MiB.

use crate::elf::{LoadPlan, PF_R, PF_W, PF_X, file_range};
use crate::memory::{GuestAddress, GuestMemory};
use morgana_hvt_abi::boot::{self as abi, HVT_CMDLINE_SIZE, HVT_GUEST_MIN_BASE};
use std::io;

/// Guest address of the boot GDT.
pub const GDT_BASE: u64 = 0x1000;
/// GDT limit (three 8-byte descriptors, minus one).
pub const GDT_LIMIT: u16 = 23;
/// Guest address of the PML4 (the initial CR3).
pub const PML4_BASE: u64 = 0x2000;
const PDPT_BASE: u64 = 0x3000;
const PD_BASE: u64 = 0x4000;
const PT0_BASE: u64 = 0x8000;
/// Guest address of `struct hvt_boot_info` (and the initial `%rdi`).
pub const BOOT_INFO_BASE: u64 = abi::X86_BOOT_INFO_BASE;
/// Size of `struct hvt_boot_info`.
pub const BOOT_INFO_SIZE: u64 = abi::BootInfo::SIZE as u64;
/// Size of the command-line buffer, NUL included.
pub const CMDLINE_SIZE: u64 = HVT_CMDLINE_SIZE as u64;
/// End of the read-only low region; the image starts here.
const LOW_END: u64 = HVT_GUEST_MIN_BASE;

/// 64-bit code descriptor: type 9 (execute-only, accessed), S, P, L, G.
pub const GDT_CODE: u64 = 0x00AF_9900_0000_FFFF;
/// Data descriptor: type 3 (read/write, accessed), S, P, DB, G.
pub const GDT_DATA: u64 = 0x00CF_9300_0000_FFFF;

const PTE_PRESENT: u64 = 1;
const PTE_WRITE: u64 = 2;
const PDE_LARGE: u64 = 0x80;

/// Writes the GDT and the page tables: the first 2 MiB in 4 KiB pages (below 0x10000 not
/// present, 0x10000-0xFFFFF read-only, the rest read-write), 2 MiB pages above, all
/// supervisor-only and without NX bits, up to the size of guest memory.
pub fn write_page_tables(mem: &GuestMemory) -> io::Result<()> {
    let w = |gpa: u64, value: u64| -> io::Result<()> {
        let r = mem
            .translate(GuestAddress(gpa), 8)
            .map_err(io::Error::other)?;
        r.write_u64(0, value);
        Ok(())
    };
    for (i, d) in [0, GDT_CODE, GDT_DATA].into_iter().enumerate() {
        w(GDT_BASE + 8 * i as u64, d)?;
    }
    w(PML4_BASE, PDPT_BASE | PTE_PRESENT | PTE_WRITE)?;
    for pd in 0..4u64 {
        w(
            PDPT_BASE + 8 * pd,
            (PD_BASE + 0x1000 * pd) | PTE_PRESENT | PTE_WRITE,
        )?;
    }
    w(PD_BASE, PT0_BASE | PTE_PRESENT | PTE_WRITE)?;
    let large = 2u64 << 20;
    let mut addr = large;
    while addr < mem.size() {
        w(
            PD_BASE + 8 * (addr / large),
            addr | PTE_PRESENT | PTE_WRITE | PDE_LARGE,
        )?;
        addr += large;
    }
    for page in 0..512u64 {
        let addr = page * 0x1000;
        let flags = match addr {
            a if a < BOOT_INFO_BASE => 0,
            a if a < LOW_END => PTE_PRESENT,
            _ => PTE_PRESENT | PTE_WRITE,
        };
        if flags != 0 {
            w(PT0_BASE + 8 * page, addr | flags)?;
        }
    }
    Ok(())
}

/// Values the tender places in `struct hvt_boot_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootInfo {
    /// Usable guest memory in bytes.
    pub mem_size: u64,
    /// Page-aligned end of the loaded image.
    pub kernel_end: u64,
    /// TSC frequency in Hz.
    pub cpu_cycle_freq: u64,
}

/// Writes the boot info, the manifest copy right after it, and the NUL-terminated command
/// line after the manifest. `host_features` and `net_ring` stay 0: no ring is offered.
pub fn write_boot_info(
    mem: &GuestMemory,
    info: BootInfo,
    mft: &[u8],
    cmdline: &str,
) -> io::Result<()> {
    let mft_gpa = BOOT_INFO_BASE + BOOT_INFO_SIZE;
    let cmdline_gpa = mft_gpa + mft.len() as u64;
    if cmdline.len() as u64 >= CMDLINE_SIZE || cmdline_gpa + CMDLINE_SIZE > LOW_END {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    let bi = mem
        .translate(GuestAddress(BOOT_INFO_BASE), BOOT_INFO_SIZE)
        .map_err(io::Error::other)?;
    let wire = abi::BootInfo {
        mem_size: info.mem_size,
        kernel_end: info.kernel_end,
        cpu_cycle_freq: info.cpu_cycle_freq,
        cmdline: cmdline_gpa,
        mft: mft_gpa,
        host_features: 0,
        guest_features: 0,
        net_ring: 0,
    };
    bi.write(0, &wire.encode());
    let m = mem
        .translate(GuestAddress(mft_gpa), mft.len() as u64)
        .map_err(io::Error::other)?;
    m.write(0, mft);
    let c = mem
        .translate(GuestAddress(cmdline_gpa), CMDLINE_SIZE)
        .map_err(io::Error::other)?;
    c.write(0, cmdline.as_bytes());
    c.write(cmdline.len(), &[0]);
    Ok(())
}

/// Copies the planned segments into guest memory and write-protects them on the host as
/// their flags say (R or X: read; W: write). The host never maps guest memory executable.
pub fn load_segments(mem: &GuestMemory, file: &[u8], plan: &LoadPlan) -> io::Result<()> {
    for seg in &plan.segments {
        let bytes = file_range(file, seg.file_offset, seg.filesz)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        mem.fill(seg.vaddr, bytes, seg.memsz)?;
    }
    for seg in &plan.segments {
        let mut prot = libc::PROT_NONE;
        if seg.flags & (PF_R | PF_X) != 0 {
            prot |= libc::PROT_READ;
        }
        if seg.flags & PF_W != 0 {
            prot |= libc::PROT_WRITE;
        }
        mem.protect(seg.start, seg.end, prot)?;
    }
    Ok(())
}
