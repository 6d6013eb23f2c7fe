//! The lab's smoke tier: the image boots as Xen's PVH **dom0** (no Linux, no xl; about a
//! second of emulated boot). It exercises what a domU run cannot: the `console_io` console and
//! the `XENMEM_memory_map` fallback (a PVH dom0's start info has no memory map). Without
//! xenstore, the backend prints `morgana: exit status N` before it shuts down.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use morgana_build::io_error;
use morgana_build::{Error, Result};

use super::Lab;

/// What a dom0 run printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dom0Outcome {
    /// The image's console lines (Xen's own `(XEN)` lines left out).
    pub console: Vec<String>,
    /// The status: the reported one, or 255 when Xen saw dom0 crash.
    pub status: Option<u8>,
}

/// Boots `image` with `args` as PVH dom0; `timeout` bounds the whole run.
pub fn run(lab: &Lab, image: &Path, args: &[String], timeout: Duration) -> Result<Dom0Outcome> {
    let module = std::iter::once(image.display().to_string())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    if module.contains(',') {
        return Err(Error::Usage(
            "dom0 arguments cannot contain ',' (QEMU's module separator)".into(),
        ));
    }
    let mut child = Command::new("qemu-system-x86_64")
        .args([
            "-M", "pc", "-accel", "tcg", "-cpu", "qemu64,+svm,+npt", "-m", "512", "-nographic",
            "-nodefaults", "-serial", "stdio", "-no-reboot", "-kernel",
        ])
        .arg(&lab.xen)
        .args([
            "-append",
            "console=com1 loglvl=warning guest_loglvl=all dom0=pvh dom0-iommu=none dom0_mem=64M bootscrub=0",
            "-initrd",
        ])
        .arg(&module)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: "qemu-system-x86_64".into(),
            source,
        })?;
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(timeout).is_err() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    });
    let log_path = lab.dir.join("dom0-serial.log");
    let mut log = std::fs::File::create(&log_path).map_err(|e| io_error(&log_path, e))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::Other("no QEMU output".into()))?;
    let mut out = Dom0Outcome {
        console: Vec::new(),
        status: None,
    };
    let mut ended = false;
    // SeaBIOS and Xen speak first; dom0's output starts once Xen has freed its init memory.
    let mut dom0_started = false;
    for line in BufReader::new(stdout).split(b'\n') {
        let Ok(line) = line else { break };
        let _ = log.write_all(&line);
        let _ = log.write_all(b"\n");
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches('\r')
            .to_string();
        if text.contains("Hardware Dom0 crashed") {
            out.status.get_or_insert(255);
            ended = true;
        } else if text.contains("Hardware Dom0 halted") || text.contains("Hardware Dom0 shutdown") {
            ended = true;
        } else if let Some(s) = text.strip_prefix("morgana: exit status ") {
            out.status = s.trim().parse().ok();
        } else if text.starts_with("(XEN)") {
            dom0_started |= text.contains("Freed") && text.contains("init memory");
        } else if dom0_started {
            out.console.push(text);
        }
        if ended {
            break;
        }
    }
    // Xen halts the machine but QEMU stays up: end it.
    let _ = child.kill();
    let _ = child.wait();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    if !ended {
        return Err(Error::Other(format!(
            "dom0 did not shut down in time; serial log: {}",
            log_path.display()
        )));
    }
    Ok(out)
}
