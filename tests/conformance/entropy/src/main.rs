//! Conformance `entropy`: two generators seeded from the platform produce different streams,
//! neither constant. On hvt this exercises RDSEED/RDRAND and the TSC mix. Prints `SUCCESS`
//! and exits 0, or exits 1 with an error line (including "no entropy" on a CPU without a
//! source).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
    let mut seed_a = [0u8; 32];
    let mut seed_b = [0u8; 32];
    let source = morgana::rt::platform();
    source.fill_seed(&mut seed_a)?;
    source.fill_seed(&mut seed_b)?;
    if seed_a == seed_b {
        return Err("two seeds from the platform are equal".into());
    }
    if seed_a.iter().all(|&b| b == seed_a[0]) {
        return Err("a seed from the platform is one byte repeated".into());
    }
    morgana::entropy::rng()?;
    morgana::println!("SUCCESS");
    Ok(())
}
