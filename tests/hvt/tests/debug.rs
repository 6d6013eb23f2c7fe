//! Debugging hvt guests: symbolised backtraces of a panic and a fault three calls deep.

use morgana_build::symbolize::{Symbolizer, debug_info_path};
use morgana_testkit::backtrace::assert_frames;
use morgana_testkit::{Prereq, require};

use hvt_tests::{boot, image, workspace};

const FILE: &str = "tests/conformance/backtrace/src/main.rs";

/// Boots `conformance-backtrace MODE` and returns its exit code and symbolised console.
fn backtrace_of(mode: &str) -> (Option<i32>, String) {
    let out = boot(&["--mem=4"], "conformance-backtrace", &[mode]);
    let image = image("conformance-backtrace");
    let symbolizer = Symbolizer::for_image(&image, Some(&workspace().root)).expect("debug info");
    let mut symbolised = Vec::new();
    symbolizer
        .copy(out.stdout.as_bytes(), &mut symbolised)
        .expect("symbolise");
    (out.code, String::from_utf8(symbolised).expect("UTF-8"))
}

#[test]
fn release_images_keep_their_debug_information_beside_them() {
    let image = image("conformance-backtrace");
    let debug = debug_info_path(&image);
    let (image_size, debug_size) = (
        std::fs::metadata(&image).unwrap().len(),
        std::fs::metadata(&debug).unwrap().len(),
    );
    assert!(debug_size > image_size, "{image_size} {debug_size}");
}

#[test]
fn a_panic_three_calls_deep_is_symbolised() {
    require!(Prereq::Kvm);
    let (code, out) = backtrace_of("panic");
    assert_eq!(code, Some(255), "{out}");
    assert!(
        out.contains(&format!(
            "\npanic: panicked at {FILE}:25:9:\nthree calls deep\nbacktrace: #0 ret 0x"
        )),
        "{out}"
    );
    assert_frames(
        &out,
        &[
            ("backtrace_inner_panic", &format!("{FILE}:25")),
            ("backtrace_middle", &format!("{FILE}:42")),
            ("backtrace_outer", &format!("{FILE}:50")),
        ],
    );
    assert!(out.ends_with("Solo5: solo5_exit(255) called\n"), "{out}");
}

#[test]
fn a_fault_three_calls_deep_is_symbolised() {
    require!(Prereq::Kvm);
    let (code, out) = backtrace_of("fault");
    assert_eq!(code, Some(255), "{out}");
    let trap = out
        .lines()
        .find(|l| l.starts_with("Solo5: trap: type=#PF ec=0x2 rip="))
        .unwrap_or_else(|| panic!("no trap line in {out}"));
    let rip = trap["Solo5: trap: type=#PF ec=0x2 rip=0x".len()..]
        .split(' ')
        .next()
        .unwrap_or_default();
    let rip = u64::from_str_radix(rip, 16).unwrap_or_else(|_| panic!("{trap}"));
    // Frame 0 is the faulting instruction, inside the innermost function (into which the
    // volatile write is inlined).
    assert!(
        out.contains(&format!("{trap}\nSolo5: backtrace: #0 pc {rip:#018x} ")),
        "{out}"
    );
    let first = assert_frames(
        &out,
        &[
            ("backtrace_inner_fault", &format!("{FILE}:34")),
            ("backtrace_middle", &format!("{FILE}:43")),
            ("backtrace_outer", &format!("{FILE}:50")),
        ],
    );
    assert_eq!(first, 0, "{out}");
    assert!(out.ends_with("Solo5: ABORT: fatal trap\n"), "{out}");
}
