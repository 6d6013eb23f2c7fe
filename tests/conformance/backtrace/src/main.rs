//! Conformance `backtrace`: `panic` panics and `fault` writes to unmapped memory, each three
//! calls deep (`backtrace_outer` -> `backtrace_middle` -> `backtrace_inner_*`), so that the
//! printed call stack, symbolised, must name all three functions with their files and lines.
//!
//! Every function is `#[inline(never)]` and uses its callee's result after the call, so none
//! is inlined or turned into a tail jump that would leave no frame. Any other argument, or none,
//! prints usage and fails.
#![cfg_attr(not(test), no_std, no_main)]

morgana::main!(app);

/// 16 GiB: unmapped for any guest (memory ends at 4 GiB at most) and for a process.
const UNMAPPED: usize = 0x4_0000_0000;

/// What the innermost function does.
#[derive(Clone, Copy)]
enum Failure {
    Panic,
    Fault,
}

#[inline(never)]
fn backtrace_inner_panic(depth: u32) -> u32 {
    if core::hint::black_box(depth) == 3 {
        panic!("three calls deep");
    }
    depth
}

#[inline(never)]
fn backtrace_inner_fault(depth: u32) -> u32 {
    if core::hint::black_box(depth) == 3 {
        // SAFETY: none, deliberately: this write must fault, which is what the test checks.
        unsafe { core::ptr::write_volatile(UNMAPPED as *mut u32, depth) };
    }
    depth
}

#[inline(never)]
fn backtrace_middle(failure: Failure, depth: u32) -> u32 {
    let r = match failure {
        Failure::Panic => backtrace_inner_panic(depth + 1),
        Failure::Fault => backtrace_inner_fault(depth + 1),
    };
    core::hint::black_box(r) + 1
}

#[inline(never)]
fn backtrace_outer(failure: Failure) -> u32 {
    let r = backtrace_middle(failure, core::hint::black_box(2));
    core::hint::black_box(r) + 1
}

async fn app(_spawner: morgana::Spawner) -> Result<(), &'static str> {
    let failure = match morgana::args().first().map(|a| a.as_str()) {
        Some("panic") => Failure::Panic,
        Some("fault") => Failure::Fault,
        _ => return Err("usage: conformance-backtrace panic|fault"),
    };
    BACKTRACE_RUNS.fetch_add(1, Ordering::Relaxed);
    let r = backtrace_outer(failure);
    morgana::println!("FAILURE: returned {r}");
    Err("FAILURE: no panic and no fault")
}

// Below the functions above, so that their line numbers stay what the tests expect.
use core::sync::atomic::{AtomicU32, Ordering};

/// How many failures were started: a global for debuggers to print (1 once `app` has begun),
/// under a plain symbol name that gdb finds without debug information.
#[unsafe(no_mangle)]
static BACKTRACE_RUNS: AtomicU32 = AtomicU32::new(0);
