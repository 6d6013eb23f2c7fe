extern crate std;
use super::*;
use std::vec;
use std::vec::Vec;

#[test]
fn manifest_structures_match_the_spec() {
    use core::mem::{align_of, offset_of, size_of};
    assert_eq!(size_of::<MftHeader>(), MftHeader::SIZE);
    assert_eq!(offset_of!(MftHeader, version), 0);
    assert_eq!(offset_of!(MftHeader, entries), 4);
    assert_eq!(size_of::<MftEntry>(), 104);
    assert_eq!(MftEntry::SIZE, 104);
    assert_eq!(align_of::<MftEntry>(), 8);
    assert_eq!(offset_of!(MftEntry, name), 0);
    assert_eq!(offset_of!(MftEntry, kind), 68);
    assert_eq!(offset_of!(MftEntry, u), 72);
    assert_eq!(offset_of!(MftEntry, b), 88);
    assert_eq!(offset_of!(MftEntry, attached), 96);
    assert_eq!(offset_of!(MftEntry, _pad), 97);
}

#[test]
fn entry_accessors_read_the_unions() {
    let mut e = MftEntry::declared("storage", MFT_DEV_BLOCK_BASIC);
    e.u[..8].copy_from_slice(&(4u64 << 20).to_le_bytes());
    e.u[8..10].copy_from_slice(&4096u16.to_le_bytes());
    assert_eq!(e.name(), Some(&b"storage"[..]));
    assert_eq!((e.block_capacity(), e.block_size()), (4 << 20, 4096));
    let mut n = MftEntry::declared("service0", MFT_DEV_NET_BASIC);
    n.u[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    n.u[6..8].copy_from_slice(&1500u16.to_le_bytes());
    assert_eq!((n.net_mac(), n.net_mtu()), ([2, 0, 0, 0, 0, 1], 1500));
    let mut bad = n;
    bad.name[67] = b'x';
    assert_eq!(bad.name(), None);
    assert_eq!(bad.name_to_nul(), Some(&b"service0"[..]));
}

fn entry(name: &str, t: u32) -> Vec<u8> {
    let mut e = vec![0u8; MftEntry::SIZE];
    e[..name.len()].copy_from_slice(name.as_bytes());
    e[68..72].copy_from_slice(&t.to_le_bytes());
    e
}

fn mft(version: u32, count: u32, entries: &[Vec<u8>]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&version.to_le_bytes());
    m.extend_from_slice(&count.to_le_bytes());
    for e in entries {
        m.extend_from_slice(e);
    }
    m
}

fn good() -> Vec<u8> {
    mft(
        1,
        3,
        &[entry("", 0x4000_0000), entry("disk", 1), entry("net0", 2)],
    )
}

#[test]
fn validates_and_decodes_the_entries() {
    let bytes = good();
    let m = validate(&bytes).expect("valid");
    assert_eq!(m.len(), 3);
    let decoded: Vec<_> = m
        .entries()
        .map(|(e, k)| {
            (
                std::string::String::from_utf8_lossy(e.name().unwrap()).into_owned(),
                k,
            )
        })
        .collect();
    assert_eq!(
        decoded,
        [
            ("".into(), EntryKind::ReservedFirst),
            ("disk".into(), EntryKind::Block),
            ("net0".into(), EntryKind::Net)
        ]
    );
    let mut again = MftHeader {
        version: 1,
        entries: 3,
    }
    .encode()
    .to_vec();
    for (e, _) in m.entries() {
        again.extend_from_slice(&e.encode());
    }
    assert_eq!(again, bytes);
}

#[test]
fn attaching_fills_the_unions() {
    let mut b = MftEntry::declared("disk", MFT_DEV_BLOCK_BASIC);
    b.u = [0xff; 16];
    b.attach_block(4096, 512, 7);
    let raw = b.encode();
    assert_eq!(&raw[72..80], &4096u64.to_le_bytes());
    assert_eq!(&raw[80..82], &512u16.to_le_bytes());
    assert_eq!(&raw[82..88], &[0; 6]);
    assert_eq!(&raw[88..96], &7u64.to_le_bytes());
    assert_eq!(raw[96], 1);
    let mut n = MftEntry::declared("net0", MFT_DEV_NET_BASIC);
    n.attach_net([2, 1, 2, 3, 4, 5], 9000, 8);
    let raw = n.encode();
    assert_eq!(&raw[72..78], &[2, 1, 2, 3, 4, 5]);
    assert_eq!(&raw[78..80], &9000u16.to_le_bytes());
    assert_eq!(MftEntry::decode(&raw), n);
}

#[test]
fn refuses_each_invalid_form() {
    assert_eq!(validate(&[1, 0, 0]).unwrap_err(), ManifestError::TooSmall);
    let mut v2 = good();
    v2[0] = 2;
    assert_eq!(validate(&v2).unwrap_err(), ManifestError::Version(2));
    let mut many = good();
    many[4] = 65;
    assert_eq!(
        validate(&many).unwrap_err(),
        ManifestError::TooManyEntries(65)
    );
    let mut mismatch = good();
    mismatch[4] = 2;
    assert_eq!(
        validate(&mismatch).unwrap_err(),
        ManifestError::SizeMismatch {
            size: 8 + 3 * 104,
            entries: 2
        }
    );
    assert_eq!(
        validate(&mft(1, 0, &[])).unwrap_err(),
        ManifestError::FirstEntry
    );
    let no_reserved = mft(1, 1, &[entry("", 1)]);
    assert_eq!(
        validate(&no_reserved).unwrap_err(),
        ManifestError::FirstEntry
    );
    let named_reserved = mft(1, 1, &[entry("x", 0x4000_0000)]);
    assert_eq!(
        validate(&named_reserved).unwrap_err(),
        ManifestError::FirstEntry
    );
    let mut long = good();
    long[8 + 104 + 67] = b'a';
    assert_eq!(validate(&long).unwrap_err(), ManifestError::Name(1));
    let mut attached = good();
    attached[8 + 208 + 96] = 1;
    assert_eq!(validate(&attached).unwrap_err(), ManifestError::Attached(2));
    let bad_type = mft(1, 2, &[entry("", 0x4000_0000), entry("x", 9)]);
    assert_eq!(validate(&bad_type).unwrap_err(), ManifestError::Type(1));
    let second_reserved = mft(1, 2, &[entry("", 0x4000_0000), entry("x", 0x4000_0000)]);
    assert_eq!(
        validate(&second_reserved).unwrap_err(),
        ManifestError::Type(1)
    );
}

#[test]
fn error_messages() {
    use std::string::ToString;
    assert_eq!(ManifestError::TooSmall.to_string(), "note too small");
    assert_eq!(
        ManifestError::SizeMismatch {
            size: 9,
            entries: 1
        }
        .to_string(),
        "size 9 does not match 1 entries"
    );
    assert_eq!(
        ManifestError::Type(3).to_string(),
        "entry 3 has an invalid type"
    );
}

#[test]
fn accepts_a_67_character_name() {
    let name = "a".repeat(67);
    let bytes = mft(1, 2, &[entry("", 0x4000_0000), entry(&name, 1)]);
    let m = validate(&bytes).expect("valid");
    let (e, _) = m.entries().nth(1).unwrap();
    assert_eq!(e.name(), Some(name.as_bytes()));
}

#[test]
fn kinds_round_trip_with_their_labels() {
    for k in [EntryKind::Block, EntryKind::Net, EntryKind::ReservedFirst] {
        assert_eq!(EntryKind::from_raw(k.raw()), Some(k));
    }
    assert_eq!(EntryKind::from_raw(3), None);
    assert_eq!(EntryKind::Net.label(), "NET_BASIC");
}
