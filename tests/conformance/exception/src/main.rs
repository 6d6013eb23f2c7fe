//! Conformance `exception`: a write to 16 GiB, far above any guest memory.
//!
//! On hvt the page fault reaches the backend's trap handler, which prints a `trap:` line and
//! `ABORT`, then halts with 255. As a process it is a segmentation fault. Either way the
//! unikernel never reaches its last line, which reports the failure.
#![cfg_attr(not(test), no_std, no_main)]

morgana::main!(app);

/// 16 GiB: unmapped for any guest (memory ends at 4 GiB at most) and for a process.
const UNMAPPED: usize = 0x4_0000_0000;

async fn app(_spawner: morgana::Spawner) -> Result<(), &'static str> {
    morgana::println!("writing to {UNMAPPED:#x}");
    // SAFETY: none, deliberately: this write must fault, which is what the test checks.
    unsafe { core::ptr::write_volatile(UNMAPPED as *mut u8, 1) };
    Err("FAILURE: the write to unmapped memory did not fault")
}
