//! What a test needs from the host, and what happens when the host lacks it.
//!
//! A test states its prerequisites first, with [`require!`](crate::require) (which returns
//! from the test when one is missing) or [`check`] (which tells the caller). When all are
//! present nothing happens. When one is missing:
//!
//! - with `MORGANA_REQUIRE_ALL=1` in the environment ([`REQUIRE_ALL_VAR`]) the test fails,
//!   with the reason: a machine meant to run everything (CI) never passes a test it skipped;
//! - otherwise the test is skipped: `skipped: TEST: REASON` goes to standard error (past
//!   libtest's output capture, so it shows in a normal run) and, when
//!   `MORGANA_SKIP_LOG` ([`SKIP_LOG_VAR`]) names a file, the line `TEST: REASON` is appended
//!   to it, so a runner can list every skip at the end.
//!
//! TEST is the name libtest gives the test (the name of the thread it runs on).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Environment variable that turns a missing prerequisite into a failure when it is `1`.
pub const REQUIRE_ALL_VAR: &str = "MORGANA_REQUIRE_ALL";
/// Environment variable naming a file that gets one line `TEST: REASON` per skipped test.
pub const SKIP_LOG_VAR: &str = "MORGANA_SKIP_LOG";

/// Something a test needs from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prereq {
    /// `/dev/kvm` can be opened for reading and writing (hvt guests).
    Kvm,
    /// The tests run as root (effective user id 0).
    Root,
    /// Network namespaces with tap devices can be made: root, the `ip` command (iproute2)
    /// and `/dev/net/tun`. What [`Netns`](crate::Netns) needs.
    Tap,
    /// An executable of this name is on `PATH` (e.g. `"curl"`, `"qemu-system-x86_64"`).
    Tool(&'static str),
    /// `python3` can import this module (e.g. `"littlefs"`, from PyPI's littlefs-python).
    PythonModule(&'static str),
}

impl Prereq {
    /// Why this host lacks the prerequisite, or `None` when it has it.
    pub fn missing(&self) -> Option<String> {
        match *self {
            Prereq::Kvm => std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/kvm")
                .err()
                .map(|e| format!("/dev/kvm is not usable ({e})")),
            Prereq::Root => {
                (!nix::unistd::geteuid().is_root()).then(|| "not running as root".to_string())
            }
            Prereq::Tap => Prereq::Root
                .missing()
                .map(|r| format!("{r}, which network namespaces and tap devices need"))
                .or_else(|| Prereq::Tool("ip").missing())
                .or_else(|| {
                    (!Path::new("/dev/net/tun").exists())
                        .then(|| "/dev/net/tun is missing".to_string())
                }),
            Prereq::Tool(name) => find_on_path(name, std::env::var_os("PATH"))
                .is_none()
                .then(|| format!("`{name}` is not installed (not found on PATH)")),
            Prereq::PythonModule(module) => {
                let imports = std::process::Command::new("python3")
                    .args(["-c", &format!("import {module}")])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                (!imports).then(|| {
                    format!("python3 cannot import `{module}` (scripts/setup-host installs it)")
                })
            }
        }
    }
}

/// How a missing prerequisite is handled: read from the environment by [`Policy::from_env`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// Fail instead of skipping (`MORGANA_REQUIRE_ALL=1`).
    pub require_all: bool,
    /// Where skips are logged (`MORGANA_SKIP_LOG`), if anywhere.
    pub skip_log: Option<PathBuf>,
}

impl Policy {
    /// The policy this process's environment asks for.
    ///
    /// # Panics
    /// If `MORGANA_REQUIRE_ALL` is set to something other than `1`, `0` or nothing.
    pub fn from_env() -> Policy {
        Policy::from_vars(|name| std::env::var_os(name))
    }

    /// The policy given the environment variable lookup `var` (for tests of the kit).
    ///
    /// # Panics
    /// If `MORGANA_REQUIRE_ALL` is set to something other than `1`, `0` or nothing.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Policy {
        let require_all = match var(REQUIRE_ALL_VAR) {
            None => false,
            Some(v) if v.is_empty() || v == "0" => false,
            Some(v) if v == "1" => true,
            Some(v) => panic!("{REQUIRE_ALL_VAR}={v:?}: expected 1 or 0"),
        };
        let skip_log = var(SKIP_LOG_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Policy {
            require_all,
            skip_log,
        }
    }
}

/// Checks `prereqs` for the running test under the environment's [`Policy`]: true when all
/// are present; otherwise fails the test or records its skip (see the module documentation)
/// and returns false.
///
/// # Panics
/// When one is missing and `MORGANA_REQUIRE_ALL=1`; when the skip log cannot be written; when
/// not called on a test's own thread (the test's name is unknown: use [`check_for`]).
pub fn check(prereqs: &[Prereq]) -> bool {
    check_for(&current_test_name(), prereqs)
}

/// [`check`] for the test named `test` (for code that does not run on the test's thread).
pub fn check_for(test: &str, prereqs: &[Prereq]) -> bool {
    decide(&Policy::from_env(), test, prereqs, Prereq::missing)
}

/// The decision behind [`check_for`], with the policy and the probe of the host passed in.
fn decide(
    policy: &Policy,
    test: &str,
    prereqs: &[Prereq],
    missing: impl Fn(&Prereq) -> Option<String>,
) -> bool {
    let Some(reason) = prereqs.iter().find_map(missing) else {
        return true;
    };
    // The skip log holds one line per skip.
    let reason = reason.replace('\n', " ");
    if policy.require_all {
        panic!("{test}: {reason} ({REQUIRE_ALL_VAR}=1: a missing prerequisite fails the test)");
    }
    // Straight to the process's standard error: libtest captures `eprintln!` of passing
    // tests, and a skip must show in a normal run.
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {reason}");
    if let Some(path) = &policy.skip_log {
        append_line(path, &skip_line(test, &reason));
    }
    false
}

/// The skip log's line for `test` skipped for `reason`, newline included.
pub fn skip_line(test: &str, reason: &str) -> String {
    format!("{test}: {reason}\n")
}

/// Appends `line` to the file at `path` (created if needed) in one write, so that lines from
/// test processes running in parallel do not interleave (`O_APPEND` writes of a few hundred
/// bytes to a local file land whole).
pub fn append_line(path: &Path, line: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{SKIP_LOG_VAR}={}: {e}", path.display()));
    let written = file
        .write(line.as_bytes())
        .unwrap_or_else(|e| panic!("{SKIP_LOG_VAR}={}: {e}", path.display()));
    assert_eq!(
        written,
        line.len(),
        "{SKIP_LOG_VAR}={}: short write",
        path.display()
    );
}

/// The name of the running test: libtest runs each test on a thread named after it (its path
/// within the test crate, e.g. `tests::boots`).
///
/// # Panics
/// On a thread without a name or the main thread: those are not a test's own thread.
pub fn current_test_name() -> String {
    let thread = std::thread::current();
    match thread.name() {
        Some(name) if name != "main" => name.to_string(),
        other => panic!(
            "the test's name is unknown on thread {other:?}: check prerequisites on the \
             test's own thread, or name the test with check_for"
        ),
    }
}

/// The first executable file called `name` on this process's `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    find_on_path(name, std::env::var_os("PATH"))
}

/// The first executable file called `name` in the directories of `path` (a `PATH` value).
fn find_on_path(name: &str, path: Option<OsString>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&path?)
        .map(|dir| dir.join(name))
        .find(|file| {
            file.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    /// A probe under which only `Prereq::Root` is missing.
    fn root_missing(p: &Prereq) -> Option<String> {
        (*p == Prereq::Root).then(|| "not running as root".to_string())
    }

    /// A fresh path for a skip log.
    fn log_path(name: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("morgana-testkit-{}-{name}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    fn policy(require_all: bool, skip_log: Option<&Path>) -> Policy {
        Policy {
            require_all,
            skip_log: skip_log.map(Path::to_path_buf),
        }
    }

    #[test]
    fn present_prerequisites_run_the_test_and_log_nothing() {
        let log = log_path("present");
        for require_all in [false, true] {
            let p = policy(require_all, Some(&log));
            assert!(decide(
                &p,
                "t",
                &[Prereq::Kvm, Prereq::Tool("x")],
                root_missing
            ));
            assert!(decide(&p, "t", &[], root_missing));
        }
        assert!(!log.exists());
    }

    #[test]
    fn a_missing_prerequisite_skips_and_appends_one_line_per_skip() {
        let log = log_path("skip");
        let p = policy(false, Some(&log));
        assert!(!decide(
            &p,
            "a::one",
            &[Prereq::Kvm, Prereq::Root],
            root_missing
        ));
        assert!(!decide(&p, "two", &[Prereq::Root], |_| Some("x\ny".into())));
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "a::one: not running as root\ntwo: x y\n"
        );
        std::fs::remove_file(&log).unwrap();
        // Without a log, only the message on standard error.
        assert!(!decide(
            &policy(false, None),
            "t",
            &[Prereq::Root],
            root_missing
        ));
    }

    #[test]
    fn require_all_turns_a_missing_prerequisite_into_a_failure() {
        let log = log_path("fail");
        let p = policy(true, Some(&log));
        let panic = catch_unwind(AssertUnwindSafe(|| {
            decide(&p, "boots", &[Prereq::Root], root_missing)
        }))
        .expect_err("the test fails");
        assert_eq!(
            panic.downcast_ref::<String>().map(String::as_str),
            Some(
                "boots: not running as root (MORGANA_REQUIRE_ALL=1: a missing prerequisite \
                 fails the test)"
            )
        );
        assert!(!log.exists(), "a failure is not a skip");
    }

    #[test]
    fn the_policy_comes_from_the_two_variables() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            Policy::from_vars(move |name| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            })
        };
        assert_eq!(vars(&[]), policy(false, None));
        assert_eq!(vars(&[("MORGANA_REQUIRE_ALL", "0")]), policy(false, None));
        assert_eq!(
            vars(&[("MORGANA_REQUIRE_ALL", "1"), ("MORGANA_SKIP_LOG", "/l")]),
            policy(true, Some(Path::new("/l")))
        );
        assert_eq!(vars(&[("MORGANA_SKIP_LOG", "")]), policy(false, None));
        let bad = catch_unwind(|| vars(&[("MORGANA_REQUIRE_ALL", "yes")]));
        assert!(bad.is_err());
    }

    #[test]
    fn the_test_name_is_the_libtest_thread_name() {
        assert_eq!(
            current_test_name(),
            "prereq::tests::the_test_name_is_the_libtest_thread_name"
        );
        let on_main = std::thread::Builder::new()
            .name("main".into())
            .spawn(|| catch_unwind(current_test_name).is_err())
            .unwrap()
            .join()
            .unwrap();
        assert!(on_main);
    }

    #[test]
    fn tools_are_found_only_as_executable_files_on_the_path() {
        let dir = std::env::temp_dir().join(format!("morgana-testkit-path-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tool = dir.join("mg-tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::write(dir.join("mg-data"), "").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths(["/nonexistent".into(), dir.clone()]).unwrap();
        assert_eq!(find_on_path("mg-tool", Some(path.clone())), Some(tool));
        assert_eq!(find_on_path("mg-data", Some(path.clone())), None);
        assert_eq!(find_on_path("mg-none", Some(path)), None);
        assert_eq!(find_on_path("mg-tool", None), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
