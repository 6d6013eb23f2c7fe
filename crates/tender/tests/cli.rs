//! `--help` and `--version` of the `morgana-hvt` binary: exact output, status, and the one
//! error line when stdout cannot take it. None of these needs KVM.

mod support;

use morgana_testkit::Outcome;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{TENDER, run_with_limit, scratch, stderr};

fn run(args: &[&str]) -> Outcome {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run_with_limit(TENDER, &args, Duration::from_secs(10))
}

fn version_text() -> String {
    format!("morgana-hvt {}\nABI version 2\n", env!("CARGO_PKG_VERSION"))
}

#[test]
fn help_prints_the_usage_on_stdout() {
    let out = run(&["--help"]);
    assert_eq!(stderr(&out), "");
    assert_eq!(out.code, Some(0));
    let text = out.stdout;
    assert_eq!(text, format!("{}\n", morgana_tender::cli::USAGE));
    // The solo5-hvt layout: usage line, core options, modules, module options.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "usage: morgana-hvt [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]"
    );
    for option in [
        "  [ --mem=512 ] (guest memory in MB)",
        "    --help (display this help)",
        "    --version (display version information)",
        "Compiled-in modules: net block",
        "  [ --net:NAME=IFACE | @NN ] (attach tap at IFACE or at fd @NN as network NAME)",
        "  [ --net-mac:NAME=HWADDR ] (set HWADDR for network NAME)",
        "  [ --block:NAME=PATH ] (attach block device/file at PATH as block storage NAME)",
        "  [ --block-sector-size:NAME=SIZE ] (set sector size for block device NAME)",
    ] {
        assert!(
            lines.contains(&option),
            "missing line {option:?} in\n{text}"
        );
    }
}

#[test]
fn version_prints_program_and_abi_version() {
    let out = run(&["--version"]);
    assert_eq!(out.stdout, version_text());
    assert_eq!(stderr(&out), "");
    assert_eq!(out.code, Some(0));
}

#[test]
fn help_and_version_among_options_win_over_the_kernel() {
    // Options before KERNEL are read in order; --help or --version ends the parse, so the
    // (missing) kernel is never opened.
    let missing = scratch("missing.hvt");
    let missing = missing.to_str().expect("utf-8 path");
    let out = run(&["--mem=4", "--help", missing]);
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.starts_with("usage: morgana-hvt "));
    let out = run(&["--version", "--mem=0", missing]);
    assert_eq!(out.stdout, version_text());
    assert_eq!(out.code, Some(0));
    // After KERNEL, --help is the guest's argument: here the kernel is opened (and missing).
    let out = run(&[missing, "--help"]);
    assert_eq!(out.stdout_bytes, b"");
    assert_eq!(
        stderr(&out),
        format!("morgana-hvt: {missing}: No such file or directory (os error 2)\n")
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn unwritable_stdout_is_one_error_line() {
    for arg in ["--help", "--version"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = Command::new(TENDER)
            .arg(arg)
            .stdin(Stdio::null())
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .expect("run tender");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "morgana-hvt: cannot write to stdout: No space left on device (os error 28)\n",
            "{arg}"
        );
        assert_eq!(out.status.code(), Some(1), "{arg}");
    }
}
