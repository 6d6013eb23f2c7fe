//! The guest's RAM: the start info's memory map (version 1), or `XENMEM_memory_map` where the
//! start info has none (a PVH dom0 gets version 0).

#[cfg(target_os = "xen")]
use crate::abi::{self, E820Entry, HvmMemmapEntry, HvmStartInfo, MemoryMap, hypercall};
#[cfg(target_os = "xen")]
use crate::hypercall::op;

/// A range of RAM, `[start, end)` in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

#[cfg(target_os = "xen")]
const MAX_ENTRIES: usize = 32;

#[cfg(target_os = "xen")]
/// Calls `f` with each RAM range of the memory map.
///
/// # Safety
/// `info` must be the start info Xen passed, with its memory map (if any) still intact.
pub unsafe fn for_each_ram(info: &HvmStartInfo, mut f: impl FnMut(Range)) -> Result<(), isize> {
    if info.version >= 1 && info.memmap_entries > 0 && info.memmap_paddr != 0 {
        let n = (info.memmap_entries as usize).min(MAX_ENTRIES);
        for i in 0..n {
            // SAFETY: the caller vouches for the map; identity mapping makes the physical
            // address usable as a pointer.
            let e: HvmMemmapEntry = unsafe {
                core::ptr::read_unaligned((info.memmap_paddr as *const HvmMemmapEntry).add(i))
            };
            if e.kind == abi::E820_RAM {
                f(Range {
                    start: e.addr,
                    end: e.addr.saturating_add(e.size),
                });
            }
        }
        return Ok(());
    }
    let mut entries = [E820Entry::default(); MAX_ENTRIES];
    let mut arg = MemoryMap {
        nr_entries: MAX_ENTRIES as u32,
        buffer: entries.as_mut_ptr() as u64,
    };
    // SAFETY: XENMEM_memory_map writes at most `nr_entries` packed e820 entries to `buffer`.
    let rc = unsafe { op(hypercall::MEMORY_OP, abi::XENMEM_MEMORY_MAP, &mut arg) };
    if rc < 0 {
        return Err(rc);
    }
    for e in entries.iter().take(arg.nr_entries as usize) {
        let (addr, size, kind) = (e.addr, e.size, e.kind);
        if kind == abi::E820_RAM {
            f(Range {
                start: addr,
                end: addr.saturating_add(size),
            });
        }
    }
    Ok(())
}

/// The largest part of `ram` at or above `floor`, page-aligned, below 4 GiB (what our page
/// tables map).
pub fn largest_above(ranges: &[Range], floor: u64) -> Option<Range> {
    ranges
        .iter()
        .map(|r| Range {
            start: r.start.max(floor).next_multiple_of(4096),
            end: r.end.min(1 << 32) & !4095,
        })
        .filter(|r| r.end > r.start)
        .max_by_key(|r| r.end - r.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_goes_above_the_image() {
        let ram = [
            Range {
                start: 0,
                end: 0xa0000,
            },
            Range {
                start: 0x100000,
                end: 0x2000000,
            },
        ];
        assert_eq!(
            largest_above(&ram, 0x180123),
            Some(Range {
                start: 0x181000,
                end: 0x2000000
            })
        );
        assert_eq!(largest_above(&ram, 0x3000000), None);
    }
}
