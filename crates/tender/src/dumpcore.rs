//! `--dumpcore[=DIR]`: an ELF core file of the guest when it ends on a trap, an abort or a
//! panic (exit status 255), or when the tender stops it for a fault of its own making.
//!
//! The file, `DIR/core.morgana-hvt.PID`, is created (exclusively, mode 0600, with the rights of
//! the tender's user) before the guest runs and before the seccomp filter forbids opening
//! files; the filter then allows writing to that one descriptor and unlinking in that one
//! directory. A guest that exits with any other status leaves no file: it is unlinked.
//!
//! The core is what gdb reads for a Linux x86_64 process: an `ET_CORE` ELF with
//! - a `PT_NOTE` holding one `NT_PRSTATUS` (named `CORE`) with the registers: those at the
//!   trapping instruction when the guest passed them as its HALT cookie
//!   ([`morgana_hvt_abi::trap::TrapRegs`]), otherwise the vCPU's own at the stop;
//! - one `PT_LOAD` with all of guest memory at guest address 0 (guest-virtual equals
//!   guest-physical under the tender's identity map).
//!
//! So `gdb IMAGE CORE` shows the faulting frame, and `bt` walks the guest's frame pointers.

use std::ffi::CString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use kvm_bindings::kvm_regs;
use morgana_hvt_abi::hypercall::{HVT_HALT_COOKIE_MAX, HcHalt};
use morgana_hvt_abi::trap::TrapRegs;

use crate::memory::{GuestAddress, GuestMemory};

/// Why the core file could not be prepared: one line, before the guest starts.
#[derive(Debug, thiserror::Error)]
#[error("--dumpcore: {}: {err}", path.display())]
pub struct DumpcoreError {
    /// The directory or file.
    pub path: PathBuf,
    /// What failed.
    pub err: std::io::Error,
}

/// A core file created before the guest runs, written or removed when it stops.
#[derive(Debug)]
pub struct CoreFile {
    dir: OwnedFd,
    file: File,
    name: CString,
    path: PathBuf,
    /// Headers and notes, allocated up front (nothing large is allocated under seccomp).
    header: Vec<u8>,
}

const SIGILL: u16 = 4;
const SIGTRAP: u16 = 5;
const SIGABRT: u16 = 6;
const SIGFPE: u16 = 8;
const SIGSEGV: u16 = 11;

/// `struct elf_prstatus` on x86_64 Linux: 112 bytes before the registers, 27 registers, then
/// `pr_fpvalid` and padding.
const PRSTATUS_SIZE: usize = 336;
const PRSTATUS_REGS: usize = 112;
const NOTE_SIZE: usize = 12 + 8 + PRSTATUS_SIZE;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
/// Guest memory starts at this file offset (page-aligned, after the headers and the note).
const MEMORY_OFFSET: u64 = 4096;

impl CoreFile {
    /// Opens `dir` and creates the core file in it; an error names what failed.
    pub fn create(dir: &Path) -> Result<CoreFile, DumpcoreError> {
        let fail = |path: &Path, err| DumpcoreError {
            path: path.to_path_buf(),
            err,
        };
        let c_dir = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| fail(dir, std::io::Error::from_raw_os_error(libc::EINVAL)))?;
        // SAFETY: `c_dir` is a NUL-terminated path; the result is checked before use.
        let fd = unsafe {
            libc::open(
                c_dir.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(fail(dir, std::io::Error::last_os_error()));
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let dir_fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let name = format!("core.morgana-hvt.{}", std::process::id());
        let path = dir.join(&name);
        let c_name =
            CString::new(name).map_err(|_| fail(&path, std::io::ErrorKind::InvalidInput.into()))?;
        // SAFETY: `dir_fd` is an open directory and `c_name` a NUL-terminated file name.
        let file = unsafe {
            libc::openat(
                dir_fd.as_raw_fd(),
                c_name.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
                0o600,
            )
        };
        if file < 0 {
            return Err(fail(&path, std::io::Error::last_os_error()));
        }
        Ok(CoreFile {
            dir: dir_fd,
            // SAFETY: `file` was just opened and is owned by nothing else.
            file: unsafe { File::from_raw_fd(file) },
            name: c_name,
            path,
            header: Vec::with_capacity(MEMORY_OFFSET as usize),
        })
    }

    /// The core file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory's descriptor (seccomp allows `unlinkat` there).
    pub fn dir_fd(&self) -> RawFd {
        self.dir.as_raw_fd()
    }

    /// The file's descriptor (seccomp allows `write` to it).
    pub fn file_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// Removes the file: the guest ended without a reason to dump.
    pub fn discard(&self) {
        // SAFETY: unlinks our own file by name in our own directory descriptor.
        unsafe { libc::unlinkat(self.dir.as_raw_fd(), self.name.as_ptr(), 0) };
    }

    /// Writes the core: registers from the HALT cookie at the stop when the guest gave its
    /// trapped registers, else `regs`; then all of `mem`.
    pub fn write(&mut self, regs: &kvm_regs, mem: &GuestMemory) -> std::io::Result<()> {
        let trap = halted_trap(regs, mem);
        let signal = match trap.map(|t| t.vector) {
            Some(0 | 16 | 19) => SIGFPE,
            Some(6) => SIGILL,
            Some(1 | 3) => SIGTRAP,
            Some(_) => SIGSEGV,
            None => SIGABRT,
        };
        let gprs = prstatus_registers(regs, trap.as_ref());
        self.header.clear();
        elf_header(&mut self.header, mem.size());
        prstatus_note(&mut self.header, signal, &gprs);
        self.header.resize(MEMORY_OFFSET as usize, 0);
        self.file.write_all(&self.header)?;
        // SAFETY: the mapping is `mem.size()` readable bytes (the loader's protections are
        // read-only or read-execute, never none) and the vCPU is stopped.
        let memory = unsafe {
            std::slice::from_raw_parts(mem.host_base() as *const u8, mem.size() as usize)
        };
        self.file.write_all(memory)
    }
}

/// The guest's trapped registers, when it stopped in HALT with a Morgana trap cookie.
fn halted_trap(regs: &kvm_regs, mem: &GuestMemory) -> Option<TrapRegs> {
    // A HALT is `out` with the argument's address in eax.
    let arg = mem
        .translate(GuestAddress(regs.rax & 0xffff_ffff), HcHalt::SIZE as u64)
        .ok()?;
    let mut bytes = [0; HcHalt::SIZE];
    arg.read(0, &mut bytes);
    let cookie = HcHalt::decode(&bytes).cookie;
    if cookie == 0 {
        return None;
    }
    let region = mem
        .translate(GuestAddress(cookie), HVT_HALT_COOKIE_MAX)
        .ok()?;
    let mut bytes = [0; TrapRegs::SIZE];
    region.read(0, &mut bytes);
    TrapRegs::decode(&bytes)
}

/// The 27 words of `user_regs_struct`: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi
/// rdi orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs.
fn prstatus_registers(r: &kvm_regs, trap: Option<&TrapRegs>) -> [u64; 27] {
    let (cs, ss) = (0x08, 0x10);
    match trap {
        Some(t) => {
            let g = &t.gprs; // rax rbx rcx rdx rsi rdi rbp r8..r15
            [
                g[14],
                g[13],
                g[12],
                g[11],
                g[6],
                g[1],
                g[10],
                g[9],
                g[8],
                g[7],
                g[0],
                g[2],
                g[3],
                g[4],
                g[5],
                u64::MAX,
                t.rip,
                t.cs,
                t.rflags,
                t.rsp,
                t.ss,
                0,
                0,
                ss,
                ss,
                ss,
                ss,
            ]
        }
        None => [
            r.r15,
            r.r14,
            r.r13,
            r.r12,
            r.rbp,
            r.rbx,
            r.r11,
            r.r10,
            r.r9,
            r.r8,
            r.rax,
            r.rcx,
            r.rdx,
            r.rsi,
            r.rdi,
            u64::MAX,
            r.rip,
            cs,
            r.rflags,
            r.rsp,
            ss,
            0,
            0,
            ss,
            ss,
            ss,
            ss,
        ],
    }
}

fn elf_header(out: &mut Vec<u8>, mem_size: u64) {
    out.extend_from_slice(b"\x7fELF");
    out.extend_from_slice(&[2, 1, 1, 0]); // 64-bit, little-endian, version 1, System V
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&4u16.to_le_bytes()); // ET_CORE
    out.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    out.extend_from_slice(&(EHDR_SIZE as u64).to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for half in [EHDR_SIZE as u16, PHDR_SIZE as u16, 2, 0, 0, 0] {
        out.extend_from_slice(&half.to_le_bytes());
    }
    let note_offset = (EHDR_SIZE + 2 * PHDR_SIZE) as u64;
    // PT_NOTE
    phdr(out, 4, 0, note_offset, 0, NOTE_SIZE as u64, 0, 4);
    // PT_LOAD, readable, writable and executable: all of guest memory at address 0.
    phdr(out, 1, 7, MEMORY_OFFSET, 0, mem_size, mem_size, 4096);
}

#[allow(clippy::too_many_arguments)]
fn phdr(
    out: &mut Vec<u8>,
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
) {
    out.extend_from_slice(&p_type.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    for word in [offset, vaddr, vaddr, filesz, memsz, align] {
        out.extend_from_slice(&word.to_le_bytes());
    }
}

fn prstatus_note(out: &mut Vec<u8>, signal: u16, regs: &[u64; 27]) {
    out.extend_from_slice(&5u32.to_le_bytes()); // namesz: "CORE\0"
    out.extend_from_slice(&(PRSTATUS_SIZE as u32).to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // NT_PRSTATUS
    out.extend_from_slice(b"CORE\0\0\0\0");
    let start = out.len();
    out.resize(start + PRSTATUS_SIZE, 0);
    let desc = &mut out[start..];
    desc[0..4].copy_from_slice(&u32::from(signal).to_le_bytes()); // si_signo
    desc[12..14].copy_from_slice(&signal.to_le_bytes()); // pr_cursig
    desc[32..36].copy_from_slice(&1u32.to_le_bytes()); // pr_pid: the one vCPU
    for (i, r) in regs.iter().enumerate() {
        let at = PRSTATUS_REGS + 8 * i;
        desc[at..at + 8].copy_from_slice(&r.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_fit_before_guest_memory() {
        let mut out = Vec::new();
        elf_header(&mut out, 4 << 20);
        assert_eq!(out.len(), EHDR_SIZE + 2 * PHDR_SIZE);
        prstatus_note(&mut out, SIGSEGV, &[7; 27]);
        assert_eq!(out.len(), EHDR_SIZE + 2 * PHDR_SIZE + NOTE_SIZE);
        assert!(out.len() as u64 <= MEMORY_OFFSET);
        assert_eq!(&out[..4], b"\x7fELF");
        assert_eq!(u16::from_le_bytes([out[16], out[17]]), 4);
    }

    #[test]
    fn trapped_registers_land_in_the_prstatus_order() {
        let mut t = TrapRegs {
            rip: 0x1234,
            rsp: 0x8000,
            ..TrapRegs::default()
        };
        t.gprs[6] = 0x9000; // rbp
        t.gprs[0] = 0xa; // rax
        let r = prstatus_registers(&kvm_regs::default(), Some(&t));
        assert_eq!((r[4], r[10], r[16], r[19]), (0x9000, 0xa, 0x1234, 0x8000));
    }

    #[test]
    fn a_missing_directory_is_one_clear_error() {
        let err = CoreFile::create(Path::new("/nonexistent/cores")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--dumpcore: /nonexistent/cores: No such file or directory (os error 2)"
        );
    }
}
