//! The registers of a trapped guest, which Morgana's hvt backend hands to the tender as the
//! HALT cookie (spec 2.6: a cookie is up to [`HVT_HALT_COOKIE_MAX`] bytes the tender may read),
//! so that `morgana-hvt --dumpcore` writes the state at the faulting instruction rather than
//! at the HALT.
//!
//! A Morgana extension, not part of Solo5's ABI: the first word is [`TRAP_REGS_MAGIC`], so a
//! tender tells it from another guest's cookie and ignores what it does not know.
//!
//! [`HVT_HALT_COOKIE_MAX`]: crate::hypercall::HVT_HALT_COOKIE_MAX

use crate::wire::{put, u64_at};

/// The first word of a [`TrapRegs`] cookie: `"MGNTRAP1"` in little-endian.
pub const TRAP_REGS_MAGIC: u64 = u64::from_le_bytes(*b"MGNTRAP1");

/// The register names, in the order of their words after the magic.
pub const REGISTER_ORDER: [&str; 23] = [
    "vector", "error", "cr2", "rip", "cs", "rflags", "rsp", "ss", "rax", "rbx", "rcx", "rdx",
    "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
];

/// A trapped guest's registers: the CPU's trap frame, the general registers and CR2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrapRegs {
    /// Exception vector.
    pub vector: u64,
    /// The CPU's error code, or 0.
    pub error: u64,
    /// CR2 (the faulting address of a page fault).
    pub cr2: u64,
    /// The trapping instruction.
    pub rip: u64,
    /// Code segment.
    pub cs: u64,
    /// Flags.
    pub rflags: u64,
    /// Stack pointer at the trap.
    pub rsp: u64,
    /// Stack segment.
    pub ss: u64,
    /// `rax`, `rbx`, `rcx`, `rdx`, `rsi`, `rdi`, `rbp`, `r8` to `r15`.
    pub gprs: [u64; 15],
}

impl TrapRegs {
    /// Encoded size in bytes: the magic and 23 words.
    pub const SIZE: usize = 8 * 24;

    /// The cookie bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        let head = [
            TRAP_REGS_MAGIC,
            self.vector,
            self.error,
            self.cr2,
            self.rip,
            self.cs,
            self.rflags,
            self.rsp,
            self.ss,
        ];
        for (i, w) in head.iter().chain(&self.gprs).enumerate() {
            put(&mut b, 8 * i, w.to_le_bytes());
        }
        b
    }

    /// Reads a cookie; `None` unless it starts with [`TRAP_REGS_MAGIC`].
    pub fn decode(b: &[u8; Self::SIZE]) -> Option<Self> {
        if u64_at(b, 0) != TRAP_REGS_MAGIC {
            return None;
        }
        let w = |i: usize| u64_at(b, 8 * i);
        let mut gprs = [0; 15];
        for (k, g) in gprs.iter_mut().enumerate() {
            *g = w(9 + k);
        }
        Some(TrapRegs {
            vector: w(1),
            error: w(2),
            cr2: w(3),
            rip: w(4),
            cs: w(5),
            rflags: w(6),
            rsp: w(7),
            ss: w(8),
            gprs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_registers_round_trip_and_other_cookies_are_refused() {
        let mut regs = TrapRegs {
            vector: 14,
            error: 2,
            cr2: 0x4_0000_0000,
            rip: 0x101471,
            rsp: 0x3ff810,
            ..TrapRegs::default()
        };
        regs.gprs[6] = 0x3ff830;
        let bytes = regs.encode();
        assert_eq!(&bytes[..8], b"MGNTRAP1");
        assert_eq!(TrapRegs::decode(&bytes), Some(regs));
        assert_eq!(TrapRegs::decode(&[0; TrapRegs::SIZE]), None);
        assert!(TrapRegs::SIZE as u64 <= crate::hypercall::HVT_HALT_COOKIE_MAX);
        assert_eq!(REGISTER_ORDER.len() + 1, TrapRegs::SIZE / 8);
    }
}
