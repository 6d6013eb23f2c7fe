//! The two Solo5 ELF notes, found through program headers (spec 3.3): "ABI1" with the ABI
//! target and version, and "MFT1" with the application manifest.

use crate::elf::{ElfError, ElfImage, PT_NOTE, file_range};

/// Note type of the ABI note ("ABI1").
pub const NOTE_TYPE_ABI: u32 = 0x3149_4241;
/// Note type of the manifest note ("MFT1").
pub const NOTE_TYPE_MANIFEST: u32 = 0x3154_464d;
/// Size of the ABI note content.
pub const ABI_NOTE_SIZE: u64 = 16;
/// Largest manifest note content: 4 padding bytes, the 8-byte header, 64 entries.
pub const MANIFEST_NOTE_MAX: u64 = 4 + 8 + 104 * 64;
/// ABI target number of hvt.
pub const ABI_TARGET_HVT: u32 = 1;
/// The only ABI version this tender runs.
pub const ABI_VERSION: u32 = 2;

const NHDR_SIZE: u64 = 12;
/// A note header plus the padded name "Solo5\0".
const SOLO5_NHDR_SIZE: u64 = 20;

/// Returns the content of the first Solo5 note of type `note_type`, or `None` if absent.
///
/// Every PT_NOTE is untrusted: one shorter than a note header rejects the image; one shorter
/// than a Solo5 note header is skipped; a matching note must declare between 1 and `max`
/// content bytes that lie inside its segment.
pub fn find_solo5_note<'f>(
    file: &'f [u8],
    image: &ElfImage,
    note_type: u32,
    max: u64,
) -> Result<Option<&'f [u8]>, ElfError> {
    for (index, ph) in image.phdrs.iter().enumerate() {
        if ph.p_type != PT_NOTE {
            continue;
        }
        let size_error = |descsz| ElfError::NoteSize {
            index,
            filesz: ph.p_filesz,
            descsz,
        };
        if ph.p_filesz < NHDR_SIZE {
            return Err(size_error(0));
        }
        if ph.p_filesz < SOLO5_NHDR_SIZE {
            continue;
        }
        let head = file_range(file, ph.p_offset, SOLO5_NHDR_SIZE)
            .ok_or(ElfError::Header("note outside the file"))?;
        let word = |o: usize| u32::from_le_bytes([head[o], head[o + 1], head[o + 2], head[o + 3]]);
        let (namesz, descsz, n_type) = (word(0), u64::from(word(4)), word(8));
        if namesz != 6 || head[12..18] != *b"Solo5\0" || n_type != note_type {
            continue;
        }
        let fits = SOLO5_NHDR_SIZE
            .checked_add(descsz)
            .is_some_and(|need| ph.p_filesz >= need);
        if descsz < 1 || descsz > max || !fits {
            return Err(size_error(descsz));
        }
        let start = ph.p_offset.checked_add(SOLO5_NHDR_SIZE);
        let desc = start
            .and_then(|s| file_range(file, s, descsz))
            .ok_or(ElfError::Header("note outside the file"))?;
        return Ok(Some(desc));
    }
    Ok(None)
}

/// The ABI note's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbiInfo {
    /// ABI target (1 = hvt, 2 = spt, ...).
    pub target: u32,
    /// ABI version.
    pub version: u32,
}

impl AbiInfo {
    /// Decodes the 16-byte content; `None` if it has another size.
    pub fn decode(desc: &[u8]) -> Option<Self> {
        if desc.len() as u64 != ABI_NOTE_SIZE {
            return None;
        }
        let word = |o: usize| u32::from_le_bytes([desc[o], desc[o + 1], desc[o + 2], desc[o + 3]]);
        Some(Self {
            target: word(0),
            version: word(4),
        })
    }
}
