//! Running a program as an ordinary user, to show it needs no privileges.
//!
//! When the tests run as root, [`Unprivileged`] copies the program into a fresh directory any
//! user can read and runs it as `nobody` (uid and gid 65534, no supplementary groups) through
//! `setpriv(1)`; the caller states `require!(Prereq::Tool("setpriv"))` first when root. When
//! they already run as an ordinary user, it runs the program as it is.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The user id (and group id) of `nobody` on Debian-like systems.
pub const NOBODY: u32 = 65534;

/// A program prepared to run as an ordinary user; the copy (if any) is removed when dropped.
#[derive(Debug)]
pub struct Unprivileged {
    program: PathBuf,
    copy_dir: Option<PathBuf>,
}

impl Unprivileged {
    /// Prepares `program` (a path) to run without privileges.
    pub fn new(program: impl AsRef<Path>) -> Unprivileged {
        let program = program.as_ref();
        if !nix::unistd::geteuid().is_root() {
            return Unprivileged {
                program: program.to_path_buf(),
                copy_dir: None,
            };
        }
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "morgana-unprivileged-{}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            program
                .file_name()
                .map_or("program".into(), |n| n.to_string_lossy())
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let perms = |mode| std::fs::Permissions::from_mode(mode);
        std::fs::set_permissions(&dir, perms(0o755)).expect("chmod the copy's directory");
        let copy = dir.join(program.file_name().unwrap_or("program".as_ref()));
        std::fs::copy(program, &copy)
            .unwrap_or_else(|e| panic!("copy {} for nobody: {e}", program.display()));
        std::fs::set_permissions(&copy, perms(0o755)).expect("chmod the copy");
        Unprivileged {
            program: copy,
            copy_dir: Some(dir),
        }
    }

    /// A command running the program as an ordinary user; add its arguments.
    pub fn command(&self) -> Command {
        if self.copy_dir.is_none() {
            return Command::new(&self.program);
        }
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={NOBODY}"))
            .arg(format!("--regid={NOBODY}"))
            .arg("--clear-groups")
            .arg("--")
            .arg(&self.program);
        cmd
    }
}

impl Drop for Unprivileged {
    fn drop(&mut self) {
        if let Some(dir) = &self.copy_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
