//! The tutorial unikernel: prints `hello` four times, one second apart, then exits 0.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use core::convert::Infallible;
use morgana::time::Timer;

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), Infallible> {
    for _ in 0..4 {
        morgana::println!("hello");
        // With `--logs=debug` the runtime stamps this with its monotonic clock: how tests
        // measure the gaps inside the unikernel rather than from the other end of a pipe.
        log::debug!("said hello");
        Timer::after_secs(1).await;
    }
    Ok(())
}
