//! Image tests: build hvt images through the library, then read them as the tender will.
//!
//! Building is slow (core and alloc from source on the first run), so each image is built once
//! per test binary and shared.

use std::path::PathBuf;
use std::sync::OnceLock;

use morgana_build::elf::{
    self, EM_X86_64, ET_EXEC, Image, NOTE_ABI, NOTE_MANIFEST, PF_W, PF_X, PT_INTERP, PT_LOAD,
    PT_NOTE,
};
use morgana_build::{Profile, Workspace, hvt};
use morgana_hvt_abi::notes::FloatNote;

/// The image of `package`, built once per test binary.
fn built(package: &'static str, cell: &'static OnceLock<PathBuf>) -> &'static PathBuf {
    cell.get_or_init(|| {
        let ws = Workspace::current().expect("workspace");
        hvt::build(&ws, package, Profile::Release).expect("hvt build")
    })
}

fn hello_path() -> &'static PathBuf {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    built("hello", &CELL)
}

fn blk_path() -> &'static PathBuf {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    built("conformance-blk", &CELL)
}

fn hello() -> Image {
    Image::read(hello_path()).expect("readable image")
}

fn blk() -> Image {
    Image::read(blk_path()).expect("readable image")
}

fn le(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn is_a_static_x86_64_executable_entered_in_its_text() {
    let img = hello();
    assert_eq!(img.kind, ET_EXEC);
    assert_eq!(img.machine, EM_X86_64);
    let text = img
        .segments
        .iter()
        .find(|s| s.kind == PT_LOAD && s.flags & PF_X != 0)
        .expect("a text segment");
    assert!((text.vaddr..text.vaddr + text.memsz).contains(&img.entry));
}

/// The loader's rule (Solo5's and the tender's): each segment's page-rounded range lies above
/// 1 MiB and above the previous one's, so no two segments share a page in memory. In the file
/// they are packed: a segment starts at the same offset within its page as in memory.
#[test]
fn loads_own_their_pages_ascending_above_1mib_and_never_writable_and_executable() {
    for img in [hello(), blk()] {
        let loads: Vec<_> = img.segments.iter().filter(|s| s.kind == PT_LOAD).collect();
        assert!(loads.len() >= 3, "{loads:?}");
        let mut previous_end = 0x10_0000;
        for s in loads {
            let start = s.vaddr - s.vaddr % 0x1000;
            assert!(start >= 0x10_0000, "{s:?}");
            assert_eq!(s.offset % 0x1000, s.vaddr % 0x1000, "{s:?}");
            assert_eq!(s.align, 0x1000, "{s:?}");
            assert!(start >= previous_end, "overlap or descending: {s:?}");
            assert!(s.memsz >= s.filesz, "{s:?}");
            assert_ne!(s.flags & (PF_W | PF_X), PF_W | PF_X, "W+X: {s:?}");
            previous_end = (s.vaddr + s.memsz).next_multiple_of(0x1000);
        }
    }
}

#[test]
fn abi_note_is_alone_in_its_pt_note_with_the_exact_bytes() {
    let img = hello();
    let mut want = le(&[6, 16, NOTE_ABI]);
    want.extend_from_slice(b"Solo5\0\0\0");
    want.extend(le(&[1, 2, 0, 0]));
    let segments: Vec<_> = img
        .segments
        .iter()
        .filter(|s| s.kind == PT_NOTE && img.contents(s).unwrap() == want.as_slice())
        .collect();
    assert_eq!(
        segments.len(),
        1,
        "one PT_NOTE holding exactly the ABI note"
    );
    assert_eq!(
        elf::abi(&img).unwrap(),
        elf::Abi {
            target: 1,
            version: 2
        }
    );
}

#[test]
fn manifest_note_is_alone_in_its_pt_note_with_the_exact_bytes() {
    let entry = |name: &str, kind: u32| {
        let mut e = vec![0u8; 104];
        e[..name.len()].copy_from_slice(name.as_bytes());
        e[68..72].copy_from_slice(&kind.to_le_bytes());
        e
    };
    for (img, devices) in [(hello(), vec![]), (blk(), vec![entry("storage", 1)])] {
        let count = 1 + devices.len() as u32;
        let mut want = le(&[6, 4 + 8 + 104 * count, NOTE_MANIFEST]);
        want.extend_from_slice(b"Solo5\0\0\0");
        want.extend(le(&[0, 1, count]));
        want.extend(entry("", 0x4000_0000));
        want.extend(devices.concat());
        let segment = img
            .segments
            .iter()
            .find(|s| s.kind == PT_NOTE && img.contents(s).unwrap() == want.as_slice())
            .expect("one PT_NOTE holding exactly the manifest note");
        assert_eq!(segment.vaddr % 8, 0);
    }
    let (version, entries) = elf::manifest(&blk()).unwrap();
    assert_eq!(version, 1);
    assert_eq!(entries[1].name, "storage");
}

#[test]
fn every_note_has_its_own_pt_note_inside_the_read_only_segment() {
    let img = hello();
    let notes: Vec<_> = img.segments.iter().filter(|s| s.kind == PT_NOTE).collect();
    assert_eq!(notes.len(), 4);
    let parsed = img.notes().unwrap();
    assert_eq!(parsed[0].name, b"OpenBSD", "the OpenBSD note comes first");
    // Morgana's float note last: this (release, default) image is hard-float.
    assert_eq!(parsed[3].name, b"Morgana");
    assert_eq!(parsed[3].raw, FloatNote::new(false).encode());
    for (segment, note) in notes.iter().zip(&parsed) {
        assert_eq!(
            segment.filesz as usize,
            note.raw.len(),
            "one note per PT_NOTE"
        );
        let holder = img
            .segments
            .iter()
            .find(|s| {
                s.kind == PT_LOAD
                    && s.vaddr <= segment.vaddr
                    && segment.vaddr + segment.filesz <= s.vaddr + s.filesz
            })
            .expect("the note is loaded");
        assert_eq!(holder.flags & (PF_W | PF_X), 0, "read-only: {holder:?}");
    }
}

#[test]
fn interp_keeps_the_host_from_running_the_image() {
    let img = hello();
    assert_eq!(
        img.interp().unwrap().as_deref(),
        Some("/nonexistent/solo5/")
    );
    let interp = img.segments.iter().find(|s| s.kind == PT_INTERP).unwrap();
    assert_eq!(interp.filesz, 24);
}

#[test]
fn inspect_prints_the_notes_as_json() {
    assert_eq!(
        elf::inspect(blk_path()).unwrap(),
        "{\n  \"abi\": { \"type\": \"solo5.abi\", \"target\": \"hvt\", \"version\": 2 },\n  \"manifest\": { \"type\": \"solo5.manifest\", \"version\": 1, \"devices\": [\n    { \"name\": \"storage\", \"type\": \"BLOCK_BASIC\" }\n  ] }\n}"
    );
}

#[test]
fn inspect_refuses_what_is_not_an_hvt_image() {
    let err = elf::inspect(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("Cargo.toml")
            .as_path(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.ends_with("Cargo.toml: invalid ELF image: no ELF magic"),
        "{err}"
    );
    let host = std::env::current_exe().unwrap();
    let err = elf::inspect(&host).unwrap_err().to_string();
    assert_eq!(err, "invalid ELF image: no Solo5 ABI note");
}

/// The size budget (docs/benchmarks.md, "Image size"): stripped with GNU strip, the release
/// soft-float `hello.hvt` fits in 32 KiB and `noop.hvt` is smaller still. Sizes are exact, not
/// timings, so a change that grows every image fails here instead of surfacing in a later
/// benchmark.
#[test]
fn hello_and_noop_strip_to_at_most_32_kib() {
    morgana_testkit::require!(morgana_testkit::Prereq::Tool("strip"));
    let ws = Workspace::current().expect("workspace");
    let dir = ws.target_dir().join("image-size-test");
    std::fs::create_dir_all(&dir).expect("a directory for the stripped copies");
    let [noop, hello] = ["noop", "hello"].map(|package| {
        let image = hvt::build_soft(&ws, package, Profile::Release).expect("hvt build");
        let stripped = dir.join(format!("{package}.hvt"));
        let status = std::process::Command::new("strip")
            .arg("-o")
            .arg(&stripped)
            .arg(&image)
            .status()
            .expect("strip runs");
        assert!(status.success(), "strip {}: {status}", image.display());
        std::fs::metadata(&stripped).expect("stripped copy").len()
    });
    assert!(
        hello <= 32 * 1024 && noop < hello,
        "stripped: hello.hvt {hello} bytes (at most 32,768), noop.hvt {noop} (less than hello)"
    );
}
