//! The application manifest, `struct mft` (spec 3.4): an 8-byte header and up to 64 entries
//! of 104 bytes. The image declares it in its MFT1 note with every entry unattached; the
//! tender validates that copy ([`validate`]), fills in the entries it attaches, and copies the
//! result into guest memory, where the guest looks its devices up by name. A device handle is
//! its entry index; entry 0 is a reserved, unnamed placeholder.

use crate::wire::{prefix, put, u16_at, u32_at, u64_at};

/// Manifest format version (`MFT_VERSION`).
pub const MFT_VERSION: u32 = 1;
/// Most manifest entries, the reserved entry 0 included.
pub const MFT_MAX_ENTRIES: usize = 64;
/// Size of a device name field, terminating NUL included: names are at most 67 bytes.
pub const MFT_NAME_SIZE: usize = 68;
/// Entry type: a block device.
pub const MFT_DEV_BLOCK_BASIC: u32 = 1;
/// Entry type: an Ethernet device.
pub const MFT_DEV_NET_BASIC: u32 = 2;
/// Entry type of the placeholder entry 0.
pub const MFT_RESERVED_FIRST: u32 = 0x4000_0000;

/// The entry types a manifest may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A block device ([`MFT_DEV_BLOCK_BASIC`]).
    Block,
    /// A network interface ([`MFT_DEV_NET_BASIC`]).
    Net,
    /// The placeholder entry 0 ([`MFT_RESERVED_FIRST`]).
    ReservedFirst,
}

impl EntryKind {
    /// The kind with wire value `raw`, if it is one.
    pub const fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            MFT_DEV_BLOCK_BASIC => Some(Self::Block),
            MFT_DEV_NET_BASIC => Some(Self::Net),
            MFT_RESERVED_FIRST => Some(Self::ReservedFirst),
            _ => None,
        }
    }

    /// The wire value.
    pub const fn raw(self) -> u32 {
        match self {
            Self::Block => MFT_DEV_BLOCK_BASIC,
            Self::Net => MFT_DEV_NET_BASIC,
            Self::ReservedFirst => MFT_RESERVED_FIRST,
        }
    }

    /// The Solo5 name, as tools and messages print it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Block => "BLOCK_BASIC",
            Self::Net => "NET_BASIC",
            Self::ReservedFirst => "RESERVED_FIRST",
        }
    }
}

/// The manifest header, `struct mft` without its entries: 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct MftHeader {
    /// [`MFT_VERSION`].
    pub version: u32,
    /// Number of entries that follow.
    pub entries: u32,
}

impl MftHeader {
    /// Size in bytes.
    pub const SIZE: usize = 8;

    /// Reads the header from its bytes.
    pub const fn decode(b: &[u8; Self::SIZE]) -> Self {
        MftHeader {
            version: u32_at(b, 0),
            entries: u32_at(b, 4),
        }
    }

    /// The header's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put(&mut b, 0, self.version.to_le_bytes());
        put(&mut b, 4, self.entries.to_le_bytes());
        b
    }
}

/// One manifest entry, `struct mft_entry`: 104 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct MftEntry {
    /// NUL-terminated name; byte 67 is always 0 in a valid entry.
    pub name: [u8; MFT_NAME_SIZE],
    /// `MFT_DEV_*` or [`MFT_RESERVED_FIRST`].
    pub kind: u32,
    /// Device properties, filled by the tender: block `capacity` u64 @0 and `block_size` u16
    /// @8; net `mac[6]` @0 and `mtu` u16 @6.
    pub u: [u8; 16],
    /// Private to the tender (a host descriptor).
    pub b: u64,
    /// Set by the tender when the device is attached.
    pub attached: u8,
    /// Padding to the C layout.
    pub _pad: [u8; 7],
}

impl MftEntry {
    /// Size in bytes.
    pub const SIZE: usize = 104;

    /// An entry as written into an image: `name` (cut to 67 bytes), `kind`, all else zero.
    pub const fn declared(name: &str, kind: u32) -> MftEntry {
        let mut entry = MftEntry {
            name: [0; MFT_NAME_SIZE],
            kind,
            u: [0; 16],
            b: 0,
            attached: 0,
            _pad: [0; 7],
        };
        let bytes = name.as_bytes();
        let mut i = 0;
        while i < bytes.len() && i < MFT_NAME_SIZE - 1 {
            entry.name[i] = bytes[i];
            i += 1;
        }
        entry
    }

    /// Reads the entry from its bytes.
    pub fn decode(b: &[u8; Self::SIZE]) -> Self {
        let mut name = [0; MFT_NAME_SIZE];
        name.copy_from_slice(&b[..MFT_NAME_SIZE]);
        let mut u = [0; 16];
        u.copy_from_slice(&b[72..88]);
        let mut pad = [0; 7];
        pad.copy_from_slice(&b[97..104]);
        MftEntry {
            name,
            kind: u32_at(b, 68),
            u,
            b: u64_at(b, 88),
            attached: b[96],
            _pad: pad,
        }
    }

    /// The entry's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put(&mut b, 0, self.name);
        put(&mut b, 68, self.kind.to_le_bytes());
        put(&mut b, 72, self.u);
        put(&mut b, 88, self.b.to_le_bytes());
        b[96] = self.attached;
        put(&mut b, 97, self._pad);
        b
    }

    /// The name up to its NUL, or `None` when byte 67 is not NUL.
    pub fn name(&self) -> Option<&[u8]> {
        if self.name[MFT_NAME_SIZE - 1] != 0 {
            return None;
        }
        self.name_to_nul()
    }

    /// The name up to the first NUL of the field, or `None` when there is none.
    pub fn name_to_nul(&self) -> Option<&[u8]> {
        let len = self.name.iter().position(|&b| b == 0)?;
        Some(&self.name[..len])
    }

    /// A block entry's capacity in bytes.
    pub fn block_capacity(&self) -> u64 {
        u64_at(&self.u, 0)
    }

    /// A block entry's sector size in bytes.
    pub fn block_size(&self) -> u16 {
        u16_at(&self.u, 8)
    }

    /// True when a block entry was attached read-only: the tender refuses its writes.
    ///
    /// A Morgana extension kept in the first padding byte (offset 97), which Solo5 tenders
    /// leave zero, so an image on a Solo5 tender sees a writable device as before.
    pub fn block_read_only(&self) -> bool {
        self._pad[0] & BLOCK_FLAG_READ_ONLY != 0
    }

    /// Marks an attached block entry read-only (see [`MftEntry::block_read_only`]).
    pub fn set_block_read_only(&mut self) {
        self._pad[0] |= BLOCK_FLAG_READ_ONLY;
    }

    /// A net entry's MAC address.
    pub fn net_mac(&self) -> [u8; 6] {
        [
            self.u[0], self.u[1], self.u[2], self.u[3], self.u[4], self.u[5],
        ]
    }

    /// A net entry's MTU in bytes (Ethernet header excluded).
    pub fn net_mtu(&self) -> u16 {
        u16_at(&self.u, 6)
    }

    /// Marks a block entry attached with `capacity` and `block_size` (bytes) and the tender's
    /// private `host` value.
    pub fn attach_block(&mut self, capacity: u64, block_size: u16, host: u64) {
        self.u = [0; 16];
        put(&mut self.u, 0, capacity.to_le_bytes());
        put(&mut self.u, 8, block_size.to_le_bytes());
        self.b = host;
        self.attached = 1;
    }

    /// Marks a net entry attached with `mac`, `mtu` (bytes) and the tender's private `host`
    /// value.
    pub fn attach_net(&mut self, mac: [u8; 6], mtu: u16, host: u64) {
        self.u = [0; 16];
        put(&mut self.u, 0, mac);
        put(&mut self.u, 6, mtu.to_le_bytes());
        self.b = host;
        self.attached = 1;
    }
}

/// Bit of the entry's first padding byte that marks a block device read-only.
pub const BLOCK_FLAG_READ_ONLY: u8 = 1;

/// Why a declared manifest (the MFT1 note's `struct mft`) was refused.
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

/// A declared manifest that passed [`validate`]: every entry has a terminated name, is
/// unattached and has a known type; entry 0 alone is an unnamed RESERVED_FIRST.
#[derive(Debug, Clone, Copy)]
pub struct ValidManifest<'a> {
    entries: &'a [u8],
}

impl<'a> ValidManifest<'a> {
    /// Number of entries, entry 0 included (1 to 64).
    pub fn len(&self) -> usize {
        self.entries.len() / MftEntry::SIZE
    }

    /// Always false: a valid manifest has at least the reserved entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in handle order, with their validated kinds.
    pub fn entries(&self) -> impl Iterator<Item = (MftEntry, EntryKind)> + 'a {
        self.entries.chunks_exact(MftEntry::SIZE).filter_map(|c| {
            let e = MftEntry::decode(prefix(c)?);
            Some((e, EntryKind::from_raw(e.kind)?))
        })
    }
}

/// Checks `bytes`, a declared `struct mft` (the MFT1 note content after its 4 padding
/// bytes), by every rule of Solo5's `mft_validate`, in its order.
pub fn validate(bytes: &[u8]) -> Result<ValidManifest<'_>, ManifestError> {
    let header = prefix(bytes).ok_or(ManifestError::TooSmall)?;
    let MftHeader { version, entries } = MftHeader::decode(header);
    if version != MFT_VERSION {
        return Err(ManifestError::Version(version));
    }
    if entries as usize > MFT_MAX_ENTRIES {
        return Err(ManifestError::TooManyEntries(entries));
    }
    if bytes.len() != MftHeader::SIZE + MftEntry::SIZE * entries as usize {
        return Err(ManifestError::SizeMismatch {
            size: bytes.len(),
            entries,
        });
    }
    let body = &bytes[MftHeader::SIZE..];
    for (index, chunk) in body.chunks_exact(MftEntry::SIZE).enumerate() {
        let e = MftEntry::decode(prefix(chunk).ok_or(ManifestError::TooSmall)?);
        if e.name[MFT_NAME_SIZE - 1] != 0 {
            return Err(ManifestError::Name(index));
        }
        if e.attached != 0 {
            return Err(ManifestError::Attached(index));
        }
        let unnamed = e.name[0] == 0;
        match (index, EntryKind::from_raw(e.kind)) {
            (0, Some(EntryKind::ReservedFirst)) if unnamed => {}
            (0, _) => return Err(ManifestError::FirstEntry),
            (_, Some(EntryKind::ReservedFirst) | None) => return Err(ManifestError::Type(index)),
            (_, Some(_)) => {}
        }
    }
    if body.is_empty() {
        return Err(ManifestError::FirstEntry);
    }
    Ok(ValidManifest { entries: body })
}

#[cfg(test)]
mod tests;
