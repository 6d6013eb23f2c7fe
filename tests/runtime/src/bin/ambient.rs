//! Exercises the ambient services: spawned tasks with timers, the clocks, randomness, logging.
//!
//! Prints, in order: the two tasks' lines interleaved by their timers, `wall clock after 2017`,
//! `monotonic advances`, `random word W` with `W` the first 64-bit word of the generator seeded
//! from the platform (16 hex digits), then logs one line at info level.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use embassy_executor::task;
use morgana::time::{Duration, Timer};
use rand_core::RngCore;

morgana::main!(app);

#[task(pool_size = 2)]
async fn ticker(name: &'static str, period_ms: u64, ticks: u32) {
    for i in 1..=ticks {
        Timer::after(Duration::from_millis(period_ms)).await;
        morgana::println!("{name} {i}");
    }
}

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    spawner.spawn(ticker("fast", 100, 3).map_err(|_| "no task slot")?);
    spawner.spawn(ticker("slow", 250, 1).map_err(|_| "no task slot")?);
    Timer::after_millis(400).await;

    const JAN_1_2017_NS: u64 = 1_483_228_800 * 1_000_000_000;
    if morgana::clock::wall_ns() > JAN_1_2017_NS {
        morgana::println!("wall clock after 2017");
    }
    let t0 = morgana::clock::monotonic_ns();
    Timer::after_millis(10).await;
    if morgana::clock::monotonic_ns() >= t0 + 10_000_000 {
        morgana::println!("monotonic advances");
    }
    let mut rng = morgana::entropy::rng()?;
    morgana::println!("random word {:016x}", rng.next_u64());
    log::info!("logged at info");
    log::debug!("logged at debug");
    Ok(())
}
