//! The runtime's exit paths and ambient services, observed from outside the process.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Outcome, run};

fn exe(path: &str, args: &[&str]) -> Outcome {
    run(Command::new(path).args(args), Duration::from_secs(20))
}

#[test]
fn a_panic_prints_its_message_and_exits_255() {
    let out = exe(env!("CARGO_BIN_EXE_panics"), &[]);
    assert_eq!(out.stdout, "about to panic\n");
    assert!(
        out.stderr
            .starts_with("panic: panicked at tests/runtime/src/bin/panics.rs:")
            && out
                .stderr
                .ends_with("index out of bounds: the len is 0 but the index is 0\n")
            && out.stderr.lines().count() == 2,
        "stderr: {:?}",
        out.stderr
    );
    assert_eq!(out.code, Some(255));
}

#[test]
fn an_error_from_main_prints_it_and_exits_1() {
    let out = exe(env!("CARGO_BIN_EXE_fails"), &[]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", "error: the application gave up\n")
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn tasks_timers_clocks_randomness_and_logging_work() {
    let out = exe(env!("CARGO_BIN_EXE_ambient"), &[]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[..7],
        [
            "fast 1",
            "fast 2",
            "slow 1",
            "fast 3",
            "wall clock after 2017",
            "monotonic advances",
            "random words differ"
        ]
    );
    assert_eq!(lines.len(), 8, "{lines:?}");
    assert!(
        lines[7].ends_with(" INFO  ambient: logged at info"),
        "{}",
        lines[7]
    );
    assert!(lines[7].starts_with('['), "{}", lines[7]);
}

#[test]
fn the_log_level_comes_from_the_logs_argument() {
    let out = exe(env!("CARGO_BIN_EXE_ambient"), &["--logs=debug"]);
    assert!(
        out.stdout.contains(" DEBUG ambient: logged at debug\n"),
        "{}",
        out.stdout
    );
    let out = exe(env!("CARGO_BIN_EXE_ambient"), &["--logs=off"]);
    assert!(!out.stdout.contains("logged at"), "{}", out.stdout);
    assert_eq!(out.code, Some(0));
}
