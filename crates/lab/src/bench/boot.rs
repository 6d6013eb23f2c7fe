//! `cargo xtask bench boot`: how fast an hvt unikernel boots and exits under the tender.
//!
//! Builds the release tender and the release images of three unikernels, then boots each
//! image [`DEFAULT_RUNS`] times (after one unmeasured warm-up run) and reports, per image:
//!
//! - **boot to exit**: wall time from just before the tender is spawned until it has been
//!   reaped, in milliseconds;
//! - **to first guest instruction** and **to halt**: the tender's own `--stats` figures,
//!   measured from the tender process's start;
//! - **peak RSS** of the tender: `ru_maxrss` from `wait4` for that one child;
//! - **VM exits per run**, by hypercall, from `--stats`.
//!
//! `noop` exits at once and is the pure boot measurement; `hello` sleeps four times one second,
//! so its wall time says little about booting; `conformance-quiet` prints one line with the
//! backend's banner suppressed (`--solo5:quiet`). Where a `solo5-hvt` binary is on `PATH`, the
//! same images run under it too, in the same invocation, and the ratios of the medians are
//! printed. Figures are reported, never asserted: this machine is shared and noisy.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use wait4::Wait4;

use crate::bench::tender_stats::{TenderStats, parse_stats};
use crate::stats::{median, spread};

use morgana_build::{Error, Profile, Result, Workspace, hvt};

/// Measured runs per image and tender unless `--runs` says otherwise.
pub const DEFAULT_RUNS: usize = 30;
/// A run that has not exited after this long is killed and the benchmark fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);
/// The smallest KVM program, built with the tender: the floor boot times are set against.
pub const FLOOR_PROGRAM: &str = "morgana-kvm-floor";
/// The reference tender looked up on `PATH`.
pub const REFERENCE_TENDER: &str = "solo5-hvt";

/// One image to boot.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The package.
    pub package: &'static str,
    /// Options for the tender before the image (`--mem=`), besides `--stats`.
    pub tender_args: &'static [&'static str],
    /// The unikernel's arguments.
    pub guest_args: &'static [&'static str],
    /// What the figures of this case mean.
    pub note: &'static str,
}

/// The images the benchmark boots, in order.
pub const CASES: [Case; 4] = [
    Case {
        package: "noop",
        tender_args: &["--mem=2"],
        guest_args: &[],
        note: "exits at once: the pure boot measurement, in the smallest memory",
    },
    Case {
        package: "noop",
        tender_args: &[],
        guest_args: &[],
        note: "the same at the default 512 MiB",
    },
    Case {
        package: "conformance-quiet",
        tender_args: &[],
        guest_args: &["--solo5:quiet"],
        note: "prints SUCCESS, banner suppressed",
    },
    Case {
        package: "hello",
        tender_args: &[],
        guest_args: &[],
        note: "sleeps 4 x 1 s: wall time is the sleeps; see first instruction and halt",
    },
];

/// Options after `cargo xtask bench boot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Measured runs per image and tender (at least 1).
    pub runs: usize,
}

/// Parses `[--runs N | --runs=N]`.
pub fn parse_options(args: &[String]) -> Result<Options> {
    let mut runs = DEFAULT_RUNS;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.strip_prefix("--runs") {
            Some("") => it.next().map(String::as_str),
            Some(v) if v.starts_with('=') => Some(&v[1..]),
            _ => return Err(Error::Usage(format!("unknown bench option '{arg}'"))),
        };
        runs = value
            .and_then(|v| v.parse().ok())
            .filter(|&n| n >= 1)
            .ok_or_else(|| Error::Usage("--runs needs a whole number of at least 1".into()))?;
    }
    Ok(Options { runs })
}

/// The first executable file called `name` in the directories of `path` (a `PATH` value).
pub fn find_on_path(name: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// One measured run.
#[derive(Debug, Clone)]
struct Sample {
    wall_ms: f64,
    max_rss_bytes: u64,
    stats: Option<TenderStats>,
    /// Milliseconds from just before the spawn to the start of the tender's `main`.
    exec_to_main_ms: Option<f64>,
    /// Milliseconds from the guest's halt to the tender's reaping: the process teardown.
    halt_to_reaped_ms: Option<f64>,
}

/// `CLOCK_MONOTONIC` in nanoseconds, the clock the tender prints its own readings in.
fn monotonic_ns() -> Result<u64> {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map_err(|e| Error::Other(format!("clock_gettime: {e}")))?;
    Ok(t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
}

/// The monotonic clock readings around one run: just before the spawn and after the reaping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clocks {
    spawned_ns: u64,
    reaped_ns: u64,
}

#[derive(Debug, PartialEq)]
enum Watch {
    Running,
    Reaping,
    Killed,
}

/// Runs `cmd` once: stdout discarded, stderr captured, reaped with `wait4`. A run that is not
/// over after [`RUN_LIMIT`] is killed (by PID, and only while it is still unreaped).
pub(crate) fn run_once(cmd: &mut Command) -> Result<(f64, u64, String, Clocks)> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let spawned_ns = monotonic_ns()?;
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })?;
    let watch = Arc::new((Mutex::new(Watch::Running), Condvar::new()));
    let pid = child.id().to_string();
    let watchdog = {
        let watch = Arc::clone(&watch);
        std::thread::spawn(move || {
            let (lock, cvar) = &*watch;
            let state = lock.lock().unwrap_or_else(|p| p.into_inner());
            let (mut state, _) = cvar
                .wait_timeout_while(state, RUN_LIMIT, |s| *s == Watch::Running)
                .unwrap_or_else(|p| p.into_inner());
            if *state == Watch::Running {
                // Still unreaped (reaping waits for this lock), so the PID is still ours.
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
                *state = Watch::Killed;
            }
        })
    };
    let mut stderr = String::new();
    let read = child
        .stderr
        .take()
        .map_or(Ok(0), |mut e| e.read_to_string(&mut stderr));
    {
        let (lock, cvar) = &*watch;
        let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
        if *state == Watch::Running {
            *state = Watch::Reaping;
        }
        cvar.notify_all();
    }
    let used = child.wait4();
    let wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let reaped_ns = monotonic_ns()?;
    let _ = watchdog.join();
    let used = used.map_err(|e| Error::Other(format!("wait4 on {program}: {e}")))?;
    read.map_err(|e| Error::Other(format!("reading the stderr of {program}: {e}")))?;
    if *watch.0.lock().unwrap_or_else(|p| p.into_inner()) == Watch::Killed {
        return Err(Error::Other(format!(
            "{program} did not exit within {RUN_LIMIT:?} and was killed"
        )));
    }
    if !used.status.success() {
        return Err(Error::Other(format!(
            "{program} exited with {}: {}",
            used.status,
            stderr.trim()
        )));
    }
    let clocks = Clocks {
        spawned_ns,
        reaped_ns,
    };
    Ok((wall_ms, used.rusage.maxrss, stderr, clocks))
}

/// GNU time, which measures a child's peak RSS from a small parent (Debian package `time`).
pub const GNU_TIME: &str = "/usr/bin/time";

/// The peak RSS in bytes of one run of `program args`, measured by [`GNU_TIME`].
///
/// `ru_maxrss` of a process also covers the address space it was spawned from before its
/// `exec`, so reaping the tender directly would report the benchmark's own RSS when that is
/// larger; GNU time forks from a small process.
fn peak_rss(program: &Path, args: &[&OsStr]) -> Result<u64> {
    const TAG: &str = "morgana-bench peak RSS KiB: ";
    let mut cmd = Command::new(GNU_TIME);
    cmd.arg("-f")
        .arg(format!("{TAG}%M"))
        .arg(program)
        .args(args);
    let (_, _, stderr, _) = run_once(&mut cmd)?;
    stderr
        .rsplit_once(TAG)
        .and_then(|(_, kib)| kib.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| Error::Other(format!("no peak RSS in the output of {GNU_TIME}")))
}

/// Runs `program args` `1 + runs` times; the first run is a warm-up and not kept. With
/// `stats_of` set, each run's stats block of that program is parsed. Each measured run is
/// followed by one under [`GNU_TIME`] for the peak RSS.
fn measure(
    program: &Path,
    args: &[&OsStr],
    stats_of: Option<&str>,
    runs: usize,
) -> Result<Vec<Sample>> {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..=runs {
        let mut cmd = Command::new(program);
        cmd.args(args);
        let (wall_ms, _, stderr, clocks) = run_once(&mut cmd)?;
        let stats = stats_of
            .map(|name| parse_stats(&stderr, name))
            .transpose()?;
        let since = |from: u64, to: u64| to.checked_sub(from).map(|d| d as f64 / 1e6);
        let exec_to_main_ms = stats
            .as_ref()
            .and_then(|s| s.start_clock_ns)
            .and_then(|t| since(clocks.spawned_ns, t));
        let halt_to_reaped_ms = stats
            .as_ref()
            .and_then(|s| s.halt_clock_ns)
            .and_then(|t| since(t, clocks.reaped_ns));
        if i > 0 {
            let max_rss_bytes = peak_rss(program, args)?;
            samples.push(Sample {
                wall_ms,
                max_rss_bytes,
                stats,
                exec_to_main_ms,
                halt_to_reaped_ms,
            });
        }
    }
    Ok(samples)
}

/// Boots `image` with `tender` (and `options`) as [`measure`] does.
fn measure_image(
    tender: &Path,
    options: &[&str],
    image: &Path,
    case: &Case,
    runs: usize,
) -> Result<Vec<Sample>> {
    let mut args: Vec<&OsStr> = options.iter().map(OsStr::new).collect();
    args.extend(case.tender_args.iter().map(OsStr::new));
    args.push(image.as_os_str());
    args.extend(case.guest_args.iter().map(OsStr::new));
    let stats_of = options.contains(&"--stats").then_some("morgana-hvt");
    measure(tender, &args, stats_of, runs)
}

fn spread_line(out: &mut String, label: &str, values: &[f64], unit: &str, decimals: usize) {
    let Some(s) = spread(values) else {
        let _ = writeln!(out, "    {label:<26} n/a");
        return;
    };
    let f = |v: f64| format!("{v:.decimals$}");
    let _ = writeln!(
        out,
        "    {label:<26} median {:>9} {unit}   (min {}, p10 {}, p90 {}, max {})",
        f(s.median),
        f(s.min),
        f(s.p10),
        f(s.p90),
        f(s.max)
    );
}

/// VM exits per run: the counts when every run had the same, else each count's range.
fn exits_line(samples: &[Sample]) -> String {
    let all: Vec<&TenderStats> = samples.iter().filter_map(|s| s.stats.as_ref()).collect();
    let Some(first) = all.first() else {
        return "n/a".into();
    };
    let total = |f: &dyn Fn(&TenderStats) -> u64| {
        let lo = all.iter().map(|s| f(s)).min().unwrap_or(0);
        let hi = all.iter().map(|s| f(s)).max().unwrap_or(0);
        if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        }
    };
    let mut names: Vec<&str> = first.hypercalls.iter().map(|(n, _)| n.as_str()).collect();
    for s in &all {
        for (n, _) in &s.hypercalls {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
    }
    let parts: Vec<String> = names
        .iter()
        .map(|name| {
            let count = |s: &TenderStats| {
                s.hypercalls
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0, |(_, c)| *c)
            };
            format!("{name} {}", total(&count))
        })
        .collect();
    format!("{} ({})", total(&|s| s.exits), parts.join(", "))
}

fn report(out: &mut String, tender: &str, samples: &[Sample]) {
    let _ = writeln!(out, "  {tender}, {} runs:", samples.len());
    let wall: Vec<f64> = samples.iter().map(|s| s.wall_ms).collect();
    spread_line(out, "boot to exit (wall)", &wall, "ms", 3);
    if samples.iter().any(|s| s.stats.is_some()) {
        let first: Vec<f64> = samples
            .iter()
            .filter_map(|s| s.stats.as_ref().map(|t| t.first_instruction_ms))
            .collect();
        let halt: Vec<f64> = samples
            .iter()
            .filter_map(|s| s.stats.as_ref().map(|t| t.halt_ms))
            .collect();
        let exec: Vec<f64> = samples.iter().filter_map(|s| s.exec_to_main_ms).collect();
        let teardown: Vec<f64> = samples.iter().filter_map(|s| s.halt_to_reaped_ms).collect();
        spread_line(out, "spawn to main", &exec, "ms", 3);
        spread_line(out, "main to first guest insn", &first, "ms", 3);
        spread_line(out, "main to halt", &halt, "ms", 3);
        spread_line(out, "halt to reaped", &teardown, "ms", 3);
        phase_lines(out, samples);
    }
    let rss: Vec<f64> = samples
        .iter()
        .map(|s| s.max_rss_bytes as f64 / 1024.0)
        .collect();
    spread_line(out, "peak RSS", &rss, "KiB", 0);
    if samples.iter().any(|s| s.stats.is_some()) {
        let _ = writeln!(
            out,
            "    {:<26} {}",
            "VM exits per run",
            exits_line(samples)
        );
    }
}

/// The median of every `--stats` phase, in the order the tender printed them.
fn phase_lines(out: &mut String, samples: &[Sample]) {
    let mut names: Vec<&str> = Vec::new();
    for s in samples.iter().filter_map(|s| s.stats.as_ref()) {
        for (name, _) in &s.phases {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    for name in names {
        let values: Vec<f64> = samples
            .iter()
            .filter_map(|s| s.stats.as_ref())
            .filter_map(|s| s.phases.iter().find(|(n, _)| n == name).map(|p| p.1))
            .collect();
        spread_line(out, &format!("  phase: {name}"), &values, "ms", 3);
    }
}

fn median_of(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> f64 {
    let v: Vec<f64> = samples.iter().map(f).collect();
    median(&v)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| {
            let v: Vec<&str> = l.split_whitespace().take(3).collect();
            (v.len() == 3).then(|| v.join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// `cargo xtask bench boot [--runs N]`: builds, boots, prints the report to stdout.
pub fn run(ws: &Workspace, args: &[String]) -> Result<()> {
    let options = parse_options(args)?;
    let tender = hvt::tender(ws, Profile::Release)?;
    // Built by the same cargo invocation: a second binary of the tender's package.
    let floor = tender.with_file_name(FLOOR_PROGRAM);
    let images = CASES
        .iter()
        .map(|c| hvt::build_soft(ws, c.package, Profile::Release))
        .collect::<Result<Vec<_>>>()?;
    let reference = std::env::var_os("PATH").and_then(|p| find_on_path(REFERENCE_TENDER, &p));

    let mut out = String::new();
    let _ = writeln!(
        out,
        "boot benchmark (hvt): {} measured runs per image and tender after 1 warm-up run;\n\
         release images and tender; guest stdout to /dev/null;\n\
         load average before: {}",
        options.runs,
        load_average()
    );
    match &reference {
        Some(p) => {
            let _ = writeln!(out, "{REFERENCE_TENDER}: {}", p.display());
        }
        None => {
            let _ = writeln!(
                out,
                "{REFERENCE_TENDER}: not found on PATH, so no comparison"
            );
        }
    }
    print!("{out}");
    let floor_args = [OsStr::new("--stats")];
    let mut out = String::from(
        "\nfloor: morgana-kvm-floor (create a VM and a vCPU, map one page, run one hlt, exit)\n",
    );
    let floor_samples = measure(&floor, &floor_args, Some(FLOOR_PROGRAM), options.runs)?;
    report(&mut out, FLOOR_PROGRAM, &floor_samples);
    print!("{out}");
    for (case, image) in CASES.iter().zip(&images) {
        let mut out = String::new();
        let args: Vec<&str> = case
            .tender_args
            .iter()
            .chain(&[case.package])
            .chain(case.guest_args)
            .copied()
            .collect();
        let _ = writeln!(out, "\n{} ({})", args.join(" "), case.note);
        // The floor again right before, so that the ratio compares like moments.
        let floor_now = measure(&floor, &floor_args, Some(FLOOR_PROGRAM), options.runs)?;
        let ours = measure_image(&tender, &["--stats"], image, case, options.runs)?;
        report(&mut out, "morgana-hvt --stats", &ours);
        let floor_ratio =
            |f: &dyn Fn(&Sample) -> f64| median_of(&ours, f) / median_of(&floor_now, f);
        let _ = writeln!(
            out,
            "  morgana-hvt / {FLOOR_PROGRAM}: boot to exit x{:.2}, peak RSS x{:.2} \
             (medians; floor measured just before: {:.3} ms, {:.0} KiB)",
            floor_ratio(&|s| s.wall_ms),
            floor_ratio(&|s| s.max_rss_bytes as f64),
            median_of(&floor_now, |s| s.wall_ms),
            median_of(&floor_now, |s| s.max_rss_bytes as f64 / 1024.0),
        );
        if let Some(reference) = &reference {
            let theirs = measure_image(reference, &[], image, case, options.runs)?;
            report(&mut out, REFERENCE_TENDER, &theirs);
            let ratio = |f: &dyn Fn(&Sample) -> f64| median_of(&ours, f) / median_of(&theirs, f);
            let _ = writeln!(
                out,
                "  morgana-hvt / {REFERENCE_TENDER}: boot to exit x{:.2}, peak RSS x{:.2} (medians)",
                ratio(&|s| s.wall_ms),
                ratio(&|s| s.max_rss_bytes as f64)
            );
        }
        print!("{out}");
    }
    println!("\nload average after: {}", load_average());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn options_take_a_run_count() {
        assert_eq!(parse_options(&[]).unwrap().runs, DEFAULT_RUNS);
        assert_eq!(parse_options(&s(&["--runs", "5"])).unwrap().runs, 5);
        assert_eq!(parse_options(&s(&["--runs=7"])).unwrap().runs, 7);
        let err = |a: &[&str]| parse_options(&s(a)).unwrap_err().to_string();
        let bad = "--runs needs a whole number of at least 1";
        assert_eq!(err(&["--runs"]), bad);
        assert_eq!(err(&["--runs=0"]), bad);
        assert_eq!(err(&["--runs", "x"]), bad);
        assert_eq!(err(&["--runsx"]), "unknown bench option '--runsx'");
        assert_eq!(err(&["--fast"]), "unknown bench option '--fast'");
    }

    #[test]
    fn finds_only_executable_files_on_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("morgana-bench-path-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(b.join("solo5-hvt")).unwrap();
        let plain = a.join("solo5-hvt");
        std::fs::write(&plain, "").unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();
        // Neither a non-executable file nor a directory counts.
        assert_eq!(find_on_path("solo5-hvt", &path), None);
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_on_path("solo5-hvt", &path), Some(plain));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_run_reports_status_rss_and_stderr() {
        let (wall, rss, err, _) = run_once(Command::new("sh").args(["-c", "echo hi >&2"])).unwrap();
        assert_eq!(err, "hi\n");
        assert!(wall > 0.0 && rss > 0, "wall {wall} ms, rss {rss}");
        let e = run_once(Command::new("sh").args(["-c", "echo bad >&2; exit 3"])).unwrap_err();
        assert_eq!(e.to_string(), "sh exited with exit status: 3: bad");
    }
}
