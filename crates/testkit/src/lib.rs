//! Helpers for Morgana's integration tests, which run unikernels as real processes on the host.
//!
//! - [`prereq`]: what a test needs from the host ([`Prereq`]) and the one way to skip when it
//!   is missing ([`require!`]): never silently, and never at all under
//!   `MORGANA_REQUIRE_ALL=1`.
//! - [`process`]: child processes, guarded ([`Process`], killed by PID when dropped) or run to
//!   completion under a time limit ([`run`]).
//! - [`netns`]: network namespaces made by one test, with tap devices and veth pairs between
//!   them, deleted when dropped ([`Netns`]). The benchmarks of `cargo xtask bench` use them too.
//! - [`clients`]: a thousand TCP connections held at once, with an exchange on each; also a
//!   program, `morgana-hold`, for machines without a test harness (the KVM lab's L1).
//! - [`user`]: a program run as an ordinary user (`nobody` when the tests run as root).
//! - [`workspace`]: builds of the workspace's own packages with other features, and littlefs
//!   disk images made by the disk tool.

pub mod backtrace;
pub mod clients;
pub mod netns;
pub mod prereq;
pub mod process;
pub mod user;
pub mod workspace;

pub use netns::Netns;
pub use prereq::Prereq;
pub use process::{Outcome, Process, run};
pub use user::Unprivileged;

/// Returns from the calling test unless the host has every prerequisite listed, for example
/// `require!(Prereq::Kvm, Prereq::Tap, Prereq::Tool("curl"));`.
///
/// A missing one skips the test (a `skipped: TEST: REASON` line on standard error, and one in
/// the file `MORGANA_SKIP_LOG` names) or, under `MORGANA_REQUIRE_ALL=1`, fails it: see
/// [`prereq::check`]. Use it on the test's own thread, which carries the test's name.
#[macro_export]
macro_rules! require {
    ($($prereq:expr),+ $(,)?) => {
        if !$crate::prereq::check(&[$($prereq),+]) {
            return;
        }
    };
}
