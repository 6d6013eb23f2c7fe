//! `--gdb[=PORT]`: a gdb stub (the `gdbstub` crate speaks the remote protocol) on
//! 127.0.0.1:PORT. The guest waits at its first instruction until gdb connects and continues.
//!
//! What a stop is made of, on KVM (including KVM-PVM, where this was developed):
//! - **breakpoints** are the CPU's four debug address registers, set with
//!   `KVM_SET_GUEST_DEBUG` (`KVM_GUESTDBG_USE_HW_BP`); gdb's software breakpoints (`break`) are
//!   served with them too, so nothing is written into guest code. (KVM-PVM turns an `int3`
//!   with `KVM_GUESTDBG_USE_SW_BP` into an internal-error exit, so code patching is not used.)
//!   At most four at a time.
//! - **single step** is `KVM_GUESTDBG_SINGLESTEP`;
//! - **registers** are `KVM_GET_REGS`/`KVM_SET_REGS` (general registers, `rip`, `rflags`;
//!   segment selectors are the fixed flat ones, FPU and SSE state read as zero);
//! - **memory** is guest memory through the identity map (gdb's addresses are guest-physical);
//!   guest memory is left writable on the host so gdb can write anywhere.
//!
//! Every hypercall is served as usual between stops, and the guest's exit ends the session
//! with its status (`[Inferior 1 (process 1) exited with code N]` in gdb). `kill` ends the
//! tender with status 1.
//!
//! **Interrupting** a running guest (Ctrl-C in gdb sends one byte): while gdb is connected an
//! interval timer sends SIGALRM every [`INTERRUPT_CHECK_MS`] ms, which makes KVM_RUN return
//! EINTR; the run loop then peeks at the connection and, with input pending, stops the guest
//! where it is. (SA_RESTART keeps the tender's other calls from seeing the signal; a guest
//! blocked in POLL is stopped when its POLL returns.)
//!
//! The listening socket is bound before the guest is set up (a port in use is one line and
//! status 1), the connection accepted before the seccomp filter is installed; the filter then
//! admits, only with `--gdb`, the socket calls on that connection and the two extra vCPU
//! ioctls.

mod target;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use gdbstub::stub::{DisconnectReason, GdbStub};

use crate::error::TenderError;
use crate::hypercall::Devices;
use crate::memory::GuestMemory;
use crate::stats::Stats;
use kvm_ioctls::VcpuFd;

pub use target::{DEBUG_EXIT, INTERRUPT_EXIT, KVM_SET_GUEST_DEBUG};

/// The port without `=PORT`.
pub const DEFAULT_PORT: u16 = 1234;
/// How often a running guest checks for gdb's interrupt, in milliseconds.
pub const INTERRUPT_CHECK_MS: i64 = 50;

/// The connection while gdb is attached (-1: none), for [`interrupt_pending`].
static CONNECTION: AtomicI32 = AtomicI32::new(-1);

/// Whether gdb sent something (an interrupt) while the guest runs: a non-blocking peek at the
/// connection. Called by the run loop when KVM_RUN was interrupted.
pub fn interrupt_pending() -> bool {
    let fd = CONNECTION.load(Ordering::Relaxed);
    if fd < 0 {
        return false;
    }
    let mut byte = 0u8;
    // SAFETY: a one-byte peek into a local buffer on our own socket; it does not block.
    let n = unsafe {
        libc::recv(
            fd,
            (&raw mut byte).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n == 1
}

extern "C" fn on_alarm(_: libc::c_int) {}

/// Arms the interval timer whose SIGALRM interrupts KVM_RUN (see the module docs).
fn arm_interrupt_timer() -> std::io::Result<()> {
    // SAFETY: installs a handler that does nothing, with SA_RESTART so that only calls that
    // are never restarted (KVM_RUN, epoll_wait) see EINTR; then arms ITIMER_REAL.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_alarm as *const () as libc::sighandler_t;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let period = libc::timeval {
            tv_sec: 0,
            tv_usec: INTERRUPT_CHECK_MS * 1000,
        };
        let timer = libc::itimerval {
            it_interval: period,
            it_value: period,
        };
        if libc::setitimer(libc::ITIMER_REAL, &timer, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Why the stub could not start: one line, before the guest starts.
#[derive(Debug, thiserror::Error)]
#[error("--gdb: {what}: {err}")]
pub struct GdbError {
    /// What failed (the address, or the step).
    pub what: String,
    /// Why.
    pub err: std::io::Error,
}

/// Binds 127.0.0.1:`port`.
pub fn listen(port: u16) -> Result<TcpListener, GdbError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).map_err(|err| GdbError {
        what: addr.to_string(),
        err,
    })
}

/// Checks that this host's KVM lets the tender debug the vCPU (`KVM_SET_GUEST_DEBUG`), before
/// waiting for gdb: a host that refuses it is one line and status 1 at once.
pub fn probe(vcpu: &VcpuFd) -> Result<(), TenderError> {
    target::probe(vcpu)
}

/// Bytes of the stub's packet buffer (memory reads and writes are split to fit).
const PACKET_BUFFER: usize = 4096;

/// The debugger's TCP connection as `gdbstub` uses it.
#[derive(Debug)]
pub struct Connection(TcpStream);

impl gdbstub::conn::Connection for Connection {
    type Error = std::io::Error;

    fn write(&mut self, byte: u8) -> std::io::Result<()> {
        self.0.write_all(&[byte])
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }

    fn on_session_start(&mut self) -> std::io::Result<()> {
        // Small packets go out at once.
        self.0.set_nodelay(true)
    }
}

impl gdbstub::conn::ConnectionExt for Connection {
    fn read(&mut self) -> std::io::Result<u8> {
        let mut byte = [0u8];
        self.0.read_exact(&mut byte)?;
        Ok(byte[0])
    }

    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        self.0.set_nonblocking(true)?;
        let mut byte = [0u8];
        let peeked = self.0.peek(&mut byte);
        self.0.set_nonblocking(false)?;
        match peeked {
            Ok(1) => Ok(Some(byte[0])),
            Ok(_) => Err(std::io::ErrorKind::UnexpectedEof.into()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A connected debugger.
#[derive(Debug)]
pub struct Session {
    conn: TcpStream,
}

impl Session {
    /// Says where it waits, then waits for gdb to connect to `listener`. Guest memory is made
    /// writable for the host so gdb may write anywhere.
    pub fn accept(listener: &TcpListener, mem: &GuestMemory) -> Result<Session, TenderError> {
        let addr = listener
            .local_addr()
            .map_or_else(|_| "127.0.0.1".into(), |a| a.to_string());
        crate::say(&format!("{}: waiting for gdb on {addr}\n", crate::PROGRAM));
        let (conn, _) = listener.accept().map_err(|err| GdbError {
            what: format!("accepting on {addr}"),
            err,
        })?;
        mem.protect(
            0,
            mem.size(),
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
        )
        .map_err(TenderError::Setup)?;
        arm_interrupt_timer().map_err(|err| GdbError {
            what: "interval timer".into(),
            err,
        })?;
        CONNECTION.store(conn.as_raw_fd(), Ordering::Relaxed);
        Ok(Session { conn })
    }

    /// The connection's descriptor, for the seccomp filter.
    pub fn fd(&self) -> RawFd {
        self.conn.as_raw_fd()
    }

    /// Runs the guest under gdb's control; returns its halt status, as the plain run loop
    /// does. When gdb detaches, the guest runs on undebugged.
    pub fn run(
        self,
        vcpu: &mut VcpuFd,
        mem: &GuestMemory,
        devices: &Devices,
        stats: &mut Stats,
    ) -> Result<i32, TenderError> {
        let mut guest = target::Guest::new(vcpu, mem, devices, stats);
        let mut packets = vec![0u8; PACKET_BUFFER];
        let stub = GdbStub::builder(Connection(self.conn))
            .with_packet_buffer(&mut packets)
            .build()
            .map_err(|e| TenderError::Gdb(format!("gdb session: {e}")))?;
        let reason = stub
            .run_blocking::<target::EventLoop<'_>>(&mut guest)
            .map_err(|e| {
                guest
                    .failure
                    .take()
                    .unwrap_or_else(|| TenderError::Gdb(format!("gdb session: {e}")))
            })?;
        match reason {
            DisconnectReason::TargetExited(status) => Ok(i32::from(status)),
            DisconnectReason::Kill => Err(TenderError::Gdb("killed from gdb".into())),
            DisconnectReason::TargetTerminated(_) | DisconnectReason::Disconnect => {
                if let Some(status) = guest.exited {
                    return Ok(status);
                }
                if let Some(e) = guest.failure.take() {
                    return Err(e);
                }
                guest.detach();
                crate::vm::run(guest.vcpu, mem, devices, guest.stats)
            }
        }
    }
}
