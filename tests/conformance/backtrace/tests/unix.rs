//! As a process (the unix backend): a panic and a fault three calls deep print symbolised call
//! stacks naming all three functions with their files and lines, and exit with status 255.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::backtrace::assert_frames;
use morgana_testkit::run;

const FILE: &str = "tests/conformance/backtrace/src/main.rs";

fn boot(mode: &str) -> morgana_testkit::Outcome {
    run(
        Command::new(env!("CARGO_BIN_EXE_conformance-backtrace")).arg(mode),
        Duration::from_secs(60),
    )
}

#[test]
fn a_panic_three_calls_deep_names_all_three() {
    let out = boot("panic");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!(
            "panic: panicked at {FILE}:25:9:\nthree calls deep\nbacktrace: #0 "
        )),
        "{}",
        out.stderr
    );
    assert_frames(
        &out.stderr,
        &[
            ("backtrace_inner_panic", &format!("{FILE}:25")),
            ("backtrace_middle", &format!("{FILE}:42")),
            ("backtrace_outer", &format!("{FILE}:50")),
        ],
    );
}

#[test]
fn a_fault_three_calls_deep_names_all_three() {
    let out = boot("fault");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("trap: signal 11 (SIGSEGV), address 0x400000000, rip 0x"),
        "{}",
        out.stderr
    );
    let pc = first.rsplit("0x").next().unwrap_or_default();
    let pc = u64::from_str_radix(pc, 16).unwrap_or_else(|_| panic!("{first}"));
    let second = out.stderr.lines().nth(1).unwrap_or_default();
    assert!(
        second.starts_with(&format!("backtrace: #0 pc {pc:#018x} ")),
        "{}",
        out.stderr
    );
    // Frame 0 is the faulting write (in `write_volatile` when that is not inlined).
    let first_frame = assert_frames(
        &out.stderr,
        &[
            ("backtrace_inner_fault", &format!("{FILE}:34")),
            ("backtrace_middle", &format!("{FILE}:43")),
            ("backtrace_outer", &format!("{FILE}:50")),
        ],
    );
    assert!(first_frame <= 1, "{}", out.stderr);
}

#[test]
fn no_argument_is_a_usage_error() {
    let out = boot("");
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (Some(1), "error: usage: conformance-backtrace panic|fault\n")
    );
}
