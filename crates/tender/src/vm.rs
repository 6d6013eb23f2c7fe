//! The KVM_RUN loop: hypercall port exits go to [`crate::hypercall::dispatch`]; every other
//! exit ends the tender.

use crate::error::TenderError;
use crate::hypercall::{self, Devices, Outcome, PIO_BASE, PIO_COUNT};
use crate::memory::{GuestAddress, GuestMemory};
use crate::stats::Stats;
use kvm_ioctls::{VcpuExit, VcpuFd};

/// A VM exit, copied out of the vCPU's run area.
enum Exit {
    PortOut {
        port: u16,
        value: Option<u32>,
        size: usize,
    },
    PortIn {
        port: u16,
        size: usize,
    },
    Fault,
    Fatal(&'static str),
}

fn classify(exit: VcpuExit<'_>) -> Exit {
    match exit {
        VcpuExit::IoOut(port, data) => {
            let value = <[u8; 4]>::try_from(data).ok().map(u32::from_le_bytes);
            Exit::PortOut {
                port,
                value,
                size: data.len(),
            }
        }
        VcpuExit::IoIn(port, data) => Exit::PortIn {
            port,
            size: data.len(),
        },
        // Under KVM-PVM a guest write to a read-only host page surfaces as MMIO.
        VcpuExit::MmioRead(..) | VcpuExit::MmioWrite(..) => Exit::Fault,
        VcpuExit::Hlt => Exit::Fatal("HLT"),
        // Only with --gdb: a breakpoint or a single step (the gdb stub takes it from here).
        VcpuExit::Debug(_) => Exit::Fatal(crate::gdb::DEBUG_EXIT),
        VcpuExit::Shutdown => Exit::Fatal("shutdown (triple fault)"),
        VcpuExit::FailEntry(..) => Exit::Fatal("entry failure"),
        VcpuExit::InternalError => Exit::Fatal("internal error"),
        _ => Exit::Fatal("unexpected exit reason"),
    }
}

fn rip(vcpu: &VcpuFd) -> u64 {
    vcpu.get_regs().map_or(0, |r| r.rip)
}

/// Runs the guest until it halts; returns its halt status.
pub fn run(
    vcpu: &mut VcpuFd,
    mem: &GuestMemory,
    dev: &Devices,
    stats: &mut Stats,
) -> Result<i32, TenderError> {
    stats.mark_first_run();
    crate::mark_running();
    loop {
        if let Some(signal) = crate::stop_requested() {
            return Err(TenderError::Signal(signal));
        }
        let exit = match vcpu.run() {
            Ok(exit) => classify(exit),
            Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {
                if crate::gdb::interrupt_pending() {
                    return Err(TenderError::UnhandledExit(
                        crate::gdb::INTERRUPT_EXIT,
                        rip(vcpu),
                    ));
                }
                continue;
            }
            Err(e) if e.errno() == libc::EFAULT => Exit::Fault,
            Err(e) => {
                return Err(TenderError::Kvm(
                    "KVM_RUN",
                    std::io::Error::from_raw_os_error(e.errno()),
                ));
            }
        };
        let (port, value) = match exit {
            Exit::PortOut {
                port,
                value: Some(v),
                size: 4,
            } if (PIO_BASE..PIO_BASE + PIO_COUNT).contains(&port) => (port, v),
            Exit::PortOut { port, size, .. } => {
                stats.other_exits += 1;
                return Err(TenderError::InvalidPort { port, size });
            }
            Exit::PortIn { port, size } => {
                stats.other_exits += 1;
                return Err(TenderError::InvalidPort { port, size });
            }
            Exit::Fault => return Err(TenderError::TranslationFault(rip(vcpu))),
            Exit::Fatal(reason) => return Err(TenderError::UnhandledExit(reason, rip(vcpu))),
        };
        let number = port - PIO_BASE;
        stats.count(number);
        if let Outcome::Halt(status) =
            hypercall::dispatch(number, GuestAddress(u64::from(value)), mem, dev)?
        {
            stats.mark_halt();
            return Ok(status);
        }
        // A guest that mostly sleeps in POLL is stopped between hypercalls.
        if crate::gdb::interrupt_pending() {
            return Err(TenderError::UnhandledExit(
                crate::gdb::INTERRUPT_EXIT,
                rip(vcpu),
            ));
        }
    }
}
