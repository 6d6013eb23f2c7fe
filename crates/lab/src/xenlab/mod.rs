//! The Xen test lab: real Xen 4.17 with a Linux dom0, under QEMU's TCG emulator (no KVM needed).
//!
//! [`Lab::assemble`] downloads Debian's packages with `apt-get download` into
//! `target/xenlab/debs`, unpacks them with `dpkg-deb -x` (never installs them) and builds the
//! hypervisor image and a dom0 initramfs with xl, xenstored, xenconsoled, the back-end modules,
//! two loop-backed disks and hotplug scripts that put the vif on 10.0.0.1/24. Everything is
//! cached under `target/xenlab`. [`Lab::run`] boots QEMU once and runs each [`Guest`] in turn as
//! a PVH domU, collecting its console log, exit status (from xenstore, `data/morgana-exit`, or
//! 255 when the domain crashed) and what dom0 saw.
//!
//! QEMU itself comes from the host (`qemu-system-x86_64`, 10.x from bookworm-backports).

mod backtrace;
pub mod bench;
mod overflow;
mod packages;
mod scripts;
pub mod smoke;
pub mod suite;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use morgana_build::baremetal::Float;
use morgana_build::io_error;
use morgana_build::symbolize::Symbolizer;
use morgana_build::xen::{self, DeclaredDevice, XlConfig};
use morgana_build::{Error, Profile, Result, Workspace};

/// The assembled lab.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Cache directory (`target/xenlab`).
    pub dir: PathBuf,
    /// The Xen hypervisor ELF.
    pub xen: PathBuf,
    /// The dom0 kernel.
    pub kernel: PathBuf,
    /// The dom0 initramfs (without guests).
    pub initrd: PathBuf,
}

/// One guest to boot.
#[derive(Debug, Clone)]
pub struct Guest {
    /// Domain name (letters, digits, `-`).
    pub name: String,
    /// The `.xen` image.
    pub image: PathBuf,
    /// Its declared devices.
    pub devices: Vec<DeclaredDevice>,
    /// The command line.
    pub args: Vec<String>,
    /// A shell command dom0 runs once the guest is created (its output is collected).
    pub dom0: Option<String>,
    /// Seconds the guest may run.
    pub timeout_s: u32,
    /// Boot on the disks as the previous guest left them, instead of freshly labelled ones
    /// (a store that must survive a reboot).
    pub keep_disks: bool,
}

/// What became of a guest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Domain name.
    pub name: String,
    /// How the domain ended: `shutdown`, `crashed`, `timeout`, `create-failed`...
    pub state: String,
    /// The exit status it reported (`None` when it reported none).
    pub status: Option<u8>,
    /// Its console output, line by line.
    pub console: Vec<String>,
    /// Output of the dom0 command, line by line.
    pub dom0: Vec<String>,
    /// Output of `xl create` when it failed.
    pub xl: Vec<String>,
    /// The text at the start of the first lab disk after the guest ran.
    pub disk0: String,
    /// From unpausing the domain to seeing it end, ms (10 ms resolution; the end is polled
    /// every 100 ms).
    pub ms: u64,
    /// How long `xl create` (domain build, devices, hotplug) took, ms.
    pub create_ms: u64,
    /// CPU time the domain used, ms (100 ms resolution; `None` when unknown).
    pub cpu_ms: Option<u64>,
}

impl Outcome {
    /// The status the lab reports for this guest: the guest's own, 255 for a crash without
    /// one, `None` when there is nothing meaningful (creation failed, timed out).
    pub fn effective_status(&self) -> Option<u8> {
        match (self.status, self.state.as_str()) {
            (Some(s), _) => Some(s),
            (None, "crashed") => Some(255),
            _ => None,
        }
    }
}

impl Lab {
    /// Downloads, unpacks and builds what is missing under `target/xenlab`.
    pub fn assemble(ws: &Workspace) -> Result<Lab> {
        let dir = ws.target_dir().join("xenlab");
        let root = packages::fetch(&dir)?;
        let xen = dir.join("xen-4.17.elf");
        if !xen.exists() {
            let gz = root.join("boot/xen-4.17-amd64.gz");
            let out = Command::new("gzip")
                .arg("-dc")
                .arg(&gz)
                .output()
                .map_err(|e| io_error(&gz, e))?;
            if !out.status.success() {
                return Err(Error::Failed(format!("gzip -dc {}", gz.display())));
            }
            std::fs::write(&xen, out.stdout).map_err(|e| io_error(&xen, e))?;
        }
        let kernel = crate::debian::kernel(&root)?;
        // Named after what goes into it, so a change to the scripts rebuilds it.
        let initrd = dir.join(format!("dom0-{:016x}.cpio", packages::recipe_hash()));
        if !initrd.exists() {
            let bytes = packages::dom0_initramfs(&root)?;
            std::fs::write(&initrd, bytes).map_err(|e| io_error(&initrd, e))?;
        }
        Ok(Lab {
            dir,
            xen,
            kernel,
            initrd,
        })
    }

    /// Boots QEMU once and runs `guests` in order; returns one outcome per guest.
    ///
    /// Guest console lines are echoed to standard output (prefixed with the guest's name when
    /// `echo_prefix` is set, backtrace lines symbolised) as each guest ends.
    pub fn run(&self, guests: &[Guest], echo_prefix: bool) -> Result<Vec<Outcome>> {
        let qemu = "qemu-system-x86_64";
        if Command::new(qemu).arg("--version").output().is_err() {
            return Err(Error::Missing(format!(
                "{qemu} is not installed: apt-get install -t bookworm-backports qemu-system-x86"
            )));
        }
        let initrd = self.dir.join("run.cpio");
        let mut bytes = std::fs::read(&self.initrd).map_err(|e| io_error(&self.initrd, e))?;
        bytes.extend(guest_archive(guests)?);
        std::fs::write(&initrd, bytes).map_err(|e| io_error(&initrd, e))?;
        let serial_log = self.dir.join("serial.log");
        let mut log = std::fs::File::create(&serial_log).map_err(|e| io_error(&serial_log, e))?;

        let mut cmd = Command::new(qemu);
        cmd.args([
            "-M",
            "pc",
            "-accel",
            "tcg",
            "-cpu",
            "qemu64,+svm,+npt",
            "-smp",
            "2",
            "-m",
            "1024",
            "-nographic",
            "-nodefaults",
            "-serial",
            "stdio",
            "-no-reboot",
            "-kernel",
        ])
        .arg(&self.xen)
        .args([
            "-append",
            "console=com1 loglvl=warning guest_loglvl=warning dom0_mem=512M,max:512M bootscrub=0",
            "-initrd",
        ])
        .arg(format!(
            "{} console=hvc0 quiet,{}",
            self.kernel.display(),
            initrd.display()
        ))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
        let budget = Duration::from_secs(
            90 + guests
                .iter()
                .map(|g| u64::from(g.timeout_s) + 20)
                .sum::<u64>(),
        );
        let started = Instant::now();
        // The watchdog ends this QEMU (by its PID) if the lab overruns its budget.
        let (mut child, stdout, watchdog) = crate::watchdog::spawn_watched(&mut cmd, qemu, budget)?;
        let mut parser = Parser::default();
        let mut outcomes = Vec::new();
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            let _ = log.write_all(&line);
            let _ = log.write_all(b"\n");
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            if let Some(o) = parser.line(&text) {
                // Backtraces are echoed symbolised, from the guest image's debug information.
                let symbolizer = guests
                    .get(outcomes.len())
                    .and_then(|g| Symbolizer::for_image(&g.image, None).ok());
                for l in &o.console {
                    let l = symbolizer.as_ref().map_or_else(|| l.clone(), |s| s.line(l));
                    if echo_prefix {
                        println!("[{}] {l}", o.name);
                    } else {
                        println!("{l}");
                    }
                }
                outcomes.push(o);
                if outcomes.len() == guests.len() {
                    // Everything is collected; do not wait for the machine to power off.
                    let _ = child.kill();
                    break;
                }
            }
            if parser.done {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let timed_out = watchdog.finish();
        if outcomes.len() < guests.len() {
            return Err(crate::watchdog::stopped_early(
                outcomes.len(),
                guests.len(),
                timed_out,
                started,
                &serial_log,
            ));
        }
        Ok(outcomes)
    }
}

fn guest_archive(guests: &[Guest]) -> Result<Vec<u8>> {
    let mut c = crate::cpio::Cpio::default();
    let mut seen = BTreeSet::new();
    let mut plan = String::new();
    for (i, g) in guests.iter().enumerate() {
        crate::guest_name::check(&g.name)?;
        let image = std::fs::read(&g.image).map_err(|e| io_error(&g.image, e))?;
        let kernel = format!("guests/{i}/kernel");
        c.parents(&kernel, &mut seen);
        c.file(&kernel, 0o644, &image);
        let cfg = xen::xl_config(&XlConfig {
            name: &g.name,
            kernel: Path::new(&format!("/{kernel}")),
            memory_mib: xen::DEFAULT_MEMORY_MIB,
            devices: &g.devices,
            extra: &g.args,
            lab: true,
            // Xen under QEMU's TCG runs SSE in a guest: the lab boots hard-float images.
            float: Float::Hard,
        });
        c.file(&format!("guests/{i}/guest.cfg"), 0o644, cfg.as_bytes());
        if let Some(cmd) = &g.dom0 {
            c.file(&format!("guests/{i}/dom0.sh"), 0o755, cmd.as_bytes());
        }
        let disks = if g.keep_disks { "keep" } else { "reset" };
        plan.push_str(&format!(
            "run_guest {i} {} {} {disks}\n",
            g.name, g.timeout_s
        ));
    }
    c.parents("guests/plan.sh", &mut seen);
    c.file("guests/plan.sh", 0o644, plan.as_bytes());
    Ok(c.finish())
}

/// Turns the serial console's `@@xenlab` lines into outcomes.
#[derive(Debug, Default)]
struct Parser {
    current: Option<Outcome>,
    in_console: bool,
    done: bool,
}

impl Parser {
    fn line(&mut self, line: &str) -> Option<Outcome> {
        // Xen and the dom0 kernel may prefix lines with escape sequences; find our marker.
        let marker = line.find("@@xenlab ").map(|i| &line[i + 9..]);
        if self.in_console {
            if marker == Some("console-end") {
                self.in_console = false;
                // `cat` plus our `echo` leave one empty line at the end.
                if let Some(o) = self.current.as_mut()
                    && o.console.last().is_some_and(String::is_empty)
                {
                    o.console.pop();
                }
            } else if let Some(o) = self.current.as_mut() {
                o.console.push(line.to_string());
            }
            return None;
        }
        let rest = marker?;
        let (word, arg) = rest.split_once(' ').unwrap_or((rest, ""));
        match word {
            "begin" => {
                self.current = Some(Outcome {
                    name: arg.to_string(),
                    ..Default::default()
                })
            }
            "console-begin" => self.in_console = true,
            "dom0" => self.current.as_mut()?.dom0.push(arg.to_string()),
            "xl" => self.current.as_mut()?.xl.push(arg.to_string()),
            "disk0" => self.current.as_mut()?.disk0 = arg.to_string(),
            "end" => {
                let mut o = self.current.take()?;
                for field in arg.split(' ') {
                    match field.split_once('=') {
                        Some(("state", v)) => o.state = v.to_string(),
                        Some(("status", v)) => o.status = v.parse().ok(),
                        Some(("ms", v)) => o.ms = v.parse().unwrap_or(0),
                        Some(("create_ms", v)) => o.create_ms = v.parse().unwrap_or(0),
                        Some(("cpu", v)) => o.cpu_ms = parse_tenths_ms(v),
                        _ => {}
                    }
                }
                return Some(o);
            }
            "done" => self.done = true,
            _ => {}
        }
        None
    }
}

/// `"1.5"` seconds (xl's one-decimal CPU time) as 1500 ms.
fn parse_tenths_ms(v: &str) -> Option<u64> {
    let (s, frac) = v.split_once('.').unwrap_or((v, "0"));
    let tenths: u64 = frac.get(..1)?.parse().ok()?;
    Some(s.parse::<u64>().ok()? * 1000 + tenths * 100)
}

/// `cargo xtask xenlab [-- [--dom0] IMAGE.xen [ARGS...]]`: assembles the lab, and boots IMAGE
/// in it when given (as a domU, or with `--dom0` as the PVH dom0 of the smoke tier); the exit
/// status is the guest's.
pub fn command(ws: &Workspace, rest: &[String]) -> Result<ExitCode> {
    let lab = Lab::assemble(ws)?;
    if let Some((flag, rest)) = rest.split_first()
        && flag == "--dom0"
    {
        let (image, args) = rest
            .split_first()
            .ok_or_else(|| Error::Usage("--dom0 needs an image".into()))?;
        let image = Path::new(image);
        xen::read_devices(image)?;
        let o = smoke::run(&lab, image, args, Duration::from_secs(120))?;
        for l in &o.console {
            println!("{l}");
        }
        return o
            .status
            .map(ExitCode::from)
            .ok_or_else(|| Error::Other("dom0 ended without an exit status".into()));
    }
    let Some((image, args)) = rest.split_first() else {
        println!(
            "xen lab ready:\n  hypervisor {}\n  dom0 kernel {}\n  dom0 initramfs {}",
            lab.xen.display(),
            lab.kernel.display(),
            lab.initrd.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    boot_one(&lab, Path::new(image), args)
}

/// `cargo xtask run --target xen -p NAME [-- ARGS]`: builds NAME and boots it in the lab.
pub fn run_package(
    ws: &Workspace,
    package: &str,
    profile: Profile,
    args: &[String],
) -> Result<ExitCode> {
    let image = xen::build(ws, package, profile)?;
    let lab = Lab::assemble(ws)?;
    let args = match args.first() {
        Some(a) if a == "--" => &args[1..],
        _ => args,
    };
    boot_one(&lab, &image, args)
}

fn boot_one(lab: &Lab, image: &Path, args: &[String]) -> Result<ExitCode> {
    let name = image
        .file_stem()
        .map(|s| {
            s.to_string_lossy()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        })
        .unwrap_or_else(|| "guest".into());
    let guest = Guest {
        name,
        image: image.to_path_buf(),
        devices: xen::read_devices(image)?,
        args: args.to_vec(),
        dom0: None,
        timeout_s: 120,
        keep_disks: false,
    };
    let outcome = lab
        .run(std::slice::from_ref(&guest), false)?
        .pop()
        .ok_or_else(|| Error::Other("the lab reported no guest".into()))?;
    for l in &outcome.xl {
        eprintln!("xl: {l}");
    }
    match outcome.effective_status() {
        Some(s) => Ok(ExitCode::from(s)),
        None => Err(Error::Other(format!(
            "the guest ended without an exit status (state {})",
            outcome.state
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_collects_a_guest() {
        let mut p = Parser::default();
        let lines = [
            "(XEN) noise",
            "@@xenlab begin hello",
            "@@xenlab dom0 PING 10.0.0.2",
            "@@xenlab console-begin",
            "hello",
            "",
            "@@xenlab console-end",
            "@@xenlab disk0 xenlab disk 0",
        ];
        for l in lines {
            assert_eq!(p.line(l), None);
        }
        let o = p
            .line(
                "\x1b[0m@@xenlab end hello state=shutdown status=0 ms=4500 create_ms=3900 cpu=0.3",
            )
            .unwrap();
        assert_eq!(o.name, "hello");
        assert_eq!(o.console, ["hello"]);
        assert_eq!(o.dom0, ["PING 10.0.0.2"]);
        assert_eq!(o.disk0, "xenlab disk 0");
        assert_eq!(
            (o.status, o.state.as_str(), o.ms),
            (Some(0), "shutdown", 4500)
        );
        let crashed = Outcome {
            state: "crashed".into(),
            ..Default::default()
        };
        assert_eq!(crashed.effective_status(), Some(255));
        let timeout = Outcome {
            state: "timeout".into(),
            ..Default::default()
        };
        assert_eq!(timeout.effective_status(), None);
        p.line("@@xenlab done");
        assert!(p.done);
    }
}
