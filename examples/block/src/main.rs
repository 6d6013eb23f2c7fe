//! Block device usage: prints the disk's geometry and the text at the start of sector 0.
//!
//! With `--write=TEXT` it first writes TEXT (NUL-padded to a sector) to sector 0, flushes, and
//! reads it back to check. With `--span=N` it then writes N sectors (each filled with its own
//! index) in one request from sector 1 on, flushes, reads them back in one request and
//! checks them. Declares one block device, `storage`.
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
    let span: Option<u32> = args.optional("span")?;
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
    if let Some(span) = span {
        let size = info.sector_size as usize;
        let fits = u64::from(span) < info.sectors() && span > 0;
        if !fits {
            return Err(alloc::format!(
                "--span={span} does not fit after sector 0 of {} sectors",
                info.sectors()
            )
            .into());
        }
        let data: alloc::vec::Vec<u8> = (0..span as usize * size)
            .map(|i| (i / size + 1) as u8)
            .collect();
        disk.write(u64::from(info.sector_size), &data).await?;
        disk.flush().await?;
        let mut back = vec![0u8; data.len()];
        disk.read(u64::from(info.sector_size), &mut back).await?;
        if back != data {
            return Err("the spanning request reads back differently".into());
        }
        morgana::println!("sectors 1..={span}: written and read back in one request each");
    }
    Ok(())
}
