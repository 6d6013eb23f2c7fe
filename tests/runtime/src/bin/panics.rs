//! Panics after printing one line: the runtime must print the panic and exit 255.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), core::convert::Infallible> {
    morgana::println!("about to panic");
    let v: [u8; 0] = [];
    let i = morgana::args().len(); // 0, but not known at compile time
    morgana::println!("{}", v[i]);
    Ok(())
}
