//! A key-value store in the littlefs v2 on-disk format over any Morgana block device
//! ([`LittleFs`], implementing [`morgana_kv::KvRead`] and [`morgana_kv::KvWrite`]).
//!
//! Keys are files, dictionaries are directories, so the host's littlefs tools (and MirageOS's
//! chamelon) read and write the same disks.
//!
//! **Geometry** (what a host tool must be given): littlefs block size 4096 bytes, block count
//! = device capacity / 4096 (the capacity must be a multiple of 4096, at least two blocks),
//! name_max 255, file_max 2147483647, attr_max 1022 (littlefs's defaults). Reads are of whole
//! 4096-byte blocks, writes of the device's sector size (512 or 4096 bytes); the device has no
//! erase. None of these sizes but the block size and count is recorded on the disk.
//!
//! **Crash safety.** A `set` writes the value to a temporary file in the key's directory and
//! renames it over the key: littlefs commits a rename atomically, so a crash at any instant
//! leaves the key's old value or its new one. A dictionary is removed by renaming it to a
//! temporary name first, then deleting what it held. Temporary names begin with a control
//! character, which keys cannot hold; a writable mount deletes any left by a crash. Each
//! write method flushes the device before it returns, so a returned `Ok` is durable.
//! A crash may leave an empty dictionary created for a `set` that did not complete.
//!
//! **Memory.** Three 4 KiB caches (read, program, the open file's), a 64-byte lookahead
//! buffer and littlefs's own state, whatever the disk's size; values are read into buffers
//! the caller sizes.
//!
//! **Async over synchronous littlefs**: see the `lfs` module (littlefs's callbacks complete
//! the device's futures in place; sound on unix, hvt and Xen for the reasons given there).
//! littlefs's C code is the one foreign part of the crate, so its FFI is the one module
//! allowed `unsafe`.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

#[allow(unsafe_code)]
mod lfs;
mod store;

pub use lfs::BLOCK_SIZE;
pub use store::{LittleFs, OpenError};
