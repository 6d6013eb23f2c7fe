//! Entropy from `getrandom(2)`.

use morgana_entropy::EntropyError;

/// Fills `dest` from the kernel's CSPRNG, retrying on interruption and short reads.
pub fn fill(dest: &mut [u8]) -> Result<(), EntropyError> {
    let mut done = 0;
    while done < dest.len() {
        let rest = &mut dest[done..];
        // SAFETY: `rest` is a valid writable buffer of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(EntropyError {
                reason: "getrandom(2) failed",
            });
        }
        done += n as usize;
    }
    Ok(())
}
