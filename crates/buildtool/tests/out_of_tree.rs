//! A unikernel in another repository: a fresh Cargo project that depends on Morgana by path,
//! with its own two-line xtask over `morgana-build`, builds and runs its unikernel (with C code
//! built by `cc`) as a process and on hvt, and builds it for Xen.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Prereq, prereq, run};

fn morgana_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Lays out the project: a workspace with the unikernel `greeter` and an `xtask`.
fn create_project(dir: &Path) {
    let root = morgana_root();
    let root = root.display();
    write(
        &dir.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"greeter\", \"cpart\", \"xtask\"]\n",
    );
    write(
        &dir.join(".cargo/config.toml"),
        "[alias]\nxtask = \"run --quiet --package xtask --\"\n",
    );
    std::fs::copy(
        format!("{root}/rust-toolchain.toml"),
        dir.join("rust-toolchain.toml"),
    )
    .unwrap();
    write(
        &dir.join("xtask/Cargo.toml"),
        &format!(
            "[package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nmorgana-build = {{ path = \"{root}/crates/buildtool\" }}\n"
        ),
    );
    write(
        &dir.join("xtask/src/main.rs"),
        "fn main() -> std::process::ExitCode {\n    morgana_build::cli::main()\n}\n",
    );
    write(
        &dir.join("greeter/Cargo.toml"),
        &format!(
            "[package]\nname = \"greeter\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nmorgana = {{ path = \"{root}/crates/morgana\" }}\ncpart = {{ path = \"../cpart\" }}\n"
        ),
    );
    // A C library built with `cc`: on the bare-metal targets it refuses to compile unless it
    // got the image target's freestanding flags and Morgana's headers.
    write(
        &dir.join("cpart/Cargo.toml"),
        "[package]\nname = \"cpart\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[build-dependencies]\ncc = \"1.2\"\nbindgen = \"0.73\"\n",
    );
    write(
        &dir.join("cpart/build.rs"),
        r#"fn main() {
    let mut build = cc::Build::new();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "hvt" || os == "xen" {
        build.define("EXPECT_IMAGE_FLAGS", None);
    }
    build.file("cpart.c").compile("cpart");
    // Bindings generated at build time, as most -sys crates do: bindgen must parse the header
    // with the image's headers (for hvt and xen) or the host's (for unix).
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    bindgen::Builder::default()
        .header("cpart.h")
        .use_core()
        .allowlist_function("cpart_.*")
        .generate()
        .expect("bindgen parses cpart.h")
        .write_to_file(out.join("bindings.rs"))
        .unwrap();
}
"#,
    );
    write(
        &dir.join("cpart/cpart.c"),
        r#"#include <stdio.h>
#include "cpart.h"
#if defined(EXPECT_IMAGE_FLAGS) && __STDC_HOSTED__
#error "C code for an image was compiled with the host's flags"
#endif
int cpart_describe(char *out, size_t len, int32_t n) {
    return snprintf(out, len, "C says %d is %s", (int)n, n % 2 ? "odd" : "even");
}
"#,
    );
    write(
        &dir.join("cpart/cpart.h"),
        "#include <stddef.h>\n#include <stdint.h>\nint cpart_describe(char *out, size_t len, int32_t n);\n",
    );
    write(
        &dir.join("cpart/src/lib.rs"),
        r#"#![no_std]
mod bindings {
    #![allow(non_camel_case_types)]
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}
/// The C library's sentence about `n`, written into `buf`.
pub fn describe(n: i32, buf: &mut [u8; 64]) -> &str {
    // SAFETY: the C function writes at most `len` bytes, NUL included, into `out`.
    let written = unsafe { bindings::cpart_describe(buf.as_mut_ptr().cast(), buf.len(), n) };
    let len = usize::try_from(written).unwrap_or(0).min(buf.len() - 1);
    core::str::from_utf8(&buf[..len]).unwrap_or("?")
}
"#,
    );
    write(
        &dir.join("greeter/src/main.rs"),
        r#"#![cfg_attr(not(test), no_std, no_main)]
extern crate alloc;

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = morgana::BootArgs::from_boot();
    let name: alloc::string::String = args.with_default("name", "world".into())?;
    args.finish()?;
    morgana::println!("greetings, {name}, from another repository");
    morgana::println!("{}", cpart::describe(7, &mut [0; 64]));
    Ok(())
}
"#,
    );
}

#[test]
fn a_project_in_another_directory_builds_and_runs_its_unikernel() {
    let dir = std::env::temp_dir().join(format!("morgana-out-of-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    create_project(&dir);
    // Share one target directory between runs so the dependencies build once.
    let target = morgana_root().join("target/out-of-tree");
    let xtask = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            .arg("xtask")
            .args(args);
        run(&mut cmd, Duration::from_secs(600))
    };
    let built = xtask(&["build", "--target", "unix", "-p", "greeter"]);
    assert_eq!(built.code, Some(0), "build failed: {}", built.stderr);
    let exe = PathBuf::from(built.stdout.trim());
    assert!(exe.ends_with("greeter"), "{}", built.stdout);
    let ran = run(
        Command::new(&exe).args(["--", "--name=Ada"]),
        Duration::from_secs(20),
    );
    assert_eq!(
        (ran.stdout.as_str(), ran.code),
        (
            "greetings, Ada, from another repository\nC says 7 is odd\n",
            Some(0)
        )
    );
    let ran = xtask(&[
        "run",
        "--target",
        "unix",
        "-p",
        "greeter",
        "--",
        "--name=Bob",
    ]);
    assert_eq!(
        (ran.stdout.as_str(), ran.code),
        (
            "greetings, Bob, from another repository\nC says 7 is odd\n",
            Some(0)
        )
    );

    // The same project as an hvt image, booted by the tender built from Morgana's sources.
    let built = xtask(&["build", "--target", "hvt", "-p", "greeter"]);
    assert_eq!(built.code, Some(0), "hvt build failed: {}", built.stderr);
    assert!(
        built.stdout.trim().ends_with("hvt/debug/greeter.hvt"),
        "{}",
        built.stdout
    );
    // Booting needs KVM; without it the rest above still ran, and the skip is recorded.
    if prereq::check(&[Prereq::Kvm]) {
        let ran = xtask(&[
            "run",
            "--target",
            "hvt",
            // This host's KVM may be one that cannot run SSE in a guest (KVM-PVM): boot the
            // soft-float variant; hard-float images are booted in the KVM lab.
            "--float=soft",
            "-p",
            "greeter",
            "--",
            "--mem=4",
            "--",
            "--name=Eve",
        ]);
        let guest: Vec<&str> = ran
            .stdout
            .lines()
            .filter(|l| !l.starts_with("Solo5: "))
            .collect();
        assert_eq!(
            guest,
            ["greetings, Eve, from another repository", "C says 7 is odd"],
            "{}",
            ran.stderr
        );
        assert_eq!(ran.code, Some(0));
    }

    // And for Xen: the image and its xl config, the C part compiled for the image's target.
    let built = xtask(&["build", "--target", "xen", "-p", "greeter"]);
    assert_eq!(built.code, Some(0), "xen build failed: {}", built.stderr);
    let image = PathBuf::from(built.stdout.trim());
    assert!(image.ends_with("xen/debug/greeter.xen"), "{}", built.stdout);
    let elf = std::fs::read(&image).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    let xl = std::fs::read_to_string(image.with_extension("xl")).unwrap();
    assert!(xl.contains("name = \"greeter\"\ntype = \"pvh\"\n"), "{xl}");
    let _ = std::fs::remove_dir_all(&dir);
}
