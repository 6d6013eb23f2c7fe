//! A time limit on a whole lab run: one QEMU that boots many guests must not outlive its
//! budget, whatever a guest or the emulated kernel does.

use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// Ends the process `pid` (one the lab started) with `kill` if [`Watchdog::finish`] is not
/// called within the budget.
#[derive(Debug)]
pub struct Watchdog {
    done: Sender<()>,
    thread: JoinHandle<bool>,
}

impl Watchdog {
    /// Starts watching process `pid` for `budget`.
    pub fn start(pid: u32, budget: Duration) -> Watchdog {
        let (done, done_rx) = channel::<()>();
        let thread = std::thread::spawn(move || {
            if done_rx.recv_timeout(budget).is_err() {
                let _ = std::process::Command::new("kill")
                    .arg(pid.to_string())
                    .status();
                return true;
            }
            false
        });
        Watchdog { done, thread }
    }

    /// Stops watching; true when the budget ran out and the process was ended.
    pub fn finish(self) -> bool {
        let _ = self.done.send(());
        self.thread.join().unwrap_or(false)
    }
}

/// Starts `cmd` (a lab's QEMU, `program` for messages) with its standard output piped, under
/// a watchdog with `budget`; returns the child, its output and the watchdog.
pub fn spawn_watched(
    cmd: &mut std::process::Command,
    program: &str,
    budget: Duration,
) -> morgana_build::Result<(std::process::Child, std::process::ChildStdout, Watchdog)> {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|source| morgana_build::Error::Spawn {
            program: program.into(),
            source,
        })?;
    let watchdog = Watchdog::start(child.id(), budget);
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| morgana_build::Error::Other(format!("no {program} output")))?;
    Ok((child, stdout, watchdog))
}

/// The error for a lab run that ended after `done` of `total` guests, `started` being when its
/// QEMU started and `serial_log` where its console was saved.
pub fn stopped_early(
    done: usize,
    total: usize,
    timed_out: bool,
    started: std::time::Instant,
    serial_log: &std::path::Path,
) -> morgana_build::Error {
    morgana_build::Error::Other(format!(
        "the lab stopped after {done} of {total} guests{} ({:.0} s); serial log: {}",
        if timed_out {
            " (time budget exceeded)"
        } else {
            ""
        },
        started.elapsed().as_secs_f64(),
        serial_log.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_an_overrunning_process_and_spares_a_finished_one() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let dog = Watchdog::start(child.id(), Duration::from_millis(100));
        let status = child.wait().unwrap();
        assert!(dog.finish());
        assert!(!status.success());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        let dog = Watchdog::start(child.id(), Duration::from_secs(60));
        assert!(!dog.finish());
    }
}
