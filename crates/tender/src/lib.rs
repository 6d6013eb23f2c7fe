//! `morgana-hvt`: a tender for the Solo5 hvt ABI version 2 on Linux/KVM x86_64.
//!
//! It loads an hvt unikernel image, attaches the devices its manifest declares (taps and
//! block files), builds guest memory and the initial vCPU state, installs a seccomp
//! allow-list and runs the guest, serving its hypercalls until it halts. The process exits
//! with the guest's status & 0xFF, or 1 after printing one error line.

pub mod block;
pub mod cli;
pub mod cpuid;
pub mod dumpcore;
pub mod elf;
pub mod error;
pub mod gdb;
pub mod hypercall;
pub mod layout;
pub mod manifest;
pub mod memory;
pub mod net;
pub mod notes;
pub mod poll;
pub mod seccomp;
pub mod stats;
pub mod vcpu;
pub mod vm;

use crate::cli::{Command, NetSource, RunOptions};
use crate::dumpcore::CoreFile;
use crate::error::TenderError;
use crate::hypercall::Devices;
use crate::manifest::{DeviceType, Manifest, ManifestError};
use crate::memory::GuestMemory;
use crate::notes::{ABI_NOTE_SIZE, ABI_TARGET_HVT, ABI_VERSION, AbiInfo, MANIFEST_NOTE_MAX};
use crate::stats::{Phase, Stats};
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

/// Program name used as the prefix of messages.
pub const PROGRAM: &str = "morgana-hvt";

/// Parses the notes of an image: the ABI check, then the manifest (spec 3.3-3.4).
pub fn read_image_notes(file: &[u8]) -> Result<(elf::ElfImage, Manifest), TenderError> {
    let image = elf::parse(file)?;
    let abi = notes::find_solo5_note(file, &image, notes::NOTE_TYPE_ABI, ABI_NOTE_SIZE)?
        .ok_or(TenderError::NoAbiNote)?;
    let abi = AbiInfo::decode(abi).ok_or(TenderError::NoAbiNote)?;
    if abi.target != ABI_TARGET_HVT {
        return Err(TenderError::WrongTarget);
    }
    if abi.version != ABI_VERSION {
        return Err(TenderError::AbiVersion(abi.version));
    }
    let (index, mft) =
        notes::find_solo5_note_at(file, &image, notes::NOTE_TYPE_MANIFEST, MANIFEST_NOTE_MAX)?
            .ok_or(TenderError::NoManifest)?;
    let manifest =
        Manifest::parse(morgana_hvt_abi::notes::manifest_in_desc(mft)).map_err(|e| match e {
            ManifestError::TooSmall => TenderError::ManifestTooSmall(index),
            e => TenderError::Manifest(e),
        })?;
    Ok((image, manifest))
}

fn lookup(m: &Manifest, name: &str, t: DeviceType) -> Result<usize, TenderError> {
    let handle = m
        .find(name, t)
        .ok_or_else(|| TenderError::NotDeclared(name.to_owned()))?;
    if m.entries()[handle].attached() {
        return Err(TenderError::AttachedTwice(name.to_owned()));
    }
    Ok(handle)
}

/// The second pass over the options: attaches every device option to its manifest entry and
/// checks that every declared device is attached.
pub fn attach_devices(o: &RunOptions, mut manifest: Manifest) -> Result<Devices, TenderError> {
    let poller =
        poll::Poller::new().map_err(|e| TenderError::HostIo("could not create epoll set", e))?;
    let mut host_fds: Vec<Option<OwnedFd>> = (0..manifest.entries().len()).map(|_| None).collect();
    for (name, _) in &o.sector_sizes {
        manifest
            .find(name, DeviceType::Block)
            .ok_or_else(|| TenderError::NotDeclared(name.clone()))?;
    }
    for (name, _) in &o.block_read_only {
        manifest
            .find(name, DeviceType::Block)
            .ok_or_else(|| TenderError::NotDeclared(name.clone()))?;
    }
    for (name, _) in &o.net_macs {
        manifest
            .find(name, DeviceType::Net)
            .ok_or_else(|| TenderError::NotDeclared(name.clone()))?;
    }
    for (name, path) in &o.blocks {
        let handle = lookup(&manifest, name, DeviceType::Block)?;
        let sector = o
            .sector_sizes
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or(block::DEFAULT_SECTOR_SIZE, |s| s.1);
        let read_only = o
            .block_read_only
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .is_some_and(|m| m.1);
        let b = block::open(path, sector, read_only)?;
        manifest.attach_block(handle, b.capacity, sector, b.file.as_raw_fd());
        if read_only {
            manifest.set_block_read_only(handle);
        }
        host_fds[handle] = Some(OwnedFd::from(b.file));
    }
    for (name, source) in &o.nets {
        let handle = lookup(&manifest, name, DeviceType::Net)?;
        let (label, tap) = match source {
            NetSource::Tap(iface) => (iface.clone(), net::open_tap(iface)),
            NetSource::Fd(fd) => (format!("@{fd}"), net::adopt_fd(*fd)),
        };
        let tap = tap.map_err(|e| TenderError::Tap(label, e))?;
        let mac = match o.net_macs.iter().rev().find(|(n, _)| n == name) {
            Some((_, mac)) => *mac,
            None => {
                net::random_mac().map_err(|e| TenderError::HostIo("could not generate a MAC", e))?
            }
        };
        manifest.attach_net(handle, mac, tap.mtu, tap.fd.as_raw_fd());
        poller
            .add(tap.fd.as_raw_fd(), handle as u64)
            .map_err(|e| TenderError::HostIo("could not poll tap", e))?;
        host_fds[handle] = Some(tap.fd);
    }
    if let Some(e) = manifest.first_unattached() {
        return Err(TenderError::NotAttached(
            e.name.clone(),
            e.device_type.label(),
        ));
    }
    Ok(Devices {
        manifest,
        host_fds,
        poller,
    })
}

/// The SIGINT or SIGTERM received while the guest runs (0: none).
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Set once the run loop started: from then on a signal stops the loop, so that `--stats` is
/// still printed; before that the handler ends the process itself.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The signal that asked the run loop to stop, if one did.
pub fn stop_requested() -> Option<i32> {
    match STOP_SIGNAL.load(Ordering::Acquire) {
        0 => None,
        n => Some(n),
    }
}

/// Marks the run loop as started (see [`RUNNING`]).
pub fn mark_running() {
    RUNNING.store(true, Ordering::Release);
}

extern "C" fn on_signal(signal: libc::c_int) {
    STOP_SIGNAL.store(signal, Ordering::Release);
    if RUNNING.load(Ordering::Acquire) {
        // KVM_RUN or epoll_wait returns EINTR and the run loop stops cleanly.
        return;
    }
    let msg: &[u8] = match signal {
        libc::SIGINT => b"morgana-hvt: Exiting on signal 2\n",
        _ => b"morgana-hvt: Exiting on signal 15\n",
    };
    // SAFETY: write and _exit are async-signal-safe; `msg` is a static buffer.
    unsafe {
        libc::write(libc::STDERR_FILENO, msg.as_ptr().cast(), msg.len());
        libc::_exit(1);
    }
}

fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Sets up and runs the guest. Returns its halt status. Objects the run loop uses are never
/// dropped: after the seccomp filter is installed, munmap and close are not allowed.
fn launch(o: &RunOptions, stats: &mut Stats) -> Result<i32, TenderError> {
    // Created first: a directory that cannot take it fails before anything else is set up.
    let mut core = ManuallyDrop::new(o.dumpcore.as_deref().map(CoreFile::create).transpose()?);
    // So is a port already taken; gdb connects once the guest is loaded.
    let gdb_listener = ManuallyDrop::new(o.gdb.map(gdb::listen).transpose()?);
    let file = std::fs::read(&o.kernel).map_err(|err| TenderError::Kernel {
        path: o.kernel.clone(),
        err,
    })?;
    let (image, manifest) = read_image_notes(&file)?;
    let soft_float = notes::is_soft_float(&file, &image);
    let devices = ManuallyDrop::new(attach_devices(o, manifest)?);
    install_signal_handlers();
    stats.mark(Phase::ImageRead);
    let mem = ManuallyDrop::new(GuestMemory::new(o.mem_bytes).map_err(TenderError::Memory)?);
    stats.mark(Phase::MemoryMapped);
    let mut machine = ManuallyDrop::new(vcpu::create(&mem, soft_float)?);
    stats.mark(Phase::VmCreated);
    let plan = elf::plan_load(&file, &image, mem.size())?;
    layout::load_segments(&mem, &file, &plan).map_err(TenderError::Setup)?;
    drop(file);
    layout::write_page_tables(&mem).map_err(TenderError::Setup)?;
    vcpu::init_registers(&machine.vcpu, plan.entry, mem.size())?;
    let info = layout::BootInfo {
        mem_size: mem.size(),
        kernel_end: plan.kernel_end,
        cpu_cycle_freq: machine.tsc_hz,
    };
    layout::write_boot_info(&mem, info, &devices.manifest.to_bytes(), &o.cmdline)
        .map_err(TenderError::Setup)?;
    stats.mark(Phase::ImageLoaded);

    if seccomp::read_implies_exec() {
        return Err(TenderError::ReadImpliesExec);
    }
    let debugger = match gdb_listener.as_ref() {
        Some(listener) => {
            gdb::probe(&machine.vcpu)?;
            Some(gdb::Session::accept(listener, &mem)?)
        }
        None => None,
    };
    let debugger = ManuallyDrop::new(debugger);
    let kind_fds = |t: DeviceType| -> Vec<i32> {
        let entries = devices.manifest.entries().iter().zip(&devices.host_fds);
        entries
            .filter(|(e, _)| e.device_type == t)
            .filter_map(|(_, fd)| fd.as_ref().map(|f| f.as_raw_fd()))
            .collect()
    };
    let allowed = seccomp::AllowedFds {
        taps: kind_fds(DeviceType::Net),
        blocks: kind_fds(DeviceType::Block),
        vcpu: machine.vcpu.as_raw_fd(),
        epoll: devices.poller.epoll_fd(),
        timer: devices.poller.timer_fd(),
        core: core.as_ref().map(|c| (c.file_fd(), c.dir_fd())),
        gdb: debugger.as_ref().map(gdb::Session::fd),
    };
    let program = seccomp::build(&allowed).map_err(TenderError::Seccomp)?;
    seccomp::install(&program).map_err(TenderError::Seccomp)?;
    // The filter program and `allowed` are freed by now; nothing below allocates large blocks.
    drop(program);
    stats.mark(Phase::SeccompInstalled);
    let outcome = match ManuallyDrop::into_inner(debugger) {
        Some(session) => session.run(&mut machine.vcpu, &mem, &devices, stats),
        None => vm::run(&mut machine.vcpu, &mem, &devices, stats),
    };
    let outcome = outcome.map_err(|e| match e {
        // KVM-PVM, for one, cannot run SSE arithmetic in a guest and stops it this way.
        TenderError::UnhandledExit("internal error", rip) if !soft_float => {
            TenderError::VectorInstruction(rip)
        }
        other => other,
    });
    if let Some(core) = core.as_mut() {
        dump_or_discard(core, &outcome, &machine.vcpu, &mem);
    }
    outcome
}

/// Writes the core file when the guest aborted (status 255) or the tender stopped it for a
/// fault; removes it otherwise.
fn dump_or_discard(
    core: &mut CoreFile,
    outcome: &Result<i32, TenderError>,
    vcpu: &kvm_ioctls::VcpuFd,
    mem: &GuestMemory,
) {
    let guest_fault = match outcome {
        Ok(status) => status & 0xFF == 255,
        Err(e) => matches!(
            e,
            TenderError::TranslationFault(_)
                | TenderError::UnhandledExit(..)
                | TenderError::VectorInstruction(_)
                | TenderError::InvalidPort { .. }
                | TenderError::InvalidHypercall(_)
                | TenderError::GuestAccess(_)
        ),
    };
    let regs = vcpu.get_regs();
    match regs {
        Ok(regs) if guest_fault => match core.write(&regs, mem) {
            Ok(()) => say(&format!(
                "{PROGRAM}: core dumped to {}\n",
                core.path().display()
            )),
            Err(e) => {
                core.discard();
                say(&format!(
                    "{PROGRAM}: --dumpcore: {}: {e}\n",
                    core.path().display()
                ));
            }
        },
        _ => core.discard(),
    }
}

/// Writes `text` to stderr in one write, so that each message stays one line even when
/// other processes share the terminal.
pub(crate) fn say(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Writes `text` to stdout for `--help` and `--version`; returns the exit status: 0, or 1
/// after one error line when stdout cannot take it (a full disk, a closed pipe).
fn print_stdout(text: &str) -> i32 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            say(&format!("{PROGRAM}: cannot write to stdout: {e}\n"));
            1
        }
    }
}

/// Runs the tender with `args` (without the program name); returns the process exit status.
pub fn main_with_args(args: Vec<String>, start: Duration) -> i32 {
    let options = match cli::parse(args) {
        Ok(Command::Help) => return print_stdout(&format!("{}\n", cli::USAGE)),
        Ok(Command::Version) => {
            return print_stdout(&format!(
                "{PROGRAM} {}\nABI version {ABI_VERSION}\n",
                env!("CARGO_PKG_VERSION")
            ));
        }
        Ok(Command::Run(o)) => o,
        Err(e) => {
            let usage = if e.wants_usage() {
                format!("{}\n", cli::USAGE)
            } else {
                String::new()
            };
            say(&format!("{PROGRAM}: {e}\n{usage}"));
            return 1;
        }
    };
    if let Some(w) = &options.mem_warning {
        say(&format!("{PROGRAM}: warning: {w}\n"));
    }
    let mut stats = Stats::new(start);
    // Reserve the report buffer now, so that printing it later needs no new heap memory.
    let mut report = String::with_capacity(4096);
    let status = match launch(&options, &mut stats) {
        Ok(status) => status & 0xFF,
        Err(e) => {
            say(&format!("{PROGRAM}: {e}\n"));
            stats.mark_halt();
            1
        }
    };
    if options.stats {
        report.push_str(&stats.report());
        say(&report);
    }
    status
}
