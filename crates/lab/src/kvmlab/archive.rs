//! The lab's initramfs, in two archives concatenated into one initrd: the base (busybox, the
//! kernel modules, `/init`; cached) and the run's own (the tender and its libraries, the images
//! and one directory of scripts per guest).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use morgana_build::{Error, Result, io_error};

use super::Guest;
use super::init::{self, shell_quote};
use crate::cpio::Cpio;
use crate::debian;

/// Where the tender lives inside L1.
pub const TENDER: &str = "bin/morgana-hvt";

/// A hash of everything the base archive is made of besides the packages.
pub fn base_recipe_hash() -> u64 {
    debian::recipe_hash(
        [init::INIT, init::SMOKE_FLAGS]
            .into_iter()
            .chain(init::MODULES.iter().copied()),
    )
}

/// The base archive from the unpacked packages in `root`.
pub fn base(root: &Path) -> Result<Vec<u8>> {
    let mut c = Cpio::default();
    for d in [
        "bin",
        "dev",
        "proc",
        "sys",
        "tmp",
        "lib",
        "lib/modules",
        "disks",
    ] {
        c.dir(d);
    }
    c.char_device("dev/console", 5, 1);
    c.char_device("dev/null", 1, 3);
    c.file("bin/busybox", 0o755, &read(&root.join("bin/busybox"))?);
    c.symlink("bin/sh", "busybox");
    c.file("init", 0o755, init::init_script().as_bytes());
    let modules = debian::modules_dir(root)?;
    for m in init::MODULES {
        c.file(
            &format!("lib/modules/{}", module_name(m)),
            0o644,
            &read(&modules.join(m))?,
        );
    }
    Ok(c.finish())
}

/// `arch/x86/kvm/kvm-amd.ko` -> `kvm-amd.ko`.
fn module_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What goes into a file of the run's archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// This text.
    Text(String),
    /// A copy of this host file.
    Copy(PathBuf),
}

/// One file of the run's archive: path inside L1, permissions, contents.
pub type Entry = (String, u32, Content);

/// The run's files: the tender at [`TENDER`] with `libraries` (path inside L1, host file),
/// each distinct image once under `images/`, the guests' files and scripts under
/// `guests/INDEX/`, and `guests/plan.sh`.
pub fn run_entries(
    tender: &Path,
    libraries: &[(String, PathBuf)],
    guests: &[Guest],
) -> Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = vec![(TENDER.into(), 0o755, Content::Copy(tender.into()))];
    for (inside, file) in libraries {
        entries.push((inside.clone(), 0o755, Content::Copy(file.clone())));
    }
    let mut images: Vec<&Path> = Vec::new();
    let mut plan = String::new();
    for (i, g) in guests.iter().enumerate() {
        crate::guest_name::check(&g.name)?;
        let k = match images.iter().position(|p| *p == g.image) {
            Some(k) => k,
            None => {
                images.push(&g.image);
                entries.push((
                    format!("images/{}.hvt", images.len() - 1),
                    0o644,
                    Content::Copy(g.image.clone()),
                ));
                images.len() - 1
            }
        };
        let mut run = format!("exec /{TENDER}");
        let image = format!("/images/{k}.hvt");
        for word in g.options.iter().chain([&image]).chain(&g.args) {
            run.push(' ');
            run.push_str(&shell_quote(word));
        }
        run.push('\n');
        let dir = format!("guests/{i}");
        entries.push((format!("{dir}/run.sh"), 0o644, Content::Text(run)));
        for (name, script) in [
            ("setup.sh", &g.setup),
            ("during.sh", &g.during),
            ("after.sh", &g.after),
        ] {
            if let Some(text) = script {
                entries.push((format!("{dir}/{name}"), 0o644, Content::Text(text.clone())));
            }
        }
        for (inside, file) in &g.files {
            let inside = inside.trim_start_matches('/');
            if inside.is_empty() || inside.split('/').any(|p| p == "..") {
                return Err(Error::Usage(format!("invalid L1 path '{inside}'")));
            }
            let program = Path::new(inside).parent() == Some(Path::new(super::tools::BIN_DIR));
            let mode = if program { 0o755 } else { 0o644 };
            entries.push((inside.to_string(), mode, Content::Copy(file.clone())));
        }
        plan.push_str(&format!("run_guest {i} {} {}\n", g.name, g.timeout_s));
    }
    entries.push(("guests/plan.sh".into(), 0o644, Content::Text(plan)));
    Ok(entries)
}

/// The archive of `entries` (parent directories added).
pub fn write(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut c = Cpio::default();
    let mut seen = BTreeSet::new();
    for (path, perm, content) in entries {
        c.parents(path, &mut seen);
        match content {
            Content::Text(t) => c.file(path, *perm, t.as_bytes()),
            // Symbolic links are followed: the real contents go in under the linked name.
            Content::Copy(f) => c.file(path, *perm, &read(f)?),
        }
    }
    Ok(c.finish())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| io_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest(name: &str, image: &str) -> Guest {
        Guest {
            name: name.into(),
            image: image.into(),
            timeout_s: 30,
            ..Default::default()
        }
    }

    #[test]
    fn the_run_archive_holds_the_tender_each_image_once_and_a_plan() {
        let libs = [(
            "lib/x86_64-linux-gnu/libc.so.6".to_string(),
            PathBuf::from("/h/libc.so.6"),
        )];
        let mut a = guest("hello", "t/hello.hvt");
        a.options = vec!["--mem=4".into()];
        a.args = vec!["Hello_Solo5".into(), "".into(), "it's".into()];
        let mut b = guest("blk", "t/blk.hvt");
        b.setup = Some("truncate -s 8192 /disks/d\n".into());
        b.after = Some("head -c 4 /disks/d\n".into());
        b.files = vec![
            ("/disks/seed".into(), PathBuf::from("t/seed")),
            ("usr/bin/client".into(), PathBuf::from("t/client")),
        ];
        let c = guest("hello-again", "t/hello.hvt");
        let entries = run_entries(Path::new("t/morgana-hvt"), &libs, &[a, b, c]).unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "bin/morgana-hvt",
                "lib/x86_64-linux-gnu/libc.so.6",
                "images/0.hvt",
                "guests/0/run.sh",
                "images/1.hvt",
                "guests/1/run.sh",
                "guests/1/setup.sh",
                "guests/1/after.sh",
                "disks/seed",
                "usr/bin/client",
                "guests/2/run.sh",
                "guests/plan.sh",
            ]
        );
        let mode = |name: &str| entries.iter().find(|e| e.0 == name).unwrap().1;
        assert_eq!((mode("disks/seed"), mode("usr/bin/client")), (0o644, 0o755));
        let text = |name: &str| match &entries.iter().find(|e| e.0 == name).unwrap().2 {
            Content::Text(t) => t.clone(),
            Content::Copy(p) => panic!("{name} copies {}", p.display()),
        };
        assert_eq!(
            text("guests/0/run.sh"),
            "exec /bin/morgana-hvt '--mem=4' '/images/0.hvt' 'Hello_Solo5' '' 'it'\\''s'\n"
        );
        assert_eq!(
            text("guests/2/run.sh"),
            "exec /bin/morgana-hvt '/images/0.hvt'\n"
        );
        assert_eq!(
            text("guests/plan.sh"),
            "run_guest 0 hello 30\nrun_guest 1 blk 30\nrun_guest 2 hello-again 30\n"
        );
    }

    #[test]
    fn bad_names_and_paths_are_refused() {
        let bad = guest("a b", "x.hvt");
        assert!(run_entries(Path::new("t"), &[], &[bad]).is_err());
        let mut escape = guest("ok", "x.hvt");
        escape.files = vec![("../etc".into(), PathBuf::from("f"))];
        assert!(run_entries(Path::new("t"), &[], &[escape]).is_err());
    }

    #[test]
    fn modules_keep_their_file_names() {
        assert_eq!(module_name("arch/x86/kvm/kvm-amd.ko"), "kvm-amd.ko");
        assert_eq!(
            init::MODULES
                .iter()
                .map(|m| module_name(m))
                .collect::<Vec<_>>(),
            ["irqbypass.ko", "ccp.ko", "kvm.ko", "kvm-amd.ko", "tun.ko"]
        );
    }
}
