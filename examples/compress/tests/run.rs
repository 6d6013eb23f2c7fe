//! libzstd (C, built by zstd-sys with cc) as a process: exact output.

use std::process::Command;
use std::time::Duration;

#[test]
fn compresses_and_round_trips() {
    let out = morgana_testkit::run(
        Command::new(env!("CARGO_BIN_EXE_compress")).args(["--repeat=1000"]),
        Duration::from_secs(10),
    );
    assert_eq!(out.stdout, "zstd: 8000 -> 26 bytes, round trip ok\n");
    assert_eq!(out.code, Some(0));
}
