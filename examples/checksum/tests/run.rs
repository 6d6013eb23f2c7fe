//! The C checksum unikernel as a process: exact output, and its argument errors.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::run;

#[test]
fn prints_the_c_library_report() {
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_checksum")).args(["--", "--text=123456789"]),
        Duration::from_secs(10),
    );
    assert_eq!(out.stdout, "crc32=cbf43926 adler32=091e01de length=9\n");
    assert_eq!(out.code, Some(0));
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_checksum")).args(["--repeat=1000"]),
        Duration::from_secs(10),
    );
    assert_eq!(out.stdout, "crc32=10176d8d adler32=3ebed21f length=7000\n");
}

#[test]
fn bad_arguments_are_refused() {
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_checksum")).args(["--repeat=many"]),
        Duration::from_secs(10),
    );
    assert_eq!(
        out.stderr,
        "error: malformed boot argument --repeat=many: invalid digit found in string\n"
    );
    assert_eq!(out.code, Some(1));
}
