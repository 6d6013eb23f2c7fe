//! A small ELF64 reader for hvt images: the file header, the program headers, and the load
//! plan for PT_LOAD segments. The file is untrusted; every offset and size is checked with
//! overflow-safe arithmetic, in the order of spec 3.1-3.2. Nothing here touches guest memory:
//! [`plan_load`] only computes what [`crate::layout::load_segments`] then copies. The notes
//! inside PT_NOTE segments are read by [`crate::notes`].

/// Lowest guest address an image may occupy (`HVT_GUEST_MIN_BASE`).
pub const GUEST_MIN_BASE: u64 = morgana_hvt_abi::boot::HVT_GUEST_MIN_BASE;

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;
const EV_CURRENT: u32 = 1;
const PAGE: u64 = 0x1000;

/// Program header type of a loadable segment.
pub const PT_LOAD: u32 = 1;
/// Program header type of a note segment.
pub const PT_NOTE: u32 = 4;
/// Segment flag: executable.
pub const PF_X: u32 = 1;
/// Segment flag: writable.
pub const PF_W: u32 = 2;
/// Segment flag: readable.
pub const PF_R: u32 = 4;

/// Why an image was refused. `Display` gives the text after "invalid executable: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// The file header (or the program header table) is not a valid x86_64 ET_EXEC ELF64.
    #[error("invalid or unsupported executable ({0})")]
    Header(&'static str),
    /// The entry point lies outside `[GUEST_MIN_BASE, mem_size)`.
    #[error("entry point {0:#x} is outside guest memory")]
    Entry(u64),
    /// A PT_LOAD segment broke one of the loader rules.
    #[error("phdr[{index}]: {reason}")]
    Segment {
        /// Index of the program header.
        index: usize,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// A PT_NOTE segment is too small or its note is out of range.
    #[error(
        "INV_EXE: phdr[{index}] note does not fall within valid size (p_filesz={filesz}, n_descsz={descsz})"
    )]
    NoteSize {
        /// Index of the program header.
        index: usize,
        /// The segment's file size.
        filesz: u64,
        /// The note's declared content size (0 if not read).
        descsz: u64,
    },
}

/// One program header, as read from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramHeader {
    /// Segment type (`PT_*`).
    pub p_type: u32,
    /// Segment flags (`PF_*`).
    pub p_flags: u32,
    /// File offset of the segment's bytes.
    pub p_offset: u64,
    /// Guest address of the segment.
    pub p_vaddr: u64,
    /// Bytes in the file.
    pub p_filesz: u64,
    /// Bytes in memory (at least `p_filesz`).
    pub p_memsz: u64,
    /// Alignment (a power of two).
    pub p_align: u64,
}

/// The validated file header and program headers of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfImage {
    /// Entry point (`e_entry`), not yet checked against guest memory.
    pub entry: u64,
    /// All program headers in file order.
    pub phdrs: Vec<ProgramHeader>,
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

/// Returns `file[offset..offset + len]` if it lies inside the file.
pub fn file_range(file: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let len = usize::try_from(len).ok()?;
    file.get(start..start.checked_add(len)?)
}

/// Reads and validates the ELF header and program header table (spec 3.1).
pub fn parse(file: &[u8]) -> Result<ElfImage, ElfError> {
    let eh = file
        .get(..EHDR_SIZE)
        .ok_or(ElfError::Header("file too short for an ELF header"))?;
    let ident_ok = eh[..4] == *b"\x7fELF" && eh[4] == 2 && eh[5] == 1;
    if !ident_ok || u32_at(eh, 20) != EV_CURRENT {
        return Err(ElfError::Header("not a little-endian ELF64 file"));
    }
    if usize::from(u16_at(eh, 52)) != EHDR_SIZE || usize::from(u16_at(eh, 54)) != PHDR_SIZE {
        return Err(ElfError::Header("unexpected header sizes"));
    }
    if u16_at(eh, 16) != ET_EXEC {
        return Err(ElfError::Header("not a static ET_EXEC executable"));
    }
    if u16_at(eh, 18) != EM_X86_64 {
        return Err(ElfError::Header("not an x86_64 executable"));
    }
    let phnum = u16_at(eh, 56);
    if phnum == 0 {
        return Err(ElfError::Header("no program headers"));
    }
    let table_len = u64::from(phnum) * PHDR_SIZE as u64;
    let table = file_range(file, u64_at(eh, 32), table_len)
        .ok_or(ElfError::Header("program headers outside the file"))?;
    let phdrs = table
        .chunks_exact(PHDR_SIZE)
        .map(|p| ProgramHeader {
            p_type: u32_at(p, 0),
            p_flags: u32_at(p, 4),
            p_offset: u64_at(p, 8),
            p_vaddr: u64_at(p, 16),
            p_filesz: u64_at(p, 32),
            p_memsz: u64_at(p, 40),
            p_align: u64_at(p, 48),
        })
        .collect();
    Ok(ElfImage {
        entry: u64_at(eh, 24),
        phdrs,
    })
}

/// One segment to copy into guest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Index of its program header.
    pub index: usize,
    /// File offset of the bytes to copy (checked to lie inside the file).
    pub file_offset: u64,
    /// Bytes to copy.
    pub filesz: u64,
    /// Guest address to copy to.
    pub vaddr: u64,
    /// Bytes the segment occupies in memory; the tail after `filesz` is zeroed.
    pub memsz: u64,
    /// Page-aligned start of the protected range.
    pub start: u64,
    /// Page-aligned end of the protected range.
    pub end: u64,
    /// `PF_*` flags.
    pub flags: u32,
}

/// What the loader must do for an image in a guest of `mem_size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadPlan {
    /// Entry point, inside `[GUEST_MIN_BASE, mem_size)`.
    pub entry: u64,
    /// Segments with file content, ascending and non-overlapping.
    pub segments: Vec<Segment>,
    /// Highest page-aligned segment end (the boot info's `kernel_end`).
    pub kernel_end: u64,
}

/// Checks every PT_LOAD with file content against the rules of spec 3.2.
pub fn plan_load(file: &[u8], image: &ElfImage, mem_size: u64) -> Result<LoadPlan, ElfError> {
    if image.entry < GUEST_MIN_BASE || image.entry >= mem_size {
        return Err(ElfError::Entry(image.entry));
    }
    let mut segments = Vec::new();
    let mut prev_vaddr = 0u64;
    let mut prev_end = 0u64;
    for (index, ph) in image.phdrs.iter().enumerate() {
        if ph.p_type != PT_LOAD || ph.p_filesz == 0 {
            continue;
        }
        let bad = |reason| ElfError::Segment { index, reason };
        if ph.p_vaddr < GUEST_MIN_BASE {
            return Err(bad("segment below the minimum load address"));
        }
        if ph.p_vaddr < prev_vaddr {
            return Err(bad("segments not in ascending order"));
        }
        if ph.p_align == 0 || !ph.p_align.is_power_of_two() {
            return Err(bad("alignment is not a power of two"));
        }
        let start = ph.p_vaddr & !(ph.p_align - 1);
        if start < GUEST_MIN_BASE || start < prev_end {
            return Err(bad("segment overlaps the previous one"));
        }
        match ph.p_vaddr.checked_add(ph.p_filesz) {
            Some(end) if end <= mem_size => {}
            _ => return Err(bad("file content does not fit in guest memory")),
        }
        if ph.p_memsz < ph.p_filesz {
            return Err(bad("p_memsz is smaller than p_filesz"));
        }
        let end = ph
            .p_vaddr
            .checked_add(ph.p_memsz)
            .and_then(|e| e.checked_add(ph.p_align - 1))
            .map(|e| e & !(ph.p_align - 1));
        let end = match end {
            Some(end) if end <= mem_size => end,
            _ => return Err(bad("segment does not fit in guest memory")),
        };
        if start % PAGE != 0 || end % PAGE != 0 {
            return Err(bad("segment is not page aligned"));
        }
        if ph.p_flags & PF_W != 0 && ph.p_flags & PF_X != 0 {
            return Err(bad("segment is both writable and executable"));
        }
        if file_range(file, ph.p_offset, ph.p_filesz).is_none() {
            return Err(bad("file content lies outside the file"));
        }
        segments.push(Segment {
            index,
            file_offset: ph.p_offset,
            filesz: ph.p_filesz,
            vaddr: ph.p_vaddr,
            memsz: ph.p_memsz,
            start,
            end,
            flags: ph.p_flags,
        });
        prev_vaddr = ph.p_vaddr;
        prev_end = end;
    }
    Ok(LoadPlan {
        entry: image.entry,
        segments,
        kernel_end: prev_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(e_type: u16, phnum: u16) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[16..18].copy_from_slice(&e_type.to_le_bytes());
        f[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[24..32].copy_from_slice(&0x10_0000u64.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[52..54].copy_from_slice(&64u16.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&phnum.to_le_bytes());
        f
    }

    fn phdr(p_type: u32, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64) -> Vec<u8> {
        let mut p = vec![0u8; 56];
        p[0..4].copy_from_slice(&p_type.to_le_bytes());
        p[4..8].copy_from_slice(&flags.to_le_bytes());
        p[8..16].copy_from_slice(&off.to_le_bytes());
        p[16..24].copy_from_slice(&vaddr.to_le_bytes());
        p[32..40].copy_from_slice(&filesz.to_le_bytes());
        p[40..48].copy_from_slice(&memsz.to_le_bytes());
        p[48..56].copy_from_slice(&0x1000u64.to_le_bytes());
        p
    }

    #[test]
    fn refuses_pie_and_truncation() {
        assert!(matches!(parse(&header(3, 1)), Err(ElfError::Header(_))));
        assert!(matches!(
            parse(&header(2, 1)[..40]),
            Err(ElfError::Header(_))
        ));
        // One program header announced, none present.
        assert!(matches!(parse(&header(2, 1)), Err(ElfError::Header(_))));
    }

    #[test]
    fn plans_a_simple_image_and_skips_empty_segments() {
        let mut f = header(2, 2);
        f.extend(phdr(PT_LOAD, PF_R | PF_X, 0, 0x10_0000, 0x100, 0x100));
        f.extend(phdr(PT_LOAD, PF_R | PF_W, 0, 0, 0, 0x5000));
        f.resize(0x4000, 0);
        let img = parse(&f).expect("valid");
        let plan = plan_load(&f, &img, 4 << 20).expect("loadable");
        assert_eq!(plan.segments.len(), 1);
        assert_eq!(plan.kernel_end, 0x10_1000);
    }

    #[test]
    fn refuses_wx_overlap_and_oversize() {
        let mut f = header(2, 1);
        f.extend(phdr(PT_LOAD, PF_W | PF_X, 0, 0x10_0000, 0x100, 0x100));
        f.resize(0x4000, 0);
        let img = parse(&f).expect("valid");
        let e = plan_load(&f, &img, 4 << 20).unwrap_err();
        assert_eq!(
            e.to_string(),
            "phdr[0]: segment is both writable and executable"
        );

        let mut f = header(2, 2);
        f.extend(phdr(PT_LOAD, PF_R, 0, 0x10_0000, 0x1800, 0x1800));
        f.extend(phdr(PT_LOAD, PF_R, 0, 0x10_1000, 0x10, 0x10));
        f.resize(0x4000, 0);
        let img = parse(&f).expect("valid");
        let e = plan_load(&f, &img, 4 << 20).unwrap_err();
        assert_eq!(e.to_string(), "phdr[1]: segment overlaps the previous one");

        let mut f = header(2, 1);
        f.extend(phdr(
            PT_LOAD,
            PF_R,
            0,
            0x10_0000,
            0x10,
            u64::MAX - 0x10_0000,
        ));
        f.resize(0x4000, 0);
        let img = parse(&f).expect("valid");
        assert!(plan_load(&f, &img, 4 << 20).is_err());
    }
}
