//! `cargo xtask bench storage`: the block interface and the littlefs store on unix, next to fio
//! on the same file in the same run. Each figure is the median of [`RUNS`] runs.
//!
//! | figure | Morgana (`disk bench`, the unix backend's block device) | fio (`psync`, buffered) |
//! |---|---|---|
//! | sequential 1 MiB writes, then reads, MB/s | whole file, one `flush` at the end | `rw=write`/`read`, `bs=1M` |
//! | random 4 KiB writes, then reads, IOPS | [`OPS`] requests | `rw=randwrite`/`randread`, `bs=4k` |
//! | durable 1 KiB `set`s / s vs durable 4 KiB writes / s | [`SETS`] sets on a fresh store | `rw=write`, `bs=4k`, `fdatasync=1` |

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use morgana_build::{Error, Result, Workspace, cargo, run_captured};

use crate::stats::median;

/// Runs of each measurement.
pub const RUNS: usize = 3;
/// Random 4 KiB requests per run.
pub const OPS: u64 = 4000;
/// Durable `set`s (and fio's synced writes) per run.
pub const SETS: u64 = 300;
/// Size of the benchmark file in bytes.
const FILE_SIZE: u64 = 64 << 20;

/// One fio job on `file`; returns (bandwidth in MB/s, IOPS) of its read or write side.
fn fio(file: &Path, args: &[&str], write: bool) -> Result<(f64, f64)> {
    let out = run_captured(
        Command::new("fio")
            .args([
                "--name=bench",
                "--ioengine=psync",
                "--minimal",
                "--size=64M",
                // Keep the page cache, as the unikernel's reads do: fio drops the file's
                // cached pages before each job by default, which made its reads disk reads.
                "--invalidate=0",
            ])
            .arg(format!("--filename={}", file.display()))
            .args(args),
    )?;
    let fields: Vec<&str> = out.trim().split(';').collect();
    // Terse format 3: read KiB/s and IOPS are fields 7 and 8, write's 48 and 49 (1-based).
    let (bw, iops) = if write { (47, 48) } else { (6, 7) };
    let number = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| Error::Usage(format!("cannot read fio's output: {out}")))
    };
    Ok((number(bw)? * 1024.0 / 1e6, number(iops)?))
}

/// Runs `disk bench` once; returns its figures by name.
fn morgana(ws: &Workspace, file: &Path) -> Result<Vec<(String, f64)>> {
    let out = run_captured(
        cargo()
            .current_dir(&ws.root)
            .args([
                "run",
                "--quiet",
                "--release",
                "--package",
                "morgana-disk",
                "--",
                "bench",
            ])
            .arg(file)
            .args([OPS.to_string(), SETS.to_string()]),
    )?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect())
}

/// Runs the benchmark and prints the table.
pub fn run(ws: &Workspace) -> Result<()> {
    let file = ws.target_dir().join("bench-storage.img");
    let fresh = || -> Result<()> {
        let _ = std::fs::remove_file(&file);
        std::fs::File::create(&file)
            .and_then(|f| f.set_len(FILE_SIZE))
            .map_err(|e| morgana_build::io_error(&file, e))
    };
    let ops = format!("--number_ios={OPS}");
    let sets = format!("--number_ios={SETS}");
    let mut ours: Vec<Vec<(String, f64)>> = Vec::new();
    let mut theirs: [Vec<f64>; 5] = Default::default();
    for _ in 0..RUNS {
        fresh()?;
        ours.push(morgana(ws, &file)?);
        fresh()?;
        theirs[0].push(fio(&file, &["--rw=write", "--bs=1M", "--end_fsync=1"], true)?.0);
        theirs[1].push(fio(&file, &["--rw=read", "--bs=1M"], false)?.0);
        theirs[2].push(
            fio(
                &file,
                &["--rw=randwrite", "--bs=4k", &ops, "--end_fsync=1"],
                true,
            )?
            .1,
        );
        theirs[3].push(fio(&file, &["--rw=randread", "--bs=4k", &ops], false)?.1);
        theirs[4].push(
            fio(
                &file,
                &["--rw=write", "--bs=4k", &sets, "--fdatasync=1"],
                true,
            )?
            .1,
        );
    }
    let _ = std::fs::remove_file(&file);
    let ours_median = |name: &str| -> f64 {
        let v: Vec<f64> = ours
            .iter()
            .filter_map(|run| run.iter().find(|(k, _)| k == name).map(|(_, v)| *v))
            .collect();
        median(&v)
    };
    let rows = [
        ("sequential 1 MiB writes, MB/s", "seq-write-MBps"),
        ("sequential 1 MiB reads, MB/s", "seq-read-MBps"),
        ("random 4 KiB writes, IOPS", "rand-write-iops"),
        ("random 4 KiB reads, IOPS", "rand-read-iops"),
        (
            "durable 1 KiB set / fio 4 KiB write+fdatasync, per s",
            "store-set-1k-ops",
        ),
    ];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "storage benchmark (unix): {RUNS} runs, medians; a {} MiB file in the target directory; \
         fio psync, buffered",
        FILE_SIZE >> 20
    );
    let _ = writeln!(
        out,
        "{:<55} {:>12} {:>12} {:>7}",
        "figure", "morgana", "fio", "ratio"
    );
    for (i, (label, name)) in rows.iter().enumerate() {
        let (m, f) = (ours_median(name), median(&theirs[i]));
        let _ = writeln!(out, "{label:<55} {m:>12.1} {f:>12.1} {:>7.2}", m / f);
    }
    print!("{out}");
    Ok(())
}
