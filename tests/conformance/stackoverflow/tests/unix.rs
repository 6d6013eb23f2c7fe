//! As a process (the unix backend): the recursion overflows the main thread's stack, the
//! kernel refuses to grow it further, and the backend's fault handler (on its alternate
//! stack) reports the SIGSEGV with the call stack and exits with 255, as a trap does on hvt
//! and Xen. The program never reaches its last line.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::run;

#[test]
fn unbounded_recursion_is_a_segmentation_fault_reported_with_255() {
    let out = run(
        &mut Command::new(env!("CARGO_BIN_EXE_conformance-stackoverflow")),
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert_eq!(out.stdout, "recursing until the stack overflows\n");
    let mut lines = out.stderr.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("trap: signal 11 (SIGSEGV), address 0x7"),
        "{}",
        out.stderr
    );
    let second = lines.next().unwrap_or_default();
    assert!(
        second.starts_with("backtrace: #0 pc ")
            && second.contains(" conformance_stackoverflow::stackoverflow_descend"),
        "{}",
        out.stderr
    );
    // The walk stops at its limit, 64 frames, all of them the recursion.
    assert_eq!(lines.count(), 63, "{}", out.stderr);
    assert!(!out.stderr.contains("FAILURE"), "{}", out.stderr);
}
