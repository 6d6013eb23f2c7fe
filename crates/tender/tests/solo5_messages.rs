//! Solo5's own wording in our error messages: Solo5's test suite, and scripts written against
//! `solo5-hvt`, look for these substrings (spec section 5.4 and the test table); each must
//! appear in the one line `morgana-hvt` prints, with status 1. docs/debugging.md lists the
//! differences kept on purpose.

mod support;

use support::image::{Asm, BLOCK, DATA, Data, Image, NET, manifest};
use support::{boot, scratch, status, stderr, tender, write_image};

fn halting() -> Image {
    let mut d = Data::new();
    d.u64s(0, &[0, 0]);
    Image::new(Asm::new().hypercall(8, DATA).hang().finish(), d.bytes)
}

/// `out` failed with status 1 and one line containing every one of `solo5`.
fn assert_solo5_wording(out: &morgana_testkit::Outcome, solo5: &[&str]) {
    let err = stderr(out);
    assert_eq!(status(out), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for s in solo5 {
        assert!(err.contains(s), "{err:?} lacks Solo5's {s:?}");
    }
}

#[test]
fn buggy_notes_say_what_solo5_says() {
    // Solo5's buggyelf: a manifest note too small to hold a manifest.
    let mut tiny = halting();
    tiny.manifest = Some(manifest(&[])[..4].to_vec());
    let out = boot(&tiny, &[]);
    assert_solo5_wording(
        &out,
        &[
            "INV_EXE: phdr[5] note does not fall within valid size",
            "note too small",
        ],
    );
    let mut big = halting();
    big.abi_descsz = Some(17);
    assert_solo5_wording(
        &boot(&big, &[]),
        &["INV_EXE: phdr[4] note does not fall within valid size"],
    );
}

#[test]
fn wrong_images_say_what_solo5_says() {
    let mut spt = halting();
    spt.abi = (2, 2);
    assert_solo5_wording(
        &boot(&spt, &[]),
        &["Executable is not for the solo5-hvt target"],
    );
    let mut pie = halting();
    pie.e_type = 3;
    assert_solo5_wording(
        &boot(&pie, &[]),
        &["invalid executable: invalid or unsupported executable ("],
    );
}

#[test]
fn bad_memory_sizes_say_what_solo5_says() {
    let path = write_image(&halting().build());
    assert_solo5_wording(
        &tender(&["--mem=0"], &path, &[]),
        &["Malformed argument to --mem"],
    );
    assert_solo5_wording(
        &tender(&["--mem=8192"], &path, &[]),
        &["guest memory size", "exceeds the max size 4294967296 bytes"],
    );
}

#[test]
fn device_errors_say_what_solo5_says() {
    let img = halting().with_devices(&[("storage", BLOCK)]);
    assert_solo5_wording(
        &boot(&img, &[]),
        &[
            "Device 'storage' of type BLOCK_BASIC declared but not attached.",
            "All declared devices must be attached",
        ],
    );
    let net = halting().with_devices(&[("service", NET)]);
    assert_solo5_wording(
        &boot(&net, &["--net:service=tapdbgnone9"]),
        &["Could not attach interface: tapdbgnone9: No such file or directory"],
    );
    let missing = scratch("solo5-missing.img");
    assert_solo5_wording(
        &boot(&img, &[&format!("--block:storage={}", missing.display())]),
        &["Could not open block device: "],
    );
    let odd = scratch("solo5-odd.img");
    std::fs::write(&odd, vec![0u8; 1000]).expect("disk");
    let opt = format!("--block:storage={}", odd.display());
    assert_solo5_wording(
        &boot(&img, &[&opt]),
        &["Backing storage size must be block aligned"],
    );
    for sector in ["521", "256"] {
        assert_solo5_wording(
            &boot(
                &img,
                &[&opt, &format!("--block-sector-size:storage={sector}")],
            ),
            &["Block size must be a multiple of 2 greater than or equal 512"],
        );
    }
}
