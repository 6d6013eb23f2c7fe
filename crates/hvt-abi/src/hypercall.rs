//! The hypercalls (spec 2.6): the guest writes an argument structure, then issues an `outl`
//! of its guest-physical address to the hypercall's port. The tender reads the structure,
//! acts, and writes the OUT fields back before resuming the guest.
//!
//! Each argument type has `SIZE` (the bytes the tender must be able to read at the address),
//! `decode` and `encode`; the tender writes single OUT fields at their `core::mem::offset_of!`
//! offsets.

use crate::wire::{put, u32_at, u64_at};

/// Hypercall `n` is an `outl` to port `HVT_HYPERCALL_PIO_BASE + n`.
pub const HVT_HYPERCALL_PIO_BASE: u16 = 0x500;
/// Number of hypercall ports, the reserved number 0 included.
pub const HVT_HYPERCALL_PIO_COUNT: u16 = 9;
/// Bytes a non-null halt cookie points to (room for the guest's halt hooks).
pub const HVT_HALT_COOKIE_MAX: u64 = 512;

/// `ret` value: success.
pub const SOLO5_R_OK: u32 = 0;
/// `ret` value: try again (no frame waiting).
pub const SOLO5_R_AGAIN: u32 = 1;
/// `ret` value: invalid argument.
pub const SOLO5_R_EINVAL: u32 = 2;
/// `ret` value: unspecified error.
pub const SOLO5_R_EUNSPEC: u32 = 3;

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

    /// The hypercall with number `n`, if there is one (0 is reserved).
    pub const fn from_number(n: u16) -> Option<Hypercall> {
        Some(match n {
            1 => Hypercall::Walltime,
            2 => Hypercall::Puts,
            3 => Hypercall::Poll,
            4 => Hypercall::BlockWrite,
            5 => Hypercall::BlockRead,
            6 => Hypercall::NetWrite,
            7 => Hypercall::NetRead,
            8 => Hypercall::Halt,
            _ => return None,
        })
    }
}

/// `WALLTIME` argument, 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct HcWalltime {
    /// OUT: host `CLOCK_REALTIME` in nanoseconds since the epoch.
    pub nsecs: u64,
}

impl HcWalltime {
    /// Size in bytes.
    pub const SIZE: usize = 8;

    /// Reads the structure from its bytes.
    pub const fn decode(b: &[u8; Self::SIZE]) -> Self {
        HcWalltime {
            nsecs: u64_at(b, 0),
        }
    }

    /// The structure's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        self.nsecs.to_le_bytes()
    }
}

/// `PUTS` argument, 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct HcPuts {
    /// Address of the bytes.
    pub data: u64,
    /// Their number.
    pub len: u64,
}

impl HcPuts {
    /// Size in bytes.
    pub const SIZE: usize = 16;

    /// Reads the structure from its bytes.
    pub const fn decode(b: &[u8; Self::SIZE]) -> Self {
        HcPuts {
            data: u64_at(b, 0),
            len: u64_at(b, 8),
        }
    }

    /// The structure's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put(&mut b, 0, self.data.to_le_bytes());
        put(&mut b, 8, self.len.to_le_bytes());
        b
    }
}

/// `POLL` argument, 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

impl HcPoll {
    /// Size in bytes.
    pub const SIZE: usize = 24;

    /// Reads the structure from its bytes.
    pub const fn decode(b: &[u8; Self::SIZE]) -> Self {
        HcPoll {
            timeout_nsecs: u64_at(b, 0),
            ready_set: u64_at(b, 8),
            ret: u32_at(b, 16),
            _pad: u32_at(b, 20),
        }
    }

    /// The structure's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put(&mut b, 0, self.timeout_nsecs.to_le_bytes());
        put(&mut b, 8, self.ready_set.to_le_bytes());
        put(&mut b, 16, self.ret.to_le_bytes());
        put(&mut b, 20, self._pad.to_le_bytes());
        b
    }
}

/// `BLOCK_WRITE` / `BLOCK_READ` argument, 40 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

impl HcBlockIo {
    /// Size in bytes.
    pub const SIZE: usize = 40;

    /// Reads the structure from its bytes.
    pub const fn decode(b: &[u8; Self::SIZE]) -> Self {
        HcBlockIo {
            handle: u64_at(b, 0),
            offset: u64_at(b, 8),
            data: u64_at(b, 16),
            len: u64_at(b, 24),
            ret: u32_at(b, 32),
            _pad: u32_at(b, 36),
        }
    }

    /// The structure's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put(&mut b, 0, self.handle.to_le_bytes());
        put(&mut b, 8, self.offset.to_le_bytes());
        put(&mut b, 16, self.data.to_le_bytes());
        put(&mut b, 24, self.len.to_le_bytes());
        put(&mut b, 32, self.ret.to_le_bytes());
        put(&mut b, 36, self._pad.to_le_bytes());
        b
    }
}

/// `NET_WRITE` / `NET_READ` argument, 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

impl HcNetIo {
    /// Size in bytes.
    pub const SIZE: usize = 32;

    /// Reads the structure from its bytes.
    pub const fn decode(b: &[u8; Self::SIZE]) -> Self {
        HcNetIo {
            handle: u64_at(b, 0),
            data: u64_at(b, 8),
            len: u64_at(b, 16),
            ret: u32_at(b, 24),
            _pad: u32_at(b, 28),
        }
    }

    /// The structure's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put(&mut b, 0, self.handle.to_le_bytes());
        put(&mut b, 8, self.data.to_le_bytes());
        put(&mut b, 16, self.len.to_le_bytes());
        put(&mut b, 24, self.ret.to_le_bytes());
        put(&mut b, 28, self._pad.to_le_bytes());
        b
    }
}

/// `HALT` argument, 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct HcHalt {
    /// Address of [`HVT_HALT_COOKIE_MAX`] bytes for halt hooks, or 0.
    pub cookie: u64,
    /// The tender's exit status (the process exits with its low 8 bits).
    pub exit_status: u32,
    /// Padding to the C layout.
    pub _pad: u32,
}

impl HcHalt {
    /// Size in bytes.
    pub const SIZE: usize = 16;

    /// Reads the structure from its bytes.
    pub const fn decode(b: &[u8; Self::SIZE]) -> Self {
        HcHalt {
            cookie: u64_at(b, 0),
            exit_status: u32_at(b, 8),
            _pad: u32_at(b, 12),
        }
    }

    /// The structure's bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        put(&mut b, 0, self.cookie.to_le_bytes());
        put(&mut b, 8, self.exit_status.to_le_bytes());
        put(&mut b, 12, self._pad.to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

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
    fn sizes_agree_with_the_types() {
        assert_eq!(HcWalltime::SIZE, size_of::<HcWalltime>());
        assert_eq!(HcPuts::SIZE, size_of::<HcPuts>());
        assert_eq!(HcPoll::SIZE, size_of::<HcPoll>());
        assert_eq!(HcBlockIo::SIZE, size_of::<HcBlockIo>());
        assert_eq!(HcNetIo::SIZE, size_of::<HcNetIo>());
        assert_eq!(HcHalt::SIZE, size_of::<HcHalt>());
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
            assert_eq!(Hypercall::from_number(port - 0x500), Some(call));
        }
        assert_eq!(Hypercall::from_number(0), None);
        assert_eq!(Hypercall::from_number(9), None);
        assert_eq!(HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_PIO_COUNT, 0x509);
    }

    #[test]
    fn codecs_place_each_field_at_its_offset() {
        let io = HcBlockIo {
            handle: 0x0102,
            offset: 0x0304 << 32,
            data: 0x10_0000,
            len: 512,
            ret: SOLO5_R_EINVAL,
            _pad: 0,
        };
        let b = io.encode();
        assert_eq!(&b[0..8], &0x0102u64.to_le_bytes());
        assert_eq!(&b[8..16], &(0x0304u64 << 32).to_le_bytes());
        assert_eq!(&b[16..24], &0x10_0000u64.to_le_bytes());
        assert_eq!(&b[24..32], &512u64.to_le_bytes());
        assert_eq!(&b[32..40], &[2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(HcBlockIo::decode(&b), io);

        let net = HcNetIo {
            handle: 3,
            data: 0x20_0000,
            len: 1514,
            ret: SOLO5_R_AGAIN,
            _pad: 0,
        };
        let b = net.encode();
        assert_eq!(&b[16..24], &1514u64.to_le_bytes());
        assert_eq!(&b[24..28], &1u32.to_le_bytes());
        assert_eq!(HcNetIo::decode(&b), net);

        let poll = HcPoll {
            timeout_nsecs: 1_000_000,
            ready_set: 0b110,
            ret: 2,
            _pad: 0,
        };
        let b = poll.encode();
        assert_eq!(&b[8..16], &6u64.to_le_bytes());
        assert_eq!(&b[16..20], &2u32.to_le_bytes());
        assert_eq!(HcPoll::decode(&b), poll);

        let halt = HcHalt {
            cookie: 0x1000,
            exit_status: 0xffff_ffff,
            _pad: 0,
        };
        let b = halt.encode();
        assert_eq!(&b[8..12], &[0xff; 4]);
        assert_eq!(HcHalt::decode(&b), halt);

        let puts = HcPuts { data: 7, len: 9 };
        assert_eq!(HcPuts::decode(&puts.encode()), puts);
        let wall = HcWalltime { nsecs: 42 };
        assert_eq!(wall.encode(), 42u64.to_le_bytes());
        assert_eq!(HcWalltime::decode(&wall.encode()), wall);
    }
}
