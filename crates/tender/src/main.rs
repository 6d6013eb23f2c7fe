//! `morgana-hvt` entry point; see the library documentation.

use std::io::Write;

fn main() {
    let start = morgana_tender::stats::monotonic_now();
    let args = std::env::args().skip(1).collect();
    let status = morgana_tender::main_with_args(args, start);
    // Nothing is buffered for the guest (its output is written directly), but --help and
    // --version go through std's stdout.
    let _ = std::io::stdout().flush();
    // SAFETY: ends the process at once. Skipping the runtime's cleanup (signal stack
    // munmap, destructors) is deliberate: the seccomp filter allows only exit_group there.
    unsafe { libc::_exit(status) }
}
