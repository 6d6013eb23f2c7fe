//! Reading hvt images: the ELF program headers and the Solo5 notes, as the tender sees them.
//!
//! Only what the tools and tests need: the header, the program headers, and for each PT_NOTE
//! its first note (the tender reads no other). Every offset and size in the file is checked
//! before use, so a malformed file gives an error, never a panic.

use std::fmt::Write as _;
use std::path::Path;

use crate::{Error, Result};

/// `e_type` of a static executable.
pub const ET_EXEC: u16 = 2;
/// `e_machine` for x86_64.
pub const EM_X86_64: u16 = 62;
/// A loadable segment.
pub const PT_LOAD: u32 = 1;
/// The interpreter path.
pub const PT_INTERP: u32 = 3;
/// A note segment.
pub const PT_NOTE: u32 = 4;
/// Segment flag: executable.
pub const PF_X: u32 = 1;
/// Segment flag: writable.
pub const PF_W: u32 = 2;
/// Segment flag: readable.
pub const PF_R: u32 = 4;
/// Solo5 ABI note type ("ABI1").
pub const NOTE_ABI: u32 = 0x3149_4241;
/// Solo5 manifest note type ("MFT1").
pub const NOTE_MANIFEST: u32 = 0x3154_464d;

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

fn field<const N: usize>(bytes: &[u8], at: u64) -> Result<[u8; N]> {
    usize::try_from(at)
        .ok()
        .and_then(|at| bytes.get(at..at.checked_add(N)?))
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| bad("a field lies outside the file"))
}

fn u16_at(b: &[u8], at: u64) -> Result<u16> {
    field(b, at).map(u16::from_le_bytes)
}
fn u32_at(b: &[u8], at: u64) -> Result<u32> {
    field(b, at).map(u32::from_le_bytes)
}
fn u64_at(b: &[u8], at: u64) -> Result<u64> {
    field(b, at).map(u64::from_le_bytes)
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
        if bytes.get(..4) != Some(b"\x7fELF") {
            return Err(bad("no ELF magic"));
        }
        if bytes.get(4..6) != Some(&[2, 1]) {
            return Err(bad("not 64-bit little-endian"));
        }
        let phoff = u64_at(&bytes, 32)?;
        let phentsize = u16_at(&bytes, 54)?;
        let phnum = u16_at(&bytes, 56)?;
        if phentsize != 56 {
            return Err(bad("program header size is not 56"));
        }
        let segments = (0..u64::from(phnum))
            .map(|i| {
                let at = phoff
                    .checked_add(i * 56)
                    .ok_or_else(|| bad("program headers overflow"))?;
                Ok(Segment {
                    kind: u32_at(&bytes, at)?,
                    flags: u32_at(&bytes, at + 4)?,
                    offset: u64_at(&bytes, at + 8)?,
                    vaddr: u64_at(&bytes, at + 16)?,
                    filesz: u64_at(&bytes, at + 32)?,
                    memsz: u64_at(&bytes, at + 40)?,
                    align: u64_at(&bytes, at + 48)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Image {
            kind: u16_at(&bytes, 16)?,
            machine: u16_at(&bytes, 18)?,
            entry: u64_at(&bytes, 24)?,
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
        let mut notes = Vec::new();
        for s in self.segments.iter().filter(|s| s.kind == PT_NOTE) {
            let b = self.contents(s)?;
            let namesz = u64::from(u32_at(b, 0)?);
            let descsz = u64::from(u32_at(b, 4)?);
            let kind = u32_at(b, 8)?;
            let desc_at = 12 + namesz.next_multiple_of(4);
            let end = desc_at + descsz;
            let raw = b
                .get(..end as usize)
                .ok_or_else(|| bad("a note does not fall within its segment"))?;
            let name = &raw[12..12 + namesz as usize];
            notes.push(Note {
                name: name.strip_suffix(&[0]).unwrap_or(name).to_vec(),
                kind,
                desc: raw[desc_at as usize..].to_vec(),
                raw: raw.to_vec(),
            });
        }
        Ok(notes)
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

/// The ABI note's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abi {
    /// 1 for hvt.
    pub target: u32,
    /// 2 for the current hvt ABI.
    pub version: u32,
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
    Ok(Abi {
        target: u32_at(&note.desc, 0)?,
        version: u32_at(&note.desc, 4)?,
    })
}

/// Reads the manifest note of `image`: its version and every entry, entry 0 included.
pub fn manifest(image: &Image) -> Result<(u32, Vec<ManifestEntry>)> {
    let note = image
        .solo5_note(NOTE_MANIFEST)?
        .ok_or_else(|| bad("no Solo5 manifest note"))?;
    // 4 bytes of padding bring `struct mft` to its 8-byte alignment.
    let version = u32_at(&note.desc, 4)?;
    let count = u32_at(&note.desc, 8)?;
    if count > 64 || note.desc.len() as u64 != 12 + 104 * u64::from(count) {
        return Err(bad("the manifest's size does not match its entry count"));
    }
    let entries = (0..u64::from(count))
        .map(|i| {
            let at = 12 + 104 * i as usize;
            let name = &note.desc[at..at + 68];
            let len = name
                .iter()
                .position(|&c| c == 0)
                .ok_or_else(|| bad("a manifest name is not NUL-terminated"))?;
            Ok(ManifestEntry {
                name: String::from_utf8_lossy(&name[..len]).into_owned(),
                kind: u32_at(&note.desc, at as u64 + 68)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((version, entries))
}

fn target_name(target: u32) -> &'static str {
    match target {
        1 => "hvt",
        2 => "spt",
        3 => "virtio",
        4 => "muen",
        5 => "genode",
        6 => "xen",
        _ => "unknown",
    }
}

fn type_name(kind: u32) -> &'static str {
    match kind {
        1 => "BLOCK_BASIC",
        2 => "NET_BASIC",
        0x4000_0000 => "RESERVED_FIRST",
        _ => "UNKNOWN",
    }
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
        .filter(|e| e.kind != 0x4000_0000)
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
