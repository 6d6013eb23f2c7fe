//! What the tender hands the guest at entry (spec 2.2-2.4): `struct hvt_boot_info` at a fixed
//! address, and the guest memory layout both sides rely on.

use crate::wire::{put, u32_at, u64_at};

/// The lowest address the image may be loaded at (1 MiB); below it is the tender's.
pub const HVT_GUEST_MIN_BASE: u64 = 0x10_0000;
/// Where the tender writes the boot info (and the value of `%rdi` at entry).
pub const X86_BOOT_INFO_BASE: u64 = 0x1_0000;
/// Size of the command-line buffer in bytes, terminating NUL included.
pub const HVT_CMDLINE_SIZE: usize = 8192;
/// `host_features` bit: the shared-memory network ring is offered.
pub const HVT_FEATURE_RING_IO: u32 = 1;

/// What the tender passes in `%rdi`: `struct hvt_boot_info`, 56 bytes.
///
/// Tenders before Solo5 0.11 wrote only the first 40 bytes and put the manifest right after
/// them; see [`BootInfo::ring_offered`] for how the last three fields are read safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct BootInfo {
    /// Usable guest memory in bytes: the top of the heap and stack.
    pub mem_size: u64,
    /// Page-aligned end of the loaded image, as the tender computed it.
    pub kernel_end: u64,
    /// TSC frequency in Hz.
    pub cpu_cycle_freq: u64,
    /// Address of the NUL-terminated command line.
    pub cmdline: u64,
    /// Address of the tender's filled-in copy of the manifest.
    pub mft: u64,
    /// Features the host offers ([`HVT_FEATURE_RING_IO`]).
    pub host_features: u32,
    /// Reserved for the guest's answer.
    pub guest_features: u32,
    /// Address of the network ring, 0 if none.
    pub net_ring: u64,
}

impl BootInfo {
    /// Size in bytes.
    pub const SIZE: usize = 56;

    /// Reads the structure from its bytes.
    pub const fn decode(b: &[u8; Self::SIZE]) -> Self {
        BootInfo {
            mem_size: u64_at(b, 0),
            kernel_end: u64_at(b, 8),
            cpu_cycle_freq: u64_at(b, 16),
            cmdline: u64_at(b, 24),
            mft: u64_at(b, 32),
            host_features: u32_at(b, 40),
            guest_features: u32_at(b, 44),
            net_ring: u64_at(b, 48),
        }
    }

    /// The structure's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put(&mut b, 0, self.mem_size.to_le_bytes());
        put(&mut b, 8, self.kernel_end.to_le_bytes());
        put(&mut b, 16, self.cpu_cycle_freq.to_le_bytes());
        put(&mut b, 24, self.cmdline.to_le_bytes());
        put(&mut b, 32, self.mft.to_le_bytes());
        put(&mut b, 40, self.host_features.to_le_bytes());
        put(&mut b, 44, self.guest_features.to_le_bytes());
        put(&mut b, 48, self.net_ring.to_le_bytes());
        b
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn boot_info_matches_the_spec() {
        assert_eq!(size_of::<BootInfo>(), 56);
        assert_eq!(BootInfo::SIZE, 56);
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
    fn boot_info_codec_round_trips() {
        let info = BootInfo {
            mem_size: 0x800_0000,
            kernel_end: 0x20_0000,
            cpu_cycle_freq: 2_400_000_000,
            cmdline: 0x1_0038 + 112,
            mft: 0x1_0038,
            host_features: 0,
            guest_features: 0,
            net_ring: 0,
        };
        let b = info.encode();
        assert_eq!(&b[0..8], &0x800_0000u64.to_le_bytes());
        assert_eq!(&b[16..24], &2_400_000_000u64.to_le_bytes());
        assert_eq!(&b[32..40], &0x1_0038u64.to_le_bytes());
        assert_eq!(&b[40..56], &[0; 16]);
        assert_eq!(BootInfo::decode(&b), info);
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
