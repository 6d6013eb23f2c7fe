//! The two Solo5 ELF notes, found through program headers (spec 3.3): "ABI1" with the ABI
//! target and version, and "MFT1" with the application manifest.

use crate::elf::{ElfError, ElfImage, PT_NOTE, file_range};
use morgana_hvt_abi::notes::{
    ABI_NOTE_DESC_SIZE, MANIFEST_NOTE_DESC_MAX, NOTE_HEADER_SIZE, Solo5NoteHeader,
};

pub use morgana_hvt_abi::notes::{AbiInfo, NOTE_TYPE_ABI, NOTE_TYPE_MANIFEST};
pub use morgana_hvt_abi::{HVT_ABI_TARGET as ABI_TARGET_HVT, HVT_ABI_VERSION as ABI_VERSION};

/// Size of the ABI note content.
pub const ABI_NOTE_SIZE: u64 = ABI_NOTE_DESC_SIZE as u64;
/// Largest manifest note content: 4 padding bytes, the 8-byte header, 64 entries.
pub const MANIFEST_NOTE_MAX: u64 = MANIFEST_NOTE_DESC_MAX as u64;

const NHDR_SIZE: u64 = NOTE_HEADER_SIZE as u64;
/// A note header plus the padded name "Solo5\0".
const SOLO5_NHDR_SIZE: u64 = Solo5NoteHeader::SIZE as u64;

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
    Ok(find_solo5_note_at(file, image, note_type, max)?.map(|(_, desc)| desc))
}

/// [`find_solo5_note`], with the index of the program header the note was found in.
pub fn find_solo5_note_at<'f>(
    file: &'f [u8],
    image: &ElfImage,
    note_type: u32,
    max: u64,
) -> Result<Option<(usize, &'f [u8])>, ElfError> {
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
        let head = Solo5NoteHeader::decode(
            head.try_into()
                .map_err(|_| ElfError::Header("note outside the file"))?,
        );
        if !head.is_solo5(note_type) {
            continue;
        }
        let descsz = head
            .checked_desc_size(ph.p_filesz, max)
            .map_err(size_error)?;
        let start = ph.p_offset.checked_add(SOLO5_NHDR_SIZE);
        let desc = start
            .and_then(|s| file_range(file, s, descsz))
            .ok_or(ElfError::Header("note outside the file"))?;
        return Ok(Some((index, desc)));
    }
    Ok(None)
}

/// Whether the image says it is soft-float (Morgana's float note in one of its PT_NOTEs). An
/// image without the note, such as one built by the Solo5 toolchain, is hard-float.
pub fn is_soft_float(file: &[u8], image: &ElfImage) -> bool {
    image
        .phdrs
        .iter()
        .filter(|ph| ph.p_type == PT_NOTE)
        .filter_map(|ph| file_range(file, ph.p_offset, ph.p_filesz))
        .any(|segment| morgana_hvt_abi::notes::float_is_soft(segment) == Some(true))
}
