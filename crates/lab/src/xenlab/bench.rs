//! `cargo xtask bench xen`: image size of `hello.xen` and boot-to-exit time in the
//! lab, against the smallest possible PVH guest (`xen-minimal`). TCG makes absolute times
//! meaningless, so the figure that matters is the ratio.

use morgana_build::xen::{self, read_devices};
use morgana_build::{Error, Profile, Result, Workspace};

use super::{Guest, Lab};
use crate::stats::median;

/// Runs each guest this many times (interleaved) and reports the median.
pub const RUNS: usize = 3;

/// Builds `hello`, `noop` and `xen-minimal` in release mode, boots them [`RUNS`] times each in
/// one lab session and prints the figures.
pub fn bench(ws: &Workspace) -> Result<()> {
    let packages = ["xen-minimal", "noop", "hello"];
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let hello_debug = size(&xen::build(ws, "hello", Profile::Debug)?);
    let mut images = Vec::new();
    for p in packages {
        images.push(xen::build(ws, p, Profile::Release)?);
    }
    let mut guests = Vec::new();
    for run in 0..RUNS {
        for (p, image) in packages.iter().zip(&images) {
            guests.push(Guest {
                name: format!("{p}-{run}"),
                image: image.clone(),
                devices: read_devices(image)?,
                args: Vec::new(),
                dom0: None,
                timeout_s: 60,
                keep_disks: false,
            });
        }
    }
    let lab = Lab::assemble(ws)?;
    let outcomes = lab.run(&guests, true)?;
    let mut per_package: Vec<Vec<f64>> = vec![Vec::new(); packages.len()];
    let mut create: Vec<Vec<f64>> = vec![Vec::new(); packages.len()];
    for (i, o) in outcomes.iter().enumerate() {
        if o.state != "shutdown" {
            return Err(Error::Other(format!("{} ended as {}", o.name, o.state)));
        }
        per_package[i % packages.len()].push(o.ms as f64);
        create[i % packages.len()].push(o.create_ms as f64);
    }
    let medians: Vec<f64> = per_package.iter().map(|v| median(v)).collect();
    let create: Vec<f64> = create.iter().map(|v| median(v)).collect();
    println!(
        "hello.xen size: {} bytes (release), {} bytes (debug)",
        size(&images[2]),
        hello_debug
    );
    println!("xen-minimal.xen size: {} bytes", size(&images[0]));
    for ((p, m), c) in packages.iter().zip(&medians).zip(&create) {
        println!(
            "{p}: median {m:.0} ms from unpause to shutdown ({RUNS} runs), {:.2}x xen-minimal; \
             xl create {c:.0} ms",
            m / medians[0].max(1.0)
        );
    }
    println!("(hello sleeps 4 s by design; noop is the boot-to-exit figure)");
    Ok(())
}
