//! Conformance `getrandom`: the `getrandom` crate (0.2 and 0.3) and `rand_core`'s `OsRng`,
//! used as any third-party crate uses them, return random bytes in an image: two draws from
//! each differ, none is constant. On hvt and Xen they can only come from Morgana's entropy (the
//! crates know no such operating system); on unix, from Linux. Prints `SUCCESS` and exits 0.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

use rand_core::{OsRng, TryRngCore};

morgana::main!(app);

/// Checks two 32-byte draws of one source.
fn check(source: &str, a: [u8; 32], b: [u8; 32]) -> Result<(), morgana::Error> {
    if a == b {
        return Err(alloc::format!("{source}: two draws are equal").into());
    }
    if a.iter().all(|&x| x == a[0]) || b.iter().all(|&x| x == b[0]) {
        return Err(alloc::format!("{source}: a draw is one byte repeated").into());
    }
    morgana::println!("{source}: two different 32-byte draws");
    Ok(())
}

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let draw02 = || -> Result<[u8; 32], morgana::Error> {
        let mut buf = [0; 32];
        getrandom_v02::getrandom(&mut buf).map_err(|e| alloc::format!("getrandom 0.2: {e}"))?;
        Ok(buf)
    };
    check("getrandom 0.2", draw02()?, draw02()?)?;
    let draw03 = || -> Result<[u8; 32], morgana::Error> {
        let mut buf = [0; 32];
        getrandom_v03::fill(&mut buf).map_err(|e| alloc::format!("getrandom 0.3: {e}"))?;
        Ok(buf)
    };
    check("getrandom 0.3", draw03()?, draw03()?)?;
    let draw_os = || -> Result<[u8; 32], morgana::Error> {
        let mut buf = [0; 32];
        OsRng
            .try_fill_bytes(&mut buf)
            .map_err(|e| alloc::format!("OsRng: {e}"))?;
        Ok(buf)
    };
    check("rand_core OsRng", draw_os()?, draw_os()?)?;
    morgana::println!("SUCCESS");
    Ok(())
}

extern crate alloc;
