//! Block device usage: prints the disk's geometry and the text at the start of sector 0.
//!
//! With `--write=TEXT` it first writes TEXT (NUL-padded to a sector) to sector 0, flushes, and
//! reads it back to check. Declares one block device, `storage`.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::string::String;
use alloc::vec;
use morgana::BootArgs;
use morgana::block::BlockDevice;

morgana::main!(app, devices: { STORAGE: block = "storage" });

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let text: Option<String> = args.optional("write")?;
    args.finish()?;

    let mut disk = morgana::block::acquire(STORAGE)?;
    let info = disk.info();
    morgana::println!(
        "storage: {} sectors of {} bytes{}",
        info.sectors(),
        info.sector_size,
        if info.read_only { ", read-only" } else { "" }
    );
    let mut sector = vec![0u8; info.sector_size as usize];
    if let Some(text) = text {
        if text.len() > sector.len() {
            return Err(alloc::format!(
                "--write text is longer than one sector ({} bytes)",
                sector.len()
            )
            .into());
        }
        sector[..text.len()].copy_from_slice(text.as_bytes());
        disk.write(0, &sector).await?;
        disk.flush().await?;
    }
    let written = sector.clone();
    disk.read(0, &mut sector).await?;
    if !written.iter().all(|&b| b == 0) && written != sector {
        return Err("sector 0 reads back differently from what was written".into());
    }
    let end = sector.iter().position(|&b| b == 0).unwrap_or(sector.len());
    morgana::println!("sector 0: {:?}", String::from_utf8_lossy(&sector[..end]));
    Ok(())
}
