//! Two clean builds of the same source in two different directories give bit-identical hvt
//! images: nothing of the directory the build runs in (the workspace's path, the target
//! directory's path) may reach the image.

use std::path::{Path, PathBuf};
use std::process::Command;

use morgana_build::baremetal::Float;
use morgana_build::{Profile, Workspace, hvt};

fn morgana_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// Copies the workspace's source files (those git tracks or would track) into `to`.
fn copy_sources(from: &Path, to: &Path) {
    let out = Command::new("git")
        .current_dir(from)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git ls-files failed");
    for name in out.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).expect("UTF-8 file names");
        let (src, dst) = (from.join(name), to.join(name));
        if !src.is_file() {
            continue; // listed by the index but deleted in the work tree
        }
        std::fs::create_dir_all(dst.parent().expect("a file has a parent")).unwrap();
        std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    }
}

#[test]
fn images_built_in_two_directories_are_identical() {
    let base = std::env::temp_dir().join(format!("morgana-repro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    // Different lengths too, so no offset can line up by chance. Both copies are taken before
    // either build, so they hold the same source even while the tree is being edited.
    let roots = ["first", "second-copy"].map(|dir| base.join(dir));
    for root in &roots {
        copy_sources(&morgana_root(), root);
    }
    let mut images = Vec::new();
    for root in roots {
        let ws = Workspace { root: root.clone() };
        let image = hvt::build_in(
            &ws,
            &root.join("target"),
            "hello",
            Profile::Release,
            Float::Hard,
        )
        .unwrap_or_else(|e| panic!("build in {}: {e}", root.display()));
        images.push(std::fs::read(&image).expect("the image was written"));
    }
    assert!(images[0].len() > 4096, "an implausibly small image");
    if let Some(at) = images[0].iter().zip(&images[1]).position(|(a, b)| a != b) {
        panic!("the images differ from byte {at}");
    }
    assert_eq!(
        images[0].len(),
        images[1].len(),
        "the images differ in length"
    );
    let _ = std::fs::remove_dir_all(&base);
}
