//! `morgana-hvt --gdb`: real gdb sessions against a guest on `/dev/kvm`.

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use morgana_build::symbolize::debug_info_path;
use morgana_testkit::{Outcome, Prereq, Process, require, run};

use hvt_tests::{image, tender, workspace};

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("address").port()
}

/// Starts `conformance-backtrace MODE` under `--gdb=PORT`, runs gdb with `commands` against
/// it (the image's debug file as symbols), and returns gdb's and the tender's outcomes.
fn session(mode: &str, commands: &[&str]) -> (Outcome, Outcome) {
    let port = free_port();
    let image = image("conformance-backtrace");
    let mut cmd = Command::new(tender());
    cmd.args(["--mem=4", &format!("--gdb={port}")])
        .arg(&image)
        .arg(mode);
    let guest = Process::start(&mut cmd);
    let mut gdb = Command::new("gdb");
    gdb.args(["-batch", "-nx", "-ex", "set tcp connect-timeout 60"])
        .args(["-ex", &format!("target remote 127.0.0.1:{port}")]);
    for c in commands {
        gdb.args(["-ex", c]);
    }
    // Source files are named relative to the workspace.
    gdb.arg(debug_info_path(&image))
        .current_dir(workspace().root);
    let gdb = run(&mut gdb, Duration::from_secs(120));
    (gdb, guest.finish(Duration::from_secs(60)))
}

#[test]
fn break_print_step_and_continue_to_the_exit() {
    require!(Prereq::Kvm);
    require!(Prereq::Tool("gdb"));
    let (gdb, guest) = session(
        "panic",
        &[
            "break backtrace_middle",
            "continue",
            "print/x $rip",
            "set language c",
            "print (unsigned int)BACKTRACE_RUNS",
            "set var *(unsigned int *)&BACKTRACE_RUNS = 7",
            "print (unsigned int)BACKTRACE_RUNS",
            "stepi",
            "print $rip == $1",
            "next",
            "continue",
        ],
    );
    let out = &gdb.stdout;
    // The guest waits at its first instruction.
    assert!(
        out.contains("_start () at crates/morgana/src/lib.rs:"),
        "{out}"
    );
    let bp = "Breakpoint 1, backtrace_middle () at tests/conformance/backtrace/src/main.rs:41\n";
    assert!(out.contains(bp), "{out}");
    let rip = out
        .lines()
        .find_map(|l| l.strip_prefix("$1 = 0x"))
        .unwrap_or_else(|| panic!("no $1 in {out}"));
    assert!(
        out.contains(&format!(
            "Breakpoint 1 at 0x{rip}: file tests/conformance/backtrace/src/main.rs, line 41."
        )),
        "{out}"
    );
    // The global, read and written.
    assert!(out.contains("\n$2 = 1\n$3 = 7\n"), "{out}");
    // One instruction further, then one source line.
    assert!(out.contains("\n$4 = 0\n"), "{out}");
    assert!(
        out.contains("42\t        Failure::Panic => backtrace_inner_panic(depth + 1),\n"),
        "{out}"
    );
    // The guest's exit, seen by gdb, and by the caller.
    assert!(
        out.contains("[Inferior 1 (process 1) exited with code 0377]"),
        "{out}"
    );
    assert_eq!(gdb.code, Some(0), "{}", gdb.stderr);
    assert_eq!(guest.code, Some(255), "{}", guest.stderr);
    assert!(
        guest
            .stderr
            .starts_with("morgana-hvt: waiting for gdb on 127.0.0.1:"),
        "{}",
        guest.stderr
    );
    assert!(
        guest
            .stdout
            .contains("panic: panicked at tests/conformance/backtrace/src/main.rs:25:9:"),
        "{}",
        guest.stdout
    );
}

#[test]
fn a_breakpoint_in_a_faulting_call_and_kill() {
    require!(Prereq::Kvm);
    require!(Prereq::Tool("gdb"));
    let (gdb, guest) = session(
        "fault",
        &["hbreak backtrace_inner_fault", "continue", "bt 3", "kill"],
    );
    let out = &gdb.stdout;
    assert!(
        out.contains("backtrace_inner_fault () at tests/conformance/backtrace/src/main.rs:"),
        "{out}"
    );
    assert!(out.contains("#1  0x"), "{out}");
    assert!(
        out.contains(" in backtrace_middle () at tests/conformance/backtrace/src/main.rs:43\n"),
        "{out}"
    );
    // (gdb then sees the connection close, as `kill` on a remote target does.)
    assert!(
        out.contains("Kill the program being debugged? (y or n) [answered Y"),
        "{out}"
    );
    assert_eq!(guest.code, Some(1), "{}", guest.stderr);
    assert!(
        guest.stderr.ends_with("morgana-hvt: killed from gdb\n"),
        "{}",
        guest.stderr
    );
    // Killed before the fault: no trap was reported.
    assert!(!guest.stdout.contains("trap:"), "{}", guest.stdout);
}

#[test]
fn a_port_in_use_is_one_line_and_status_1_before_the_guest_starts() {
    require!(Prereq::Kvm);
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    let out = run(
        Command::new(tender())
            .args(["--mem=4", &format!("--gdb={port}")])
            .arg(image("conformance-backtrace"))
            .arg("panic"),
        Duration::from_secs(60),
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr),
        (
            Some(1),
            "",
            format!("morgana-hvt: --gdb: 127.0.0.1:{port}: Address already in use (os error 98)\n")
        )
    );
}

#[test]
fn ctrl_c_stops_a_running_guest() {
    require!(Prereq::Kvm);
    require!(Prereq::Tool("gdb"));
    // `hello` prints a line a second, sleeping in POLL in between.
    let port = free_port();
    let image = image("hello");
    let mut cmd = Command::new(tender());
    cmd.args(["--mem=4", &format!("--gdb={port}")]).arg(&image);
    let mut guest = Process::start(&mut cmd);
    let mut gdb = Command::new("gdb");
    gdb.args(["-batch", "-nx", "-ex", "set tcp connect-timeout 60"])
        .args(["-ex", &format!("target remote 127.0.0.1:{port}")])
        .args(["-ex", "continue", "-ex", "bt 1", "-ex", "kill"])
        .arg(debug_info_path(&image))
        .current_dir(workspace().root);
    let gdb = Process::start(&mut gdb);
    guest.wait_for_line("hello", Duration::from_secs(60));
    // What Ctrl-C does at gdb's terminal: SIGINT to gdb, which sends the interrupt.
    let sent = Command::new("kill")
        .args(["-INT", &gdb.pid().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let gdb = gdb.finish(Duration::from_secs(60));
    let guest = guest.finish(Duration::from_secs(60));
    assert!(
        gdb.stdout
            .contains("Program received signal SIGINT, Interrupt.\n"),
        "{}\n{}",
        gdb.stdout,
        gdb.stderr
    );
    assert!(gdb.stdout.contains("\n#0  "), "{}", gdb.stdout);
    assert_eq!(guest.code, Some(1), "{}", guest.stderr);
    assert!(
        guest.stderr.ends_with("morgana-hvt: killed from gdb\n"),
        "{}",
        guest.stderr
    );
    // Stopped before its four lines were out.
    assert!(
        guest.stdout.matches("hello\n").count() < 4,
        "{}",
        guest.stdout
    );
}
