//! The syscall allow-list installed after setup, just before the guest runs. Default action:
//! kill the process. Where seccomp can filter on arguments, calls are tied to the fds the
//! run loop owns: console writes to fds 1 and 2, tap reads/writes, block pread/pwrite,
//! KVM_RUN/KVM_GET_REGS on the vCPU, epoll on the poll set, timerfd_settime on its timer; with
//! `--dumpcore`, writes to the core file and unlinkat in its directory; with `--gdb`, socket
//! calls on the debugger's connection and KVM_SET_REGS/KVM_SET_GUEST_DEBUG on the vCPU.

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;
use std::os::fd::RawFd;

/// `KVM_RUN` ioctl request number.
pub const KVM_RUN: u64 = 0xAE80;
/// `KVM_GET_REGS` ioctl request number (read back `rip` when reporting a fault).
pub const KVM_GET_REGS: u64 = 0x8090_AE81;
/// `KVM_SET_REGS` ioctl request number (gdb writes registers; only with `--gdb`).
pub const KVM_SET_REGS: u64 = 0x4090_AE82;
const READ_IMPLIES_EXEC: libc::c_int = 0x0040_0000;

/// The descriptors the run loop may use.
#[derive(Debug, Clone, Default)]
pub struct AllowedFds {
    /// Tap fds (read and write).
    pub taps: Vec<RawFd>,
    /// Block fds (pread64 and pwrite64).
    pub blocks: Vec<RawFd>,
    /// The vCPU fd (KVM_RUN, KVM_GET_REGS).
    pub vcpu: RawFd,
    /// The epoll set.
    pub epoll: RawFd,
    /// The POLL timer.
    pub timer: RawFd,
    /// `--dumpcore`: the core file (write) and its directory (unlinkat).
    pub core: Option<(RawFd, RawFd)>,
    /// `--gdb`: the debugger's connection.
    pub gdb: Option<RawFd>,
}

fn cond(arg: u8, value: u64) -> Result<SeccompCondition, String> {
    SeccompCondition::new(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, value)
        .map_err(|e| e.to_string())
}

fn on_fds(fds: &[RawFd]) -> Result<Vec<SeccompRule>, String> {
    fds.iter()
        .map(|&fd| SeccompRule::new(vec![cond(0, fd as u64)?]).map_err(|e| e.to_string()))
        .collect()
}

/// Builds the BPF program for `fds`.
pub fn build(fds: &AllowedFds) -> Result<BpfProgram, String> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut console = vec![libc::STDOUT_FILENO, libc::STDERR_FILENO];
    console.extend(&fds.taps);
    if let Some((file, dir)) = fds.core {
        console.push(file);
        rules.insert(libc::SYS_unlinkat, on_fds(&[dir])?);
    }
    let mut readable = fds.taps.clone();
    if let Some(conn) = fds.gdb {
        console.push(conn);
        readable.push(conn);
        // close: the stub's connection is closed when the session ends.
        for nr in [
            libc::SYS_recvfrom,
            libc::SYS_sendto,
            libc::SYS_setsockopt,
            libc::SYS_close,
        ] {
            rules.insert(nr, on_fds(&[conn])?);
        }
    }
    rules.insert(libc::SYS_write, on_fds(&console)?);
    let mut add_fd_rules = |nr: i64, list: &[RawFd]| -> Result<(), String> {
        if !list.is_empty() {
            rules.insert(nr, on_fds(list)?);
        }
        Ok(())
    };
    add_fd_rules(libc::SYS_read, &readable)?;
    add_fd_rules(libc::SYS_pread64, &fds.blocks)?;
    add_fd_rules(libc::SYS_pwrite64, &fds.blocks)?;
    add_fd_rules(libc::SYS_epoll_wait, &[fds.epoll])?;
    add_fd_rules(libc::SYS_epoll_pwait, &[fds.epoll])?;
    add_fd_rules(libc::SYS_timerfd_settime, &[fds.timer])?;
    let vcpu_ioctl = |req| -> Result<SeccompRule, String> {
        SeccompRule::new(vec![cond(0, fds.vcpu as u64)?, cond(1, req)?]).map_err(|e| e.to_string())
    };
    let mut ioctls = vec![vcpu_ioctl(KVM_RUN)?, vcpu_ioctl(KVM_GET_REGS)?];
    if fds.gdb.is_some() {
        ioctls.push(vcpu_ioctl(KVM_SET_REGS)?);
        ioctls.push(vcpu_ioctl(crate::gdb::KVM_SET_GUEST_DEBUG)?);
    }
    if let Some(conn) = fds.gdb {
        // The stub switches the socket between blocking and not to peek at gdb's input.
        let fionbio = vec![cond(0, conn as u64)?, cond(1, libc::FIONBIO)?];
        ioctls.push(SeccompRule::new(fionbio).map_err(|e| e.to_string())?);
    }
    rules.insert(libc::SYS_ioctl, ioctls);
    let clocks = [libc::CLOCK_REALTIME, libc::CLOCK_MONOTONIC]
        .iter()
        .map(|&c| SeccompRule::new(vec![cond(0, c as u64)?]).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    rules.insert(libc::SYS_clock_gettime, clocks);
    for nr in [libc::SYS_exit_group, libc::SYS_exit, libc::SYS_rt_sigreturn] {
        rules.insert(nr, vec![]);
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(|e| e.to_string())?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())
}

/// Installs `program` on the calling thread (sets no_new_privs first).
pub fn install(program: &BpfProgram) -> Result<(), String> {
    seccompiler::apply_filter(program).map_err(|e| e.to_string())
}

/// Whether the process runs with the READ_IMPLIES_EXEC personality.
pub fn read_implies_exec() -> bool {
    // SAFETY: personality(0xffffffff) only queries the current persona.
    let persona = unsafe { libc::personality(0xffff_ffff) };
    persona >= 0 && persona & READ_IMPLIES_EXEC != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forks; the child installs the filter and runs `body`; returns the child's wait status.
    fn in_filtered_child(program: &BpfProgram, body: fn()) -> libc::c_int {
        // SAFETY: the child only makes raw system calls (prctl, seccomp, the body's calls,
        // _exit); it never returns into the test harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = if install(program).is_ok() {
                body();
                0
            } else {
                99
            };
            // SAFETY: terminates the child without running the parent's atexit handlers.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        status
    }

    fn program() -> BpfProgram {
        build(&AllowedFds {
            taps: vec![40],
            blocks: vec![41],
            vcpu: 42,
            epoll: 43,
            timer: 44,
            core: None,
            gdb: None,
        })
        .expect("filter builds")
    }

    #[test]
    fn allowed_calls_pass() {
        let status = in_filtered_child(&program(), || {
            // SAFETY: an empty write to stderr and a clock read; both allowed.
            unsafe {
                libc::write(2, std::ptr::null(), 0);
                let mut ts = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                libc::syscall(libc::SYS_clock_gettime, libc::CLOCK_MONOTONIC, &mut ts);
            }
        });
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "status {status:#x}"
        );
    }

    #[test]
    fn forbidden_syscall_kills_with_sigsys() {
        let status = in_filtered_child(&program(), || {
            // SAFETY: getpid has no side effects; the filter must kill us here.
            unsafe { libc::syscall(libc::SYS_getpid) };
        });
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS,
            "status {status:#x}"
        );
    }

    #[test]
    fn write_to_another_fd_kills_with_sigsys() {
        let status = in_filtered_child(&program(), || {
            // SAFETY: a write to fd 5, which the filter does not allow.
            unsafe { libc::write(5, b"x".as_ptr().cast(), 1) };
        });
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS,
            "status {status:#x}"
        );
    }

    #[test]
    fn ioctl_other_than_kvm_run_kills() {
        let status = in_filtered_child(&program(), || {
            // SAFETY: an ioctl on the allowed fd number with a request the filter refuses.
            unsafe { libc::ioctl(42, libc::FIONREAD, std::ptr::null_mut::<libc::c_int>()) };
        });
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS,
            "status {status:#x}"
        );
    }

    #[test]
    fn debugger_calls_are_refused_without_gdb() {
        let status = in_filtered_child(&program(), || {
            // SAFETY: KVM_SET_GUEST_DEBUG on the vCPU's fd number: only --gdb admits it.
            unsafe {
                libc::ioctl(
                    42,
                    crate::gdb::KVM_SET_GUEST_DEBUG,
                    std::ptr::null_mut::<u8>(),
                )
            };
        });
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS,
            "status {status:#x}"
        );
        let with_gdb = build(&AllowedFds {
            vcpu: 42,
            epoll: 43,
            timer: 44,
            gdb: Some(45),
            ..AllowedFds::default()
        })
        .expect("filter builds");
        let status = in_filtered_child(&with_gdb, || {
            // SAFETY: a non-blocking peek on fd 45, which is not open: EBADF, not SIGSYS.
            unsafe { libc::recv(45, std::ptr::null_mut(), 0, libc::MSG_DONTWAIT) };
        });
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "status {status:#x}"
        );
    }

    #[test]
    fn the_poller_waits_under_the_filter() {
        // SAFETY: the child only makes raw system calls (the poller's, prctl, seccomp) and
        // leaves with _exit; it never returns into the test harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // Never dropped: closing its fds is not allowed once the filter is installed.
            let code = match crate::poll::Poller::new().map(std::mem::ManuallyDrop::new) {
                Ok(poller) => {
                    let fds = AllowedFds {
                        vcpu: 42,
                        epoll: poller.epoll_fd(),
                        timer: poller.timer_fd(),
                        ..AllowedFds::default()
                    };
                    let program = build(&fds).map(std::mem::ManuallyDrop::new);
                    match program.map(|p| install(&p)) {
                        Ok(Ok(())) if poller.wait(1_000).ok() == Some((0, 0)) => 0,
                        _ => 1,
                    }
                }
                Err(_) => 2,
            };
            // SAFETY: terminates the child without running the parent's atexit handlers.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "status {status:#x}"
        );
    }

    #[test]
    fn read_implies_exec_is_detected() {
        // Exec of a 64-bit ELF clears the flag on x86_64, so set it in a forked child.
        // SAFETY: the child only makes raw system calls and leaves with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let before = read_implies_exec();
            // SAFETY: changes only this child's persona.
            unsafe { libc::personality(READ_IMPLIES_EXEC as libc::c_ulong) };
            let code = if !before && read_implies_exec() { 0 } else { 1 };
            // SAFETY: terminates the child without running the parent's atexit handlers.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "status {status:#x}"
        );
    }
}
