//! Bad images and bad command lines: one exact error line each, status 1.

mod support;

use morgana_testkit::{Prereq, require};
use support::image::{Asm, BLOCK, DATA, Data, Image, NET, manifest, mft_entry};
use support::{assert_fails_with, boot, scratch, stderr, tender, write_image};

fn halting() -> Image {
    let mut d = Data::new();
    d.u64s(0, &[0, 0]);
    Image::new(Asm::new().hypercall(8, DATA).hang().finish(), d.bytes)
}

/// Runs the image with `--mem=4` and `options`; no KVM is needed for checks that fail first.
fn check(image: &Image, options: &[&str], message: &str) {
    assert_fails_with(&boot(image, options), message);
}

const BAD_HEADER: &str = "invalid executable: invalid or unsupported executable";

#[test]
fn truncated_files() {
    let full = halting().build();
    for len in [0usize, 10, 63, 100] {
        let out = tender(&[], &write_image(&full[..len]), &[]);
        assert!(
            stderr(&out).starts_with(&format!("morgana-hvt: {BAD_HEADER} (")),
            "{len}: {}",
            stderr(&out)
        );
        assert_eq!(out.code, Some(1));
    }
    // Headers intact but the notes cut off.
    let out = tender(&[], &write_image(&full[..0x2010]), &[]);
    assert_fails_with(
        &out,
        "invalid executable: invalid or unsupported executable (note outside the file)",
    );
}

#[test]
fn pie_and_other_header_errors() {
    let mut pie = halting();
    pie.e_type = 3;
    check(
        &pie,
        &[],
        &format!("{BAD_HEADER} (not a static ET_EXEC executable)"),
    );
    let path = write_image(b"#!/bin/sh\necho not an image\n");
    assert_fails_with(
        &tender(&[], &path, &[]),
        &format!("{BAD_HEADER} (file too short for an ELF header)"),
    );
}

#[test]
fn abi_note_problems() {
    let mut spt = halting();
    spt.abi = (2, 2);
    check(&spt, &[], "Executable is not for the solo5-hvt target");
    let mut v1 = halting();
    v1.abi = (1, 1);
    check(&v1, &[], "Executable requests unsupported ABI version 1");
    let mut none = halting();
    none.abi_note = false;
    check(&none, &[], "No Solo5 ABI information found in executable");
    let mut no_mft = halting();
    no_mft.manifest = None;
    check(&no_mft, &[], "No Solo5 manifest found in executable");
}

#[test]
fn note_size_problems() {
    // The ABI note is the first PT_NOTE, phdr[4] (interp, text, rodata, data come first).
    let mut big = halting();
    big.abi_descsz = Some(17);
    check(
        &big,
        &[],
        "invalid executable: INV_EXE: phdr[4] note does not fall within valid size (p_filesz=40, n_descsz=17)",
    );
    let mut zero = halting();
    zero.abi_descsz = Some(0);
    check(
        &zero,
        &[],
        "invalid executable: INV_EXE: phdr[4] note does not fall within valid size (p_filesz=40, n_descsz=0)",
    );
    let mut tiny = halting();
    tiny.abi_note_filesz = Some(11);
    check(
        &tiny,
        &[],
        "invalid executable: INV_EXE: phdr[4] note does not fall within valid size (p_filesz=11, n_descsz=0)",
    );
    // Larger than its segment: content needs 20 + 16 bytes.
    let mut short = halting();
    short.abi_note_filesz = Some(30);
    check(
        &short,
        &[],
        "invalid executable: INV_EXE: phdr[4] note does not fall within valid size (p_filesz=30, n_descsz=16)",
    );
    // A 20..=35-byte segment without a matching note is skipped, so the ABI note is missing.
    let mut huge_mft = halting();
    huge_mft.mft_descsz = Some(4 + 8 + 104 * 64 + 1);
    check(
        &huge_mft,
        &[],
        "invalid executable: INV_EXE: phdr[5] note does not fall within valid size (p_filesz=136, n_descsz=6669)",
    );
}

#[test]
fn invalid_manifests() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            {
                let mut m = manifest(&[]);
                m[0] = 2;
                m
            },
            "unsupported version 2",
        ),
        (
            {
                let mut m = manifest(&[("a", BLOCK)]);
                m[4] = 1;
                m
            },
            "size 216 does not match 1 entries",
        ),
        (
            {
                let mut m = manifest(&[]);
                m[4] = 65;
                m
            },
            "too many entries (65)",
        ),
        (
            {
                let mut m = Vec::from(&manifest(&[])[..8]);
                m.extend(mft_entry("", BLOCK));
                m
            },
            "entry 0 is not RESERVED_FIRST",
        ),
        (
            {
                let mut m = manifest(&[("a", BLOCK)]);
                m[8 + 104 + 67] = b'x';
                m
            },
            "entry 1 has an unterminated name",
        ),
        (
            {
                let mut m = manifest(&[("a", NET)]);
                m[8 + 104 + 96] = 1;
                m
            },
            "entry 1 is already attached",
        ),
        (
            {
                let mut m = manifest(&[("a", 7)]);
                m[8] = 0;
                m
            },
            "entry 1 has an invalid type",
        ),
    ];
    for (m, why) in cases {
        let mut img = halting();
        img.manifest = Some(m);
        check(&img, &[], &format!("Solo5 manifest is invalid: {why}"));
    }
}

#[test]
fn segment_problems() {
    require!(Prereq::Kvm);
    let mut wx = halting();
    wx.data_flags = 7;
    check(
        &wx,
        &[],
        "invalid executable: phdr[3]: segment is both writable and executable",
    );
    let mut overlap = halting();
    overlap.data_vaddr = 0x10_1000;
    check(
        &overlap,
        &[],
        "invalid executable: phdr[3]: segment overlaps the previous one",
    );
    // A segment placed at 2 MiB does not fit in a 2 MiB guest.
    let mut high = halting();
    high.data_vaddr = 0x20_0000;
    assert_fails_with(
        &tender(&["--mem=2"], &write_image(&high.build()), &[]),
        "invalid executable: phdr[3]: file content does not fit in guest memory",
    );
}

#[test]
fn device_attachment_errors() {
    let img = halting().with_devices(&[("storage", BLOCK)]);
    check(
        &img,
        &[],
        "Device 'storage' of type BLOCK_BASIC declared but not attached. All declared devices must be attached",
    );
    let net = halting().with_devices(&[("service", NET)]);
    check(
        &net,
        &[],
        "Device 'service' of type NET_BASIC declared but not attached. All declared devices must be attached",
    );
    check(
        &img,
        &["--block:other=/dev/null"],
        "Resource not declared in manifest: 'other'",
    );
    check(
        &img,
        &["--net:storage=tap0"],
        "Resource not declared in manifest: 'storage'",
    );
    check(
        &img,
        &["--block-sector-size:nope=512"],
        "Resource not declared in manifest: 'nope'",
    );

    let odd = scratch("odd.img");
    std::fs::write(&odd, vec![0u8; 1000]).expect("disk");
    let opt = format!("--block:storage={}", odd.display());
    check(
        &img,
        &[&opt],
        "Backing storage size must be block aligned (1000 bytes, block size 512)",
    );
    let small = scratch("small.img");
    std::fs::write(&small, vec![0u8; 2048]).expect("disk");
    let opt_small = format!("--block:storage={}", small.display());
    check(
        &img,
        &[&opt_small, "--block-sector-size:storage=4096"],
        "Backing storage must be at least one block (4096 bytes) in size",
    );
    let good = scratch("good.img");
    std::fs::write(&good, vec![0u8; 4096]).expect("disk");
    let opt_good = format!("--block:storage={}", good.display());
    check(
        &img,
        &[&opt_good, &opt_good],
        "Device 'storage' attached more than once",
    );
    check(
        &img,
        &[&opt, "--block-sector-size:storage=521"],
        "Block size must be a multiple of 2 greater than or equal 512",
    );
    check(
        &img,
        &[&opt, "--block-sector-size:storage=256"],
        "Block size must be a multiple of 2 greater than or equal 512",
    );
    let missing = scratch("missing.img");
    check(
        &img,
        &[&format!("--block:storage={}", missing.display())],
        &format!(
            "Could not open block device: {}: No such file or directory (os error 2)",
            missing.display()
        ),
    );
    check(
        &net,
        &["--net:service=nosuchtap9"],
        "Could not attach interface: nosuchtap9: No such file or directory (os error 2)",
    );
    check(
        &net,
        &["--net:service=@99"],
        "Could not attach interface: @99: Bad file descriptor (os error 9)",
    );
}

#[test]
fn command_line_errors() {
    let path = write_image(&halting().build());
    assert_fails_with(
        &tender(&["--mem=0"], &path, &[]),
        "Malformed argument to --mem",
    );
    assert_fails_with(
        &tender(&["--mem=8192"], &path, &[]),
        "guest memory size 8589934592 bytes exceeds the max size 4294967296 bytes",
    );
    let out = tender(&["--frobnicate"], &path, &[]);
    let err = stderr(&out);
    assert!(
        err.starts_with("morgana-hvt: Invalid option: --frobnicate\nusage: morgana-hvt "),
        "{err}"
    );
    assert_eq!(out.code, Some(1));
    let missing = scratch("nothing.hvt");
    assert_fails_with(
        &tender(&[], &missing, &[]),
        &format!(
            "{}: No such file or directory (os error 2)",
            missing.display()
        ),
    );
    let out = support::run_with_limit(
        support::TENDER,
        &["--version".into()],
        std::time::Duration::from_secs(10),
    );
    assert_eq!(
        out.stdout,
        format!("morgana-hvt {}\nABI version 2\n", env!("CARGO_PKG_VERSION"))
    );
    let out = support::run_with_limit(support::TENDER, &[], std::time::Duration::from_secs(10));
    assert!(stderr(&out).starts_with("morgana-hvt: Missing KERNEL operand\nusage:"));
    assert_eq!(out.code, Some(1));
}

#[test]
fn memory_rounding_warns_and_runs() {
    require!(Prereq::Kvm);
    let out = tender(&["--mem=5"], &write_image(&halting().build()), &[]);
    assert_eq!(
        stderr(&out),
        "morgana-hvt: warning: guest memory size 5 MiB is not a multiple of 2 MiB, using 4 MiB\n"
    );
    assert_eq!(out.code, Some(0));
}
