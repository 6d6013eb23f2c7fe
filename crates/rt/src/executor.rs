//! The run loop: the embassy executor plus the application's main future, sleeping in the
//! platform's wait primitive whenever nothing is ready.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::fmt::Display;
use core::future::Future;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};

use embassy_executor::{Spawner, raw};

use crate::platform::{Platform, install};
use crate::{EXIT_SUCCESS, args, logger, time};

/// Set by the executor's pender when a spawned task was woken.
static TASKS_PENDING: AtomicBool = AtomicBool::new(false);

// The executor calls this when a task becomes ready. Polling must not happen here (the
// executor may be inside `poll`), so it only raises a flag for the run loop.
#[unsafe(export_name = "__pender")]
fn pender(_context: *mut ()) {
    TASKS_PENDING.store(true, Ordering::Release);
}

/// Wakes the application's main future.
struct MainWaker(AtomicBool);

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Runs a unikernel to completion; called by the backend once its devices are bound.
///
/// `args` are the application's arguments (the command line after any backend options).
/// `app` receives a [`Spawner`] for background tasks and returns the main future. Returns never:
/// the platform exits with 0 when main returns `Ok`, with 1 after printing `error: E` when it
/// returns `Err(E)`.
pub fn run<F, Fut, E>(platform: &'static dyn Platform, args: Vec<String>, app: F) -> !
where
    F: FnOnce(Spawner) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    install(platform);
    let args = match logger::init_from_args(args) {
        Ok(rest) => rest,
        Err(e) => crate::fail(format_args!("{e}")),
    };
    args::install(args);

    let executor: &'static raw::Executor =
        Box::leak(Box::new(raw::Executor::new(core::ptr::null_mut())));
    let mut main = Box::pin(app(executor.spawner()));
    let main_waker = Arc::new(MainWaker(AtomicBool::new(true)));
    let waker = Waker::from(main_waker.clone());
    let mut cx = Context::from_waker(&waker);

    loop {
        if TASKS_PENDING.swap(false, Ordering::AcqRel) {
            // SAFETY: this loop is the only caller of `poll`, and the pender above never polls,
            // so `poll` is not re-entered.
            unsafe { executor.poll() };
        }
        if main_waker.0.swap(false, Ordering::AcqRel)
            && let Poll::Ready(result) = main.as_mut().poll(&mut cx)
        {
            match result {
                Ok(()) => platform.exit(EXIT_SUCCESS),
                Err(e) => crate::fail(format_args!("{e}")),
            }
        }
        let deadline = time::expire_timers();
        if TASKS_PENDING.load(Ordering::Acquire) || main_waker.0.load(Ordering::Acquire) {
            continue;
        }
        platform.wait(deadline);
    }
}
