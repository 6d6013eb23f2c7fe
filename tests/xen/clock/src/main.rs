//! Checks the clocks from inside the guest: the wall clock is after 2024-01-01 and before
//! 2100, and a 200 ms timer advances the monotonic clock by 200 to 1000 ms. Prints one line
//! with the verdict; exits 1 when a check fails.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use morgana::time::Timer;

morgana::main!(app);

/// 2024-01-01T00:00:00Z and 2100-01-01T00:00:00Z, seconds since the epoch.
const EARLIEST_S: u64 = 1_704_067_200;
const LATEST_S: u64 = 4_102_444_800;

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let wall_s = morgana::clock::wall_ns() / 1_000_000_000;
    if !(EARLIEST_S..LATEST_S).contains(&wall_s) {
        return Err(alloc::format!("wall clock reads {wall_s} s since the epoch").into());
    }
    let before = morgana::clock::monotonic_ns();
    Timer::after_millis(200).await;
    let waited_ms = (morgana::clock::monotonic_ns() - before) / 1_000_000;
    if !(200..1000).contains(&waited_ms) {
        return Err(alloc::format!("a 200 ms timer took {waited_ms} ms").into());
    }
    morgana::println!("clock: wall clock plausible, 200 ms timer took 200-999 ms");
    Ok(())
}

extern crate alloc;
