//! The `getrandom` crate's custom backends on the bare-metal targets: third-party crates that
//! ask `getrandom` 0.2 or 0.3 (directly, or through `rand`'s `OsRng`) for randomness get
//! Morgana's, with no code of the application's own.
//!
//! `getrandom` knows no `target_os = "hvt"` or `"xen"`; on such a target it calls a function
//! the final binary provides: `__getrandom_custom` for 0.2 (its `custom` feature, enabled here)
//! and `__getrandom_v03_custom` for 0.3 (selected by `--cfg getrandom_backend="custom"`, which
//! the image build adds to the user's rustflags). Both draw from one ChaCha20 generator seeded
//! from the platform's entropy source on first use, as an operating system's random device
//! draws from a pool.

use core::cell::RefCell;

use critical_section::Mutex;
use morgana_entropy::{Csprng, EntropyError};
use rand_core::RngCore;

static GENERATOR: Mutex<RefCell<Option<Csprng>>> = Mutex::new(RefCell::new(None));

/// Fills `dest` with random bytes from the shared generator, seeding it first if needed.
pub fn fill(dest: &mut [u8]) -> Result<(), EntropyError> {
    critical_section::with(|cs| {
        let mut slot = GENERATOR.borrow_ref_mut(cs);
        let generator = match slot.as_mut() {
            Some(g) => g,
            None => slot.insert(Csprng::from_source(morgana_rt::platform())?),
        };
        generator.fill_bytes(dest);
        Ok(())
    })
}

/// The error code both `getrandom` versions report when the platform has no entropy: the
/// first code reserved for custom backends.
const NO_ENTROPY: u32 = getrandom_v02::Error::CUSTOM_START;

fn fill_v02(dest: &mut [u8]) -> Result<(), getrandom_v02::Error> {
    fill(dest).map_err(|_| match core::num::NonZeroU32::new(NO_ENTROPY) {
        Some(code) => getrandom_v02::Error::from(code),
        None => getrandom_v02::Error::UNSUPPORTED,
    })
}

getrandom_v02::register_custom_getrandom!(fill_v02);

/// `getrandom` 0.3's custom backend.
///
/// # Safety
/// `getrandom` calls it with `dest` valid for writes of `len` bytes.
#[unsafe(no_mangle)]
unsafe extern "Rust" fn __getrandom_v03_custom(
    dest: *mut u8,
    len: usize,
) -> Result<(), getrandom_v03::Error> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: the caller guarantees `dest` is valid for `len` bytes of writes, and nothing else
    // accesses them during the call.
    let dest = unsafe { core::slice::from_raw_parts_mut(dest, len) };
    fill(dest).map_err(|_| getrandom_v03::Error::new_custom(0))
}
