//! `hello` as a process: four `hello` lines at least a second apart, then status 0.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::Process;

#[test]
fn prints_hello_four_times_one_second_apart_and_exits_0() {
    let mut hello = Process::start(&mut Command::new(env!("CARGO_BIN_EXE_hello")));
    let mut times = Vec::new();
    for i in 0..4 {
        let (at, line) = hello
            .next_line(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("line {} missing", i + 1));
        assert_eq!(line, "hello");
        times.push(at);
    }
    let status = hello.wait(Duration::from_secs(10)).expect("hello exits");
    assert_eq!(status.code(), Some(0));
    assert!(
        hello.next_line(Duration::from_millis(100)).is_none(),
        "nothing after the fourth line"
    );
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(1000),
            "lines only {gap:?} apart"
        );
        assert!(gap < Duration::from_millis(2000), "lines {gap:?} apart");
    }
}
