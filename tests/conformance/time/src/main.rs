//! Conformance `time`: the monotonic clock advances; a timer with a past deadline fires at
//! once; five one-second sleeps each take 1 s ± 200 ms; the wall clock is after 2017.
//! Prints `SUCCESS` and exits 0, or exits 1 with an error line saying what was wrong.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::format;
use morgana::clock::{monotonic_ns, wall_ns};
use morgana::time::{Instant, Timer};

morgana::main!(app);

const MS: u64 = 1_000_000;
/// 2017-01-01T00:00:00Z in seconds since the epoch.
const YEAR_2017: u64 = 1_483_228_800;

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let first = monotonic_ns();
    let mut later = monotonic_ns();
    let mut tries = 0;
    while later == first && tries < 1000 {
        later = monotonic_ns();
        tries += 1;
    }
    if later <= first {
        return Err(format!("the monotonic clock did not advance from {first} ns").into());
    }

    let before = monotonic_ns();
    Timer::at(Instant::from_ticks(0)).await;
    let took = monotonic_ns() - before;
    if took > 200 * MS {
        return Err(format!("a past deadline took {} ms", took / MS).into());
    }

    for i in 1..=5 {
        let start = monotonic_ns();
        Timer::after_secs(1).await;
        let slept = monotonic_ns() - start;
        if !(800 * MS..=1200 * MS).contains(&slept) {
            return Err(format!("sleep {i} of 1 s took {} ms", slept / MS).into());
        }
    }

    let wall = wall_ns() / 1_000_000_000;
    if wall < YEAR_2017 {
        return Err(format!("the wall clock reads {wall} s since the epoch, before 2017").into());
    }
    morgana::println!("SUCCESS");
    Ok(())
}
