//! The hvt guest/tender ABI (x86_64): constants and the structures shared with the tender.
//!
//! Every structure is `#[repr(C)]` with the exact size and field offsets of the Solo5 headers
//! (`hvt_abi.h`, `mft_abi.h`); the unit tests pin each one. Addresses the tender passes are
//! guest-physical, which equals guest-virtual under the tender's identity map.

/// The ABI version the image declares and the tender must match exactly.
pub const HVT_ABI_VERSION: u32 = 2;
/// The ABI note's target value for hvt.
pub const HVT_ABI_TARGET: u32 = 1;
/// The lowest address the image may be loaded at (1 MiB).
pub const HVT_GUEST_MIN_BASE: u64 = 0x10_0000;
/// Hypercall `n` is an `outl` to port `HVT_HYPERCALL_PIO_BASE + n`.
pub const HVT_HYPERCALL_PIO_BASE: u16 = 0x500;
/// Size of the command-line buffer, terminating NUL included.
pub const HVT_CMDLINE_SIZE: usize = 8192;
/// `host_features` bit: the shared-memory network ring is offered.
pub const HVT_FEATURE_RING_IO: u32 = 1;
/// Where the tender writes the boot info (and the value of `%rdi` at entry).
pub const X86_BOOT_INFO_BASE: u64 = 0x1_0000;

/// The hypercall numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Hypercall {
    /// Host wall clock, [`HcWalltime`].
    Walltime = 1,
    /// Console output, [`HcPuts`].
    Puts = 2,
    /// Wait for a deadline or NIC readiness, [`HcPoll`].
    Poll = 3,
    /// One block write, [`HcBlockIo`].
    BlockWrite = 4,
    /// One block read, [`HcBlockIo`].
    BlockRead = 5,
    /// One frame out, [`HcNetIo`].
    NetWrite = 6,
    /// One frame in, [`HcNetIo`].
    NetRead = 7,
    /// Stop the guest, [`HcHalt`].
    Halt = 8,
}

impl Hypercall {
    /// The I/O port this hypercall is issued on.
    pub const fn port(self) -> u16 {
        HVT_HYPERCALL_PIO_BASE + self as u16
    }
}

/// `ret` value: success.
pub const SOLO5_R_OK: u32 = 0;
/// `ret` value: try again (no frame waiting).
pub const SOLO5_R_AGAIN: u32 = 1;
/// `ret` value: invalid argument.
pub const SOLO5_R_EINVAL: u32 = 2;
/// `ret` value: unspecified error.
pub const SOLO5_R_EUNSPEC: u32 = 3;

/// What the tender passes in `%rdi`: `struct hvt_boot_info`, 56 bytes.
///
/// Tenders before Solo5 0.11 wrote only the first 40 bytes and put the manifest right after
/// them; see [`BootInfo::ring_offered`] for how the last three fields are read safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct BootInfo {
    /// Usable guest memory in bytes: the top of the heap and stack.
    pub mem_size: u64,
    /// Page-aligned end of the loaded image, as the tender computed it (unused: `_end` is).
    pub kernel_end: u64,
    /// TSC frequency in Hz.
    pub cpu_cycle_freq: u64,
    /// Address of the NUL-terminated command line.
    pub cmdline: u64,
    /// Address of the tender's filled-in copy of the manifest.
    pub mft: u64,
    /// Features the host offers ([`HVT_FEATURE_RING_IO`]).
    pub host_features: u32,
    /// Reserved for the guest's answer; never written by this backend.
    pub guest_features: u32,
    /// Address of the network ring, 0 if none.
    pub net_ring: u64,
}

impl BootInfo {
    /// True when the tender really offers the network ring.
    ///
    /// A tender older than 0.11 put the manifest where `host_features` now is, so that field
    /// reads as the manifest version (1, which looks like the ring bit) and `net_ring` as the
    /// first name bytes of the reserved entry 0 (always zero). A real offer also places the ring
    /// at the top of usable memory, page-aligned. All of it must hold.
    pub fn ring_offered(&self) -> bool {
        self.host_features & HVT_FEATURE_RING_IO != 0
            && self.net_ring != 0
            && self.net_ring.is_multiple_of(0x1000)
            && self.net_ring == self.mem_size
    }
}

/// `WALLTIME` argument, 8 bytes.
#[derive(Debug, Default)]
#[repr(C)]
pub struct HcWalltime {
    /// OUT: host `CLOCK_REALTIME` in nanoseconds since the epoch.
    pub nsecs: u64,
}

/// `PUTS` argument, 16 bytes.
#[derive(Debug)]
#[repr(C)]
pub struct HcPuts {
    /// Address of the bytes.
    pub data: u64,
    /// Their number.
    pub len: u64,
}

/// `POLL` argument, 24 bytes.
#[derive(Debug, Default)]
#[repr(C)]
pub struct HcPoll {
    /// IN: relative timeout in nanoseconds.
    pub timeout_nsecs: u64,
    /// OUT: bit `h` set when NIC handle `h` is readable.
    pub ready_set: u64,
    /// OUT: number of ready NICs.
    pub ret: u32,
    /// Padding to the C layout.
    pub _pad: u32,
}

/// `BLOCK_WRITE` / `BLOCK_READ` argument, 40 bytes.
#[derive(Debug, Default)]
#[repr(C)]
pub struct HcBlockIo {
    /// The device handle (its manifest index).
    pub handle: u64,
    /// Byte offset on the device.
    pub offset: u64,
    /// Address of the buffer.
    pub data: u64,
    /// Bytes to move.
    pub len: u64,
    /// OUT: a `SOLO5_R_*` value.
    pub ret: u32,
    /// Padding to the C layout.
    pub _pad: u32,
}

/// `NET_WRITE` / `NET_READ` argument, 32 bytes.
#[derive(Debug, Default)]
#[repr(C)]
pub struct HcNetIo {
    /// The device handle (its manifest index).
    pub handle: u64,
    /// Address of the frame buffer.
    pub data: u64,
    /// Frame length; for reads IN the capacity and OUT the frame's size.
    pub len: u64,
    /// OUT: a `SOLO5_R_*` value.
    pub ret: u32,
    /// Padding to the C layout.
    pub _pad: u32,
}

/// `HALT` argument, 16 bytes.
#[derive(Debug, Default)]
#[repr(C)]
pub struct HcHalt {
    /// Address of 512 bytes for halt hooks, or 0.
    pub cookie: u64,
    /// The tender's exit status.
    pub exit_status: u32,
    /// Padding to the C layout.
    pub _pad: u32,
}

/// Manifest format version (`MFT_VERSION`).
pub const MFT_VERSION: u32 = 1;
/// Most manifest entries, the reserved entry 0 included.
pub const MFT_MAX_ENTRIES: usize = 64;
/// Size of a device name field, terminating NUL included.
pub const MFT_NAME_SIZE: usize = 68;
/// Entry type: a block device.
pub const MFT_DEV_BLOCK_BASIC: u32 = 1;
/// Entry type: an Ethernet device.
pub const MFT_DEV_NET_BASIC: u32 = 2;
/// Entry type of the placeholder entry 0.
pub const MFT_RESERVED_FIRST: u32 = 0x4000_0000;

/// The manifest header, `struct mft` without its entries: 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct MftHeader {
    /// [`MFT_VERSION`].
    pub version: u32,
    /// Number of entries that follow.
    pub entries: u32,
}

/// One manifest entry, `struct mft_entry`: 104 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct MftEntry {
    /// NUL-terminated name; byte 67 is always 0.
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
    /// An entry as written into an image: `name`, `kind`, everything else zero.
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

    /// The name up to its NUL, or `None` when byte 67 is not NUL.
    pub fn name(&self) -> Option<&[u8]> {
        if self.name[MFT_NAME_SIZE - 1] != 0 {
            return None;
        }
        let len = self.name.iter().position(|&b| b == 0)?;
        Some(&self.name[..len])
    }

    /// A block entry's capacity in bytes.
    pub fn block_capacity(&self) -> u64 {
        u64::from_le_bytes([
            self.u[0], self.u[1], self.u[2], self.u[3], self.u[4], self.u[5], self.u[6], self.u[7],
        ])
    }

    /// A block entry's sector size in bytes.
    pub fn block_size(&self) -> u16 {
        u16::from_le_bytes([self.u[8], self.u[9]])
    }

    /// A net entry's MAC address.
    pub fn net_mac(&self) -> [u8; 6] {
        [
            self.u[0], self.u[1], self.u[2], self.u[3], self.u[4], self.u[5],
        ]
    }

    /// A net entry's MTU in bytes (Ethernet header excluded).
    pub fn net_mtu(&self) -> u16 {
        u16::from_le_bytes([self.u[6], self.u[7]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn boot_info_matches_the_spec() {
        assert_eq!(size_of::<BootInfo>(), 56);
        assert_eq!(offset_of!(BootInfo, mem_size), 0);
        assert_eq!(offset_of!(BootInfo, kernel_end), 8);
        assert_eq!(offset_of!(BootInfo, cpu_cycle_freq), 16);
        assert_eq!(offset_of!(BootInfo, cmdline), 24);
        assert_eq!(offset_of!(BootInfo, mft), 32);
        assert_eq!(offset_of!(BootInfo, host_features), 40);
        assert_eq!(offset_of!(BootInfo, guest_features), 44);
        assert_eq!(offset_of!(BootInfo, net_ring), 48);
    }

    #[test]
    fn hypercall_arguments_match_the_spec() {
        assert_eq!(size_of::<HcWalltime>(), 8);
        assert_eq!(offset_of!(HcWalltime, nsecs), 0);

        assert_eq!(size_of::<HcPuts>(), 16);
        assert_eq!(offset_of!(HcPuts, data), 0);
        assert_eq!(offset_of!(HcPuts, len), 8);

        assert_eq!(size_of::<HcPoll>(), 24);
        assert_eq!(offset_of!(HcPoll, timeout_nsecs), 0);
        assert_eq!(offset_of!(HcPoll, ready_set), 8);
        assert_eq!(offset_of!(HcPoll, ret), 16);

        assert_eq!(size_of::<HcBlockIo>(), 40);
        assert_eq!(offset_of!(HcBlockIo, handle), 0);
        assert_eq!(offset_of!(HcBlockIo, offset), 8);
        assert_eq!(offset_of!(HcBlockIo, data), 16);
        assert_eq!(offset_of!(HcBlockIo, len), 24);
        assert_eq!(offset_of!(HcBlockIo, ret), 32);

        assert_eq!(size_of::<HcNetIo>(), 32);
        assert_eq!(offset_of!(HcNetIo, handle), 0);
        assert_eq!(offset_of!(HcNetIo, data), 8);
        assert_eq!(offset_of!(HcNetIo, len), 16);
        assert_eq!(offset_of!(HcNetIo, ret), 24);

        assert_eq!(size_of::<HcHalt>(), 16);
        assert_eq!(offset_of!(HcHalt, cookie), 0);
        assert_eq!(offset_of!(HcHalt, exit_status), 8);
    }

    #[test]
    fn hypercall_ports() {
        let ports = [
            (Hypercall::Walltime, 0x501),
            (Hypercall::Puts, 0x502),
            (Hypercall::Poll, 0x503),
            (Hypercall::BlockWrite, 0x504),
            (Hypercall::BlockRead, 0x505),
            (Hypercall::NetWrite, 0x506),
            (Hypercall::NetRead, 0x507),
            (Hypercall::Halt, 0x508),
        ];
        for (call, port) in ports {
            assert_eq!(call.port(), port, "{call:?}");
        }
    }

    #[test]
    fn manifest_structures_match_the_spec() {
        assert_eq!(size_of::<MftHeader>(), 8);
        assert_eq!(offset_of!(MftHeader, version), 0);
        assert_eq!(offset_of!(MftHeader, entries), 4);
        assert_eq!(size_of::<MftEntry>(), 104);
        assert_eq!(core::mem::align_of::<MftEntry>(), 8);
        assert_eq!(offset_of!(MftEntry, name), 0);
        assert_eq!(offset_of!(MftEntry, kind), 68);
        assert_eq!(offset_of!(MftEntry, u), 72);
        assert_eq!(offset_of!(MftEntry, b), 88);
        assert_eq!(offset_of!(MftEntry, attached), 96);
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
    }

    #[test]
    fn ring_offer_needs_every_sign() {
        let real = BootInfo {
            mem_size: 0x7e0_0000,
            host_features: HVT_FEATURE_RING_IO,
            net_ring: 0x7e0_0000,
            ..BootInfo::default()
        };
        assert!(real.ring_offered());
        // A 0.10 tender: the manifest header (version 1, 2 entries) then entry 0's empty name.
        let old = BootInfo {
            mem_size: 0x800_0000,
            host_features: 1,
            guest_features: 2,
            net_ring: 0,
            ..BootInfo::default()
        };
        assert!(!old.ring_offered());
        assert!(
            !BootInfo {
                host_features: 0,
                ..real
            }
            .ring_offered()
        );
        assert!(
            !BootInfo {
                net_ring: 0x7e0_0010,
                mem_size: 0x7e0_0010,
                ..real
            }
            .ring_offered()
        );
        assert!(
            !BootInfo {
                net_ring: 0x600_0000,
                ..real
            }
            .ring_offered()
        );
    }
}
