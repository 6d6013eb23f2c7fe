//! Conformance `hello`: console output and the command line.
//!
//! Prints a greeting and its arguments joined by single spaces (the tender's command line
//! after any `--solo5:` options), then `SUCCESS`, and exits 0.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), core::convert::Infallible> {
    morgana::println!("Hello, World");
    morgana::println!("Command line is: '{}'", morgana::args().join(" "));
    morgana::println!("SUCCESS");
    Ok(())
}
