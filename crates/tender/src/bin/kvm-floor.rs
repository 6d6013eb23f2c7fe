//! `morgana-kvm-floor`: the smallest KVM program, the floor that `cargo xtask bench boot`
//! sets the tender's boot time against.
//!
//! It opens `/dev/kvm`, creates a VM, maps one page of guest memory holding a single `hlt`
//! instruction, creates one vCPU in real mode pointing at it, runs it until the HLT exit and
//! exits with status 0 (1 after one error line if any step fails or the exit is not HLT).
//! With `--stats` it prints a stats block in the tender's format (one exit, the HLT; times
//! from the start of `main`; the monotonic clock at start and halt), so that the benchmark
//! can split its time the same way.
//!
//! With `--loop N` (1 to 65535) the guest runs `mov cx, N`, then `loop` N times, then `hlt`:
//! N + 2 instructions instead of one, to measure what each guest instruction costs on this
//! host's KVM apart from everything else (under KVM-PVM every one goes through its emulator).

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::{Kvm, VcpuExit};
use morgana_tender::stats::monotonic_now;

/// Guest-physical address of the page (and of the `hlt`).
const GUEST_PAGE: u64 = 0x1000;
const PAGE_SIZE: usize = 4096;
const HLT: u8 = 0xf4;

/// The guest's code: `hlt` alone, or `mov cx, n` / `loop $` / `hlt` (real mode, 16-bit).
fn guest_code(loops: Option<u16>) -> Vec<u8> {
    match loops {
        None => vec![HLT],
        Some(n) => {
            let [lo, hi] = n.to_le_bytes();
            // B9 iw: mov cx, imm16; E2 FE: loop to itself (decrements CX, jumps while not 0).
            vec![0xb9, lo, hi, 0xe2, 0xfe, HLT]
        }
    }
}

/// The value of `--loop N`, if given: `Err` for a value outside 1..=65535 (0 would make
/// `loop` run 65536 times).
fn loop_count(args: &[String]) -> Result<Option<u16>, String> {
    let Some(i) = args.iter().position(|a| a == "--loop") else {
        return Ok(None);
    };
    let value = args.get(i + 1).ok_or("--loop needs a count")?;
    match value.parse::<u16>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(format!("--loop: '{value}' is not a count from 1 to 65535")),
    }
}

/// Runs the guest; returns the time of the first KVM_RUN.
fn run(code: &[u8]) -> Result<std::time::Duration, String> {
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
    // SAFETY: `page` is a writable mapping of PAGE_SIZE bytes that nothing else uses yet, and
    // the code is a few bytes long.
    unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), page.cast::<u8>(), code.len()) };
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stats = args.iter().any(|a| a == "--stats");
    let status = match loop_count(&args).and_then(|n| run(&guest_code(n))) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn loop_counts_are_checked() {
        assert_eq!(loop_count(&args(&["--stats"])), Ok(None));
        assert_eq!(loop_count(&args(&["--loop", "5000"])), Ok(Some(5000)));
        assert!(loop_count(&args(&["--loop", "0"])).is_err());
        assert!(loop_count(&args(&["--loop", "65536"])).is_err());
        assert!(loop_count(&args(&["--loop"])).is_err());
        assert_eq!(guest_code(None), vec![HLT]);
        assert_eq!(
            guest_code(Some(0x1234)),
            vec![0xb9, 0x34, 0x12, 0xe2, 0xfe, HLT]
        );
    }
}
