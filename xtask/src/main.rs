//! `cargo xtask`: Morgana's build tool, with the workspace's labs, tests and benchmarks.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    morgana_lab::cli::main()
}
