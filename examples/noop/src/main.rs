//! The smallest unikernel: exits 0 at once.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), core::convert::Infallible> {
    Ok(())
}
