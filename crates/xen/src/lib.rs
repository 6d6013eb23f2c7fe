//! The xen backend: a Morgana unikernel as a Xen PVH guest.
//!
//! | device  | here                                                                    |
//! |---------|-------------------------------------------------------------------------|
//! | console | the PV console ring (`console_io` where there is none: a dom0)           |
//! | clock   | vCPU 0's pvclock (monotonic), the shared info wall clock (wall)          |
//! | entropy | RDRAND when present, otherwise timing jitter (weak)                     |
//! | net     | netfront on the n-th vif, for the n-th declared net device               |
//! | block   | blkfront on the n-th vbd, for the n-th declared block device             |
//! | wait    | `SCHEDOP_poll` on the devices' event channels with the timer deadline    |
//! | boot    | the PVH entry (ELF note 18), own page tables, GDT and IDT                |
//!
//! The exit status goes to xenstore at `data/morgana-exit` before `SCHEDOP_shutdown`
//! (poweroff, or crash for the abort status 255). The command line (xl's `extra=`) is split
//! at whitespace into the application's arguments.
//!
//! Everything that touches the hardware is built only for `target_os = "xen"`; the ABI layouts,
//! ring arithmetic and xenstore encoding also build on the host, where their unit tests run.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod abi;
pub mod devices_note;
pub mod memory;
pub mod ring;
pub mod xs_msg;

#[cfg(target_os = "xen")]
pub mod block;
#[cfg(target_os = "xen")]
pub mod boot;
#[cfg(target_os = "xen")]
pub mod clock;
#[cfg(target_os = "xen")]
pub mod console;
#[cfg(target_os = "xen")]
pub mod devices;
#[cfg(target_os = "xen")]
pub mod entropy;
#[cfg(target_os = "xen")]
mod events;
#[cfg(target_os = "xen")]
mod gnttab;
#[cfg(target_os = "xen")]
mod hypercall;
#[cfg(target_os = "xen")]
pub mod net;
#[cfg(target_os = "xen")]
mod pages;
#[cfg(target_os = "xen")]
mod shared_info;
#[cfg(target_os = "xen")]
mod shutdown;
#[cfg(target_os = "xen")]
mod start32;
#[cfg(target_os = "xen")]
mod traps;
#[cfg(target_os = "xen")]
pub mod wait;
#[cfg(target_os = "xen")]
mod xenbus;
#[cfg(target_os = "xen")]
pub mod xenstore;

#[cfg(target_os = "xen")]
pub use boot::start;
