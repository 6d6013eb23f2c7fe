//! The application manifest (`struct mft`, spec 3.4): parsed from the untrusted MFT1 note,
//! filled in as devices are attached, and copied into guest memory for the guest to read.
//! A device handle is its entry index.

/// Manifest format version.
pub const MFT_VERSION: u32 = 1;
/// Most entries a manifest may hold, the reserved entry 0 included.
pub const MFT_MAX_ENTRIES: u32 = 64;
/// Bytes per entry.
pub const ENTRY_SIZE: usize = 104;
/// Bytes before the first entry.
pub const HEADER_SIZE: usize = 8;
/// Longest device name (the name field is 68 bytes with a mandatory NUL at 67).
pub const NAME_MAX: usize = 67;

const OFF_TYPE: usize = 68;
const OFF_U: usize = 72;
const OFF_BLOCK_SIZE: usize = 80;
const OFF_MTU: usize = 78;
const OFF_HOSTFD: usize = 88;
const OFF_ATTACHED: usize = 96;

/// Device types a manifest entry may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceType {
    /// A block device (`MFT_DEV_BLOCK_BASIC`).
    Block,
    /// A network interface (`MFT_DEV_NET_BASIC`).
    Net,
    /// The placeholder entry 0 (`MFT_RESERVED_FIRST`).
    ReservedFirst,
}

impl DeviceType {
    fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            1 => Some(Self::Block),
            2 => Some(Self::Net),
            0x4000_0000 => Some(Self::ReservedFirst),
            _ => None,
        }
    }

    /// The name used in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Block => "BLOCK_BASIC",
            Self::Net => "NET_BASIC",
            Self::ReservedFirst => "RESERVED_FIRST",
        }
    }
}

/// Why a manifest was refused; displayed after "Solo5 manifest is invalid: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Shorter than the header.
    #[error("note too small")]
    TooSmall,
    /// Version other than 1.
    #[error("unsupported version {0}")]
    Version(u32),
    /// More than 64 entries.
    #[error("too many entries ({0})")]
    TooManyEntries(u32),
    /// The size does not equal `8 + 104 * entries`.
    #[error("size {size} does not match {entries} entries")]
    SizeMismatch {
        /// Bytes present.
        size: usize,
        /// Entries announced.
        entries: u32,
    },
    /// Entry 0 is missing or is not an unnamed RESERVED_FIRST.
    #[error("entry 0 is not RESERVED_FIRST")]
    FirstEntry,
    /// A name lacks its terminating NUL at byte 67.
    #[error("entry {0} has an unterminated name")]
    Name(usize),
    /// An entry is already marked attached.
    #[error("entry {0} is already attached")]
    Attached(usize),
    /// An entry has an unknown type, or RESERVED_FIRST after entry 0.
    #[error("entry {0} has an invalid type")]
    Type(usize),
}

/// One manifest entry, kept as its raw bytes plus the decoded name and type.
#[derive(Debug, Clone)]
pub struct Entry {
    raw: [u8; ENTRY_SIZE],
    /// Device name (bytes before the first NUL).
    pub name: String,
    /// Device type.
    pub device_type: DeviceType,
}

impl Entry {
    /// Whether the tender has attached a host resource to this entry.
    pub fn attached(&self) -> bool {
        self.raw[OFF_ATTACHED] != 0
    }

    /// Block capacity in bytes (meaningful for attached block entries).
    pub fn capacity(&self) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.raw[OFF_U..OFF_U + 8]);
        u64::from_le_bytes(b)
    }

    /// Network MAC address (meaningful for attached net entries).
    pub fn mac(&self) -> [u8; 6] {
        let mut m = [0u8; 6];
        m.copy_from_slice(&self.raw[OFF_U..OFF_U + 6]);
        m
    }

    /// Network MTU (meaningful for attached net entries).
    pub fn mtu(&self) -> u16 {
        u16::from_le_bytes([self.raw[OFF_MTU], self.raw[OFF_MTU + 1]])
    }

    fn mark_attached(&mut self, host_fd: i32) {
        self.raw[OFF_HOSTFD..OFF_HOSTFD + 8].copy_from_slice(&i64::from(host_fd).to_le_bytes());
        self.raw[OFF_ATTACHED] = 1;
    }
}

/// A validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    entries: Vec<Entry>,
}

impl Manifest {
    /// Parses `struct mft` bytes (the MFT1 note content after its 4 padding bytes) and
    /// applies every check of `mft_validate`.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        if bytes.len() < HEADER_SIZE {
            return Err(ManifestError::TooSmall);
        }
        let word =
            |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let (version, count) = (word(0), word(4));
        if version != MFT_VERSION {
            return Err(ManifestError::Version(version));
        }
        if count > MFT_MAX_ENTRIES {
            return Err(ManifestError::TooManyEntries(count));
        }
        if bytes.len() != HEADER_SIZE + ENTRY_SIZE * count as usize {
            return Err(ManifestError::SizeMismatch {
                size: bytes.len(),
                entries: count,
            });
        }
        let mut entries = Vec::with_capacity(count as usize);
        for (index, chunk) in bytes[HEADER_SIZE..].chunks_exact(ENTRY_SIZE).enumerate() {
            let mut raw = [0u8; ENTRY_SIZE];
            raw.copy_from_slice(chunk);
            if raw[NAME_MAX] != 0 {
                return Err(ManifestError::Name(index));
            }
            if raw[OFF_ATTACHED] != 0 {
                return Err(ManifestError::Attached(index));
            }
            let raw_type = u32::from_le_bytes([
                raw[OFF_TYPE],
                raw[OFF_TYPE + 1],
                raw[OFF_TYPE + 2],
                raw[OFF_TYPE + 3],
            ]);
            let device_type = DeviceType::from_raw(raw_type);
            let name_len = raw[..NAME_MAX]
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(NAME_MAX);
            let name = String::from_utf8_lossy(&raw[..name_len]).into_owned();
            let device_type = match (index, device_type) {
                (0, Some(DeviceType::ReservedFirst)) if name.is_empty() => {
                    DeviceType::ReservedFirst
                }
                (0, _) => return Err(ManifestError::FirstEntry),
                (_, Some(DeviceType::ReservedFirst)) | (_, None) => {
                    return Err(ManifestError::Type(index));
                }
                (_, Some(t)) => t,
            };
            entries.push(Entry {
                raw,
                name,
                device_type,
            });
        }
        if entries.is_empty() {
            return Err(ManifestError::FirstEntry);
        }
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
        let e = &mut self.entries[handle];
        e.raw[OFF_U..OFF_U + 16].fill(0);
        e.raw[OFF_U..OFF_U + 8].copy_from_slice(&capacity.to_le_bytes());
        e.raw[OFF_BLOCK_SIZE..OFF_BLOCK_SIZE + 2].copy_from_slice(&block_size.to_le_bytes());
        e.mark_attached(host_fd);
    }

    /// Records an attached network interface.
    pub fn attach_net(&mut self, handle: usize, mac: [u8; 6], mtu: u16, host_fd: i32) {
        let e = &mut self.entries[handle];
        e.raw[OFF_U..OFF_U + 16].fill(0);
        e.raw[OFF_U..OFF_U + 6].copy_from_slice(&mac);
        e.raw[OFF_MTU..OFF_MTU + 2].copy_from_slice(&mtu.to_le_bytes());
        e.mark_attached(host_fd);
    }

    /// The first declared device that is not attached, if any.
    pub fn first_unattached(&self) -> Option<&Entry> {
        self.entries.iter().skip(1).find(|e| !e.attached())
    }

    /// Size in bytes of the guest copy.
    pub fn byte_len(&self) -> usize {
        HEADER_SIZE + ENTRY_SIZE * self.entries.len()
    }

    /// The `struct mft` bytes handed to the guest.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.byte_len());
        out.extend_from_slice(&MFT_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.raw);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, t: u32) -> Vec<u8> {
        let mut e = vec![0u8; ENTRY_SIZE];
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
    fn refuses_each_invalid_form() {
        assert_eq!(
            Manifest::parse(&[1, 0, 0]).unwrap_err(),
            ManifestError::TooSmall
        );
        let mut v2 = good();
        v2[0] = 2;
        assert_eq!(Manifest::parse(&v2).unwrap_err(), ManifestError::Version(2));
        let mut many = good();
        many[4] = 65;
        assert_eq!(
            Manifest::parse(&many).unwrap_err(),
            ManifestError::TooManyEntries(65)
        );
        let mut mismatch = good();
        mismatch[4] = 2;
        assert!(matches!(
            Manifest::parse(&mismatch),
            Err(ManifestError::SizeMismatch { .. })
        ));
        assert_eq!(
            Manifest::parse(&mft(1, 0, &[])).unwrap_err(),
            ManifestError::FirstEntry
        );
        let no_reserved = mft(1, 1, &[entry("", 1)]);
        assert_eq!(
            Manifest::parse(&no_reserved).unwrap_err(),
            ManifestError::FirstEntry
        );
        let named_reserved = mft(1, 1, &[entry("x", 0x4000_0000)]);
        assert_eq!(
            Manifest::parse(&named_reserved).unwrap_err(),
            ManifestError::FirstEntry
        );
        let mut long = good();
        long[8 + 104 + 67] = b'a';
        assert_eq!(Manifest::parse(&long).unwrap_err(), ManifestError::Name(1));
        let mut attached = good();
        attached[8 + 208 + 96] = 1;
        assert_eq!(
            Manifest::parse(&attached).unwrap_err(),
            ManifestError::Attached(2)
        );
        let bad_type = mft(1, 2, &[entry("", 0x4000_0000), entry("x", 9)]);
        assert_eq!(
            Manifest::parse(&bad_type).unwrap_err(),
            ManifestError::Type(1)
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
