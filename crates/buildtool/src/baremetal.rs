//! What the bare-metal targets (`hvt`, `xen`) share: a target JSON embedded in this library,
//! the cargo call that builds for it, and the C compiler settings for `cc`-built code.
//!
//! Every bare-metal target is built the same way, from any workspace:
//! - the target JSON is written to `TARGET_DIR/SHORT/spec/`; its content names no path (the
//!   backend's build script puts its linker script on the search path), and rustc identifies a
//!   JSON target by its name and content, not its path, so the image does not depend on the
//!   directory it is built in;
//! - `RUSTC_BOOTSTRAP=1`, `-Zbuild-std=core,alloc` and `-Zjson-target-spec` are set for that
//!   one cargo call, with [`BUILD_STD_FEATURES`]; release builds get `opt-level = "s"` and
//!   fat LTO unless the caller's environment sets them; nothing else in the environment
//!   changes but the C settings below;
//! - `CC_<target>`, `AR_<target>` and `CFLAGS_<target>` give C code built with the `cc` crate
//!   freestanding flags that match the image's float mode, and the headers of Morgana's libc;
//!   `BINDGEN_EXTRA_CLANG_ARGS_<target>` gives bindgen, run by `-sys` crates' build scripts,
//!   the same view of C, so their bindings describe the image and not the host;
//! - `--cfg getrandom_backend="custom"` joins the user's rustflags ([`RustflagsPlan`]), and
//!   for a soft-float image the cfgs that switch RustCrypto crates to their portable code
//!   ([`SOFT_FLOAT_RUSTFLAGS`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Profile, Result, Workspace, cargo, io_error, morgana_root, run_checked, toolchain};

/// How an image does floating point and SIMD.
///
/// `Hard` is the default, as on every x86_64 OS target: the SSE2 baseline, with the guest
/// enabling at boot the vector state the CPU offers (XSAVE, AVX), so crates that pick SIMD code
/// by run-time detection run correctly. `Soft` is for hosts whose KVM cannot run SSE in a guest:
/// no vector instruction in the image, and the image says so in a note, so that `morgana-hvt`
/// hides every SIMD feature from it and run-time detection picks portable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Float {
    /// SSE2 baseline, vector state enabled at boot.
    #[default]
    Hard,
    /// No vector instructions at all.
    Soft,
}

impl Float {
    /// The name on the command line (`--float=hard|soft`).
    pub fn name(self) -> &'static str {
        match self {
            Float::Hard => "hard",
            Float::Soft => "soft",
        }
    }
}

impl std::str::FromStr for Float {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Float> {
        match s {
            "hard" => Ok(Float::Hard),
            "soft" => Ok(Float::Soft),
            _ => Err(crate::Error::Usage(format!(
                "unknown float mode '{s}': expected hard or soft"
            ))),
        }
    }
}

/// The environment variable that sets the release profile's `opt-level` for one cargo call.
pub const RELEASE_OPT_LEVEL_VAR: &str = "CARGO_PROFILE_RELEASE_OPT_LEVEL";
/// The release `opt-level` of images: `s`. A guest spends its time in VM exits and waiting,
/// rarely in its own code, and a smaller image loads faster and touches fewer pages (about a
/// quarter less text than `3`; see docs/benchmarks.md).
pub const IMAGE_RELEASE_OPT_LEVEL: &str = "s";
/// The environment variable that sets the release profile's `lto` for one cargo call.
pub const RELEASE_LTO_VAR: &str = "CARGO_PROFILE_RELEASE_LTO";
/// The release `lto` of images: `fat`. An image is one program linked once, so the whole of it
/// (core and alloc included) is optimised as one module: `hello` strips to a fifth less, and a
/// clean build takes no longer (the link step of a large image takes a few seconds more).
pub const IMAGE_RELEASE_LTO: &str = "fat";
/// The features `-Zbuild-std` builds core and alloc with, in every profile: the `memcpy`
/// family from compiler-builtins (there is no libc to give them), and core's
/// `optimize_for_size`, its smaller variants of sorting (merge and heap sort, still
/// O(n log n)), integer formatting and string searching.
pub const BUILD_STD_FEATURES: &str = "compiler-builtins-mem,optimize_for_size";

/// One bare-metal target in one float mode.
#[derive(Debug, Clone, Copy)]
pub struct BareMetal {
    /// The target's name: the JSON's file stem, and cargo's directory for its artifacts.
    pub name: &'static str,
    /// The target JSON.
    pub json: &'static str,
    /// The image's file suffix (`hvt`, `xen`).
    pub suffix: &'static str,
    /// The directory under the target directory that images go to.
    pub dir: &'static str,
    /// The float mode.
    pub float: Float,
}

/// The Solo5 hvt target, hard-float.
pub const HVT: BareMetal = BareMetal {
    name: "x86_64-morgana-hvt",
    json: include_str!("../../../targets/x86_64-morgana-hvt.json"),
    suffix: "hvt",
    dir: "hvt",
    float: Float::Hard,
};

/// The Solo5 hvt target, soft-float.
pub const HVT_SOFT: BareMetal = BareMetal {
    name: "x86_64-morgana-hvt-softfloat",
    json: include_str!("../../../targets/x86_64-morgana-hvt-softfloat.json"),
    suffix: "hvt",
    dir: "hvt-softfloat",
    float: Float::Soft,
};

/// The Xen PVH target, hard-float.
pub const XEN: BareMetal = BareMetal {
    name: "x86_64-morgana-xen",
    json: include_str!("../../../targets/x86_64-morgana-xen.json"),
    suffix: "xen",
    dir: "xen",
    float: Float::Hard,
};

/// The Xen PVH target, soft-float.
pub const XEN_SOFT: BareMetal = BareMetal {
    name: "x86_64-morgana-xen-softfloat",
    json: include_str!("../../../targets/x86_64-morgana-xen-softfloat.json"),
    suffix: "xen",
    dir: "xen-softfloat",
    float: Float::Soft,
};

/// The hvt target in `float` mode.
pub fn hvt(float: Float) -> BareMetal {
    match float {
        Float::Hard => HVT,
        Float::Soft => HVT_SOFT,
    }
}

/// The Xen target in `float` mode.
pub fn xen(float: Float) -> BareMetal {
    match float {
        Float::Hard => XEN,
        Float::Soft => XEN_SOFT,
    }
}

/// Flags for C code compiled with the `cc` crate for a bare-metal target in `float` mode:
/// freestanding, no red zone (trap handlers run on the interrupted stack), not PIC, no stack
/// protector, frame pointers (backtraces walk them, as through Rust code), the headers of
/// Morgana's libc instead of the host's, and no SSE/MMX for a soft-float image.
pub fn c_flags(float: Float) -> String {
    let include = morgana_root().join("crates/libc/include");
    let vector = match float {
        Float::Hard => "",
        Float::Soft => " -mno-sse -mno-mmx",
    };
    format!(
        "-ffreestanding -nostdinc -isystem {}{vector} -mno-red-zone -fno-pic -fno-stack-protector \
         -fno-omit-frame-pointer",
        include.display()
    )
}

/// Compiler flags every image build adds to the user's own: `getrandom` 0.3 then calls the
/// custom backend the facade provides (it knows no `target_os = "hvt"` or `"xen"`); and the
/// workspace directory is recorded as `.` in debug information, which release images carry
/// too (split off beside them), so that an image does not depend on where it was built
/// (LLVM's names for promoted local symbols hash the debug information).
pub const IMAGE_RUSTFLAGS: &[&str] = &[
    "--cfg",
    "getrandom_backend=\"custom\"",
    "-Zremap-cwd-prefix=.",
];

/// Compiler flags a soft-float image build adds besides [`IMAGE_RUSTFLAGS`]: the RustCrypto
/// crates' own switches that compile out the SIMD code they would pick by CPUID at run time
/// (which a soft-float target cannot compile, and which a KVM that passes CPUID through would
/// let run). `sha2`'s switch is a Cargo feature (`force-soft`), which a crate asks for by
/// target: see docs/crates.md.
pub const SOFT_FLOAT_RUSTFLAGS: &[&str] = &[
    "--cfg",
    "aes_force_soft",
    "--cfg",
    "polyval_force_soft",
    "--cfg",
    "poly1305_force_soft",
    "--cfg",
    "chacha20_force_soft",
    "--cfg",
    "curve25519_dalek_backend=\"serial\"",
];

/// The flags an image build in `float` mode adds to the user's.
pub fn image_rustflags(float: Float) -> Vec<&'static str> {
    let mut flags = IMAGE_RUSTFLAGS.to_vec();
    if float == Float::Soft {
        flags.extend(SOFT_FLOAT_RUSTFLAGS);
    }
    flags
}

/// How [`IMAGE_RUSTFLAGS`] reach cargo without replacing flags the user set: cargo takes the
/// first of `CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS` and the config files' rustflags, so ours go
/// into whichever the user uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustflagsPlan {
    /// Set `CARGO_ENCODED_RUSTFLAGS` to this (the user's, then ours, 0x1f-separated).
    Encoded(String),
    /// Set `RUSTFLAGS` to this (the user's, then ours).
    Plain(String),
    /// Pass `--config` with this `build.rustflags` array, which cargo appends to the one in the
    /// user's config files. (A config that sets `target.<triple>.rustflags` for the image
    /// target makes cargo ignore `build.rustflags`: such a config must add the flags itself.)
    Config(String),
}

impl RustflagsPlan {
    /// The plan for the user's `CARGO_ENCODED_RUSTFLAGS` and `RUSTFLAGS` values.
    pub fn new(encoded: Option<&str>, plain: Option<&str>) -> RustflagsPlan {
        RustflagsPlan::with_flags(encoded, plain, IMAGE_RUSTFLAGS)
    }

    /// The plan that joins `ours` to the user's `CARGO_ENCODED_RUSTFLAGS` and `RUSTFLAGS`.
    pub fn with_flags(encoded: Option<&str>, plain: Option<&str>, ours: &[&str]) -> RustflagsPlan {
        match (encoded, plain) {
            (Some(e), _) => {
                let mut all: Vec<&str> = e.split('\x1f').filter(|f| !f.is_empty()).collect();
                all.extend(ours);
                RustflagsPlan::Encoded(all.join("\x1f"))
            }
            (None, Some(p)) => {
                let mut all: Vec<&str> = p.split_whitespace().collect();
                all.extend(ours);
                RustflagsPlan::Plain(all.join(" "))
            }
            (None, None) => {
                let quoted: Vec<String> = ours
                    .iter()
                    .map(|f| format!("\"{}\"", f.replace('\\', "\\\\").replace('"', "\\\"")))
                    .collect();
                RustflagsPlan::Config(format!("build.rustflags=[{}]", quoted.join(", ")))
            }
        }
    }

    /// Applies the plan to a cargo command.
    pub fn apply(&self, cmd: &mut Command) {
        match self {
            RustflagsPlan::Encoded(v) => cmd.env("CARGO_ENCODED_RUSTFLAGS", v),
            RustflagsPlan::Plain(v) => cmd.env("RUSTFLAGS", v),
            RustflagsPlan::Config(v) => cmd.arg("--config").arg(v),
        };
    }
}

/// What the compiler prints when a soft-float image contains vector code that a crate chose by
/// CPUID at run time (`#[target_feature]` functions with SIMD intrinsics): LLVM cannot lower it
/// for a target without SSE, and stops or crashes.
const SOFT_FLOAT_SIMD_SIGNS: &[&str] = &[
    "LLVM ERROR: Do not know how to split",
    "rustc interrupted by SIGILL",
];

/// The explanation added to a failed build of a `float` image whose compiler output is
/// `stderr`, when the failure is the one a soft-float image with SIMD code gets.
pub fn explain_failure(float: Float, stderr: &str) -> Option<&'static str> {
    (float == Float::Soft && SOFT_FLOAT_SIMD_SIGNS.iter().any(|s| stderr.contains(s))).then_some(
        "a crate in this soft-float image has vector (SIMD) code that it picks by CPUID at run \
         time, which the soft-float target cannot compile: build the image hard-float (the \
         default), or switch that crate to its portable code (docs/crates.md lists the switches)",
    )
}

impl BareMetal {
    /// Writes the target JSON into `dir` (only when it changed, so cargo's fingerprints stay
    /// valid); returns its path.
    pub fn write_target_file(&self, dir: &Path) -> Result<PathBuf> {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let path = dir.join(format!("{}.json", self.name));
        if !fs::read_to_string(&path).is_ok_and(|old| old == self.json) {
            fs::write(&path, self.json).map_err(|e| io_error(&path, e))?;
        }
        Ok(path)
    }

    /// The directory of this target's files (its target JSON under `spec/`): `TARGET_DIR/DIR`.
    pub fn image_dir(&self, target_dir: &Path) -> PathBuf {
        target_dir.join(self.dir)
    }

    /// Where [`build_image`](Self::build_image) writes `package`'s image for `profile`:
    /// `TARGET_DIR/DIR/PROFILE/PACKAGE.SUFFIX`, so debug and release images live side by side.
    pub fn image_path(&self, target_dir: &Path, package: &str, profile: Profile) -> PathBuf {
        self.image_dir(target_dir)
            .join(profile.dir())
            .join(format!("{package}.{}", self.suffix))
    }

    /// A cargo `build` command for this target into `target_dir`, with the rustflags the user
    /// set in this process's environment joined by [`image_rustflags`].
    pub fn cargo_build(&self, ws: &Workspace, target_dir: &Path) -> Result<Command> {
        let encoded = std::env::var("CARGO_ENCODED_RUSTFLAGS").ok();
        let plain = std::env::var("RUSTFLAGS").ok();
        let plan = RustflagsPlan::with_flags(
            encoded.as_deref(),
            plain.as_deref(),
            &image_rustflags(self.float),
        );
        self.cargo_build_with(ws, target_dir, &plan)
    }

    /// [`cargo_build`](Self::cargo_build) with the rustflags given by `plan` (for a caller that
    /// adds flags of its own, e.g. `RustflagsPlan::new(None, Some("--cfg x"))`).
    pub fn cargo_build_with(
        &self,
        ws: &Workspace,
        target_dir: &Path,
        plan: &RustflagsPlan,
    ) -> Result<Command> {
        toolchain::ensure_rust_src()?;
        let spec_dir = self.image_dir(target_dir).join("spec");
        let json = self.write_target_file(&spec_dir)?;
        let env_target = self.name.replace('-', "_");
        let mut cmd = cargo();
        cmd.current_dir(&ws.root)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_DIR", target_dir)
            .env(format!("CC_{env_target}"), "cc")
            .env("CARGO_PROFILE_RELEASE_DEBUG", release_debug())
            .env(format!("AR_{env_target}"), "ar")
            .env(format!("CFLAGS_{env_target}"), c_flags(self.float))
            // Build scripts that run bindgen parse C with the same view as cc's: the image's
            // headers and flags, not the host's.
            .env(
                format!("BINDGEN_EXTRA_CLANG_ARGS_{env_target}"),
                c_flags(self.float),
            )
            .arg("build")
            .arg("--target")
            .arg(&json)
            .args(["-Zjson-target-spec", "-Zbuild-std=core,alloc"])
            .arg(format!("-Zbuild-std-features={BUILD_STD_FEATURES}"));
        plan.apply(&mut cmd);
        // Images are optimised for size in release builds unless the caller's environment says
        // otherwise; the host builds of the same workspace keep the profile's own settings.
        for (var, value) in [
            (RELEASE_OPT_LEVEL_VAR, IMAGE_RELEASE_OPT_LEVEL),
            (RELEASE_LTO_VAR, IMAGE_RELEASE_LTO),
        ] {
            if std::env::var_os(var).is_none() {
                cmd.env(var, value);
            }
        }
        Ok(cmd)
    }

    /// Builds binary `package` into `target_dir`; returns the linked ELF's path in cargo's
    /// output directory.
    pub fn build_elf(
        &self,
        ws: &Workspace,
        target_dir: &Path,
        package: &str,
        profile: Profile,
    ) -> Result<PathBuf> {
        let mut cmd = self.cargo_build(ws, target_dir)?;
        cmd.args(["--package", package, "--bin", package]);
        if profile == Profile::Release {
            cmd.arg("--release");
        }
        self.run_build(&mut cmd)?;
        Ok(target_dir.join(self.name).join(profile.dir()).join(package))
    }

    /// Runs a cargo build for this target, passing its output on as it comes; when it fails in
    /// a way [`explain_failure`] recognises, the error says what happened and what to do.
    pub fn run_build(&self, cmd: &mut Command) -> Result<()> {
        use std::io::{BufRead, BufReader, Write};
        let mut child = cmd
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|source| crate::Error::Spawn {
                program: cmd.get_program().to_string_lossy().into_owned(),
                source,
            })?;
        let mut seen = String::new();
        if let Some(stderr) = child.stderr.take() {
            let mut out = std::io::stderr();
            for line in BufReader::new(stderr)
                .split(b'\n')
                .map_while(std::io::Result::ok)
            {
                let _ = out.write_all(&line);
                let _ = out.write_all(b"\n");
                let line = String::from_utf8_lossy(&line);
                if SOFT_FLOAT_SIMD_SIGNS.iter().any(|s| line.contains(s)) {
                    seen.push_str(&line);
                    seen.push('\n');
                }
            }
        }
        let status = child
            .wait()
            .map_err(|e| crate::Error::Other(format!("cargo: {e}")))?;
        if status.success() {
            return Ok(());
        }
        let what = crate::describe(cmd);
        Err(match explain_failure(self.float, &seen) {
            Some(why) => crate::Error::Other(format!("{what} failed: {why}")),
            None => crate::Error::Failed(what),
        })
    }

    /// Builds binary `package` and copies it to `TARGET_DIR/DIR/PROFILE/PACKAGE.SUFFIX`
    /// ([`image_path`](Self::image_path)), its debug information split off into
    /// [`crate::symbolize::debug_info_path`] of that; returns the image's path.
    pub fn build_image(
        &self,
        ws: &Workspace,
        target_dir: &Path,
        package: &str,
        profile: Profile,
    ) -> Result<PathBuf> {
        let target_dir = absolute(ws, target_dir);
        let built = self.build_elf(ws, &target_dir, package, profile)?;
        let image = self.image_path(&target_dir, package, profile);
        if let Some(dir) = image.parent() {
            fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        fs::copy(&built, &image).map_err(|e| io_error(&built, e))?;
        // The image keeps its symbols; line tables and the rest go beside it.
        crate::symbolize::split_debug_info(&image)?;
        Ok(image)
    }

    /// Compiles library crate `package` for this target (nothing is linked): proves that a
    /// library written against the interfaces builds for bare metal unchanged.
    pub fn check_library(&self, ws: &Workspace, package: &str) -> Result<()> {
        let mut cmd = self.cargo_build(ws, &ws.target_dir())?;
        cmd.args(["--package", package, "--lib"]);
        run_checked(&mut cmd)
    }
}

/// The debug information of release images: line tables (enough to symbolise backtraces), or
/// what the user asks for in `CARGO_PROFILE_RELEASE_DEBUG`. It costs the image nothing: it is
/// split off into a file beside it.
fn release_debug() -> String {
    std::env::var("CARGO_PROFILE_RELEASE_DEBUG").unwrap_or_else(|_| "line-tables-only".into())
}

fn absolute(ws: &Workspace, dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        ws.root.join(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_float_simd_failures_are_explained() {
        let llvm = "error: could not compile\nLLVM ERROR: Do not know how to split the result of this operator!\n";
        assert!(explain_failure(Float::Soft, llvm).is_some());
        assert!(
            explain_failure(
                Float::Soft,
                "error: rustc interrupted by SIGILL, printing backtrace"
            )
            .is_some()
        );
        assert_eq!(explain_failure(Float::Hard, llvm), None);
        assert_eq!(
            explain_failure(Float::Soft, "error[E0425]: cannot find value"),
            None
        );
    }

    #[test]
    fn soft_float_images_get_the_portable_crypto_cfgs() {
        assert_eq!(image_rustflags(Float::Hard), IMAGE_RUSTFLAGS);
        let soft = image_rustflags(Float::Soft).join(" ");
        assert_eq!(
            soft,
            format!(
                "{} --cfg aes_force_soft --cfg polyval_force_soft --cfg poly1305_force_soft \
                 --cfg chacha20_force_soft --cfg curve25519_dalek_backend=\"serial\"",
                IMAGE_RUSTFLAGS.join(" ")
            )
        );
        assert_eq!(
            RustflagsPlan::with_flags(None, Some("-Copt-level=s"), &image_rustflags(Float::Soft)),
            RustflagsPlan::Plain(format!("-Copt-level=s {soft}"))
        );
    }

    #[test]
    fn image_rustflags_join_the_users_own() {
        let cfg = "getrandom_backend=\"custom\"";
        let remap = "-Zremap-cwd-prefix=.";
        assert_eq!(
            RustflagsPlan::new(Some("-Copt-level=s\x1f-Cdebuginfo=1"), Some("-Cignored")),
            RustflagsPlan::Encoded(format!(
                "-Copt-level=s\x1f-Cdebuginfo=1\x1f--cfg\x1f{cfg}\x1f{remap}"
            ))
        );
        assert_eq!(
            RustflagsPlan::new(Some(""), None),
            RustflagsPlan::Encoded(format!("--cfg\x1f{cfg}\x1f{remap}"))
        );
        assert_eq!(
            RustflagsPlan::new(None, Some(" -Copt-level=s  -Ctarget-cpu=native ")),
            RustflagsPlan::Plain(format!(
                "-Copt-level=s -Ctarget-cpu=native --cfg {cfg} {remap}"
            ))
        );
        assert_eq!(
            RustflagsPlan::new(None, None),
            RustflagsPlan::Config(
                r#"build.rustflags=["--cfg", "getrandom_backend=\"custom\"", "-Zremap-cwd-prefix=."]"#
                    .into()
            )
        );
    }

    #[test]
    fn target_files_name_no_path_and_are_not_rewritten() {
        for t in [HVT, HVT_SOFT, XEN, XEN_SOFT] {
            assert!(!t.json.contains('/'), "{} names a path", t.name);
            let dir =
                std::env::temp_dir().join(format!("morgana-spec-{}-{}", t.dir, std::process::id()));
            let json = t.write_target_file(&dir).unwrap();
            assert_eq!(fs::read_to_string(&json).unwrap(), t.json);
            assert!(t.json.contains(&format!("\"os\": \"{}\"", t.suffix)));
            assert_eq!(
                t.json.contains("soft-float"),
                t.float == Float::Soft,
                "{}",
                t.name
            );
            // Unchanged content is not rewritten, so cargo sees the same file.
            let before = fs::metadata(&json).unwrap().modified().unwrap();
            t.write_target_file(&dir).unwrap();
            assert_eq!(fs::metadata(&json).unwrap().modified().unwrap(), before);
            fs::remove_dir_all(&dir).unwrap();
        }
    }
}
