//! Prints the value of the `--hello=TEXT` boot argument four times, one second apart.
//!
//! A missing, repeated or unknown argument ends the unikernel with one `error:` line and
//! status 1, before anything is printed.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use morgana::BootArgs;
use morgana::time::Timer;

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let hello: alloc::string::String = args.required("hello", "TEXT")?;
    args.finish()?;
    for _ in 0..4 {
        morgana::println!("{hello}");
        Timer::after_secs(1).await;
    }
    Ok(())
}

extern crate alloc;
