//! Spawning futures as executor tasks without a static task pool.
//!
//! `#[embassy_executor::task]` needs a concrete, non-generic function and a pool size fixed at
//! compile time. The stack's runner is generic over the device, and services want "N connection
//! tasks" chosen at boot, so this module gives each spawned future its own task storage on the
//! heap. The storage is never freed (tasks here live as long as the unikernel).

use alloc::boxed::Box;
use core::future::Future;

use embassy_executor::raw::TaskStorage;
use embassy_executor::{SpawnError, Spawner};

/// Runs `future` as a task of `spawner`'s executor.
pub fn spawn<F>(spawner: Spawner, future: F) -> Result<(), SpawnError>
where
    F: Future<Output = ()> + 'static,
{
    let storage: &'static TaskStorage<F> = Box::leak(Box::new(TaskStorage::new()));
    let token = storage.spawn(|| future)?;
    spawner.spawn(token);
    Ok(())
}
