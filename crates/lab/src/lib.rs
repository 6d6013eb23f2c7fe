//! Morgana's own workspace tooling on top of [`morgana_build`]: the Xen and KVM test labs, the test
//! orchestration of `cargo xtask test` and the benchmarks of `cargo xtask bench`.
//!
//! None of this is needed to build or run a unikernel, so it is kept out of the library other
//! repositories depend on; the workspace's xtask runs [`cli::main`], which adds these commands
//! to the library's own.

#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod cpio;
pub mod crates_matrix;
pub mod debian;
pub mod guest_name;
pub mod kvmlab;
pub mod stats;
pub mod test;
pub mod watchdog;
pub mod xenlab;
