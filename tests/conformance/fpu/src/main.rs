//! Conformance `fpu`, Morgana's counterpart of Solo5's `test_fpu`: floating point and vector
//! arithmetic give exact, known results, and the CPU the image is shown matches its float mode.
//!
//! Prints the bits of a floating-point sum, the mask of an SSE2 byte compare, what CPUID says
//! about AVX and, where the image may use it, the bits of an AVX computation. A hard-float
//! image does the compare and the AVX sum with vector instructions; a soft-float one computes
//! the same values without them, and must be shown no AVX. Every build prints the same numbers.
#![cfg_attr(not(test), no_std, no_main)]

use core::hint::black_box;

morgana::main!(app);

/// The harmonic number H(100), summed left to right in binary64: exact bits on any IEEE 754
/// implementation, with or without SSE.
fn harmonic_100() -> f64 {
    let mut sum = 0.0f64;
    for i in 1..=100u32 {
        sum += 1.0 / black_box(f64::from(i));
    }
    sum
}

fn compare_inputs() -> ([u8; 16], [u8; 16]) {
    let a: [u8; 16] = core::array::from_fn(|i| i as u8 * 3);
    let mut b = a;
    for i in [1, 4, 9, 15] {
        b[i] ^= 0x40;
    }
    (black_box(a), black_box(b))
}

/// Bit `i` set where the two inputs' byte `i` are equal, with `pcmpeqb` (the first SSE
/// instruction some hypervisors' emulators cannot run).
#[cfg(target_feature = "sse2")]
fn equal_bytes_mask() -> u32 {
    use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8};
    let (a, b) = compare_inputs();
    let (a, b) = (a.as_ptr().cast::<__m128i>(), b.as_ptr().cast::<__m128i>());
    // SAFETY: SSE2 is part of this build's baseline; both pointers are to 16 readable bytes
    // and the unaligned loads accept any address.
    unsafe {
        let (a, b) = (_mm_loadu_si128(a), _mm_loadu_si128(b));
        _mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) as u32
    }
}

/// The same mask without vector instructions.
#[cfg(not(target_feature = "sse2"))]
fn equal_bytes_mask() -> u32 {
    let (a, b) = compare_inputs();
    (0..16).filter(|&i| a[i] == b[i]).map(|i| 1 << i).sum()
}

/// What CPUID leaf 1 says about AVX: (the CPU has it, the system enabled its state).
fn avx_in_cpuid() -> (bool, bool) {
    let ecx = core::arch::x86_64::__cpuid(1).ecx;
    (ecx & (1 << 28) != 0, ecx & (1 << 27) != 0)
}

const AVX_A: [f64; 4] = [1.5, -2.25, 1.0e300, 3.0];
const AVX_B: [f64; 4] = [0.1, 7.0, 1.0e10, -1.0 / 3.0];

/// `a * b + a` lane by lane, as four bits patterns XORed together.
fn avx_fold(r: [f64; 4]) -> u64 {
    r.iter().fold(0, |acc, x| acc ^ x.to_bits())
}

#[cfg(target_feature = "sse2")]
#[target_feature(enable = "avx")]
fn mul_add_avx(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    use core::arch::x86_64::{_mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_storeu_pd};
    let mut out = [0.0; 4];
    // SAFETY: each pointer is to four f64s; the unaligned forms accept any address.
    unsafe {
        let (va, vb) = (_mm256_loadu_pd(a.as_ptr()), _mm256_loadu_pd(b.as_ptr()));
        _mm256_storeu_pd(out.as_mut_ptr(), _mm256_add_pd(_mm256_mul_pd(va, vb), va));
    }
    out
}

fn mul_add_scalar(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    core::array::from_fn(|i| black_box(a[i]) * black_box(b[i]) + a[i])
}

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    morgana::println!("H(100) bits {:#018x}", harmonic_100().to_bits());
    morgana::println!("pcmpeqb mask {:#06x}", equal_bytes_mask());
    let expected = avx_fold(mul_add_scalar(AVX_A, AVX_B));
    let (offered, enabled) = avx_in_cpuid();
    morgana::println!("avx offered: {}", if offered { "yes" } else { "no" });
    #[cfg(target_feature = "sse2")]
    if offered && !enabled {
        return Err("the CPU offers AVX but its state was not enabled at boot".into());
    }
    #[cfg(target_feature = "sse2")]
    if offered {
        // SAFETY: CPUID says the CPU has AVX and the system enabled its state.
        let got = avx_fold(unsafe { mul_add_avx(black_box(AVX_A), black_box(AVX_B)) });
        if got != expected {
            return Err(morgana::Error::from(
                "the AVX result differs from the scalar one",
            ));
        }
        morgana::println!("avx mul-add bits {got:#018x}");
    }
    morgana::println!("scalar mul-add bits {expected:#018x}");
    #[cfg(not(target_feature = "sse2"))]
    if offered || enabled {
        return Err("a soft-float image is shown AVX".into());
    }
    morgana::println!("SUCCESS");
    Ok(())
}
