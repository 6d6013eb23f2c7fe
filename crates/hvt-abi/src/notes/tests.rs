extern crate std;
use super::*;
use crate::mft::{MFT_DEV_BLOCK_BASIC, MFT_DEV_NET_BASIC};
use std::vec::Vec;

/// The bytes of a note value, encoded field by field (the layout tests below pin that this
/// is also their in-memory layout).
fn solo5_header_bytes(h: &Solo5NoteHeader) -> Vec<u8> {
    let mut v = le(&[h.namesz, h.descsz, h.kind]);
    v.extend_from_slice(&h.name);
    v
}

fn le(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn manifest_note_bytes<const N: usize>(n: &ManifestNote<N>) -> Vec<u8> {
    let mut v = solo5_header_bytes(&n.header);
    v.extend(le(&[n.pad]));
    v.extend_from_slice(&n.mft.encode());
    for e in &n.entries {
        v.extend_from_slice(&e.encode());
    }
    v
}

#[test]
fn note_layouts_match_the_spec() {
    use core::mem::{align_of, offset_of, size_of};
    assert_eq!(size_of::<Solo5NoteHeader>(), Solo5NoteHeader::SIZE);
    assert_eq!(offset_of!(Solo5NoteHeader, name), 12);
    assert_eq!(size_of::<AbiNote>(), 36);
    assert_eq!(offset_of!(AbiNote, desc), 20);
    assert_eq!(size_of::<OpenBsdNote>(), 24);
    assert_eq!(offset_of!(OpenBsdNote, desc), 20);
    assert_eq!(size_of::<ManifestNote<1>>(), 0x88);
    assert_eq!(align_of::<ManifestNote<1>>(), 8);
    assert_eq!(offset_of!(ManifestNote<3>, mft), 24);
    assert_eq!(offset_of!(ManifestNote<3>, entries), 32);
}

#[test]
fn abi_note_bytes() {
    let mut want = le(&[6, 16, 0x3149_4241]);
    want.extend_from_slice(b"Solo5\0\0\0");
    want.extend(le(&[1, 2, 0, 0]));
    let mut got = solo5_header_bytes(&ABI_NOTE.header);
    got.extend(le(&ABI_NOTE.desc));
    assert_eq!(got, want);
    assert_eq!(want.len(), 36);
    assert_eq!(&0x3149_4241u32.to_le_bytes(), b"ABI1");
    assert_eq!(&0x3154_464du32.to_le_bytes(), b"MFT1");
    let note = first_note(&want).expect("note");
    assert_eq!((note.name, note.kind), (&b"Solo5"[..], NOTE_TYPE_ABI));
    assert_eq!(
        AbiInfo::decode(note.desc),
        Some(AbiInfo {
            target: 1,
            version: 2
        })
    );
    assert_eq!(AbiInfo::decode(&note.desc[..8]), None);
    assert_eq!(
        AbiInfo::decode_prefix(&note.desc[..8]).map(|a| a.version),
        Some(2)
    );
    assert_eq!(target_name(1), "hvt");
    assert_eq!(target_name(9), "unknown");
}

#[test]
fn openbsd_note_and_interp_bytes() {
    let mut want = le(&[8, 4, 1]);
    want.extend_from_slice(b"OpenBSD\0");
    want.extend(le(&[0]));
    let n = NOT_OPENBSD_NOTE;
    let mut got = le(&[n.namesz, n.descsz, n.kind]);
    got.extend_from_slice(&n.name);
    got.extend(le(&[n.desc]));
    assert_eq!(got, want);
    let note = first_note(&want).expect("note");
    assert_eq!(
        (note.name, note.kind, note.desc),
        (&b"OpenBSD"[..], 1, &[0u8; 4][..])
    );
    assert_eq!(&INTERP[..20], b"/nonexistent/solo5/\0");
}

#[test]
fn empty_manifest_is_the_reserved_entry_alone() {
    const NOTE: ManifestNote<1> =
        ManifestNote::from_entries([MftEntry::declared("", MFT_RESERVED_FIRST)]);
    let b = manifest_note_bytes(&NOTE);
    assert_eq!(b.len(), 0x88);
    let mut want = le(&[6, 4 + 8 + 104, 0x3154_464d]);
    want.extend_from_slice(b"Solo5\0\0\0");
    want.extend(le(&[0, 1, 1])); // padding, version 1, 1 entry
    let mut entry0 = [0u8; 104];
    entry0[68..72].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    want.extend_from_slice(&entry0);
    assert_eq!(b, want);
}

#[test]
fn manifest_note_round_trips_through_the_decoders() {
    const NOTE: ManifestNote<3> = ManifestNote::from_entries([
        MftEntry::declared("", MFT_RESERVED_FIRST),
        MftEntry::declared("service0", MFT_DEV_NET_BASIC),
        MftEntry::declared("storage", MFT_DEV_BLOCK_BASIC),
    ]);
    let b = manifest_note_bytes(&NOTE);
    assert_eq!(b.len(), 24 + 8 + 3 * 104);
    assert_eq!(&b[4..8], &(4u32 + 8 + 3 * 104).to_le_bytes());
    let head = Solo5NoteHeader::decode(b[..20].try_into().unwrap());
    assert!(head.is_solo5(NOTE_TYPE_MANIFEST));
    assert!(!head.is_solo5(NOTE_TYPE_ABI));
    let max = MANIFEST_NOTE_DESC_MAX as u64;
    assert_eq!(head.checked_desc_size(b.len() as u64, max), Ok(4 + 8 + 312));
    assert_eq!(head.checked_desc_size(b.len() as u64 - 1, max), Err(324));
    assert_eq!(head.checked_desc_size(b.len() as u64, 16), Err(324));
    let note = first_note(&b).expect("note");
    let m = crate::mft::validate(manifest_in_desc(note.desc)).expect("valid");
    let names: Vec<_> = m
        .entries()
        .map(|(e, _)| e.name().unwrap().to_vec())
        .collect();
    assert_eq!(names, [&b""[..], b"service0", b"storage"]);
}

#[test]
fn truncated_notes_are_errors() {
    assert_eq!(first_note(&[0; 11]), Err(NoteError::Header));
    let mut n = le(&[6, 16, NOTE_TYPE_ABI]);
    n.extend_from_slice(b"Solo5\0\0\0");
    assert_eq!(first_note(&n), Err(NoteError::OutOfSegment));
    let huge = le(&[u32::MAX, u32::MAX, 0]);
    assert_eq!(first_note(&huge), Err(NoteError::OutOfSegment));
    assert_eq!(manifest_in_desc(&[0, 0]), &[] as &[u8]);
}

#[test]
fn the_float_note_round_trips_and_is_not_a_solo5_note() {
    assert_eq!(core::mem::size_of::<FloatNote>(), FloatNote::SIZE);
    let soft = FloatNote::new(true).encode();
    assert_eq!(&soft[..12], &le(&[8, 4, NOTE_TYPE_FLOAT])[..]);
    assert_eq!(&soft[12..20], b"Morgana\0");
    assert_eq!(&soft[20..], &FLOAT_SOFT.to_le_bytes());
    assert_eq!(float_is_soft(&soft), Some(true));
    assert_eq!(float_is_soft(&FloatNote::new(false).encode()), Some(false));
    // The Solo5 tender's rule (name "Solo5", namesz 6) skips it.
    let head = Solo5NoteHeader::decode(soft[..20].try_into().unwrap());
    assert!(!head.is_solo5(NOTE_TYPE_FLOAT));
    // Another note, an unknown value or a short segment is not a soft-float claim.
    let mut other = soft;
    other[12] = b'm';
    assert_eq!(float_is_soft(&other), None);
    let mut unknown = soft;
    unknown[20] = 7;
    assert_eq!(float_is_soft(&unknown), None);
    assert_eq!(float_is_soft(&soft[..22]), None);
}
