//! Conformance `stackoverflow`: recursion without end, 1 KiB of stack per call, until the
//! stack runs into the guard below it.
//!
//! On hvt and Xen the first write into the guard is a page fault, which the backend's trap
//! handler reports as `trap: stack overflow (page fault at ... in the guard page below the
//! stack)`, then halts with 255. As a process the unix backend's fault handler reports the
//! signal. Either way the unikernel never reaches its last line, which reports the failure.
//!
//! Each call keeps a 1 KiB buffer that escapes to [`core::hint::black_box`] and adds its
//! callee's result to a byte of it, so the recursion is neither removed, bounded nor turned
//! into a loop.
#![cfg_attr(not(test), no_std, no_main)]

use core::mem::MaybeUninit;

morgana::main!(app);

/// Bytes of stack each call keeps (besides its frame).
const FRAME_BYTES: usize = 1024;

#[inline(never)]
fn stackoverflow_descend(depth: u64) -> u64 {
    // Never true, but the optimiser cannot know: without it the lint sees no way out.
    if core::hint::black_box(depth) == u64::MAX {
        return depth;
    }
    let mut buffer = MaybeUninit::<[u8; FRAME_BYTES]>::uninit();
    let buffer = core::hint::black_box(&mut buffer);
    let below = stackoverflow_descend(depth + 1);
    below.wrapping_add(buffer.as_ptr() as u64 & 1)
}

async fn app(_spawner: morgana::Spawner) -> Result<(), &'static str> {
    morgana::println!("recursing until the stack overflows");
    let depth = stackoverflow_descend(0);
    morgana::println!("returned from depth {depth}");
    Err("FAILURE: the recursion ended")
}
