//! The ELF notes of an hvt image (spec 3.3) and its `PT_INTERP` string: the byte-exact statics
//! the guest links in, and the decoders the tender and the build tool read them with.
//!
//! | section                   | note                                                   |
//! |---------------------------|--------------------------------------------------------|
//! | `.note.solo5.abi`         | [`ABI_NOTE`]: "Solo5", type "ABI1", {1, 2, 0, 0}        |
//! | `.note.solo5.manifest`    | [`ManifestNote`]: "Solo5", type "MFT1", 4 bytes padding, `struct mft` |
//! | `.note.solo5.not-openbsd` | [`NOT_OPENBSD_NOTE`]: "OpenBSD" ident, so OpenBSD refuses to exec it |
//! | `.interp`                 | [`INTERP`]: `/nonexistent/solo5/`                       |
//!
//! Each note sits alone in a PT_NOTE of its own, so readers look only at the first note of
//! each segment.

use crate::mft::{MFT_MAX_ENTRIES, MFT_RESERVED_FIRST, MFT_VERSION, MftEntry, MftHeader};
use crate::wire::{prefix, u32_at};
use crate::{HVT_ABI_TARGET, HVT_ABI_VERSION};

/// Note type of the ABI note, "ABI1" read as a little-endian `u32`.
pub const NOTE_TYPE_ABI: u32 = 0x3149_4241;
/// Note type of the manifest note, "MFT1" read as a little-endian `u32`.
pub const NOTE_TYPE_MANIFEST: u32 = 0x3154_464d;
/// The Solo5 note name, NUL included, padded to 8 bytes.
pub const SOLO5_NAME: [u8; 8] = *b"Solo5\0\0\0";
/// Size of an ELF note header (`namesz`, `descsz`, `type`).
pub const NOTE_HEADER_SIZE: usize = 12;
/// Size of the ABI note's content.
pub const ABI_NOTE_DESC_SIZE: usize = 16;
/// Padding before `struct mft` in the manifest note's content (to its 8-byte alignment).
pub const MANIFEST_NOTE_PAD: usize = 4;
/// Largest manifest note content: the padding, the header and 64 entries.
pub const MANIFEST_NOTE_DESC_MAX: usize =
    MANIFEST_NOTE_PAD + MftHeader::SIZE + MftEntry::SIZE * MFT_MAX_ENTRIES;

/// An ELF note header with the 8-byte "Solo5" name: 20 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Solo5NoteHeader {
    /// Length of the name, NUL included: 6.
    pub namesz: u32,
    /// Length of the content in bytes.
    pub descsz: u32,
    /// The note type.
    pub kind: u32,
    /// "Solo5\0" and padding.
    pub name: [u8; 8],
}

impl Solo5NoteHeader {
    /// Size in bytes: where the content of a Solo5 note starts.
    pub const SIZE: usize = 20;

    /// Reads a header from its bytes (whatever its name).
    pub fn decode(b: &[u8; Self::SIZE]) -> Self {
        let mut name = [0; 8];
        name.copy_from_slice(&b[12..20]);
        Solo5NoteHeader {
            namesz: u32_at(b, 0),
            descsz: u32_at(b, 4),
            kind: u32_at(b, 8),
            name,
        }
    }

    /// Whether this is a Solo5 note of type `kind`.
    pub fn is_solo5(&self, kind: u32) -> bool {
        self.namesz == 6 && self.name[..6] == SOLO5_NAME[..6] && self.kind == kind
    }

    /// The content size if it is acceptable for a note of at most `max` content bytes in a
    /// segment of `filesz` bytes: between 1 and `max`, and inside the segment. `Err` carries
    /// the declared size.
    pub fn checked_desc_size(&self, filesz: u64, max: u64) -> Result<u64, u64> {
        let descsz = u64::from(self.descsz);
        let fits = (Self::SIZE as u64)
            .checked_add(descsz)
            .is_some_and(|need| filesz >= need);
        if descsz < 1 || descsz > max || !fits {
            return Err(descsz);
        }
        Ok(descsz)
    }
}

/// The ABI note: 36 bytes.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(4))]
pub struct AbiNote {
    /// The header.
    pub header: Solo5NoteHeader,
    /// `abi_target`, `abi_version`, two reserved zero words.
    pub desc: [u32; 4],
}

/// The ABI note of every hvt image: target hvt (1), version 2.
pub const ABI_NOTE: AbiNote = AbiNote {
    header: Solo5NoteHeader {
        namesz: 6,
        descsz: ABI_NOTE_DESC_SIZE as u32,
        kind: NOTE_TYPE_ABI,
        name: SOLO5_NAME,
    },
    desc: [HVT_ABI_TARGET, HVT_ABI_VERSION, 0, 0],
};

/// The ABI note's content, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbiInfo {
    /// ABI target (1 = hvt, 2 = spt, ...).
    pub target: u32,
    /// ABI version.
    pub version: u32,
}

impl AbiInfo {
    /// Decodes the content of an ABI note; `None` unless it is exactly 16 bytes.
    pub fn decode(desc: &[u8]) -> Option<Self> {
        let b: &[u8; ABI_NOTE_DESC_SIZE] = desc.try_into().ok()?;
        Some(AbiInfo {
            target: u32_at(b, 0),
            version: u32_at(b, 4),
        })
    }

    /// Decodes the first 8 bytes of an ABI note's content, however long it is.
    pub fn decode_prefix(desc: &[u8]) -> Option<Self> {
        let b: &[u8; 8] = prefix(desc)?;
        Some(AbiInfo {
            target: u32_at(b, 0),
            version: u32_at(b, 4),
        })
    }
}

/// The name of ABI target `target` as Solo5 tools print it.
pub fn target_name(target: u32) -> &'static str {
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

/// The "OpenBSD" identification note: 24 bytes.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(4))]
pub struct OpenBsdNote {
    /// 8: "OpenBSD\0".
    pub namesz: u32,
    /// 4.
    pub descsz: u32,
    /// 1 (`NT_VERSION`).
    pub kind: u32,
    /// "OpenBSD\0".
    pub name: [u8; 8],
    /// A zero word.
    pub desc: u32,
}

/// The note that makes OpenBSD refuse to execute an image as a native binary.
pub const NOT_OPENBSD_NOTE: OpenBsdNote = OpenBsdNote {
    namesz: 8,
    descsz: 4,
    kind: 1,
    name: *b"OpenBSD\0",
    desc: 0,
};

/// The name of Morgana's own notes, padded to 8 bytes.
pub const MORGANA_NAME: [u8; 8] = *b"Morgana\0";
/// `n_type` of the float note ("FLT1").
pub const NOTE_TYPE_FLOAT: u32 = 0x3154_4c46;
/// Float note content: the image uses SSE (the x86_64 baseline) and more where the CPU offers it.
pub const FLOAT_HARD: u32 = 0;
/// Float note content: the image has no vector instruction; it must be shown no SIMD feature.
pub const FLOAT_SOFT: u32 = 1;

/// Morgana's float note, in a PT_NOTE of its own: how the image does floating point. A tender
/// reads only the first note of a PT_NOTE and skips notes not named "Solo5" (spec 3.3), so
/// Solo5's own tender ignores it; `morgana-hvt` hides SIMD features from a soft-float image.
/// An image without it (one built by the Solo5 toolchain) is hard-float.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(4))]
pub struct FloatNote {
    /// 8: "Morgana\0".
    pub namesz: u32,
    /// 4.
    pub descsz: u32,
    /// [`NOTE_TYPE_FLOAT`].
    pub kind: u32,
    /// [`MORGANA_NAME`].
    pub name: [u8; 8],
    /// [`FLOAT_HARD`] or [`FLOAT_SOFT`].
    pub desc: u32,
}

impl FloatNote {
    /// The note's size in bytes.
    pub const SIZE: usize = 24;

    /// The note for a soft-float (`soft`) or hard-float image.
    pub const fn new(soft: bool) -> Self {
        FloatNote {
            namesz: 8,
            descsz: 4,
            kind: NOTE_TYPE_FLOAT,
            name: MORGANA_NAME,
            desc: if soft { FLOAT_SOFT } else { FLOAT_HARD },
        }
    }

    /// The note's bytes as stored.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        b[0..4].copy_from_slice(&self.namesz.to_le_bytes());
        b[4..8].copy_from_slice(&self.descsz.to_le_bytes());
        b[8..12].copy_from_slice(&self.kind.to_le_bytes());
        b[12..20].copy_from_slice(&self.name);
        b[20..24].copy_from_slice(&self.desc.to_le_bytes());
        b
    }
}

/// Whether the first note of a PT_NOTE segment is Morgana's float note saying "soft":
/// `Some(true)` soft, `Some(false)` hard, `None` when the segment holds another note (or an
/// unknown float value, which is not trusted to mean soft).
pub fn float_is_soft(segment: &[u8]) -> Option<bool> {
    let note = first_note(segment).ok()?;
    if note.name != &MORGANA_NAME[..7] || note.kind != NOTE_TYPE_FLOAT {
        return None;
    }
    match u32::from_le_bytes(note.desc.try_into().ok()?) {
        FLOAT_HARD => Some(false),
        FLOAT_SOFT => Some(true),
        _ => None,
    }
}

/// The `PT_INTERP` content: a loader that does not exist, in a 24-byte section.
pub const INTERP: [u8; 24] = *b"/nonexistent/solo5/\0\0\0\0\0";

/// The manifest note for `ENTRIES` entries (the reserved entry 0 included).
#[derive(Debug, Clone, Copy)]
#[repr(C, align(8))]
pub struct ManifestNote<const ENTRIES: usize> {
    /// The header.
    pub header: Solo5NoteHeader,
    /// Brings `struct mft` to its 8-byte alignment (content offset 24).
    pub pad: u32,
    /// `struct mft` header.
    pub mft: MftHeader,
    /// The entries; entry 0 is `RESERVED_FIRST` with an empty name.
    pub entries: [MftEntry; ENTRIES],
}

impl<const ENTRIES: usize> ManifestNote<ENTRIES> {
    /// The note holding `entries`, whose entry 0 must be the unnamed `RESERVED_FIRST` and
    /// whose number must be at most 64; fails to compile (in a `const`) otherwise.
    pub const fn from_entries(entries: [MftEntry; ENTRIES]) -> Self {
        if ENTRIES == 0 || ENTRIES > MFT_MAX_ENTRIES {
            panic!("a manifest has 1 to 64 entries");
        }
        if entries[0].kind != MFT_RESERVED_FIRST || entries[0].name[0] != 0 {
            panic!("manifest entry 0 must be the unnamed RESERVED_FIRST");
        }
        ManifestNote {
            header: Solo5NoteHeader {
                namesz: 6,
                descsz: (MANIFEST_NOTE_PAD + MftHeader::SIZE + ENTRIES * MftEntry::SIZE) as u32,
                kind: NOTE_TYPE_MANIFEST,
                name: SOLO5_NAME,
            },
            pad: 0,
            mft: MftHeader {
                version: MFT_VERSION,
                entries: ENTRIES as u32,
            },
            entries,
        }
    }
}

/// `struct mft` inside a manifest note's content: everything after the padding (empty when
/// the content is shorter).
pub fn manifest_in_desc(desc: &[u8]) -> &[u8] {
    desc.get(MANIFEST_NOTE_PAD..).unwrap_or(&[])
}

/// One ELF note as stored, borrowed from its segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note<'a> {
    /// The name, without its NUL.
    pub name: &'a [u8],
    /// `n_type`.
    pub kind: u32,
    /// The content (`n_descsz` bytes after the header and the 4-byte padded name).
    pub desc: &'a [u8],
    /// The whole note: header, padded name, content.
    pub raw: &'a [u8],
}

/// Why a note could not be read from its segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The segment is shorter than a note header.
    #[error("the segment is shorter than a note header")]
    Header,
    /// The name or content run past the end of the segment.
    #[error("a note does not fall within its segment")]
    OutOfSegment,
}

/// The first note of a PT_NOTE segment's bytes.
pub fn first_note(segment: &[u8]) -> Result<Note<'_>, NoteError> {
    let head: &[u8; NOTE_HEADER_SIZE] = prefix(segment).ok_or(NoteError::Header)?;
    let namesz = u64::from(u32_at(head, 0));
    let descsz = u64::from(u32_at(head, 4));
    let kind = u32_at(head, 8);
    let desc_at = NOTE_HEADER_SIZE as u64 + namesz.next_multiple_of(4);
    let end = usize::try_from(desc_at + descsz).map_err(|_| NoteError::OutOfSegment)?;
    let raw = segment.get(..end).ok_or(NoteError::OutOfSegment)?;
    let name = &raw[NOTE_HEADER_SIZE..NOTE_HEADER_SIZE + namesz as usize];
    Ok(Note {
        name: name.strip_suffix(&[0]).unwrap_or(name),
        kind,
        desc: &raw[desc_at as usize..],
        raw,
    })
}

#[cfg(test)]
mod tests;
