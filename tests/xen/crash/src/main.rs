//! Panics at once: the run must end as crashed with the abort status (255) and the panic
//! message on the console.
#![cfg_attr(not(test), no_std, no_main)]

morgana::main!(app);

async fn app(_spawner: morgana::Spawner) -> Result<(), core::convert::Infallible> {
    morgana::println!("about to panic");
    panic!("deliberate panic from xen-crash");
}
