//! The runtime's exit paths and ambient services, observed from outside the process.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Outcome, run};

fn exe(path: &str, args: &[&str]) -> Outcome {
    run(Command::new(path).args(args), Duration::from_secs(20))
}

#[test]
fn a_panic_prints_its_message_and_call_stack_and_exits_255() {
    let out = exe(env!("CARGO_BIN_EXE_panics"), &[]);
    assert_eq!(out.stdout, "about to panic\n");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("panic: panicked at tests/runtime/src/bin/panics.rs:")
            && lines[1] == "index out of bounds: the len is 0 but the index is 0"
            && lines[2..]
                .iter()
                .enumerate()
                .all(|(i, l)| l.starts_with(&format!("backtrace: #{i} ret 0x")))
            && lines.len() > 3,
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

/// The 16 hex digits of an `ambient` run's `random word` line.
fn random_word(line: &str) -> &str {
    let word = line
        .strip_prefix("random word ")
        .unwrap_or_else(|| panic!("not a random word line: {line:?}"));
    assert!(
        word.len() == 16 && word.bytes().all(|b| b.is_ascii_hexdigit()),
        "{line:?}"
    );
    word
}

#[test]
fn tasks_timers_clocks_randomness_and_logging_work() {
    let out = exe(env!("CARGO_BIN_EXE_ambient"), &[]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[..6],
        [
            "fast 1",
            "fast 2",
            "slow 1",
            "fast 3",
            "wall clock after 2017",
            "monotonic advances",
        ]
    );
    // Each boot seeds its generator from getrandom(2): a second boot starts elsewhere in the
    // keystream. (That the seed is the platform's and nothing else is checked with a platform
    // double in the facade's tests.)
    let again = exe(env!("CARGO_BIN_EXE_ambient"), &[]);
    assert_eq!(again.code, Some(0), "stderr: {}", again.stderr);
    let again: Vec<&str> = again.stdout.lines().collect();
    assert_ne!(random_word(lines[6]), random_word(again[6]));
    // Quiet by default: the info line is not shown without --logs.
    assert_eq!(lines.len(), 7, "{lines:?}");
    let out = exe(env!("CARGO_BIN_EXE_ambient"), &["--logs=info"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
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

/// The records of an `ambient` run with `args`, without their time stamps.
fn log_records(args: &[&str]) -> Vec<String> {
    let out = exe(env!("CARGO_BIN_EXE_ambient"), args);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    out.stdout
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| l.split_once("] ").map_or(l, |(_, r)| r).to_string())
        .collect()
}

#[test]
fn per_source_log_levels_select_the_records() {
    let both = [
        "INFO  ambient: logged at info",
        "DEBUG ambient: logged at debug",
    ];
    assert_eq!(log_records(&["--logs=ambient:debug,warn"]), both);
    assert_eq!(log_records(&["--logs=warn,ambient:debug"]), both);
    assert_eq!(log_records(&["--logs=debug,ambient:info"]), both[..1]);
    assert_eq!(log_records(&["--logs=embassy_net:debug"]), [""; 0]);
    assert_eq!(
        log_records(&["--logs=ambient::deeper:debug,info"]),
        both[..1]
    );
}

#[test]
fn a_malformed_log_filter_is_one_error_line_and_status_1() {
    for (arg, reason) in [
        (
            "--logs=loud",
            "'loud' is not a level: expected off, error, warn, info, debug or trace",
        ),
        (
            "--logs=info,,warn",
            "expected LEVEL or SOURCE:LEVEL items separated by commas",
        ),
        ("--logs=:debug", "a source name is missing before ':'"),
        (
            "--logs=info,debug",
            "the level of the default is given twice",
        ),
    ] {
        let out = exe(env!("CARGO_BIN_EXE_ambient"), &[arg]);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr),
            (
                Some(1),
                "",
                format!("error: malformed boot argument {arg}: {reason}\n")
            ),
            "{arg}"
        );
    }
}
