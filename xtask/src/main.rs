//! `cargo xtask`: Morgana's build tool, with the workspace's labs, tests and benchmarks.

fn main() -> std::process::ExitCode {
    morgana_lab::cli::main()
}
