//! `cargo xtask bench frame-pointers [--runs N]`: what frame pointers (which the bare-metal
//! targets keep for backtraces) cost in image size and speed.
//!
//! Builds the soft-float release images of [`CASES`] twice in the same invocation: with the
//! target as shipped (`"frame-pointer": "always"`) and with a copy of its JSON without that
//! line (a target of another name, so both builds are cached side by side). It prints each
//! image's `.text` size and file size, then boots each pair alternately `1 + N` times on
//! `/dev/kvm` (the first run unmeasured) and prints the medians of boot-to-exit wall time and
//! their ratio. Figures are reported, never asserted. `--sizes` builds and reports the sizes
//! only, without booting.

use std::path::{Path, PathBuf};
use std::process::Command;

use morgana_build::baremetal::{self, BareMetal, Float};
use morgana_build::{Error, Profile, Result, Workspace, hvt};

use crate::stats::median;

/// The images measured, with their arguments: `noop` is the pure boot; `conformance-getrandom`
/// adds ChaCha20 through the getrandom and rand_core call paths (Rust code with many calls).
pub const CASES: [(&str, &[&str]); 2] = [("noop", &[]), ("conformance-getrandom", &[])];

/// The hvt soft-float target without frame pointers.
fn without_frame_pointers() -> Result<BareMetal> {
    let shipped = baremetal::hvt(Float::Soft);
    let line = "  \"frame-pointer\": \"always\",\n";
    if !shipped.json.contains(line) {
        return Err(Error::Other(format!(
            "{}.json no longer asks for frame pointers",
            shipped.name
        )));
    }
    Ok(BareMetal {
        name: "x86_64-morgana-hvt-softfloat-nofp",
        json: Box::leak(shipped.json.replace(line, "").into_boxed_str()),
        dir: "hvt-softfloat-nofp",
        ..shipped
    })
}

fn text_size(image: &Path) -> Result<u64> {
    let bytes = std::fs::read(image).map_err(|e| morgana_build::io_error(image, e))?;
    use object::{Object, ObjectSection};
    let file = object::File::parse(&*bytes)
        .map_err(|e| Error::Other(format!("{}: {e}", image.display())))?;
    Ok(file.section_by_name(".text").map_or(0, |s| s.size()))
}

fn boot_ms(tender: &Path, image: &Path, args: &[&str]) -> Result<f64> {
    let mut cmd = Command::new(tender);
    cmd.arg("--mem=8").arg(image).args(args);
    Ok(super::boot::run_once(&mut cmd)?.0)
}

/// Runs the benchmark with `args` (`--runs N`, or `--sizes` for the image sizes alone, which
/// boots nothing).
pub fn run(ws: &Workspace, args: &[String]) -> Result<()> {
    let sizes_only = args.iter().any(|a| a == "--sizes");
    let rest: Vec<String> = args.iter().filter(|a| *a != "--sizes").cloned().collect();
    let runs = if sizes_only {
        0
    } else {
        super::boot::parse_options(&rest)?.runs
    };
    let tender = hvt::tender(ws, Profile::Release)?;
    let (with, without) = (baremetal::hvt(Float::Soft), without_frame_pointers()?);
    let dir = ws.target_dir();
    println!(
        "frame pointers: soft-float release images, {runs} runs each (medians of boot to exit)"
    );
    println!(
        "| image | .text with | .text without | size | file with | file without | boot to exit with | without | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (package, guest_args) in CASES {
        let images: [PathBuf; 2] = [
            with.build_image(ws, &dir, package, Profile::Release)?,
            without.build_image(ws, &dir, package, Profile::Release)?,
        ];
        let mut ms: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for i in (0..=runs).filter(|_| !sizes_only) {
            for (k, image) in images.iter().enumerate() {
                let t = boot_ms(&tender, image, guest_args)?;
                if i > 0 {
                    ms[k].push(t);
                }
            }
        }
        let text = [text_size(&images[0])?, text_size(&images[1])?];
        let file = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let med = [median(&ms[0]), median(&ms[1])];
        let timing = if sizes_only {
            "- | - | -".to_string()
        } else {
            format!(
                "{:.1} ms | {:.1} ms | {:.3}",
                med[0],
                med[1],
                med[0] / med[1]
            )
        };
        println!(
            "| {package} | {} | {} | {:+.1}% | {} | {} | {timing} |",
            text[0],
            text[1],
            (text[0] as f64 / text[1] as f64 - 1.0) * 100.0,
            file(&images[0]),
            file(&images[1]),
        );
    }
    Ok(())
}
