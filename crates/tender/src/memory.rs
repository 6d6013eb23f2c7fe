//! Guest memory: one anonymous shared mapping that backs guest-physical addresses
//! `[0, size)`, and the single checked translation from guest addresses to host memory.
//!
//! A [`GuestAddress`] is an opaque number: it cannot be dereferenced. The only way to reach
//! the bytes behind it is [`GuestMemory::translate`], which applies the hvt ABI rule
//! (spec 2.5): refuse when `gpa >= size`, when `gpa + len` overflows, or when
//! `gpa + len >= size` (conservative by one byte).

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A guest-physical address (bytes). Deliberately not convertible to a host pointer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuestAddress(pub u64);

impl fmt::Debug for GuestAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GuestAddress({:#x})", self.0)
    }
}

/// A guest access that the checked translation refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Invalid guest access: gpa={gpa:#x}, sz={size}")]
pub struct InvalidGuestAccess {
    /// The guest-physical address the guest supplied.
    pub gpa: u64,
    /// The length in bytes the access would have covered.
    pub size: u64,
}

/// The translation rule of the ABI, on plain numbers: `Some(offset)` when
/// `[gpa, gpa + size)` is usable for a guest memory of `mem_size` bytes.
pub fn checked_range(mem_size: u64, gpa: u64, size: u64) -> Result<usize, InvalidGuestAccess> {
    let refuse = InvalidGuestAccess { gpa, size };
    if gpa >= mem_size {
        return Err(refuse);
    }
    let end = gpa.checked_add(size).ok_or(refuse)?;
    if end >= mem_size {
        return Err(refuse);
    }
    usize::try_from(gpa).map_err(|_| refuse)
}

/// Guest RAM: an anonymous `MAP_SHARED` mapping registered with KVM as memory slot 0.
#[derive(Debug)]
pub struct GuestMemory {
    base: NonNull<u8>,
    /// Bytes usable by hypercalls (the ABI's `mem_size`).
    size: u64,
}

impl GuestMemory {
    /// Maps `size` bytes of zeroed memory. `size` must be a non-zero multiple of the page size.
    pub fn new(size: u64) -> io::Result<Self> {
        let len = usize::try_from(size).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a fresh anonymous mapping at an address chosen by the kernel; no existing
        // memory is affected. The result is checked against MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        Ok(Self { base, size })
    }

    /// Size of guest memory in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Host address of guest-physical address 0, for registering the KVM memory slot.
    pub fn host_base(&self) -> u64 {
        self.base.as_ptr() as u64
    }

    /// The one checked translation: the host region behind `[gpa, gpa + size)`.
    pub fn translate(
        &self,
        gpa: GuestAddress,
        size: u64,
    ) -> Result<HostRegion<'_>, InvalidGuestAccess> {
        let offset = checked_range(self.size, gpa.0, size)?;
        // `checked_range` guarantees offset + size < self.size, which fits in usize.
        let len = size as usize;
        // SAFETY: offset < self.size, so the pointer stays inside the mapping.
        let ptr = unsafe { self.base.as_ptr().add(offset) };
        Ok(HostRegion {
            ptr,
            len,
            _memory: PhantomData,
        })
    }

    /// Copies `data` to `gpa`; the following `total - data.len()` bytes (a segment's bss) are
    /// left as they are: zero, because guest memory is a fresh anonymous mapping and the
    /// loader writes each page of a segment only once (segments never share a page). Not
    /// writing them keeps those pages unallocated until the guest touches them. Used by the
    /// loader, whose segments may end exactly at the top of memory (the hypercall rule is
    /// stricter). Fails if `[gpa, gpa + total)` is not inside guest memory.
    pub(crate) fn fill(&self, gpa: u64, data: &[u8], total: u64) -> io::Result<()> {
        let inside = gpa.checked_add(total).is_some_and(|end| end <= self.size);
        if !inside || (data.len() as u64) > total {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: [gpa, gpa + data.len()) lies inside the mapping (checked above) and no guest
        // runs yet; `data` is host memory distinct from the mapping.
        unsafe {
            let dst = self.base.as_ptr().add(gpa as usize);
            std::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
        }
        Ok(())
    }

    /// Changes host protection of the page-aligned range `[start, end)` (guest-physical).
    /// Used by the loader for W^X; KVM carries a read-only host page into the guest.
    pub(crate) fn protect(&self, start: u64, end: u64, prot: libc::c_int) -> io::Result<()> {
        if start > end || end > self.size {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: the range lies inside our own mapping (checked above); changing its
        // protection affects no other memory.
        let rc = unsafe {
            libc::mprotect(
                self.base.as_ptr().add(start as usize).cast(),
                (end - start) as usize,
                prot,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `new`; no region borrows outlive self.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.size as usize);
        }
    }
}

/// Host view of a checked guest range. Offsets used with it are the tender's own constants;
/// an out-of-range offset is a tender bug and panics.
#[derive(Debug)]
pub struct HostRegion<'a> {
    ptr: *mut u8,
    len: usize,
    _memory: PhantomData<&'a GuestMemory>,
}

impl HostRegion<'_> {
    /// Length of the region in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the region is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Host pointer to the first byte, for handing to a system call together with `len()`.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    fn check(&self, offset: usize, len: usize) {
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= self.len),
            "region overrun"
        );
    }

    /// Copies `out.len()` bytes starting at `offset` out of guest memory.
    pub fn read(&self, offset: usize, out: &mut [u8]) {
        self.check(offset, out.len());
        // SAFETY: bounds checked above; the vCPU is stopped while the tender handles an exit,
        // so nothing writes the range concurrently, and `out` is distinct host memory.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(offset), out.as_mut_ptr(), out.len()) }
    }

    /// Copies `data` into guest memory at `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) {
        self.check(offset, data.len());
        // SAFETY: bounds checked above; see `read` for why no concurrent access exists.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(offset), data.len()) }
    }

    /// Reads a little-endian u64 at `offset`.
    pub fn read_u64(&self, offset: usize) -> u64 {
        let mut b = [0u8; 8];
        self.read(offset, &mut b);
        u64::from_le_bytes(b)
    }

    /// Writes a little-endian u64 at `offset`.
    pub fn write_u64(&self, offset: usize, value: u64) {
        self.write(offset, &value.to_le_bytes());
    }

    /// Writes a little-endian u32 at `offset`.
    pub fn write_u32(&self, offset: usize, value: u32) {
        self.write(offset, &value.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB2: u64 = 2 << 20;

    #[test]
    fn accepts_ranges_strictly_below_the_top() {
        assert_eq!(checked_range(MIB2, 0, 16), Ok(0));
        assert_eq!(checked_range(MIB2, 0x10000, 0), Ok(0x10000));
        assert_eq!(checked_range(MIB2, MIB2 - 17, 16), Ok((MIB2 - 17) as usize));
    }

    #[test]
    fn refuses_a_buffer_ending_exactly_at_the_top() {
        assert_eq!(
            checked_range(MIB2, MIB2 - 16, 16),
            Err(InvalidGuestAccess {
                gpa: MIB2 - 16,
                size: 16
            })
        );
    }

    #[test]
    fn refuses_addresses_at_or_above_the_top() {
        assert!(checked_range(MIB2, MIB2, 0).is_err());
        assert!(checked_range(MIB2, MIB2 + 1, 1).is_err());
        assert!(checked_range(MIB2, u64::MAX, 0).is_err());
    }

    #[test]
    fn refuses_overflowing_lengths() {
        assert!(checked_range(MIB2, 0x1000, u64::MAX).is_err());
        assert!(checked_range(MIB2, 1, u64::MAX).is_err());
        assert!(checked_range(u64::MAX, u64::MAX - 1, 2).is_err());
    }

    #[test]
    fn error_message_has_the_abi_format() {
        let e = checked_range(MIB2, 0x200000, 8).unwrap_err();
        assert_eq!(e.to_string(), "Invalid guest access: gpa=0x200000, sz=8");
    }

    #[test]
    fn translated_region_round_trips() {
        let mem = GuestMemory::new(MIB2).expect("mmap");
        let r = mem.translate(GuestAddress(0x1000), 16).expect("in range");
        r.write_u64(8, 0xdead_beef);
        assert_eq!(r.read_u64(8), 0xdead_beef);
        assert_eq!(r.len(), 16);
        assert!(mem.translate(GuestAddress(MIB2 - 8), 8).is_err());
    }
}
