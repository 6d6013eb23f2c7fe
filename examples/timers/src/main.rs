//! Timers and tasks: a background task ticks every half second while the main task waits for
//! something that comes too late and gives up after a timeout.
//!
//! Prints `tick 1` (at 0.5 s), `tick 2` (1 s), `gave up after 1200 ms` (1.2 s), `tick 3`
//! (1.5 s) and `done` (1.8 s), then exits 0.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use morgana::time::{Duration, Timer, with_timeout};

morgana::main!(app);

/// Ticks three times, every `period`.
async fn ticker(period: Duration) {
    for i in 1..=3 {
        Timer::after(period).await;
        morgana::println!("tick {i}");
    }
}

async fn app(spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    morgana::spawn(spawner, ticker(Duration::from_millis(500)))?;
    // Something that takes 5 s, given 1.2 s: the timeout wins.
    let patience = Duration::from_millis(1200);
    if with_timeout(patience, Timer::after_secs(5)).await.is_err() {
        morgana::println!("gave up after {} ms", patience.as_millis());
    }
    // Main returning ends the unikernel: let the ticker finish first.
    Timer::after_millis(600).await;
    morgana::println!("done");
    Ok(())
}
