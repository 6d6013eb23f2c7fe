//! Counts its boots on a littlefs disk: prints the count and when the previous boot was (wall
//! clock, UTC), then exits 0. Declares one block device, `storage`. `--format` writes a new,
//! empty file system first (a disk without one is refused, never formatted silently).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use morgana::BootArgs;
use morgana_kv::{KvError, KvRead, KvWrite};
use morgana_littlefs::LittleFs;

morgana::main!(app, devices: { STORAGE: block = "storage" });

const COUNT: &str = "boots/count";
const LAST: &str = "boots/last";

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut args = BootArgs::from_boot();
    let format = args.flag("format")?;
    args.finish()?;

    let disk = morgana::block::acquire(STORAGE)?;
    let mut store = if format {
        LittleFs::format(disk, STORAGE.name, morgana::clock::wall_ns)?
    } else {
        LittleFs::mount(disk, STORAGE.name, morgana::clock::wall_ns)?
    };
    let count = match store.get(COUNT).await {
        Ok(bytes) => parse_u64(COUNT, &bytes)?,
        Err(KvError::NotFound(_)) => 0,
        Err(e) => return Err(e.into()),
    };
    let last = match store.get(LAST).await {
        Ok(bytes) => Some(parse_u64(LAST, &bytes)?),
        Err(KvError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let now = morgana::clock::wall_ns();
    let count = count + 1;
    store.set(COUNT, format!("{count}").as_bytes()).await?;
    store.set(LAST, format!("{now}").as_bytes()).await?;
    morgana::println!("storage: boot {count}");
    match last {
        Some(ns) => morgana::println!("storage: previous boot at {}", utc(ns)),
        None => morgana::println!("storage: no previous boot"),
    }
    Ok(())
}

fn parse_u64(key: &str, bytes: &[u8]) -> Result<u64, KvError> {
    core::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| KvError::Store {
            key: key.into(),
            reason: "not a decimal number".into(),
        })
}

/// `ns` since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar).
fn utc(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01, counting in 400-year eras from 0000-03-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(951_782_400_000_000_000), "2000-02-29T00:00:00Z");
        assert_eq!(
            super::utc(1_796_000_000_123_000_000),
            "2026-11-30T00:53:20Z"
        );
    }
}
