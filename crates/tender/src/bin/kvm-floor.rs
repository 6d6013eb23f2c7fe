//! `morgana-kvm-floor`: the smallest KVM program, the floor that `cargo xtask bench boot`
//! sets the tender's boot time against.
//!
//! It opens `/dev/kvm`, creates a VM, maps one page of guest memory holding a single `hlt`
//! instruction, creates one vCPU in real mode pointing at it, runs it until the HLT exit and
//! exits with status 0 (1 after one error line if any step fails or the exit is not HLT).
//! With `--stats` it prints a stats block in the tender's format (one exit, the HLT; times
//! from the start of `main`; the monotonic clock at start and halt), so that the benchmark
//! can split its time the same way.

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::{Kvm, VcpuExit};
use morgana_tender::stats::monotonic_now;

/// Guest-physical address of the page (and of the `hlt`).
const GUEST_PAGE: u64 = 0x1000;
const PAGE_SIZE: usize = 4096;
const HLT: u8 = 0xf4;

/// Runs the guest; returns the time of the first KVM_RUN.
fn run() -> Result<std::time::Duration, String> {
    let err = |what: &str| {
        let what = what.to_owned();
        move |e: vmm_sys_util::errno::Error| format!("{what}: {e}")
    };
    let kvm = Kvm::new().map_err(err("could not open /dev/kvm"))?;
    let vm = kvm.create_vm().map_err(err("KVM_CREATE_VM"))?;
    // SAFETY: a fresh anonymous private mapping of one page chosen by the kernel; checked
    // against MAP_FAILED below and never unmapped (the process exits with it in place).
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            PAGE_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return Err(format!("mmap: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: `page` is a writable mapping of PAGE_SIZE bytes that nothing else uses yet.
    unsafe { page.cast::<u8>().write(HLT) };
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: GUEST_PAGE,
        memory_size: PAGE_SIZE as u64,
        userspace_addr: page as u64,
    };
    // SAFETY: the region is our own mapping of exactly one page, alive until the process ends.
    unsafe { vm.set_user_memory_region(region) }.map_err(err("KVM_SET_USER_MEMORY_REGION"))?;
    let mut vcpu = vm.create_vcpu(0).map_err(err("KVM_CREATE_VCPU"))?;
    let mut sregs = vcpu.get_sregs().map_err(err("KVM_GET_SREGS"))?;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    vcpu.set_sregs(&sregs).map_err(err("KVM_SET_SREGS"))?;
    let regs = kvm_bindings::kvm_regs {
        rip: GUEST_PAGE,
        rflags: 0x2,
        ..Default::default()
    };
    vcpu.set_regs(&regs).map_err(err("KVM_SET_REGS"))?;
    let first_run = monotonic_now();
    loop {
        match vcpu.run() {
            Ok(VcpuExit::Hlt) => return Ok(first_run),
            Ok(other) => return Err(format!("unexpected exit {other:?}")),
            Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {}
            Err(e) => return Err(format!("KVM_RUN: {e}")),
        }
    }
}

fn main() {
    let start = monotonic_now();
    let stats = std::env::args().skip(1).any(|a| a == "--stats");
    let status = match run() {
        Ok(first_run) => {
            if stats {
                let halt = monotonic_now();
                let ms = |t: std::time::Duration| (t - start).as_secs_f64() * 1e3;
                eprint!(
                    "morgana-kvm-floor stats:\n  vm exits: 1\n  other exits: 1\n  \
                     start to first guest instruction: {:.3} ms\n  start to halt: {:.3} ms\n  \
                     monotonic clock at start: {} ns\n  monotonic clock at halt: {} ns\n",
                    ms(first_run),
                    ms(halt),
                    start.as_nanos(),
                    halt.as_nanos()
                );
            }
            0
        }
        Err(e) => {
            eprintln!("morgana-kvm-floor: error: {e}");
            1
        }
    };
    // SAFETY: ends the process at once, as the tender does; the kernel frees the VM.
    unsafe { libc::_exit(status) }
}
