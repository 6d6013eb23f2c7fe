//! Reading hvt images: the ELF program headers and the Solo5 notes, as the tender sees them.
//!
//! Only what the tools and tests need: the header, the program headers, and for each PT_NOTE
//! its first note (the tender reads no other). The ELF structures are read with the `object`
//! crate and the note contents decoded by `morgana-hvt-abi`; every offset and size in the file
//! is checked before use, so a malformed file gives an error, never a panic.

use std::fmt::Write as _;
use std::path::Path;

use morgana_hvt_abi::mft::{EntryKind, MFT_RESERVED_FIRST, MftEntry, MftHeader};
use morgana_hvt_abi::notes::{self, NoteError, target_name};
use object::LittleEndian as LE;
use object::elf::FileHeader64;
use object::read::elf::{FileHeader as _, ProgramHeader as _};

use crate::{Error, Result};

pub use morgana_hvt_abi::notes::{NOTE_TYPE_ABI as NOTE_ABI, NOTE_TYPE_MANIFEST as NOTE_MANIFEST};

/// `e_type` of a static executable.
pub const ET_EXEC: u16 = object::elf::ET_EXEC.0;
/// `e_machine` for x86_64.
pub const EM_X86_64: u16 = object::elf::EM_X86_64.0;
/// A loadable segment.
pub const PT_LOAD: u32 = object::elf::PT_LOAD.0;
/// The interpreter path.
pub const PT_INTERP: u32 = object::elf::PT_INTERP.0;
/// A note segment.
pub const PT_NOTE: u32 = object::elf::PT_NOTE.0;
/// Segment flag: executable.
pub const PF_X: u32 = object::elf::PF_X.0;
/// Segment flag: writable.
pub const PF_W: u32 = object::elf::PF_W.0;
/// Segment flag: readable.
pub const PF_R: u32 = object::elf::PF_R.0;

/// The ABI note's content.
pub type Abi = notes::AbiInfo;

/// One program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// `p_type`.
    pub kind: u32,
    /// `p_flags`.
    pub flags: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
}

/// The first note of a PT_NOTE segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The name, without its NUL.
    pub name: Vec<u8>,
    /// `n_type`.
    pub kind: u32,
    /// The content (`n_descsz` bytes from offset 12 + the padded name).
    pub desc: Vec<u8>,
    /// The whole note as stored: header, name, content.
    pub raw: Vec<u8>,
}

/// A parsed ELF64 image.
#[derive(Debug, Clone)]
pub struct Image {
    /// `e_type`.
    pub kind: u16,
    /// `e_machine`.
    pub machine: u16,
    /// `e_entry`.
    pub entry: u64,
    /// The program headers, in file order.
    pub segments: Vec<Segment>,
    bytes: Vec<u8>,
}

fn bad(what: &str) -> Error {
    Error::Other(format!("invalid ELF image: {what}"))
}

/// What `object` refuses in a file whose magic, class and byte order are fine: something
/// lies past the end of the file.
fn outside(_: object::read::Error) -> Error {
    bad("a field lies outside the file")
}

impl Image {
    /// Reads and parses the file at `path`.
    pub fn read(path: &Path) -> Result<Image> {
        let bytes =
            std::fs::read(path).map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        Image::parse(bytes).map_err(|e| Error::Other(format!("{}: {e}", path.display())))
    }

    /// Parses a 64-bit little-endian ELF file.
    pub fn parse(bytes: Vec<u8>) -> Result<Image> {
        // The identification is checked here first, for messages that say what is wrong.
        if bytes.get(..4) != Some(b"\x7fELF") {
            return Err(bad("no ELF magic"));
        }
        if bytes.get(4..6) != Some(&[2, 1]) {
            return Err(bad("not 64-bit little-endian"));
        }
        let header = FileHeader64::<LE>::parse(bytes.as_slice()).map_err(|e| {
            if bytes.len() < size_of::<FileHeader64<LE>>() {
                outside(e)
            } else {
                bad("unsupported ELF version")
            }
        })?;
        if header.e_phentsize(LE) != 56 {
            return Err(bad("program header size is not 56"));
        }
        let segments = header
            .program_headers(LE, bytes.as_slice())
            .map_err(outside)?
            .iter()
            .map(|p| Segment {
                kind: p.p_type(LE).0,
                flags: p.p_flags(LE).0,
                offset: p.p_offset(LE),
                vaddr: p.p_vaddr(LE),
                filesz: p.p_filesz(LE),
                memsz: p.p_memsz(LE),
                align: p.p_align(LE),
            })
            .collect();
        Ok(Image {
            kind: header.e_type(LE).0,
            machine: header.e_machine(LE).0,
            entry: header.e_entry(LE),
            segments,
            bytes,
        })
    }

    /// The file bytes of `segment`.
    pub fn contents(&self, segment: &Segment) -> Result<&[u8]> {
        let start = usize::try_from(segment.offset).map_err(|_| bad("segment offset"))?;
        let len = usize::try_from(segment.filesz).map_err(|_| bad("segment size"))?;
        start
            .checked_add(len)
            .and_then(|end| self.bytes.get(start..end))
            .ok_or_else(|| bad("a segment lies outside the file"))
    }

    /// The first note of every PT_NOTE segment, in order.
    pub fn notes(&self) -> Result<Vec<Note>> {
        let mut found = Vec::new();
        for s in self.segments.iter().filter(|s| s.kind == PT_NOTE) {
            let note = notes::first_note(self.contents(s)?).map_err(|e| match e {
                NoteError::Header => bad("a field lies outside the file"),
                NoteError::OutOfSegment => bad("a note does not fall within its segment"),
            })?;
            found.push(Note {
                name: note.name.to_vec(),
                kind: note.kind,
                desc: note.desc.to_vec(),
                raw: note.raw.to_vec(),
            });
        }
        Ok(found)
    }

    /// The Solo5 note of type `kind`, if the image has one.
    pub fn solo5_note(&self, kind: u32) -> Result<Option<Note>> {
        Ok(self
            .notes()?
            .into_iter()
            .find(|n| n.name == b"Solo5" && n.kind == kind))
    }

    /// The PT_INTERP string, without its NULs.
    pub fn interp(&self) -> Result<Option<String>> {
        let Some(s) = self.segments.iter().find(|s| s.kind == PT_INTERP) else {
            return Ok(None);
        };
        let b = self.contents(s)?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        Ok(Some(String::from_utf8_lossy(&b[..end]).into_owned()))
    }
}

/// One manifest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The device name.
    pub name: String,
    /// Its type (1 block, 2 net, 0x40000000 reserved).
    pub kind: u32,
}

/// Reads the ABI note of `image`.
pub fn abi(image: &Image) -> Result<Abi> {
    let note = image
        .solo5_note(NOTE_ABI)?
        .ok_or_else(|| bad("no Solo5 ABI note"))?;
    Abi::decode_prefix(&note.desc).ok_or_else(|| bad("a field lies outside the file"))
}

/// Reads the manifest note of `image`: its version and every entry, entry 0 included.
///
/// Unlike the tender, this reads what is there without judging it, beyond what it needs to
/// print it: a size that matches the entry count and NUL-terminated names.
pub fn manifest(image: &Image) -> Result<(u32, Vec<ManifestEntry>)> {
    let note = image
        .solo5_note(NOTE_MANIFEST)?
        .ok_or_else(|| bad("no Solo5 manifest note"))?;
    let mft = notes::manifest_in_desc(&note.desc);
    let header = mft
        .get(..MftHeader::SIZE)
        .and_then(|b| b.try_into().ok())
        .map(MftHeader::decode)
        .ok_or_else(|| bad("a field lies outside the file"))?;
    let count = header.entries as usize;
    if count > 64 || mft.len() != MftHeader::SIZE + MftEntry::SIZE * count {
        return Err(bad("the manifest's size does not match its entry count"));
    }
    let entries = mft[MftHeader::SIZE..]
        .chunks_exact(MftEntry::SIZE)
        .map(|chunk| {
            let entry = chunk
                .try_into()
                .map(MftEntry::decode)
                .map_err(|_| bad("a field lies outside the file"))?;
            let name = entry
                .name_to_nul()
                .ok_or_else(|| bad("a manifest name is not NUL-terminated"))?;
            Ok(ManifestEntry {
                name: String::from_utf8_lossy(name).into_owned(),
                kind: entry.kind,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((header.version, entries))
}

fn type_name(kind: u32) -> &'static str {
    EntryKind::from_raw(kind).map_or("UNKNOWN", EntryKind::label)
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The ABI and manifest notes of the image at `path` as JSON, in the shape of
/// `solo5-elftool query-abi` and `query-manifest` (the reserved entry 0 left out).
pub fn inspect(path: &Path) -> Result<String> {
    let image = Image::read(path)?;
    let abi = abi(&image)?;
    let (version, entries) = manifest(&image)?;
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\n  \"abi\": {{ \"type\": \"solo5.abi\", \"target\": {}, \"version\": {} }},\n",
        json_string(target_name(abi.target)),
        abi.version
    );
    let _ = write!(
        out,
        "  \"manifest\": {{ \"type\": \"solo5.manifest\", \"version\": {version}, \"devices\": ["
    );
    let devices: Vec<String> = entries
        .iter()
        .filter(|e| e.kind != MFT_RESERVED_FIRST)
        .map(|e| {
            format!(
                "\n    {{ \"name\": {}, \"type\": {} }}",
                json_string(&e.name),
                json_string(type_name(e.kind))
            )
        })
        .collect();
    out.push_str(&devices.join(","));
    out.push_str(if devices.is_empty() {
        "] }\n}"
    } else {
        "\n  ] }\n}"
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            Vec::new(),
            b"\x7fELF".to_vec(),
            b"#!/bin/sh\n".to_vec(),
            [b"\x7fELF\x02\x01".as_slice(), &[0xff; 58]].concat(),
        ] {
            assert!(Image::parse(bytes).is_err());
        }
        assert_eq!(json_string("a\"b\\\n"), "\"a\\\"b\\\\\\u000a\"");
    }
}
