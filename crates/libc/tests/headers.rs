//! The headers alone are enough: a C file including all of them compiles with `-nostdinc
//! -ffreestanding` under several language standards, with and without the bare-metal flags,
//! and warnings as errors. The library's own C sources compile the same way with the bare-metal
//! flags (no SSE). The host build's archive exports only prefixed names.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The flags an image build gives C code for a bare-metal target (besides the include dir).
const BARE_METAL: &[&str] = &[
    "-O2",
    "-mno-sse",
    "-mno-mmx",
    "-mno-red-zone",
    "-fno-pic",
    "-fno-stack-protector",
];

fn crate_path(relative: &str) -> PathBuf {
    Path::new(MANIFEST_DIR).join(relative)
}

/// Compiles `source` to an object that is thrown away, with only this library's headers.
fn compile(source: &Path, extra: &[&str]) -> Output {
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    Command::new(&compiler)
        .args(["-ffreestanding", "-nostdinc", "-isystem"])
        .arg(crate_path("include"))
        .args(["-Wall", "-Wextra", "-Werror", "-c", "-o", "/dev/null"])
        .args(extra)
        .arg(source)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {compiler:?}: {e}"))
}

fn assert_compiles(source: &Path, extra: &[&str]) {
    let out = compile(source, extra);
    assert!(
        out.status.success(),
        "{} with {extra:?}:\n{}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn all_headers_compile_on_their_own() {
    let source = crate_path("tests/c/all_headers.c");
    for std in [
        &["-std=c11", "-pedantic"][..],
        &["-std=c17", "-pedantic"],
        &["-std=gnu11"],
        &["-std=c2x"],
    ] {
        assert_compiles(&source, std);
        assert_compiles(&source, &[std, BARE_METAL].concat());
    }
    // NDEBUG turns assert off; the file must still compile (no unused-variable surprises).
    assert_compiles(&source, &["-std=c11", "-DNDEBUG", "-Wno-unused-variable"]);
}

#[test]
fn a_header_this_library_lacks_is_not_found() {
    let out = compile(&crate_path("tests/c/uses_host_header.c"), &["-std=c11"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "compiled although <math.h> is not provided"
    );
    assert!(stderr.contains("math.h"), "unexpected error: {stderr}");
}

#[test]
fn library_sources_compile_with_bare_metal_flags() {
    let mut count = 0;
    for entry in std::fs::read_dir(crate_path("c")).expect("c/ directory") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "c") {
            assert_compiles(&path, &[&["-std=c11"], BARE_METAL].concat());
            count += 1;
        }
    }
    assert_eq!(count, 5, "every C source of the library");
}

/// Global symbols defined in the host build's archive of the C half.
fn archive_symbols() -> Vec<String> {
    let out = Command::new("nm")
        .args(["-g", "--defined-only", "--format=posix"])
        .arg(env!("MORGANA_LIBC_ARCHIVE"))
        .output()
        .expect("run nm");
    assert!(
        out.status.success(),
        "nm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| !name.ends_with(':') && !name.ends_with(']'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn host_archive_exports_only_prefixed_names() {
    let symbols = archive_symbols();
    assert!(symbols.len() > 50, "too few symbols: {symbols:?}");
    let unprefixed: Vec<_> = symbols
        .iter()
        .filter(|s| !s.starts_with("morgana_") && !s.starts_with("__morgana_"))
        .collect();
    assert!(
        unprefixed.is_empty(),
        "not renamed by host_prefix.h: {unprefixed:?}"
    );
    // compiler_builtins provides these in images: defining them here would clash.
    for builtin in ["memcpy", "memmove", "memset", "memcmp", "bcmp", "strlen"] {
        assert!(
            !symbols.contains(&format!("morgana_{builtin}")),
            "{builtin} must not be defined"
        );
    }
    for expected in [
        "morgana_snprintf",
        "morgana_strtol",
        "morgana_qsort",
        "morgana_errno",
        "morgana_stdout",
    ] {
        assert!(symbols.iter().any(|s| s == expected), "{expected} missing");
    }
}

/// Every name host_prefix.h renames is defined, by the C archive or by the Rust side.
#[test]
fn host_prefix_list_names_only_real_symbols() {
    let symbols = archive_symbols();
    let rust_side = ["malloc", "calloc", "realloc", "free", "abort"];
    let list = std::fs::read_to_string(crate_path("c/host_prefix.h")).expect("read host_prefix.h");
    let mut names = 0;
    for line in list
        .lines()
        .filter(|l| l.starts_with("#define ") && !l.contains("_H"))
    {
        let mut words = line.split_whitespace().skip(1);
        let (name, renamed) = (
            words.next().expect("name"),
            words.next().expect("replacement"),
        );
        assert_eq!(renamed, format!("morgana_{name}"));
        assert!(
            symbols.iter().any(|s| *s == renamed) || rust_side.contains(&name),
            "{name} is renamed but not defined"
        );
        names += 1;
    }
    assert_eq!(
        names,
        symbols.len() - 1 + rust_side.len(),
        "one entry per symbol (minus __morgana_assert_fail)"
    );
}
