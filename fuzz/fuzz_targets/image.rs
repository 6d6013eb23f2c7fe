//! Feeds arbitrary bytes to the image checks the tender runs on an untrusted KERNEL file:
//! ELF header and program headers, the ABI and manifest notes, the manifest, and the
//! PT_LOAD plan for small and maximal guest memory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use morgana_tender::elf;

fuzz_target!(|data: &[u8]| {
    if let Ok((image, manifest)) = morgana_tender::read_image_notes(data) {
        let _ = manifest.to_bytes();
        for mem in [2 << 20, 1 << 32] {
            if let Ok(plan) = elf::plan_load(data, &image, mem) {
                for s in &plan.segments {
                    assert!(s.vaddr >= elf::GUEST_MIN_BASE && s.end <= mem && s.start <= s.vaddr);
                    assert!(elf::file_range(data, s.file_offset, s.filesz).is_some());
                }
            }
        }
    }
    if let Ok(image) = elf::parse(data) {
        let _ = elf::plan_load(data, &image, 4 << 20);
    }
});
