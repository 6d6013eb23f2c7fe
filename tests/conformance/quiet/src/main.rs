//! Conformance `quiet`: prints `SUCCESS` and exits 0.
//!
//! Run with `--solo5:quiet`: the output must then be exactly `SUCCESS`, without any of the
//! backend's `Solo5:` lines.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), core::convert::Infallible> {
    morgana::println!("SUCCESS");
    Ok(())
}
