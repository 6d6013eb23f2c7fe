//! A unikernel in another repository: a fresh Cargo project that depends on Morgana by path,
//! with its own two-line xtask over `morgana-build`, builds and runs its unikernel.

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
        "[workspace]\nresolver = \"3\"\nmembers = [\"greeter\", \"xtask\"]\n",
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
            "[package]\nname = \"greeter\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nmorgana = {{ path = \"{root}/crates/morgana\" }}\n"
        ),
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
        ("greetings, Ada, from another repository\n", Some(0))
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
        ("greetings, Bob, from another repository\n", Some(0))
    );

    // The same project as an hvt image, booted by the tender built from Morgana's sources.
    let built = xtask(&["build", "--target", "hvt", "-p", "greeter"]);
    assert_eq!(built.code, Some(0), "hvt build failed: {}", built.stderr);
    assert!(
        built.stdout.trim().ends_with("hvt/greeter.hvt"),
        "{}",
        built.stdout
    );
    // Booting needs KVM; without it the rest above still ran, and the skip is recorded.
    if prereq::check(&[Prereq::Kvm]) {
        let ran = xtask(&[
            "run",
            "--target",
            "hvt",
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
            ["greetings, Eve, from another repository"],
            "{}",
            ran.stderr
        );
        assert_eq!(ran.code, Some(0));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
