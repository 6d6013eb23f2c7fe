//! C in a unikernel: checksums `--text=TEXT` (default `Morgana`) with the C library in
//! `checksum-c` and prints the C library's own report, formatted by its `snprintf`.
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::string::String;
use checksum_c::Checksums;
use morgana::BootArgs;

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let text: String = args.with_default("text", String::from("Morgana"))?;
    let repeat: u32 = args.with_default("repeat", 1)?;
    args.finish()?;
    let mut sums = Checksums::new()?;
    for _ in 0..repeat {
        sums.update(text.as_bytes());
    }
    morgana::println!("{sums}");
    Ok(())
}
