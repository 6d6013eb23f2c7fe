//! Writes hvt ELF images for tests: an ET_EXEC at 0x100000 with a text segment of hand-assembled
//! x86-64 code, a rodata segment holding the ABI1 and MFT1 notes (each with its own PT_NOTE)
//! and the PT_INTERP string, and a read-write data segment. Knobs produce broken variants.

#![allow(dead_code)]

/// Guest address of the text segment (and the entry point).
pub const TEXT: u64 = 0x10_0000;
/// Guest address of the rodata segment.
pub const RODATA: u64 = 0x10_1000;
/// Guest address of the read-write data segment.
pub const DATA: u64 = 0x10_4000;
/// Guest address of the manifest copy the tender writes.
pub const MFT_COPY: u64 = 0x1_0038;

const TEXT_OFF: u64 = 0x1000;
const RODATA_OFF: u64 = 0x2000;
const DATA_OFF: u64 = 0x4000;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const INTERP: &[u8] = b"/nonexistent/solo5/\0";

/// Manifest device types.
pub const BLOCK: u32 = 1;
/// Network device type.
pub const NET: u32 = 2;
const RESERVED_FIRST: u32 = 0x4000_0000;

/// One 104-byte manifest entry.
pub fn mft_entry(name: &str, device_type: u32) -> Vec<u8> {
    let mut e = vec![0u8; 104];
    e[..name.len()].copy_from_slice(name.as_bytes());
    e[68..72].copy_from_slice(&device_type.to_le_bytes());
    e
}

/// A `struct mft` declaring `devices` after the reserved entry 0.
pub fn manifest(devices: &[(&str, u32)]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&(devices.len() as u32 + 1).to_le_bytes());
    m.extend(mft_entry("", RESERVED_FIRST));
    for (name, t) in devices {
        m.extend(mft_entry(name, *t));
    }
    m
}

/// Image description; `Image::new` gives a valid hvt image running `code`.
#[derive(Debug, Clone)]
pub struct Image {
    /// Machine code at 0x100000.
    pub code: Vec<u8>,
    /// Initial contents of the data segment at `DATA`.
    pub data: Vec<u8>,
    /// `e_type` (2 = ET_EXEC, 3 = ET_DYN).
    pub e_type: u16,
    /// ABI note target and version.
    pub abi: (u32, u32),
    /// Whether to emit the ABI note.
    pub abi_note: bool,
    /// Override of the ABI note's `n_descsz`.
    pub abi_descsz: Option<u32>,
    /// The `struct mft` bytes; `None` omits the MFT1 note.
    pub manifest: Option<Vec<u8>>,
    /// Override of the manifest note's `n_descsz`.
    pub mft_descsz: Option<u32>,
    /// Override of the ABI PT_NOTE's `p_filesz`.
    pub abi_note_filesz: Option<u64>,
    /// Text segment flags.
    pub text_flags: u32,
    /// Data segment flags.
    pub data_flags: u32,
    /// Data segment guest address (move it to make segments overlap).
    pub data_vaddr: u64,
}

fn p32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn p64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn note(note_type: u32, desc: &[u8], descsz: Option<u32>) -> Vec<u8> {
    let mut n = Vec::new();
    p32(&mut n, 6);
    p32(&mut n, descsz.unwrap_or(desc.len() as u32));
    p32(&mut n, note_type);
    n.extend_from_slice(b"Solo5\0\0\0");
    n.extend_from_slice(desc);
    while !n.len().is_multiple_of(8) {
        n.push(0);
    }
    n
}

impl Image {
    /// A valid image with no devices.
    pub fn new(code: Vec<u8>, data: Vec<u8>) -> Self {
        Self {
            code,
            data,
            e_type: 2,
            abi: (1, 2),
            abi_note: true,
            abi_descsz: None,
            manifest: Some(manifest(&[])),
            mft_descsz: None,
            abi_note_filesz: None,
            text_flags: PF_R | PF_X,
            data_flags: PF_R | PF_W,
            data_vaddr: DATA,
        }
    }

    /// Declares `devices` in the manifest.
    pub fn with_devices(mut self, devices: &[(&str, u32)]) -> Self {
        self.manifest = Some(manifest(devices));
        self
    }

    /// The ELF file bytes.
    pub fn build(&self) -> Vec<u8> {
        // rodata: interp, ABI note, MFT note, each 8-byte aligned.
        let mut rodata = INTERP.to_vec();
        while !rodata.len().is_multiple_of(8) {
            rodata.push(0);
        }
        let mut notes = Vec::new(); // (offset in rodata, size)
        if self.abi_note {
            let mut desc = Vec::new();
            for w in [self.abi.0, self.abi.1, 0, 0] {
                p32(&mut desc, w);
            }
            let n = note(0x3149_4241, &desc, self.abi_descsz);
            let filesz = self.abi_note_filesz.unwrap_or(n.len() as u64);
            notes.push((rodata.len() as u64, filesz));
            rodata.extend(n);
        }
        if let Some(m) = &self.manifest {
            let mut desc = vec![0u8; 4];
            desc.extend_from_slice(m);
            let n = note(0x3154_464d, &desc, self.mft_descsz);
            notes.push((rodata.len() as u64, n.len() as u64));
            rodata.extend(n);
        }
        assert!(
            rodata.len() <= (DATA_OFF - RODATA_OFF) as usize,
            "rodata too large"
        );

        // Program headers: interp, text, rodata, data, notes.
        let mut ph = Vec::new();
        let mut phdr =
            |t: u32, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64, align: u64| {
                p32(&mut ph, t);
                p32(&mut ph, flags);
                p64(&mut ph, off);
                p64(&mut ph, vaddr);
                p64(&mut ph, vaddr);
                p64(&mut ph, filesz);
                p64(&mut ph, memsz);
                p64(&mut ph, align);
            };
        phdr(
            3,
            PF_R,
            RODATA_OFF,
            RODATA,
            INTERP.len() as u64,
            INTERP.len() as u64,
            1,
        );
        phdr(
            1,
            self.text_flags,
            TEXT_OFF,
            TEXT,
            self.code.len() as u64,
            self.code.len() as u64,
            0x1000,
        );
        phdr(
            1,
            PF_R,
            RODATA_OFF,
            RODATA,
            rodata.len() as u64,
            rodata.len() as u64,
            0x1000,
        );
        if !self.data.is_empty() {
            let len = self.data.len() as u64;
            phdr(
                1,
                self.data_flags,
                DATA_OFF,
                self.data_vaddr,
                len,
                len,
                0x1000,
            );
        }
        for &(off, size) in &notes {
            phdr(4, PF_R, RODATA_OFF + off, RODATA + off, size, size, 4);
        }
        let phnum = (ph.len() / 56) as u16;

        let mut f = Vec::new();
        f.extend_from_slice(b"\x7fELF\x02\x01\x01");
        f.resize(16, 0);
        f.extend_from_slice(&self.e_type.to_le_bytes());
        f.extend_from_slice(&62u16.to_le_bytes());
        p32(&mut f, 1);
        p64(&mut f, TEXT);
        p64(&mut f, 64);
        p64(&mut f, 0);
        p32(&mut f, 0);
        f.extend_from_slice(&64u16.to_le_bytes());
        f.extend_from_slice(&56u16.to_le_bytes());
        f.extend_from_slice(&phnum.to_le_bytes());
        f.extend_from_slice(&[0u8; 6]);
        f.extend(ph);
        f.resize(TEXT_OFF as usize, 0);
        f.extend_from_slice(&self.code);
        f.resize(RODATA_OFF as usize, 0);
        f.extend(rodata);
        f.resize(DATA_OFF as usize, 0);
        f.extend_from_slice(&self.data);
        f
    }
}

/// A tiny x86-64 assembler for the instructions test guests use.
#[derive(Debug, Default, Clone)]
pub struct Asm {
    /// Machine code so far.
    pub code: Vec<u8>,
}

impl Asm {
    /// An empty program.
    pub fn new() -> Self {
        Self::default()
    }

    fn b(&mut self, bytes: &[u8]) -> &mut Self {
        self.code.extend_from_slice(bytes);
        self
    }

    fn abs(&mut self, prefix: &[u8], addr: u64) -> &mut Self {
        self.b(prefix);
        self.b(&(addr as u32).to_le_bytes())
    }

    /// `mov eax, imm32`.
    pub fn mov_eax(&mut self, v: u32) -> &mut Self {
        self.b(&[0xB8]).b(&v.to_le_bytes())
    }

    /// `mov edx, imm32`.
    pub fn mov_edx(&mut self, v: u32) -> &mut Self {
        self.b(&[0xBA]).b(&v.to_le_bytes())
    }

    /// `out dx, eax` (32-bit).
    pub fn out32(&mut self) -> &mut Self {
        self.b(&[0xEF])
    }

    /// `out dx, al` (8-bit).
    pub fn out8(&mut self) -> &mut Self {
        self.b(&[0xEE])
    }

    /// `in eax, dx`.
    pub fn in32(&mut self) -> &mut Self {
        self.b(&[0xED])
    }

    /// Hypercall `n` with its argument struct at `arg`.
    pub fn hypercall(&mut self, n: u16, arg: u64) -> &mut Self {
        self.mov_eax(arg as u32)
            .mov_edx(0x500 + u32::from(n))
            .out32()
    }

    /// `jmp $` (spin forever; never reached after HALT).
    pub fn hang(&mut self) -> &mut Self {
        self.b(&[0xEB, 0xFE])
    }

    /// `mov rax, [addr]`.
    pub fn load_rax(&mut self, addr: u64) -> &mut Self {
        self.abs(&[0x48, 0x8B, 0x04, 0x25], addr)
    }

    /// `mov [addr], rax`.
    pub fn store_rax(&mut self, addr: u64) -> &mut Self {
        self.abs(&[0x48, 0x89, 0x04, 0x25], addr)
    }

    /// `movzx eax, word [addr]`.
    pub fn load_u16(&mut self, addr: u64) -> &mut Self {
        self.abs(&[0x0F, 0xB7, 0x04, 0x25], addr)
    }

    /// `mov byte [addr], imm8`.
    pub fn store_byte(&mut self, addr: u64, v: u8) -> &mut Self {
        self.abs(&[0xC6, 0x04, 0x25], addr).b(&[v])
    }

    /// `mov rcx, imm64`.
    pub fn mov_rcx(&mut self, v: u64) -> &mut Self {
        self.b(&[0x48, 0xB9]).b(&v.to_le_bytes())
    }

    /// `cmp rax, rcx`.
    pub fn cmp_rax_rcx(&mut self) -> &mut Self {
        self.b(&[0x48, 0x39, 0xC8])
    }

    /// `jbe rel8` (unsigned rax <= rcx after `cmp_rax_rcx`).
    pub fn jbe(&mut self, rel: i8) -> &mut Self {
        self.b(&[0x76, rel as u8])
    }

    /// The code bytes.
    pub fn finish(&self) -> Vec<u8> {
        self.code.clone()
    }
}

/// A data segment image with helpers to place hypercall structs.
#[derive(Debug, Clone)]
pub struct Data {
    /// The bytes (the segment starts at `DATA`).
    pub bytes: Vec<u8>,
}

impl Data {
    /// A zeroed data segment of one page.
    pub fn new() -> Self {
        Self {
            bytes: vec![0; 0x1000],
        }
    }

    /// Writes little-endian u64 words at `DATA + off`.
    pub fn u64s(&mut self, off: usize, words: &[u64]) -> &mut Self {
        for (i, w) in words.iter().enumerate() {
            self.put(off + 8 * i, &w.to_le_bytes());
        }
        self
    }

    /// Writes raw bytes at `DATA + off`.
    pub fn put(&mut self, off: usize, bytes: &[u8]) -> &mut Self {
        if self.bytes.len() < off + bytes.len() {
            self.bytes
                .resize((off + bytes.len()).next_multiple_of(0x1000), 0);
        }
        self.bytes[off..off + bytes.len()].copy_from_slice(bytes);
        self
    }
}
