//! Conformance `globals`: statics in `.data` start with their initial values, statics in
//! `.bss` start at zero, and both are writable. Prints `SUCCESS` and exits 0, or exits 1 with
//! an error line naming the first wrong value.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

morgana::main!(app);

static INITIALISED: AtomicU32 = AtomicU32::new(0x5a5a_1234);
static ZEROED: AtomicU64 = AtomicU64::new(0);
static TEXT: &str = "initialised read-only data";

fn check(what: &str, got: u64, want: u64) -> Result<(), morgana::Error> {
    if got == want {
        Ok(())
    } else {
        Err(alloc::format!("{what} is {got:#x}, expected {want:#x}").into())
    }
}

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    check(
        "the .data value",
        INITIALISED.load(Ordering::Relaxed).into(),
        0x5a5a_1234,
    )?;
    check("the .bss value", ZEROED.load(Ordering::Relaxed), 0)?;
    INITIALISED.store(42, Ordering::Relaxed);
    ZEROED.store(u64::MAX, Ordering::Relaxed);
    check(
        "the written .data value",
        INITIALISED.load(Ordering::Relaxed).into(),
        42,
    )?;
    check(
        "the written .bss value",
        ZEROED.load(Ordering::Relaxed),
        u64::MAX,
    )?;
    check("the .rodata string length", TEXT.len() as u64, 26)?;
    morgana::println!("SUCCESS");
    Ok(())
}

extern crate alloc;
