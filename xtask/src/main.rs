//! `cargo xtask`: Morgana's build tool for this workspace. All logic is in `morgana-build`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    morgana_build::cli::main()
}
