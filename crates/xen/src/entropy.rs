//! Seeds: RDRAND when the CPU has it, otherwise timing jitter of hypercalls and the TSC mixed
//! with the wall clock (weak; a Xen guest has no entropy hypercall).

use morgana_entropy::EntropyError;

fn has_rdrand() -> bool {
    core::arch::x86_64::__cpuid(1).ecx & (1 << 30) != 0
}

fn rdrand() -> Option<u64> {
    for _ in 0..16 {
        let (v, ok): (u64, u8);
        // SAFETY: only executed when CPUID reports RDRAND; it writes one register and CF.
        unsafe {
            core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok,
                options(nomem, nostack));
        }
        if ok != 0 {
            return Some(v);
        }
    }
    None
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn jitter(state: &mut u64) -> u64 {
    for _ in 0..64 {
        let t0 = crate::clock::system_time();
        // SAFETY: RDTSC has no side effects.
        let tsc = unsafe { core::arch::x86_64::_rdtsc() };
        *state = mix(*state ^ tsc ^ t0.rotate_left(17));
    }
    *state
}

/// Fills `dest` with seed bytes.
pub fn fill(dest: &mut [u8]) -> Result<(), EntropyError> {
    let hw = has_rdrand();
    let mut state = crate::clock::wall_ns();
    for chunk in dest.chunks_mut(8) {
        let v = if hw {
            rdrand().ok_or(EntropyError {
                reason: "RDRAND kept failing",
            })?
        } else {
            jitter(&mut state)
        };
        chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
    }
    Ok(())
}
