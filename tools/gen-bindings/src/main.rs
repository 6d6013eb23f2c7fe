//! `gen-bindings [--check]`: rewrite the committed bindings, or fail if they are stale.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("error: unknown argument '{other}' (usage: gen-bindings [--check])");
            return ExitCode::FAILURE;
        }
    };
    let root = gen_bindings::workspace_root();
    let mut stale = false;
    for job in gen_bindings::JOBS {
        let text = match gen_bindings::generate(&root, job) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let path = root.join(job.output);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            println!("{}: current", job.output);
        } else if check {
            eprintln!("error: {} is stale: run `cargo xtask bindings`", job.output);
            stale = true;
        } else if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: cannot write {}: {e}", job.output);
            return ExitCode::FAILURE;
        } else {
            println!("{}: written", job.output);
        }
    }
    if stale {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
