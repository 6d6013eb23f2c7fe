//! The application manifest (`struct mft`, spec 3.4): parsed from the untrusted MFT1 note,
//! filled in as devices are attached, and copied into guest memory for the guest to read.
//! A device handle is its entry index.

use morgana_hvt_abi::mft::{self, MftEntry, MftHeader};

pub use morgana_hvt_abi::mft::{EntryKind as DeviceType, ManifestError};

/// One manifest entry: its wire form plus the decoded name and type.
#[derive(Debug, Clone)]
pub struct Entry {
    raw: MftEntry,
    /// Device name (bytes before the first NUL).
    pub name: String,
    /// Device type.
    pub device_type: DeviceType,
}

impl Entry {
    /// Whether the tender has attached a host resource to this entry.
    pub fn attached(&self) -> bool {
        self.raw.attached != 0
    }

    /// Block capacity in bytes (meaningful for attached block entries).
    pub fn capacity(&self) -> u64 {
        self.raw.block_capacity()
    }

    /// True when the block device was attached read-only (`--block-mode:NAME=ro`).
    pub fn read_only(&self) -> bool {
        self.raw.block_read_only()
    }

    /// Network MAC address (meaningful for attached net entries).
    pub fn mac(&self) -> [u8; 6] {
        self.raw.net_mac()
    }

    /// Network MTU (meaningful for attached net entries).
    pub fn mtu(&self) -> u16 {
        self.raw.net_mtu()
    }
}

/// A validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    entries: Vec<Entry>,
}

/// The host fd as the entry's private `b` field holds it (sign-extended, as Solo5 does).
fn host_value(host_fd: i32) -> u64 {
    i64::from(host_fd) as u64
}

impl Manifest {
    /// Parses `struct mft` bytes (the MFT1 note content after its 4 padding bytes) and
    /// applies every check of `mft_validate` (see [`mft::validate`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let valid = mft::validate(bytes)?;
        let entries = valid
            .entries()
            .map(|(raw, device_type)| Entry {
                name: String::from_utf8_lossy(raw.name_to_nul().unwrap_or_default()).into_owned(),
                raw,
                device_type,
            })
            .collect();
        Ok(Self { entries })
    }

    /// All entries; the index is the device handle.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry with handle `handle` if it has type `device_type` and is attached.
    pub fn attached_entry(&self, handle: u64, device_type: DeviceType) -> Option<&Entry> {
        let e = self.entries.get(usize::try_from(handle).ok()?)?;
        (e.device_type == device_type && e.attached()).then_some(e)
    }

    /// Handle of the entry called `name` with type `device_type`.
    pub fn find(&self, name: &str, device_type: DeviceType) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.device_type == device_type && e.name == name)
    }

    /// Records an attached block device.
    pub fn attach_block(&mut self, handle: usize, capacity: u64, block_size: u16, host_fd: i32) {
        self.entries[handle]
            .raw
            .attach_block(capacity, block_size, host_value(host_fd));
    }

    /// Marks the attached block device `handle` read-only: its writes are refused and the
    /// guest sees the flag in its copy of the entry.
    pub fn set_block_read_only(&mut self, handle: usize) {
        self.entries[handle].raw.set_block_read_only();
    }

    /// Records an attached network interface.
    pub fn attach_net(&mut self, handle: usize, mac: [u8; 6], mtu: u16, host_fd: i32) {
        self.entries[handle]
            .raw
            .attach_net(mac, mtu, host_value(host_fd));
    }

    /// The first declared device that is not attached, if any.
    pub fn first_unattached(&self) -> Option<&Entry> {
        self.entries.iter().skip(1).find(|e| !e.attached())
    }

    /// Size in bytes of the guest copy.
    pub fn byte_len(&self) -> usize {
        MftHeader::SIZE + MftEntry::SIZE * self.entries.len()
    }

    /// The `struct mft` bytes handed to the guest.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = MftHeader {
            version: mft::MFT_VERSION,
            entries: self.entries.len() as u32,
        };
        let mut out = Vec::with_capacity(self.byte_len());
        out.extend_from_slice(&header.encode());
        for e in &self.entries {
            out.extend_from_slice(&e.raw.encode());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn parses_and_finds_devices() {
        let m = Manifest::parse(&good()).expect("valid");
        assert_eq!(m.entries().len(), 3);
        assert_eq!(m.find("disk", DeviceType::Block), Some(1));
        assert_eq!(m.find("disk", DeviceType::Net), None);
        assert_eq!(m.find("net0", DeviceType::Net), Some(2));
        assert_eq!(m.first_unattached().map(|e| e.name.as_str()), Some("disk"));
        assert_eq!(m.to_bytes(), good());
    }

    #[test]
    fn attaching_fills_the_guest_copy() {
        let mut m = Manifest::parse(&good()).expect("valid");
        m.attach_block(1, 4096, 512, 7);
        m.attach_net(2, [2, 1, 2, 3, 4, 5], 9000, 8);
        assert!(m.first_unattached().is_none());
        let b = m.to_bytes();
        let e1 = &b[8 + 104..8 + 208];
        assert_eq!(&e1[72..80], &4096u64.to_le_bytes());
        assert_eq!(&e1[80..82], &512u16.to_le_bytes());
        assert_eq!(&e1[88..92], &7i32.to_le_bytes());
        assert_eq!(e1[96], 1);
        let e2 = &b[8 + 208..];
        assert_eq!(&e2[72..78], &[2, 1, 2, 3, 4, 5]);
        assert_eq!(&e2[78..80], &9000u16.to_le_bytes());
        assert!(m.attached_entry(2, DeviceType::Net).is_some());
        assert!(m.attached_entry(2, DeviceType::Block).is_none());
        assert!(m.attached_entry(u64::MAX, DeviceType::Net).is_none());
    }

    #[test]
    fn refusals_come_from_the_abi_rules() {
        let mut attached = good();
        attached[8 + 208 + 96] = 1;
        assert_eq!(
            Manifest::parse(&attached).unwrap_err(),
            ManifestError::Attached(2)
        );
        assert_eq!(
            Manifest::parse(&mft(1, 0, &[])).unwrap_err(),
            ManifestError::FirstEntry
        );
    }

    #[test]
    fn accepts_a_67_character_name() {
        let name = "a".repeat(67);
        let m =
            Manifest::parse(&mft(1, 2, &[entry("", 0x4000_0000), entry(&name, 1)])).expect("valid");
        assert_eq!(m.find(&name, DeviceType::Block), Some(1));
    }
}
