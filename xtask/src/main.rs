//! `cargo xtask`: Morgana's build tool for this workspace. All logic is in `morgana-build`.

fn main() -> std::process::ExitCode {
    morgana_build::cli::main()
}
