//! `hello` as a process: four `hello` lines a second apart, then status 0.
//!
//! The gaps are measured inside the unikernel (the runtime's log timestamps at
//! `--logs=debug`), never from this end of the pipe, where scheduling shifts them.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::run;

/// The monotonic time, in microseconds, of a log line `[    S.UUUUUU] LEVEL target: text`.
fn stamp_us(line: &str) -> Option<u64> {
    let inner = line.strip_prefix('[')?.split_once(']')?.0.trim();
    let (s, us) = inner.split_once('.')?;
    Some(s.parse::<u64>().ok()? * 1_000_000 + us.parse::<u64>().ok()?)
}

#[test]
fn prints_hello_four_times_and_exits_0() {
    let out = run(
        &mut Command::new(env!("CARGO_BIN_EXE_hello")),
        Duration::from_secs(20),
    );
    assert_eq!(
        (out.stdout.as_str(), out.code),
        ("hello\nhello\nhello\nhello\n", Some(0))
    );
}

#[test]
fn the_lines_are_one_second_apart_by_the_unikernels_clock() {
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_hello")).args(["--", "--logs=debug"]),
        Duration::from_secs(20),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let stamps: Vec<u64> = out
        .stdout
        .lines()
        .filter(|l| l.ends_with("DEBUG hello: said hello"))
        .map(|l| stamp_us(l).unwrap_or_else(|| panic!("no timestamp in {l:?}")))
        .collect();
    assert_eq!(stamps.len(), 4, "{}", out.stdout);
    for pair in stamps.windows(2) {
        let gap = pair[1] - pair[0];
        // A timer never fires early; the upper bound only catches a lost wake-up.
        assert!(gap >= 1_000_000, "lines only {gap} us apart");
        assert!(gap < 2_000_000, "lines {gap} us apart");
    }
}

#[test]
fn timestamps_parse() {
    assert_eq!(
        stamp_us("[    1.000250] DEBUG hello: said hello"),
        Some(1_000_250)
    );
    assert_eq!(stamp_us("hello"), None);
}
