//! The timers example as a Linux process: the ticks and the timeout in their order.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::run;

#[test]
fn ticks_and_a_timeout_in_order() {
    let out = run(
        &mut Command::new(env!("CARGO_BIN_EXE_timers")),
        Duration::from_secs(20),
    );
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str(), out.code),
        (
            "tick 1\ntick 2\ngave up after 1200 ms\ntick 3\ndone\n",
            "",
            Some(0)
        )
    );
}
