//! The Solo5 hvt wire format, ABI version 2 on x86_64: the one definition the guest backend
//! (`morgana-backend-hvt`), the tender (`morgana-tender`) and the build tool (`morgana-build`)
//! share.
//!
//! | module        | what                                                             |
//! |---------------|------------------------------------------------------------------|
//! | [`hypercall`] | hypercall numbers, I/O ports, argument structures, `SOLO5_R_*`  |
//! | [`boot`]      | `struct hvt_boot_info` and the guest memory layout constants     |
//! | [`mft`]       | the manifest (`struct mft`): encoding, decoding, validation      |
//! | [`notes`]     | the ELF notes (ABI1, MFT1, OpenBSD) and `PT_INTERP`              |
//! | [`trap`]      | a trapped guest's registers, passed as the HALT cookie           |
//!
//! Every structure is `#[repr(C)]` with the exact size and field offsets of the Solo5 headers
//! (`hvt_abi.h`, `mft_abi.h`, `elf_abi.h`), pinned by unit tests, so the guest can pass it by
//! pointer. The host side never reinterprets memory: each structure has a `SIZE`, a
//! `decode` from and an `encode` to its little-endian bytes, written field by field, so the
//! tender reads guest memory as bytes and needs no `unsafe` to interpret them.
//!
//! Addresses in these structures are guest-physical, which equals guest-virtual under the
//! tender's identity map.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod boot;
pub mod hypercall;
pub mod mft;
pub mod notes;
pub mod trap;
mod wire;

/// The ABI version the image declares and the tender must match exactly.
pub const HVT_ABI_VERSION: u32 = 2;
/// The ABI note's target value for hvt (the other Solo5 targets have other numbers).
pub const HVT_ABI_TARGET: u32 = 1;
