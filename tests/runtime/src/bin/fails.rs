//! Returns an error from main: the runtime must print it and exit 1.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_std, no_main)]

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), &'static str> {
    Err("the application gave up")
}
