//! Writes images with the program-header layout of Solo5's own toolchain (`solo5_hvt.lds`,
//! spec section 3.5), which this repository cannot build: PT_INTERP over the start of an
//! execute-only text segment, a read-only rodata segment that holds the three notes, a
//! read-write data segment, an empty tdata PT_LOAD at address 0 with no file content, PT_TLS,
//! a bss PT_LOAD with no file content, then one PT_NOTE per note with the OpenBSD note first.
//! Section headers (a null one and `.shstrtab`) are present as in linked output.

#![allow(dead_code)]

use super::image::manifest;

/// Text segment start; PT_INTERP points here.
pub const TEXT: u64 = 0x10_0000;
/// The entry point: after the 24-byte `.interp`, 16-byte aligned (as observed: 0x100020).
pub const ENTRY: u64 = 0x10_0020;
/// Rodata segment start: the manifest note, the ABI note, the OpenBSD note, then `message`.
pub const RODATA: u64 = 0x10_1000;
/// Data segment start.
pub const DATA: u64 = 0x10_2000;
/// Bss segment start.
pub const BSS: u64 = 0x10_3000;
/// Bss size: like the observed `test_hello.hvt`, a little over 2 MiB.
pub const BSS_SIZE: u64 = 0x20_3ca0;

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const PT_INTERP: u32 = 3;
const PT_TLS: u32 = 7;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const INTERP: &[u8; 24] = b"/nonexistent/solo5/\0\0\0\0\0";

fn p16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn p32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn p64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// One ELF note: header, name padded to 4, `pad` zero bytes, then `desc` padded to 4.
fn note(name: &[u8], note_type: u32, pad: usize, desc: &[u8]) -> Vec<u8> {
    let mut n = Vec::new();
    p32(&mut n, name.len() as u32);
    p32(&mut n, (pad + desc.len()) as u32);
    p32(&mut n, note_type);
    n.extend_from_slice(name);
    n.resize(n.len().next_multiple_of(4), 0);
    n.resize(n.len() + pad, 0);
    n.extend_from_slice(desc);
    n.resize(n.len().next_multiple_of(4), 0);
    n
}

/// Address of `message` in the image built with `devices`.
pub fn message_addr(devices: &[(&str, u32)]) -> u64 {
    RODATA + notes(devices).3 as u64
}

/// (manifest note, ABI note, OpenBSD note, offset of the message in rodata).
fn notes(devices: &[(&str, u32)]) -> (Vec<u8>, Vec<u8>, Vec<u8>, usize) {
    // MFT1: 4 padding bytes put `struct mft` at offset 24, its natural 8-byte alignment.
    let mft = note(b"Solo5\0", 0x3154_464d, 4, &manifest(devices));
    let mut abi_desc = Vec::new();
    for w in [1u32, 2, 0, 0] {
        p32(&mut abi_desc, w);
    }
    let abi = note(b"Solo5\0", 0x3149_4241, 0, &abi_desc);
    let openbsd = note(b"OpenBSD\0", 1, 0, &[0; 4]);
    let end = (mft.len() + abi.len() + openbsd.len()).next_multiple_of(8);
    (mft, abi, openbsd, end)
}

/// The image: `code` at [`ENTRY`], `message` in rodata (see [`message_addr`]), `data` at
/// [`DATA`], [`BSS_SIZE`] bytes of bss at [`BSS`], and a manifest declaring `devices`.
pub fn image(code: &[u8], message: &[u8], data: &[u8], devices: &[(&str, u32)]) -> Vec<u8> {
    const PHNUM: u16 = 10;
    let text_off = 0x1000u64;
    let rodata_off = 0x2000u64;
    let data_off = 0x3000u64;

    let mut text = INTERP.to_vec();
    text.resize((ENTRY - TEXT) as usize, 0);
    text.extend_from_slice(code);
    assert!(text.len() <= 0x1000, "code too large");

    let (mft, abi, openbsd, msg_at) = notes(devices);
    let (mft_at, abi_at, openbsd_at) = (0, mft.len(), mft.len() + abi.len());
    let mut rodata = [mft.as_slice(), &abi, &openbsd].concat();
    rodata.resize(msg_at, 0);
    rodata.extend_from_slice(message);
    assert!(rodata.len() <= 0x1000, "rodata too large");
    assert!(data.len() <= 0x1000, "data too large");

    let data_end = data_off + data.len() as u64;
    let shstrtab: &[u8] = b"\0.shstrtab\0";
    let shstrtab_off = data_end;
    let shoff = (shstrtab_off + shstrtab.len() as u64).next_multiple_of(8);

    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x02\x01\x01");
    f.resize(16, 0);
    p16(&mut f, 2); // ET_EXEC
    p16(&mut f, 62); // EM_X86_64
    p32(&mut f, 1);
    p64(&mut f, ENTRY);
    p64(&mut f, 64);
    p64(&mut f, shoff);
    p32(&mut f, 0);
    p16(&mut f, 64);
    p16(&mut f, 56);
    p16(&mut f, PHNUM);
    p16(&mut f, 64);
    p16(&mut f, 2); // sections: null, .shstrtab
    p16(&mut f, 1); // e_shstrndx

    let mut ph = |t: u32, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64, align| {
        p32(&mut f, t);
        p32(&mut f, flags);
        p64(&mut f, off);
        p64(&mut f, vaddr);
        p64(&mut f, vaddr);
        p64(&mut f, filesz);
        p64(&mut f, memsz);
        p64(&mut f, align);
    };
    let (tlen, rlen, dlen) = (text.len() as u64, rodata.len() as u64, data.len() as u64);
    ph(PT_INTERP, PF_R, text_off, TEXT, 24, 24, 1);
    ph(PT_LOAD, PF_X, text_off, TEXT, tlen, tlen, 0x1000);
    ph(PT_LOAD, PF_R, rodata_off, RODATA, rlen, rlen, 0x1000);
    ph(PT_LOAD, PF_R | PF_W, data_off, DATA, dlen, dlen, 0x1000);
    ph(PT_LOAD, PF_R, data_end, 0, 0, 0, 0x1000); // tdata: empty, at 0
    ph(PT_TLS, PF_R, data_end, 0, 0, 0, 8);
    ph(PT_LOAD, PF_R | PF_W, data_end, BSS, 0, BSS_SIZE, 0x1000);
    let note_ph = |at: usize, n: &Vec<u8>| (rodata_off + at as u64, RODATA + at as u64, n.len());
    for ((off, vaddr, len), align) in [
        (note_ph(openbsd_at, &openbsd), 4),
        (note_ph(abi_at, &abi), 4),
        (note_ph(mft_at, &mft), 8),
    ] {
        ph(PT_NOTE, PF_R, off, vaddr, len as u64, len as u64, align);
    }

    f.resize(text_off as usize, 0);
    f.extend_from_slice(&text);
    f.resize(rodata_off as usize, 0);
    f.extend_from_slice(&rodata);
    f.resize(data_off as usize, 0);
    f.extend_from_slice(data);
    f.extend_from_slice(shstrtab);
    f.resize(shoff as usize, 0);
    f.extend_from_slice(&[0; 64]); // the null section
    p32(&mut f, 1); // sh_name ".shstrtab"
    p32(&mut f, 3); // SHT_STRTAB
    p64(&mut f, 0); // flags
    p64(&mut f, 0); // addr
    p64(&mut f, shstrtab_off);
    p64(&mut f, shstrtab.len() as u64);
    p32(&mut f, 0);
    p32(&mut f, 0);
    p64(&mut f, 1);
    p64(&mut f, 0);
    f
}
