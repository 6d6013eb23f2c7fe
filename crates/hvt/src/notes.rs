//! The ELF notes and the `PT_INTERP` string an hvt image carries.
//!
//! Their wire format lives in [`morgana_hvt_abi::notes`]; this module re-exports the statics
//! and builds the manifest note from the application's device declaration. The facade's
//! `main!` macro places them in the application's own crate (so that `#[used]` keeps them
//! whatever the linker pulls from libraries), each in the section the linker script turns
//! into a PT_NOTE of its own.

use morgana_hvt_abi::mft::{MFT_RESERVED_FIRST, MftEntry};
use morgana_rt::manifest::{Device, MAX_DEVICES, check_devices};

pub use morgana_hvt_abi::notes::{
    ABI_NOTE, AbiNote, FloatNote, INTERP, ManifestNote, NOT_OPENBSD_NOTE, OpenBsdNote,
};

use crate::mft::entry_kind;

/// The manifest note declaring `devices`: the device with index `i` in the declaration has
/// handle `i + 1`. Fails to compile (in a `const`) unless `ENTRIES == devices.len() + 1` and
/// the declaration is valid (see [`check_devices`]).
pub const fn manifest_note<const ENTRIES: usize>(devices: &[Device]) -> ManifestNote<ENTRIES> {
    check_devices(devices);
    if ENTRIES != devices.len() + 1 || ENTRIES > MAX_DEVICES + 1 {
        panic!("the manifest note must have one entry per device plus the reserved entry");
    }
    let mut entries = [MftEntry::declared("", MFT_RESERVED_FIRST); ENTRIES];
    let mut i = 0;
    while i < devices.len() {
        entries[i + 1] = MftEntry::declared(devices[i].name, entry_kind(devices[i].kind));
        i += 1;
    }
    ManifestNote::from_entries(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use morgana_hvt_abi::mft::{MFT_DEV_BLOCK_BASIC, MFT_DEV_NET_BASIC};

    #[test]
    fn devices_follow_in_declaration_order() {
        const DEVICES: &[Device] = &[Device::net("service0"), Device::block("storage")];
        const NOTE: ManifestNote<3> = manifest_note(DEVICES);
        assert_eq!(NOTE.header.descsz, 4 + 8 + 3 * 104);
        assert_eq!((NOTE.mft.version, NOTE.mft.entries), (1, 3));
        let e0 = NOTE.entries[0].encode();
        assert_eq!(&e0[68..72], &MFT_RESERVED_FIRST.to_le_bytes());
        assert!(e0[..68].iter().chain(&e0[72..]).all(|&x| x == 0));
        let e1 = NOTE.entries[1].encode();
        assert_eq!(&e1[..9], b"service0\0");
        assert_eq!(&e1[68..72], &MFT_DEV_NET_BASIC.to_le_bytes());
        let e2 = NOTE.entries[2].encode();
        assert_eq!(&e2[..8], b"storage\0");
        assert_eq!(&e2[68..72], &MFT_DEV_BLOCK_BASIC.to_le_bytes());
        assert!(e2[8..68].iter().all(|&x| x == 0));
        assert!(e2[72..].iter().all(|&x| x == 0));
    }

    #[test]
    fn empty_declaration_is_the_reserved_entry_alone() {
        const NOTE: ManifestNote<1> = manifest_note(&[]);
        assert_eq!(NOTE.header.descsz, 4 + 8 + 104);
        assert_eq!(NOTE.entries[0], MftEntry::declared("", MFT_RESERVED_FIRST));
    }

    #[test]
    fn longest_name_keeps_its_terminator() {
        const NAME: &str = "a234567890123456789012345678901234567890123456789012345678901234567";
        const NOTE: ManifestNote<2> = manifest_note(&[Device::block(NAME)]);
        assert_eq!(NAME.len(), 67);
        assert_eq!(&NOTE.entries[1].name[..67], NAME.as_bytes());
        assert_eq!(NOTE.entries[1].name[67], 0);
    }
}
