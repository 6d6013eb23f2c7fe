//! The KVM test lab: hvt guests under a real (nested) KVM, inside a Linux that QEMU emulates.
//!
//! KVM-PVM, which some machines offer as `/dev/kvm`, cannot run SSE or AVX in a guest. QEMU's
//! TCG emulator with `-cpu max` offers AMD SVM (and AVX, AVX2, XSAVE, RDRAND, RDSEED) to the
//! Linux it boots, whose `kvm_amd` then provides a KVM with hardware semantics: the tender runs
//! there. [`Lab::assemble`] downloads Debian's kernel and busybox-static with `apt-get download`
//! into `target/kvmlab/debs` (once per machine), unpacks them and builds the base initramfs.
//! [`Lab::run`] builds the tender, boots QEMU once and runs each [`Guest`] in turn, printing
//! its output as it arrives, and returns the smoke report and one [`Outcome`] per guest.
//!
//! QEMU comes from the host (`qemu-system-x86_64`, 10.x from bookworm-backports).

mod archive;
pub mod connections;
pub mod console;
pub mod https;
mod init;
pub mod suite;
pub mod tools;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use morgana_build::{Error, Profile, Result, Workspace, hvt, io_error};

use console::{Event, Parser};
pub use console::{Outcome, Smoke, State};

/// The assembled lab.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Cache directory (`target/kvmlab`).
    pub dir: PathBuf,
    /// The unpacked packages.
    pub root: PathBuf,
    /// The L1 kernel.
    pub kernel: PathBuf,
    /// The base initramfs (busybox, modules, `/init`).
    pub initrd: PathBuf,
    /// The tender run inside L1 (release build for the host, which L1 matches).
    pub tender: PathBuf,
}

/// One guest to boot in L1.
#[derive(Debug, Clone, Default)]
pub struct Guest {
    /// Name (letters, digits, `-`, `_`): prefixes its output lines.
    pub name: String,
    /// The `.hvt` image, any host path: soft- or hard-float builds alike.
    pub image: PathBuf,
    /// Tender options (`--mem=4`, `--block:NAME=/disks/FILE`, `--net:NAME=TAP`...).
    pub options: Vec<String>,
    /// The guest's command line.
    pub args: Vec<String>,
    /// Host files copied into L1's tmpfs, as (path in L1, host file), e.g. disks; those put
    /// in `usr/bin/` ([`tools::BIN_DIR`]) are executable.
    pub files: Vec<(String, PathBuf)>,
    /// An L1 shell script run before the guest (make disks, taps).
    pub setup: Option<String>,
    /// An L1 shell script run while the guest runs (`GUEST_PID` is the tender's PID).
    pub during: Option<String>,
    /// An L1 shell script run after the guest (read disks, remove taps).
    pub after: Option<String>,
    /// Host programs the L1 scripts run (`curl`, `openssl`): copied into L1 with their
    /// libraries ([`tools`]).
    pub tools: Vec<String>,
    /// Seconds the tender may run before it is killed.
    pub timeout_s: u32,
}

/// What one QEMU boot produced.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// What L1 reported about its KVM.
    pub smoke: Smoke,
    /// One per guest, in order.
    pub outcomes: Vec<Outcome>,
    /// From starting QEMU to `/init`, ms.
    pub init_ms: u64,
    /// From starting QEMU to KVM loaded and the smoke report complete, ms.
    pub ready_ms: u64,
    /// From starting QEMU to the last guest's end, ms.
    pub total_ms: u64,
}

/// How guest output is shown while it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// `[NAME] LINE` on standard output (standard error lines as `[NAME!] LINE`).
    Prefixed,
    /// As the tender printed it: its standard output and error on ours.
    Plain,
}

impl Lab {
    /// Downloads and unpacks the packages (once), builds the base initramfs when its recipe
    /// changed, and builds the tender.
    pub fn assemble(ws: &Workspace) -> Result<Lab> {
        let dir = ws.target_dir().join("kvmlab");
        let packages = vec![crate::debian::kernel_package()?, "busybox-static".into()];
        let root = crate::debian::fetch(&dir, &packages, "kvmlab")?;
        let kernel = crate::debian::kernel(&root)?;
        let initrd = dir.join(format!("base-{:016x}.cpio", archive::base_recipe_hash()));
        if !initrd.exists() {
            let bytes = archive::base(&root)?;
            std::fs::write(&initrd, bytes).map_err(|e| io_error(&initrd, e))?;
        }
        let tender = hvt::tender(ws, Profile::Release)?;
        Ok(Lab {
            dir,
            root,
            kernel,
            initrd,
            tender,
        })
    }

    /// Boots QEMU once and runs `guests` in order, echoing their output as it arrives.
    pub fn run(&self, guests: &[Guest], echo: Echo) -> Result<Run> {
        let qemu = "qemu-system-x86_64";
        if Command::new(qemu).arg("--version").output().is_err() {
            return Err(Error::Missing(format!(
                "{qemu} is not installed: apt-get install -t bookworm-backports qemu-system-x86"
            )));
        }
        let mut libraries = crate::debian::libraries(&self.root, &self.tender)?;
        let wanted: std::collections::BTreeSet<&str> = guests
            .iter()
            .flat_map(|g| g.tools.iter().map(String::as_str))
            .collect();
        for (inside, file) in tools::entries(&self.root, wanted)? {
            if !libraries.iter().any(|(have, _)| *have == inside) {
                libraries.push((inside, file));
            }
        }
        let entries = archive::run_entries(&self.tender, &libraries, guests)?;
        let initrd = self.dir.join("run.cpio");
        let mut bytes = std::fs::read(&self.initrd).map_err(|e| io_error(&self.initrd, e))?;
        bytes.extend(archive::write(&entries)?);
        std::fs::write(&initrd, bytes).map_err(|e| io_error(&initrd, e))?;
        let serial_log = self.dir.join("serial.log");
        let mut log = std::fs::File::create(&serial_log).map_err(|e| io_error(&serial_log, e))?;

        let mut cmd = Command::new(qemu);
        // Pure emulation: an accelerated QEMU would sit on the host's KVM, whose guests (L1
        // here) get no SVM on a KVM-PVM host.
        cmd.args(["-M", "pc", "-accel", "tcg", "-cpu", "max", "-smp", "1"])
            .args([
                "-m",
                "1024",
                "-nographic",
                "-nodefaults",
                "-serial",
                "stdio",
            ])
            .args(["-no-reboot", "-kernel"])
            .arg(&self.kernel)
            .arg("-initrd")
            .arg(&initrd)
            .args(["-append", "console=ttyS0 quiet loglevel=3 panic=-1"])
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        let started = Instant::now();
        let budget = Duration::from_secs(
            120 + guests
                .iter()
                .map(|g| u64::from(g.timeout_s) + 10)
                .sum::<u64>(),
        );
        // The watchdog ends this QEMU (by its PID) if the lab overruns its budget.
        let (mut child, stdout, watchdog) = crate::watchdog::spawn_watched(&mut cmd, qemu, budget)?;
        let mut parser = Parser::default();
        let mut run = Run::default();
        let mut guest_start = started;
        let mut guest_ms = 0;
        let ms = |since: Instant| since.elapsed().as_millis() as u64;
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            let _ = log.write_all(&line);
            let _ = log.write_all(b"\n");
            let text = String::from_utf8_lossy(&line);
            let name = parser.guest().unwrap_or("").to_string();
            match parser.line(text.trim_end_matches('\r')) {
                Event::Init => run.init_ms = ms(started),
                Event::Ready => run.ready_ms = ms(started),
                Event::Start => guest_start = Instant::now(),
                Event::Exit => guest_ms = ms(guest_start),
                Event::Output(l) if echo == Echo::Prefixed => println!("[{name}] {l}"),
                Event::Output(l) => println!("{l}"),
                Event::Error(l) if echo == Echo::Prefixed => println!("[{name}!] {l}"),
                Event::Error(l) => eprintln!("{l}"),
                Event::End(mut o) => {
                    o.ms = guest_ms;
                    run.outcomes.push(o);
                    if run.outcomes.len() == guests.len() {
                        // Everything is collected; do not wait for the machine to power off.
                        break;
                    }
                }
                Event::Done => break,
                Event::Noise => {}
            }
        }
        run.total_ms = ms(started);
        let _ = child.kill();
        let _ = child.wait();
        let timed_out = watchdog.finish();
        run.smoke = parser.smoke;
        if run.outcomes.len() < guests.len() {
            return Err(crate::watchdog::stopped_early(
                run.outcomes.len(),
                guests.len(),
                timed_out,
                started,
                &serial_log,
            ));
        }
        Ok(run)
    }
}

/// Prints the smoke report: what L1 says about nested KVM and the CPU features it offers.
pub fn print_smoke(run: &Run) {
    let s = &run.smoke;
    println!(
        "kvmlab: QEMU (TCG, -cpu max) reached /init after {} ms, KVM ready after {} ms",
        run.init_ms, run.ready_ms
    );
    println!(
        "kvmlab: L1 kernel: {}",
        s.nested
            .as_deref()
            .unwrap_or("no 'kvm: Nested Virtualization enabled' message")
    );
    println!("kvmlab: L1 CPU flags: {}", s.flags.join(" "));
    println!(
        "kvmlab: /dev/kvm: {}",
        s.kvm_dev
            .as_deref()
            .map_or("missing".to_string(), |d| format!("character device {d}"))
    );
    for w in &s.warnings {
        println!("kvmlab: warning: {w}");
    }
}

/// `cargo xtask kvmlab` arguments: `IMAGE.hvt [TENDER OPTIONS] [-- ARGS]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootRequest {
    /// The image.
    pub image: PathBuf,
    /// Tender options, as given.
    pub options: Vec<String>,
    /// The guest's arguments.
    pub args: Vec<String>,
}

impl BootRequest {
    /// Parses `rest`; `None` when it names no image.
    pub fn parse(rest: &[String]) -> Option<BootRequest> {
        let (image, rest) = rest.split_first()?;
        let (options, args) = match rest.iter().position(|a| a == "--") {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        Some(BootRequest {
            image: image.into(),
            options: options.to_vec(),
            args: args.to_vec(),
        })
    }

    /// The guest: host files named by `--block:NAME=FILE` are copied to `/disks/` (the
    /// option rewritten to match; writes stay in L1), taps named by `--net:NAME=TAP` are
    /// created in L1 with address 10.0.0.1/24.
    pub fn guest(&self) -> Guest {
        let mut g = Guest {
            name: self
                .image
                .file_stem()
                .map(|s| {
                    s.to_string_lossy()
                        .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "guest".into()),
            image: self.image.clone(),
            args: self.args.clone(),
            timeout_s: 300,
            ..Default::default()
        };
        let mut setup = String::new();
        for (i, opt) in self.options.iter().enumerate() {
            let block = opt.strip_prefix("--block:").and_then(|r| r.split_once('='));
            let net = opt.strip_prefix("--net:").and_then(|r| r.split_once('='));
            if let Some((dev, file)) = block {
                let inside = format!("disks/{i}-{dev}");
                g.files.push((inside.clone(), file.into()));
                g.options.push(format!("--block:{dev}=/{inside}"));
                continue;
            }
            if let Some((_, tap)) = net {
                let tap = init::shell_quote(tap);
                setup.push_str(&format!(
                    "tunctl -t {tap} >/dev/null && ip addr add 10.0.0.1/24 dev {tap} && ip link set {tap} up\n"
                ));
            }
            g.options.push(opt.clone());
        }
        g.setup = (!setup.is_empty()).then_some(setup);
        g
    }
}

/// `cargo xtask kvmlab [-- IMAGE.hvt [TENDER OPTIONS] [-- ARGS]]`: assembles the lab, and
/// boots IMAGE in it when given; the exit status is the guest's.
pub fn command(ws: &Workspace, rest: &[String]) -> Result<ExitCode> {
    let lab = Lab::assemble(ws)?;
    let Some(request) = BootRequest::parse(rest) else {
        println!(
            "kvm lab ready:\n  L1 kernel {}\n  base initramfs {}\n  tender {}",
            lab.kernel.display(),
            lab.initrd.display(),
            lab.tender.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let guest = request.guest();
    let run = lab.run(std::slice::from_ref(&guest), Echo::Plain)?;
    let outcome = run
        .outcomes
        .first()
        .ok_or_else(|| Error::Other("the lab reported no guest".into()))?;
    eprintln!(
        "kvmlab: QEMU boot to /init {} ms, KVM ready {} ms; guest {} ms ({:?}, status {}); total {} ms",
        run.init_ms,
        run.ready_ms,
        outcome.ms,
        outcome.state,
        outcome.status.map_or("none".into(), |s| s.to_string()),
        run.total_ms
    );
    if !run.smoke.nested_kvm() {
        eprintln!("kvmlab: warning: L1 reports no nested KVM");
    }
    match (outcome.state, outcome.status) {
        (State::Timeout, _) => Err(Error::Other(format!(
            "the guest overran its {} s limit",
            guest.timeout_s
        ))),
        (_, Some(s)) => Ok(ExitCode::from(s)),
        (_, None) => Err(Error::Other(
            "the guest ended without an exit status".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn boot_requests_split_options_from_arguments() {
        assert_eq!(BootRequest::parse(&[]), None);
        let r = BootRequest::parse(&strings(&["h.hvt", "--mem=4", "--", "a", "--", "b"])).unwrap();
        assert_eq!(r.image, PathBuf::from("h.hvt"));
        assert_eq!(r.options, ["--mem=4"]);
        assert_eq!(r.args, ["a", "--", "b"]);
        let r = BootRequest::parse(&strings(&["h.hvt", "--mem=4"])).unwrap();
        assert_eq!((r.options.len(), r.args.len()), (1, 0));
    }

    #[test]
    fn disks_are_copied_into_l1_and_taps_made_there() {
        let r = BootRequest::parse(&strings(&[
            "out/conformance.net.hvt",
            "--mem=4",
            "--block:storage=/data/disk.img",
            "--net:service0=tap0",
        ]))
        .unwrap();
        let g = r.guest();
        assert_eq!(g.name, "conformance-net");
        assert_eq!(
            g.options,
            [
                "--mem=4",
                "--block:storage=/disks/1-storage",
                "--net:service0=tap0"
            ]
        );
        assert_eq!(
            g.files,
            [(
                "disks/1-storage".to_string(),
                PathBuf::from("/data/disk.img")
            )]
        );
        assert_eq!(
            g.setup.as_deref(),
            Some(
                "tunctl -t 'tap0' >/dev/null && ip addr add 10.0.0.1/24 dev 'tap0' && ip link set 'tap0' up\n"
            )
        );
    }
}
