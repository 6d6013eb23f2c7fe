//! `hello-key` as a process: the `--hello` boot argument, and every way to get it wrong.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Outcome, run};

fn hello_key(args: &[&str]) -> Outcome {
    run(
        Command::new(env!("CARGO_BIN_EXE_hello-key")).args(args),
        Duration::from_secs(20),
    )
}

#[test]
fn prints_the_argument_four_times() {
    let out = hello_key(&["--", "--hello=Bonjour Morgana"]);
    assert_eq!(out.stdout, "Bonjour Morgana\n".repeat(4));
    assert_eq!(out.stderr, "");
    assert_eq!(out.code, Some(0));
}

#[test]
fn bad_arguments_give_one_error_line_and_status_1() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "error: missing boot argument --hello=TEXT\n"),
        (
            &["--hello"],
            "error: malformed boot argument --hello=: a value is required\n",
        ),
        (
            &["--hello=a", "--hello=b"],
            "error: boot argument --hello given more than once\n",
        ),
        (
            &["--hello=a", "--bye=b"],
            "error: unknown boot argument '--bye=b'\n",
        ),
        (
            &["--hello=a", "extra"],
            "error: unknown boot argument 'extra'\n",
        ),
        (
            &["--logs=loud", "--hello=a"],
            "error: malformed boot argument --logs=loud: 'loud' is not a level: expected off, error, warn, info, debug or trace\n",
        ),
        (
            &["--net:service=tap0"],
            "error: --net:service=tap0: no device 'service' is declared by this unikernel\n",
        ),
    ];
    for (args, expected) in cases {
        let out = hello_key(args);
        assert_eq!(out.stderr, *expected, "args {args:?}");
        assert_eq!(out.stdout, "", "args {args:?}");
        assert_eq!(out.code, Some(1), "args {args:?}");
    }
}
