//! Child processes started by tests: [`Process`] guards one (killed by its PID and reaped when
//! dropped, even after a failed assertion), [`run`] runs one to completion under a time limit.
//!
//! Standard input is always closed. Standard output and standard error are always captured:
//! a reader thread per stream drains the pipe as the child writes (so a child never blocks on
//! a full pipe nor dies of `SIGPIPE` once the test stops looking), hands standard output to the
//! test line by line and keeps every byte of both for [`Process::finish`].

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often a wait with a time limit looks at the child again.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// The captured result of a finished process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    /// Everything written to standard output, as text (invalid UTF-8 replaced by U+FFFD).
    pub stdout: String,
    /// Everything written to standard error, as text (invalid UTF-8 replaced by U+FFFD).
    pub stderr: String,
    /// Everything written to standard output, byte for byte (for binary output).
    pub stdout_bytes: Vec<u8>,
}

/// Runs `cmd` to completion with no input, waiting at most `limit`, and captures its output.
///
/// # Panics
/// If the command cannot start, or outlives `limit` (it is killed first; the panic message
/// holds what it wrote).
pub fn run(cmd: &mut Command, limit: Duration) -> Outcome {
    Process::start(cmd).finish(limit)
}

/// A process started by a test; killed (by its PID, only ever this child) and reaped on drop.
#[derive(Debug)]
pub struct Process {
    /// The command line, for messages.
    what: String,
    child: Child,
    /// Standard output lines (without the newline) with the time each one was complete.
    lines: mpsc::Receiver<(Instant, String)>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Process {
    /// Starts `cmd` with standard input closed and both output streams captured.
    ///
    /// # Panics
    /// If the command cannot start.
    pub fn start(cmd: &mut Command) -> Process {
        let what = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().map(|pipe| {
            std::thread::spawn(move || {
                drain(pipe, |line| {
                    // The receiver may be gone (the test no longer reads lines): keep
                    // draining anyway.
                    let _ = tx.send((Instant::now(), line));
                })
            })
        });
        let stderr = child
            .stderr
            .take()
            .map(|pipe| std::thread::spawn(move || drain(pipe, |_| {})));
        Process {
            what,
            child,
            lines,
            stdout,
            stderr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line of standard output (without its newline) and when it arrived, waiting at
    /// most `limit`; `None` if none came in time or standard output is closed.
    pub fn next_line(&mut self, limit: Duration) -> Option<(Instant, String)> {
        self.lines.recv_timeout(limit).ok()
    }

    /// Skips standard output lines until one contains `needle` and returns that line.
    ///
    /// # Panics
    /// If no such line arrives within `limit` or standard output closes first.
    pub fn wait_for_line(&mut self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((_, line)) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => {
                    let status = self.child.try_wait().ok().flatten();
                    panic!(
                        "{}: no line containing {needle:?} within {limit:?} (exit: {status:?})",
                        self.what
                    );
                }
            }
        }
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the process to exit, at most `limit`; kills it and returns `None` when the
    /// time is up.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL_INTERVAL),
                _ => {
                    self.kill();
                    return None;
                }
            }
        }
    }

    /// Waits for the process to exit (at most `limit`) and returns all it wrote, including
    /// the lines already read with [`Process::next_line`].
    ///
    /// # Panics
    /// If the process outlives `limit` (it is killed first; the message holds its output).
    pub fn finish(mut self, limit: Duration) -> Outcome {
        let status = self.wait(limit);
        let stdout_bytes = join(self.stdout.take());
        let stderr = String::from_utf8_lossy(&join(self.stderr.take())).into_owned();
        let stdout = String::from_utf8_lossy(&stdout_bytes).into_owned();
        let Some(status) = status else {
            panic!(
                "{} did not finish within {limit:?}\nstdout: {stdout}\nstderr: {stderr}",
                self.what
            );
        };
        Outcome {
            code: status.code(),
            stdout,
            stderr,
            stdout_bytes,
        }
    }

    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads `pipe` to its end, passing each complete line (and a last unterminated one) to
/// `line`; returns every byte read.
fn drain(mut pipe: impl Read, mut line: impl FnMut(String)) -> Vec<u8> {
    let mut all = Vec::new();
    let mut line_start = 0;
    let mut buf = [0u8; 4096];
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        all.extend_from_slice(&buf[..n]);
        while let Some(end) = all[line_start..].iter().position(|&b| b == b'\n') {
            let text = &all[line_start..line_start + end];
            line(String::from_utf8_lossy(text).into_owned());
            line_start += end + 1;
        }
    }
    if line_start < all.len() {
        line(String::from_utf8_lossy(&all[line_start..]).into_owned());
    }
    all
}

fn join(reader: Option<JoinHandle<Vec<u8>>>) -> Vec<u8> {
    reader.and_then(|r| r.join().ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn run_captures_both_streams_bytes_and_the_exit_code() {
        let out = run(
            &mut sh("printf 'a\\nb'; printf '\\377' ; echo oops >&2; exit 3"),
            Duration::from_secs(10),
        );
        assert_eq!(
            out,
            Outcome {
                code: Some(3),
                stdout: "a\nb\u{fffd}".to_string(),
                stderr: "oops\n".to_string(),
                stdout_bytes: b"a\nb\xff".to_vec(),
            }
        );
    }

    #[test]
    #[should_panic(expected = "did not finish within 200ms")]
    fn run_kills_and_fails_past_the_limit() {
        run(&mut sh("exec sleep 30"), Duration::from_millis(200));
    }

    #[test]
    fn lines_arrive_one_by_one_and_finish_still_has_them_all() {
        let mut p = Process::start(&mut sh("echo one; echo two three; printf four"));
        assert_eq!(p.wait_for_line("two", Duration::from_secs(10)), "two three");
        let (_, last) = p.next_line(Duration::from_secs(10)).expect("last line");
        assert_eq!(last, "four");
        assert_eq!(p.next_line(Duration::from_millis(100)), None);
        let out = p.finish(Duration::from_secs(10));
        assert_eq!(out.stdout, "one\ntwo three\nfour");
    }

    #[test]
    fn dropping_a_process_kills_it() {
        let mut p = Process::start(&mut sh("exec sleep 30"));
        assert!(p.is_running());
        let pid = p.pid();
        drop(p);
        // Killed and reaped: the PID is gone from /proc.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn wait_gives_up_and_kills_at_the_limit() {
        let mut p = Process::start(&mut sh("exec sleep 30"));
        assert_eq!(p.wait(Duration::from_millis(100)), None);
        assert!(!p.is_running());
    }
}
