//! The ELF notes and the `PT_INTERP` string an hvt image carries, as byte-exact statics.
//!
//! The facade's `main!` macro places these in the application's own crate (so that `#[used]`
//! keeps them whatever the linker pulls from libraries), each in the section the linker script
//! turns into a PT_NOTE of its own:
//!
//! | section                   | note                                        |
//! |---------------------------|---------------------------------------------|
//! | `.note.solo5.abi`         | [`ABI_NOTE`]: "Solo5", type "ABI1", {1, 2, 0, 0} |
//! | `.note.solo5.manifest`    | [`ManifestNote`]: "Solo5", type "MFT1", 4 bytes padding, `struct mft` |
//! | `.note.solo5.not-openbsd` | [`NOT_OPENBSD_NOTE`]: "OpenBSD" ident, so OpenBSD refuses to exec it |
//! | `.interp`                 | [`INTERP`]: `/nonexistent/solo5/`           |

use morgana_rt::manifest::{Device, DeviceKind, MAX_DEVICES, check_devices};

use crate::abi::{
    HVT_ABI_TARGET, HVT_ABI_VERSION, MFT_DEV_BLOCK_BASIC, MFT_DEV_NET_BASIC, MFT_RESERVED_FIRST,
    MFT_VERSION, MftEntry, MftHeader,
};

/// Note type of the ABI note, "ABI1" read as a little-endian `u32`.
pub const NOTE_TYPE_ABI: u32 = 0x3149_4241;
/// Note type of the manifest note, "MFT1" read as a little-endian `u32`.
pub const NOTE_TYPE_MANIFEST: u32 = 0x3154_464d;
/// The Solo5 note name, NUL included, padded to 8 bytes.
pub const SOLO5_NAME: [u8; 8] = *b"Solo5\0\0\0";

/// An ELF note header with the 8-byte "Solo5" name: 20 bytes.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Solo5NoteHeader {
    /// Length of the name, NUL included: 6.
    pub namesz: u32,
    /// Length of the content.
    pub descsz: u32,
    /// The note type.
    pub kind: u32,
    /// "Solo5\0" and padding.
    pub name: [u8; 8],
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

/// The ABI note of every image this backend builds: target hvt (1), version 2.
pub const ABI_NOTE: AbiNote = AbiNote {
    header: Solo5NoteHeader {
        namesz: 6,
        descsz: 16,
        kind: NOTE_TYPE_ABI,
        name: SOLO5_NAME,
    },
    desc: [HVT_ABI_TARGET, HVT_ABI_VERSION, 0, 0],
};

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

/// The `PT_INTERP` content: a loader that does not exist, in a 24-byte section.
pub const INTERP: [u8; 24] = *b"/nonexistent/solo5/\0\0\0\0\0";

/// The manifest note for `ENTRIES` entries (the reserved entry 0 included).
///
/// Built at compile time by [`ManifestNote::new`] from the application's declaration, so the
/// device with index `i` in the declaration has handle `i + 1`.
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
    /// Encodes `devices`; fails to compile (in a `const`) unless `ENTRIES == devices.len() + 1`
    /// and the declaration is valid (see [`check_devices`]).
    pub const fn new(devices: &[Device]) -> Self {
        check_devices(devices);
        if ENTRIES != devices.len() + 1 || ENTRIES > MAX_DEVICES + 1 {
            panic!("the manifest note must have one entry per device plus the reserved entry");
        }
        let mut entries = [MftEntry::declared("", MFT_RESERVED_FIRST); ENTRIES];
        let mut i = 0;
        while i < devices.len() {
            let kind = match devices[i].kind {
                DeviceKind::Net => MFT_DEV_NET_BASIC,
                DeviceKind::Block => MFT_DEV_BLOCK_BASIC,
            };
            entries[i + 1] = MftEntry::declared(devices[i].name, kind);
            i += 1;
        }
        ManifestNote {
            header: Solo5NoteHeader {
                namesz: 6,
                descsz: (4 + size_of::<MftHeader>() + ENTRIES * size_of::<MftEntry>()) as u32,
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

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// The bytes of a value with no padding (every note type here has explicit padding only).
    fn bytes_of<T>(v: &T) -> &[u8] {
        // SAFETY: the note types are repr(C) with every byte a field, so all bytes are
        // initialised; the slice borrows `v` for its lifetime.
        unsafe { core::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }
    }

    fn le(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn abi_note_bytes() {
        let mut want = le(&[6, 16, 0x3149_4241]);
        want.extend_from_slice(b"Solo5\0\0\0");
        want.extend(le(&[1, 2, 0, 0]));
        assert_eq!(bytes_of(&ABI_NOTE), &want[..]);
        assert_eq!(want.len(), 36);
        assert_eq!(&0x3149_4241u32.to_le_bytes(), b"ABI1");
        assert_eq!(&0x3154_464du32.to_le_bytes(), b"MFT1");
    }

    #[test]
    fn openbsd_note_and_interp_bytes() {
        let mut want = le(&[8, 4, 1]);
        want.extend_from_slice(b"OpenBSD\0");
        want.extend(le(&[0]));
        assert_eq!(bytes_of(&NOT_OPENBSD_NOTE), &want[..]);
        assert_eq!(&INTERP[..20], b"/nonexistent/solo5/\0");
    }

    #[test]
    fn empty_manifest_is_the_reserved_entry_alone() {
        const NOTE: ManifestNote<1> = ManifestNote::new(&[]);
        let b = bytes_of(&NOTE);
        assert_eq!(b.len(), 0x88);
        let mut want = le(&[6, 4 + 8 + 104, 0x3154_464d]);
        want.extend_from_slice(b"Solo5\0\0\0");
        want.extend(le(&[0, 1, 1])); // padding, version 1, 1 entry
        let mut entry0 = [0u8; 104];
        entry0[68..72].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        want.extend_from_slice(&entry0);
        assert_eq!(b, &want[..]);
    }

    #[test]
    fn devices_follow_in_declaration_order() {
        const DEVICES: &[Device] = &[Device::net("service0"), Device::block("storage")];
        const NOTE: ManifestNote<3> = ManifestNote::new(DEVICES);
        let b = bytes_of(&NOTE);
        assert_eq!(b.len(), 24 + 8 + 3 * 104);
        assert_eq!(&b[4..8], &(4u32 + 8 + 3 * 104).to_le_bytes());
        assert_eq!(&b[28..32], &3u32.to_le_bytes());
        let entry = |i: usize| &b[32 + 104 * i..32 + 104 * (i + 1)];
        assert_eq!(&entry(1)[..9], b"service0\0");
        assert_eq!(&entry(1)[68..72], &2u32.to_le_bytes());
        assert_eq!(&entry(2)[..8], b"storage\0");
        assert_eq!(&entry(2)[68..72], &1u32.to_le_bytes());
        assert!(entry(2)[8..68].iter().all(|&x| x == 0));
        assert!(entry(2)[72..].iter().all(|&x| x == 0));
    }

    #[test]
    fn longest_name_keeps_its_terminator() {
        const NAME: &str = "a234567890123456789012345678901234567890123456789012345678901234567";
        const NOTE: ManifestNote<2> = ManifestNote::new(&[Device::block(NAME)]);
        assert_eq!(NAME.len(), 67);
        assert_eq!(&NOTE.entries[1].name[..67], NAME.as_bytes());
        assert_eq!(NOTE.entries[1].name[67], 0);
    }
}
