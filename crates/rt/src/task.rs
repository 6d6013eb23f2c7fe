//! Spawning futures as executor tasks without a static task pool.
//!
//! `#[embassy_executor::task]` needs a concrete, non-generic function and a pool size fixed at
//! compile time. Generic tasks (a network stack's runner is generic over its device) and pools
//! sized at boot ("N connection tasks" from a boot argument) fit neither, so [`spawn`] gives
//! each spawned future its own task storage on the heap. The storage is never freed: tasks
//! spawned here live as long as the unikernel.

use alloc::boxed::Box;
use core::future::Future;

use embassy_executor::raw::TaskStorage;
use embassy_executor::{SpawnError, Spawner};

/// Runs `future` as a task of `spawner`'s executor, alongside the application's main future.
///
/// Allocates the task's storage (the future's size plus the executor's header) from the heap
/// and never frees it. The only error is the executor's own ([`SpawnError`]).
pub fn spawn<F>(spawner: Spawner, future: F) -> Result<(), SpawnError>
where
    F: Future<Output = ()> + 'static,
{
    let storage: &'static TaskStorage<F> = Box::leak(Box::new(TaskStorage::new()));
    let token = storage.spawn(|| future)?;
    spawner.spawn(token);
    Ok(())
}
