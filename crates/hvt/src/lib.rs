//! The hvt backend: a Morgana unikernel as a Solo5 hvt guest (ABI version 2) on KVM.
//!
//! | device  | here                                                              |
//! |---------|-------------------------------------------------------------------|
//! | console | the `PUTS` hypercall                                              |
//! | clock   | monotonic from the TSC and `cpu_cycle_freq`; wall via `WALLTIME`  |
//! | entropy | RDSEED or RDRAND, mixed with TSC jitter                           |
//! | net     | `NET_READ` / `NET_WRITE`, by manifest handle                      |
//! | block   | `BLOCK_READ` / `BLOCK_WRITE`, one sector per call                 |
//! | wait    | one `POLL` hypercall: relative timeout, ready set of NIC handles  |
//!
//! The tender binds devices with `--net:NAME=TAP` and `--block:NAME=FILE`; the application's
//! arguments follow the image name on the tender's command line, after any leading
//! `--solo5:LEVEL` options of this backend. See [`boot`] for what `_start` does.
//!
//! The wire format (hypercall arguments, boot info, manifest, notes) is `morgana-hvt-abi`,
//! shared with the tender and the build tool. The notes, manifest lookups and command-line
//! parsing compile (and are unit-tested) on any target; the parts that execute guest
//! instructions exist only for `target_os = "hvt"`.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod clock;
pub mod cmdline;
pub mod entropy;
pub mod line;
pub mod memory;
pub mod mft;
pub mod notes;
pub mod rx_pacing;
pub mod wait;

#[cfg(target_os = "hvt")]
pub mod block;
#[cfg(target_os = "hvt")]
pub mod boot;
#[cfg(target_os = "hvt")]
pub mod console;
#[cfg(target_os = "hvt")]
pub mod cpu;
#[cfg(target_os = "hvt")]
pub mod devices;
#[cfg(target_os = "hvt")]
pub mod hypercall;
#[cfg(target_os = "hvt")]
pub mod net;
/// Built for the host too, for its unit tests; `install` only runs in a guest.
pub mod paging;

#[cfg(target_os = "hvt")]
pub use boot::start;

/// One vCPU and interrupts never enabled: a critical section has nothing to exclude.
#[cfg(target_os = "hvt")]
struct SingleCore;

#[cfg(target_os = "hvt")]
critical_section::set_impl!(SingleCore);

// SAFETY: the guest has exactly one vCPU and never enables interrupts (RFLAGS.IF stays 0 from
// the tender's hand-over), so no other code can run while a critical section is held.
#[cfg(target_os = "hvt")]
unsafe impl critical_section::Impl for SingleCore {
    unsafe fn acquire() -> critical_section::RawRestoreState {}
    unsafe fn release(_state: critical_section::RawRestoreState) {}
}
