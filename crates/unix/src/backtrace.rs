//! Call stacks on a panic and on a fatal signal, printed symbolised on standard error.
//!
//! A process has its own debug information at hand, so each frame is printed in the line format
//! of the bare-metal images (`morgana_x86::backtrace`) with the function and source position
//! already appended:
//!
//! ```text
//! backtrace: #4 ret 0x000055d0c2a1f3b7 conformance_backtrace::backtrace_middle (tests/conformance/backtrace/src/main.rs:43)
//! ```
//!
//! A CPU fault arrives as a signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE): its handler, on an
//! alternate stack so that a stack overflow is reported too, prints a `trap:` line and the
//! stack from the faulting instruction (frame 0, `pc`), and exits with status 255 as a trap
//! on hvt does. Symbolising allocates, which a signal handler should not; the process is
//! ending on a fault already, and the report is worth that risk.

use std::fmt::Write as _;

/// The deepest stack printed.
const MAX_FRAMES: usize = 64;

/// The frames of the current stack from the one whose instruction pointer is `from` (all of
/// them when `None` or not found), each as one symbolised line.
fn lines(from: Option<u64>) -> String {
    let trace = backtrace::Backtrace::new();
    let frames = trace.frames();
    // Start at the faulting instruction, or after this module's own frames.
    let start = match from {
        Some(pc) => frames.iter().position(|f| f.ip() as u64 == pc),
        None => frames
            .iter()
            .rposition(|f| {
                f.symbols().iter().any(|s| {
                    s.name().is_some_and(|n| {
                        format!("{n:#}").starts_with("morgana_backend_unix::backtrace::")
                    })
                })
            })
            .map(|i| i + 1),
    }
    .unwrap_or(0);
    let frames = &frames[..frames
        .iter()
        .rposition(|f| !f.ip().is_null())
        .map_or(0, |i| i + 1)];
    let mut out = String::new();
    for (index, frame) in frames[start..].iter().take(MAX_FRAMES).enumerate() {
        let kind = if from.is_some() && index == 0 {
            "pc"
        } else {
            "ret"
        };
        let mut parts = Vec::new();
        for symbol in frame.symbols() {
            let name = symbol
                .name()
                .map_or_else(|| "??".to_string(), |n| format!("{n:#}"));
            match (symbol.filename(), symbol.lineno()) {
                (Some(file), Some(line)) => {
                    parts.push(format!("{name} ({}:{line})", file.display()));
                }
                _ => parts.push(name),
            }
        }
        if parts.is_empty() {
            parts.push("??".into());
        }
        let _ = writeln!(
            out,
            "backtrace: #{index} {kind} {:#018x} {}",
            frame.ip() as u64,
            parts.join(" in ")
        );
    }
    out
}

/// Prints the current call stack on standard error (after a panic message).
pub fn print() {
    crate::console::write_stderr(lines(None).as_bytes());
}

/// The signals that mean the CPU could not go on.
const FATAL: [(libc::c_int, &str); 4] = [
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGFPE, "SIGFPE"),
];

extern "C" fn on_fatal_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    let name = FATAL
        .iter()
        .find(|(s, _)| *s == signal)
        .map_or("?", |(_, n)| n);
    // SAFETY: the kernel passes a valid siginfo and ucontext to an SA_SIGINFO handler.
    let (address, pc) = unsafe {
        let context = &*(context as *const libc::ucontext_t);
        (
            (*info).si_addr() as u64,
            context.uc_mcontext.gregs[libc::REG_RIP as usize] as u64,
        )
    };
    crate::console::write_stderr(
        format!("trap: signal {signal} ({name}), address {address:#x}, rip {pc:#x}\n").as_bytes(),
    );
    crate::console::write_stderr(lines(Some(pc)).as_bytes());
    // SAFETY: `_exit` ends the process at once, which is what a fatal trap does.
    unsafe { libc::_exit(i32::from(morgana_rt::EXIT_ABORT)) }
}

/// Installs the fatal-signal handlers on an alternate stack; called once at start.
pub fn install() {
    const ALT_STACK: usize = 256 * 1024;
    let stack = Box::leak(vec![0u8; ALT_STACK].into_boxed_slice());
    let alt = libc::stack_t {
        ss_sp: stack.as_mut_ptr().cast(),
        ss_flags: 0,
        ss_size: ALT_STACK,
    };
    // SAFETY: `alt` describes a leaked buffer that lives as long as the process; the
    // sigaction structure is zeroed, then filled with a handler of the SA_SIGINFO signature.
    unsafe {
        libc::sigaltstack(&alt, std::ptr::null_mut());
        for (signal, _) in FATAL {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fatal_signal as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}
