//! The guest as a `gdbstub` target: one thread (the vCPU), x86_64 registers, memory through
//! the identity map, breakpoints in the debug registers, single steps.

use gdbstub::common::Signal;
use gdbstub::stub::SingleThreadStopReason;
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::base::singlethread::{
    SingleThreadBase, SingleThreadResume, SingleThreadResumeOps, SingleThreadSingleStep,
    SingleThreadSingleStepOps,
};
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, SwBreakpoint, SwBreakpointOps,
};
use gdbstub::target::{Target, TargetError, TargetResult};
use gdbstub_arch::x86::X86_64_SSE;
use gdbstub_arch::x86::reg::{X86_64CoreRegs, X86SegmentRegs};
use kvm_bindings::{
    KVM_GUESTDBG_ENABLE, KVM_GUESTDBG_SINGLESTEP, KVM_GUESTDBG_USE_HW_BP, kvm_guest_debug,
};
use kvm_ioctls::VcpuFd;

use crate::error::TenderError;
use crate::hypercall::Devices;
use crate::memory::{GuestAddress, GuestMemory};
use crate::stats::Stats;

/// `KVM_SET_GUEST_DEBUG` ioctl request number (seccomp admits it with `--gdb`).
pub const KVM_SET_GUEST_DEBUG: u64 = 0x4048_AE9B;
/// The debug address registers: at most this many breakpoints.
const MAX_BREAKPOINTS: usize = 4;
/// What the run loop calls a `KVM_EXIT_DEBUG` (see `vm::classify`).
pub const DEBUG_EXIT: &str = "debug";
/// What the run loop calls a stop for gdb's interrupt.
pub const INTERRUPT_EXIT: &str = "interrupted by gdb";

/// Why the guest stopped.
enum Stop {
    Exited(i32),
    Step,
    Break,
    Interrupt,
}

/// The guest under gdb.
pub struct Guest<'a> {
    pub(super) vcpu: &'a mut VcpuFd,
    mem: &'a GuestMemory,
    devices: &'a Devices,
    pub(super) stats: &'a mut Stats,
    breakpoints: Vec<u64>,
    stepping: bool,
    /// The guest's exit status, once it exited.
    pub(super) exited: Option<i32>,
    /// What ended the guest otherwise (a fault, an I/O error).
    pub(super) failure: Option<TenderError>,
}

impl<'a> Guest<'a> {
    pub(super) fn new(
        vcpu: &'a mut VcpuFd,
        mem: &'a GuestMemory,
        devices: &'a Devices,
        stats: &'a mut Stats,
    ) -> Self {
        Guest {
            vcpu,
            mem,
            devices,
            stats,
            breakpoints: Vec::with_capacity(MAX_BREAKPOINTS),
            stepping: false,
            exited: None,
            failure: None,
        }
    }

    fn set_debug(&mut self, step: bool, breakpoints: bool) -> Result<(), TenderError> {
        let mut dbg = kvm_guest_debug {
            control: KVM_GUESTDBG_ENABLE,
            ..Default::default()
        };
        if step {
            dbg.control |= KVM_GUESTDBG_SINGLESTEP;
        }
        if breakpoints && !self.breakpoints.is_empty() {
            dbg.control |= KVM_GUESTDBG_USE_HW_BP;
            for (i, &addr) in self.breakpoints.iter().enumerate() {
                dbg.arch.debugreg[i] = addr;
                // Local enable; condition 00 (execution) and length 00 are the zero bits.
                dbg.arch.debugreg[7] |= 1 << (2 * i);
            }
        }
        self.vcpu
            .set_guest_debug(&dbg)
            .map_err(|e| kvm_error("KVM_SET_GUEST_DEBUG", e))
    }

    /// Turns debugging off (gdb went away).
    pub(super) fn detach(&mut self) {
        let _ = self.vcpu.set_guest_debug(&kvm_guest_debug::default());
    }

    fn run_once(&mut self, stepping: bool) -> Result<Stop, TenderError> {
        match crate::vm::run(self.vcpu, self.mem, self.devices, self.stats) {
            Ok(status) => Ok(Stop::Exited(status)),
            Err(TenderError::UnhandledExit(DEBUG_EXIT, _)) if stepping => Ok(Stop::Step),
            Err(TenderError::UnhandledExit(DEBUG_EXIT, _)) => Ok(Stop::Break),
            Err(TenderError::UnhandledExit(INTERRUPT_EXIT, _)) => Ok(Stop::Interrupt),
            Err(e) => Err(e),
        }
    }

    /// Runs until a breakpoint, the end of a single step, or the guest's exit.
    fn run_until_stop(&mut self) -> Result<Stop, TenderError> {
        let rip = self
            .vcpu
            .get_regs()
            .map_err(|e| kvm_error("KVM_GET_REGS", e))?
            .rip;
        // A breakpoint where the guest stands would stop it at once: step off it first.
        if !self.stepping && self.breakpoints.contains(&rip) {
            self.set_debug(true, false)?;
            match self.run_once(true)? {
                Stop::Step => {}
                other => return Ok(other),
            }
        }
        self.set_debug(self.stepping, true)?;
        self.run_once(self.stepping)
    }
}

/// Enables guest debugging with every feature the stub uses, then turns it off again.
pub(super) fn probe(vcpu: &VcpuFd) -> Result<(), TenderError> {
    let dbg = kvm_guest_debug {
        control: KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_HW_BP,
        ..Default::default()
    };
    vcpu.set_guest_debug(&dbg).map_err(|e| {
        TenderError::Gdb(format!(
            "--gdb: this host's KVM refuses KVM_SET_GUEST_DEBUG: {}",
            std::io::Error::from_raw_os_error(e.errno())
        ))
    })?;
    vcpu.set_guest_debug(&kvm_guest_debug::default())
        .map_err(|e| kvm_error("KVM_SET_GUEST_DEBUG", e))
}

fn kvm_error(what: &'static str, e: vmm_sys_util::errno::Error) -> TenderError {
    TenderError::Kvm(what, std::io::Error::from_raw_os_error(e.errno()))
}

impl Target for Guest<'_> {
    type Arch = X86_64_SSE;
    type Error = String;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadBase for Guest<'_> {
    fn read_registers(&mut self, regs: &mut X86_64CoreRegs) -> TargetResult<(), Self> {
        let r = self.vcpu.get_regs().map_err(|_| TargetError::NonFatal)?;
        regs.regs = [
            r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11,
            r.r12, r.r13, r.r14, r.r15,
        ];
        regs.rip = r.rip;
        regs.eflags = r.rflags as u32;
        // The tender's flat segments (spec 2.2); the guest reloads the same selectors.
        regs.segments = X86SegmentRegs {
            cs: 0x08,
            ss: 0x10,
            ds: 0x10,
            es: 0x10,
            fs: 0x10,
            gs: 0x10,
        };
        Ok(())
    }

    fn write_registers(&mut self, regs: &X86_64CoreRegs) -> TargetResult<(), Self> {
        let mut r = self.vcpu.get_regs().map_err(|_| TargetError::NonFatal)?;
        let g = regs.regs;
        (r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp) =
            (g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
        (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15) =
            (g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
        r.rip = regs.rip;
        r.rflags = u64::from(regs.eflags);
        self.vcpu.set_regs(&r).map_err(|_| TargetError::NonFatal)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8]) -> TargetResult<usize, Self> {
        // The checked translation keeps the last byte of memory out of reach; gdb is told
        // of a shorter read there.
        let room = self.mem.size().saturating_sub(start).saturating_sub(1);
        let len = (data.len() as u64).min(room);
        if len == 0 {
            return Ok(0);
        }
        let region = self
            .mem
            .translate(GuestAddress(start), len)
            .map_err(|_| TargetError::NonFatal)?;
        region.read(0, &mut data[..len as usize]);
        Ok(len as usize)
    }

    fn write_addrs(&mut self, start: u64, data: &[u8]) -> TargetResult<(), Self> {
        let region = self
            .mem
            .translate(GuestAddress(start), data.len() as u64)
            .map_err(|_| TargetError::NonFatal)?;
        region.write(0, data);
        Ok(())
    }

    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadResume for Guest<'_> {
    fn resume(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        self.stepping = false;
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadSingleStep for Guest<'_> {
    fn step(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        self.stepping = true;
        Ok(())
    }
}

impl Breakpoints for Guest<'_> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }
}

impl Guest<'_> {
    fn add_breakpoint(&mut self, addr: u64) -> bool {
        if self.breakpoints.contains(&addr) {
            return true;
        }
        if self.breakpoints.len() == MAX_BREAKPOINTS {
            return false;
        }
        self.breakpoints.push(addr);
        true
    }

    fn remove_breakpoint(&mut self, addr: u64) -> bool {
        let before = self.breakpoints.len();
        self.breakpoints.retain(|&a| a != addr);
        self.breakpoints.len() != before
    }
}

// gdb's software breakpoints are served by the debug registers too (see the module docs).
impl SwBreakpoint for Guest<'_> {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.add_breakpoint(addr))
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.remove_breakpoint(addr))
    }
}

impl HwBreakpoint for Guest<'_> {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.add_breakpoint(addr))
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.remove_breakpoint(addr))
    }
}

/// Runs the guest between gdb's commands.
pub struct EventLoop<'a>(std::marker::PhantomData<Guest<'a>>);

impl<'a> BlockingEventLoop for EventLoop<'a> {
    type Target = Guest<'a>;
    type Connection = super::Connection;
    type StopReason = SingleThreadStopReason<u64>;

    fn wait_for_stop_reason(
        guest: &mut Guest<'a>,
        conn: &mut Self::Connection,
    ) -> Result<Event<Self::StopReason>, WaitForStopReasonError<String, std::io::Error>> {
        let stop = match guest.run_until_stop() {
            Ok(stop) => stop,
            Err(e) => {
                let text = e.to_string();
                guest.failure = Some(e);
                return Err(WaitForStopReasonError::Target(text));
            }
        };
        Ok(Event::TargetStopped(match stop {
            Stop::Exited(status) => {
                guest.exited = Some(status);
                SingleThreadStopReason::Exited(status as u8)
            }
            Stop::Step => SingleThreadStopReason::DoneStep,
            Stop::Break => SingleThreadStopReason::SwBreak(()),
            Stop::Interrupt => {
                // gdbstub takes the byte (0x03 for Ctrl-C) and calls `on_interrupt`.
                let byte = gdbstub::conn::ConnectionExt::read(conn)
                    .map_err(WaitForStopReasonError::Connection)?;
                return Ok(Event::IncomingData(byte));
            }
        }))
    }

    fn on_interrupt(_guest: &mut Guest<'a>) -> Result<Option<Self::StopReason>, String> {
        Ok(Some(SingleThreadStopReason::Signal(Signal::SIGINT)))
    }
}
