//! Images laid out like the output of Solo5's own toolchain load and run (spec 3.5): the
//! stand-in for running images built by that toolchain, which is not available here.

mod support;

use morgana_testkit::{Prereq, require};
use support::image::{Asm, BLOCK};
use support::solo5::{BSS, BSS_SIZE, DATA, image, message_addr};
use support::{assert_fails_with, scratch, status, stderr, tender, write_image};

const MESSAGE: &[u8] = b"hello from a Solo5-shaped image\n";
/// Where the guest writes into bss: past the first 2 MiB of guest memory, near the end of bss.
const BSS_MARK: u64 = BSS + 0x20_0000;
const _: () = assert!(BSS_MARK + 4 < BSS + BSS_SIZE);

/// PUTS the rodata message; write "ok\n" into bss and PUTS those 3 bytes plus the untouched
/// (zero) byte after them; HALT with the status stored in data.
fn guest(devices: &[(&str, u32)], halt_status: u64) -> Vec<u8> {
    let mut data = Vec::new();
    for w in [
        message_addr(devices),
        MESSAGE.len() as u64,
        BSS_MARK,
        4,
        0,
        halt_status,
    ] {
        data.extend_from_slice(&w.to_le_bytes());
    }
    let code = Asm::new()
        .hypercall(2, DATA)
        .store_byte(BSS_MARK, b'o')
        .store_byte(BSS_MARK + 1, b'k')
        .store_byte(BSS_MARK + 2, b'\n')
        .hypercall(2, DATA + 16)
        .hypercall(8, DATA + 32)
        .hang()
        .finish();
    image(&code, MESSAGE, &data, devices)
}

fn expected_stdout() -> Vec<u8> {
    [MESSAGE, b"ok\n\0"].concat()
}

#[test]
fn solo5_shaped_image_loads_and_runs() {
    require!(Prereq::Kvm);
    let path = write_image(&guest(&[], 0));
    let out = tender(&["--mem=4"], &path, &[]);
    assert_eq!(stderr(&out), "");
    assert_eq!(out.stdout_bytes, expected_stdout());
    assert_eq!(status(&out), 0);
    // The guest's own status comes through.
    let path = write_image(&guest(&[], 42));
    let out = tender(&["--mem=4"], &path, &[]);
    assert_eq!(out.stdout_bytes, expected_stdout());
    assert_eq!(status(&out), 42);
}

#[test]
fn solo5_shaped_image_with_a_device_needs_it_attached() {
    require!(Prereq::Kvm);
    let path = write_image(&guest(&[("storage", BLOCK)], 0));
    let out = tender(&["--mem=4"], &path, &[]);
    assert_fails_with(
        &out,
        "Device 'storage' of type BLOCK_BASIC declared but not attached. All declared devices must be attached",
    );
    let disk = scratch("disk.img");
    std::fs::write(&disk, [0u8; 512]).expect("disk");
    let block = format!("--block:storage={}", disk.display());
    let out = tender(&["--mem=4", &block], &path, &[]);
    assert_eq!(stderr(&out), "");
    assert_eq!(out.stdout_bytes, expected_stdout());
    assert_eq!(status(&out), 0);
}
