//! Ending the domain: the exit status goes to xenstore (`data/morgana-exit`, where the lab and
//! any toolstack script can read it; without xenstore, as in a dom0, to the console as
//! `morgana: exit status N`), the console is drained, then `SCHEDOP_shutdown` with
//! reason poweroff, or crash for the abort status.

use crate::abi::{self, SchedShutdown, hypercall};
use crate::hypercall::op;
use crate::{console, xenstore};

/// The xenstore key, relative to the domain's home, that receives the exit status.
pub const EXIT_STATUS_KEY: &str = "data/morgana-exit";

/// Ends the domain with `status`.
pub fn exit(status: u8) -> ! {
    let mut digits = [0u8; 3];
    let text = format_status(status, &mut digits);
    if xenstore::write(EXIT_STATUS_KEY, text.as_bytes()).is_err() {
        // No xenstore (a dom0): the console is the only place left to say it.
        console::write(b"morgana: exit status ");
        console::write(text.as_bytes());
        console::write(b"\n");
    }
    console::flush();
    let reason = if status == morgana_rt::EXIT_ABORT {
        abi::SHUTDOWN_CRASH
    } else {
        abi::SHUTDOWN_POWEROFF
    };
    let mut arg = SchedShutdown { reason };
    loop {
        // SAFETY: SCHEDOP_shutdown takes a `sched_shutdown`; it does not return on success.
        unsafe { op(hypercall::SCHED_OP, abi::SCHEDOP_SHUTDOWN, &mut arg) };
        // SAFETY: halting with interrupts off stops this vCPU if Xen refused the shutdown.
        unsafe { core::arch::asm!("cli; hlt", options(nomem, nostack)) };
    }
}

fn format_status(status: u8, buf: &mut [u8; 3]) -> &str {
    let mut n = status;
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + n % 10;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    core::str::from_utf8(&buf[i..]).unwrap_or("255")
}
