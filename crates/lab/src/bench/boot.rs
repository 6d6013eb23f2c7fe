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

use crate::stats::{median, spread};

use morgana_build::{Error, Profile, Result, Workspace, hvt};

/// Measured runs per image and tender unless `--runs` says otherwise.
pub const DEFAULT_RUNS: usize = 30;
/// A run that has not exited after this long is killed and the benchmark fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);
/// The reference tender looked up on `PATH`.
pub const REFERENCE_TENDER: &str = "solo5-hvt";

/// One image to boot.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The package.
    pub package: &'static str,
    /// The unikernel's arguments.
    pub guest_args: &'static [&'static str],
    /// What the figures of this case mean.
    pub note: &'static str,
}

/// The images the benchmark boots, in order.
pub const CASES: [Case; 3] = [
    Case {
        package: "noop",
        guest_args: &[],
        note: "exits at once: the pure boot measurement",
    },
    Case {
        package: "conformance-quiet",
        guest_args: &["--solo5:quiet"],
        note: "prints SUCCESS, banner suppressed",
    },
    Case {
        package: "hello",
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

/// What `morgana-hvt --stats` reported for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct TenderStats {
    /// All VM exits.
    pub exits: u64,
    /// Exits per hypercall name, in the order printed (only those that happened).
    pub hypercalls: Vec<(String, u64)>,
    /// Milliseconds from the tender's start to the first KVM_RUN.
    pub first_instruction_ms: f64,
    /// Milliseconds from the tender's start to the halt.
    pub halt_ms: f64,
}

fn stats_error(what: &str) -> Error {
    Error::Other(format!("unexpected --stats output: {what}"))
}

/// Parses the `morgana-hvt stats:` block in the tender's stderr.
pub fn parse_stats(stderr: &str) -> Result<TenderStats> {
    let block = stderr
        .split_once("morgana-hvt stats:\n")
        .ok_or_else(|| stats_error("no 'morgana-hvt stats:' block"))?
        .1;
    let mut exits = None;
    let mut hypercalls = Vec::new();
    let mut first = None;
    let mut halt = None;
    for line in block.lines().map(str::trim) {
        let Some((key, value)) = line.split_once(": ") else {
            return Err(stats_error(line));
        };
        let count = || value.parse::<u64>().map_err(|_| stats_error(line));
        let millis = || {
            value
                .strip_suffix(" ms")
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| stats_error(line))
        };
        match key {
            "vm exits" => exits = Some(count()?),
            "other exits" => {
                let n = count()?;
                if n > 0 {
                    hypercalls.push(("other".to_string(), n));
                }
            }
            "start to first guest instruction" => first = Some(millis()?),
            "start to halt" => halt = Some(millis()?),
            _ => match key.strip_prefix("hypercall ") {
                Some(name) => hypercalls.push((name.to_string(), count()?)),
                None => return Err(stats_error(line)),
            },
        }
    }
    Ok(TenderStats {
        exits: exits.ok_or_else(|| stats_error("no 'vm exits' line"))?,
        hypercalls,
        first_instruction_ms: first.ok_or_else(|| stats_error("no first-instruction time"))?,
        halt_ms: halt.ok_or_else(|| stats_error("no halt time"))?,
    })
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
}

#[derive(Debug, PartialEq)]
enum Watch {
    Running,
    Reaping,
    Killed,
}

/// Runs `cmd` once: stdout discarded, stderr captured, reaped with `wait4`. A run that is not
/// over after [`RUN_LIMIT`] is killed (by PID, and only while it is still unreaped).
pub(crate) fn run_once(cmd: &mut Command) -> Result<(f64, u64, String)> {
    let program = cmd.get_program().to_string_lossy().into_owned();
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
    Ok((wall_ms, used.rusage.maxrss, stderr))
}

/// Boots `image` with `tender` `1 + runs` times; the first run is a warm-up and not kept.
fn measure(
    tender: &Path,
    options: &[&str],
    image: &Path,
    case: &Case,
    runs: usize,
) -> Result<Vec<Sample>> {
    let with_stats = options.contains(&"--stats");
    let mut samples = Vec::with_capacity(runs);
    for i in 0..=runs {
        let mut cmd = Command::new(tender);
        cmd.args(options).arg(image).args(case.guest_args);
        let (wall_ms, max_rss_bytes, stderr) = run_once(&mut cmd)?;
        let stats = if with_stats {
            Some(parse_stats(&stderr)?)
        } else {
            None
        };
        if i > 0 {
            samples.push(Sample {
                wall_ms,
                max_rss_bytes,
                stats,
            });
        }
    }
    Ok(samples)
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
        spread_line(out, "start to first guest insn", &first, "ms", 3);
        spread_line(out, "start to halt", &halt, "ms", 3);
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
    let images = CASES
        .iter()
        .map(|c| hvt::build_soft(ws, c.package, Profile::Release))
        .collect::<Result<Vec<_>>>()?;
    let reference = std::env::var_os("PATH").and_then(|p| find_on_path(REFERENCE_TENDER, &p));

    let mut out = String::new();
    let _ = writeln!(
        out,
        "boot benchmark (hvt): {} measured runs per image and tender after 1 warm-up run;\n\
         release images and tender, default --mem (512 MiB); guest stdout to /dev/null;\n\
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
    for (case, image) in CASES.iter().zip(&images) {
        let mut out = String::new();
        let args = case.guest_args.join(" ");
        let _ = writeln!(
            out,
            "\n{}{}{args} ({})",
            case.package,
            if args.is_empty() { "" } else { " " },
            case.note
        );
        let ours = measure(&tender, &["--stats"], image, case, options.runs)?;
        report(&mut out, "morgana-hvt --stats", &ours);
        if let Some(reference) = &reference {
            let theirs = measure(reference, &[], image, case, options.runs)?;
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

    const STATS: &str = "Solo5: solo5_exit(0) called\nmorgana-hvt stats:\n  vm exits: 12\n  \
        hypercall puts: 7\n  hypercall poll: 4\n  hypercall halt: 1\n  other exits: 0\n  \
        start to first guest instruction: 7.299 ms\n  start to halt: 4221.609 ms\n";

    fn s(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn parses_the_stats_block() {
        let st = parse_stats(STATS).unwrap();
        assert_eq!(st.exits, 12);
        assert_eq!(
            st.hypercalls,
            vec![
                ("puts".to_string(), 7),
                ("poll".to_string(), 4),
                ("halt".to_string(), 1)
            ]
        );
        assert_eq!(st.first_instruction_ms, 7.299);
        assert_eq!(st.halt_ms, 4221.609);
        let other = STATS.replace("other exits: 0", "other exits: 2");
        assert_eq!(
            parse_stats(&other).unwrap().hypercalls[3],
            ("other".into(), 2)
        );
    }

    #[test]
    fn rejects_broken_stats() {
        let err = |t: &str| parse_stats(t).unwrap_err().to_string();
        assert_eq!(
            err("no stats"),
            "unexpected --stats output: no 'morgana-hvt stats:' block"
        );
        assert_eq!(
            err(&STATS.replace("7.299 ms", "n/a")),
            "unexpected --stats output: start to first guest instruction: n/a"
        );
        assert_eq!(
            err(&STATS.replace("  vm exits: 12\n", "")),
            "unexpected --stats output: no 'vm exits' line"
        );
        assert_eq!(
            err(&STATS.replace("hypercall puts", "hypercall puts: x")),
            "unexpected --stats output: hypercall puts: x: 7"
        );
        assert_eq!(
            err(&format!("{STATS}  frobs: 3\n")),
            "unexpected --stats output: frobs: 3"
        );
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
        let (wall, rss, err) = run_once(Command::new("sh").args(["-c", "echo hi >&2"])).unwrap();
        assert_eq!(err, "hi\n");
        assert!(wall > 0.0 && rss > 0, "wall {wall} ms, rss {rss}");
        let e = run_once(Command::new("sh").args(["-c", "echo bad >&2; exit 3"])).unwrap_err();
        assert_eq!(e.to_string(), "sh exited with exit status: 3: bad");
    }
}
