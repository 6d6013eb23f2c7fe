//! The tender's copy of the manifest: validation and device lookup.
//!
//! The tender fills in the manifest read from the image (capacities, MACs, `attached`) and
//! copies it into guest memory at `boot_info.mft`. This backend looks devices up there, by
//! name, and a device's handle is its index. The copy comes from outside the guest, so it is
//! validated before use like any input.

use morgana_hvt_abi::mft::{
    MFT_DEV_BLOCK_BASIC, MFT_DEV_NET_BASIC, MFT_MAX_ENTRIES, MFT_RESERVED_FIRST, MFT_VERSION,
    MftEntry, MftHeader,
};
use morgana_rt::manifest::DeviceKind;

/// Why the tender's manifest copy cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidManifest {
    /// `version` is not 1.
    Version(u32),
    /// `entries` is 0 or over 64.
    Entries(u32),
    /// Entry 0 is not the reserved placeholder.
    FirstEntry,
}

impl core::fmt::Display for InvalidManifest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InvalidManifest::Version(v) => write!(f, "manifest version {v}, expected 1"),
            InvalidManifest::Entries(n) => write!(f, "manifest has {n} entries, expected 1 to 64"),
            InvalidManifest::FirstEntry => f.write_str("manifest entry 0 is not RESERVED_FIRST"),
        }
    }
}

/// Checks the header of a manifest copy; returns the number of entries that follow.
pub fn check_header(header: &MftHeader) -> Result<usize, InvalidManifest> {
    if header.version != MFT_VERSION {
        return Err(InvalidManifest::Version(header.version));
    }
    if header.entries == 0 || header.entries as usize > MFT_MAX_ENTRIES {
        return Err(InvalidManifest::Entries(header.entries));
    }
    Ok(header.entries as usize)
}

/// Checks the entries of a manifest copy.
pub fn check_entries(entries: &[MftEntry]) -> Result<(), InvalidManifest> {
    match entries.first() {
        Some(e) if e.kind == MFT_RESERVED_FIRST && e.name() == Some(&[][..]) => Ok(()),
        _ => Err(InvalidManifest::FirstEntry),
    }
}

/// The manifest entry type for a device kind.
pub const fn entry_kind(kind: DeviceKind) -> u32 {
    match kind {
        DeviceKind::Net => MFT_DEV_NET_BASIC,
        DeviceKind::Block => MFT_DEV_BLOCK_BASIC,
    }
}

/// The device kind of a manifest entry type, if it is one.
pub fn device_kind(entry_kind: u32) -> Option<DeviceKind> {
    match entry_kind {
        MFT_DEV_NET_BASIC => Some(DeviceKind::Net),
        MFT_DEV_BLOCK_BASIC => Some(DeviceKind::Block),
        _ => None,
    }
}

/// The handle (index) and entry named `name`, skipping the reserved entry 0.
pub fn find<'a>(entries: &'a [MftEntry], name: &str) -> Option<(usize, &'a MftEntry)> {
    entries
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, e)| e.name() == Some(name.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> [MftEntry; 3] {
        let mut net = MftEntry::declared("service0", MFT_DEV_NET_BASIC);
        net.attached = 1;
        [
            MftEntry::declared("", MFT_RESERVED_FIRST),
            net,
            MftEntry::declared("storage", MFT_DEV_BLOCK_BASIC),
        ]
    }

    #[test]
    fn header_is_checked() {
        let ok = MftHeader {
            version: 1,
            entries: 3,
        };
        assert_eq!(check_header(&ok), Ok(3));
        assert_eq!(
            check_header(&MftHeader { version: 2, ..ok }),
            Err(InvalidManifest::Version(2))
        );
        assert_eq!(
            check_header(&MftHeader { entries: 0, ..ok }),
            Err(InvalidManifest::Entries(0))
        );
        assert_eq!(
            check_header(&MftHeader { entries: 65, ..ok }),
            Err(InvalidManifest::Entries(65))
        );
        assert_eq!(check_header(&MftHeader { entries: 64, ..ok }), Ok(64));
    }

    #[test]
    fn entries_are_checked_and_found_by_name() {
        let m = manifest();
        assert_eq!(check_entries(&m), Ok(()));
        assert_eq!(check_entries(&m[1..]), Err(InvalidManifest::FirstEntry));
        assert_eq!(check_entries(&[]), Err(InvalidManifest::FirstEntry));
        let (h, e) = find(&m, "storage").unwrap();
        assert_eq!((h, device_kind(e.kind)), (2, Some(DeviceKind::Block)));
        assert_eq!(find(&m, "service0").map(|(h, _)| h), Some(1));
        assert!(find(&m, "").is_none());
        assert!(find(&m, "stor").is_none());
        assert_eq!(device_kind(MFT_RESERVED_FIRST), None);
        assert_eq!(entry_kind(DeviceKind::Net), MFT_DEV_NET_BASIC);
    }
}
