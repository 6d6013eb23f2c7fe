//! The run loop: the embassy executor plus the application's main future, sleeping in the
//! platform's wait primitive whenever nothing is ready.
//!
//! Device readiness reaches tasks only through the platform: a device with nothing to give
//! registers its task's waker, and the platform wakes it when it waits. A task that keeps
//! itself runnable (a network stack asked to run again at once while it waits on a neighbour
//! entry) would keep the loop from ever waiting, and every device from ever being seen ready:
//! frames would sit in the tap while the stack spins. So after
//! [`BUSY_PASSES_BEFORE_READINESS_CHECK`] passes in a row that found a task runnable, the loop
//! asks the platform for the readiness of the devices without blocking
//! ([`Platform::check_ready`]).

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

// The executor calls this when one of its tasks becomes ready. Polling must not happen here
// (the executor may be inside `poll`), so it only raises that executor's flag for its loop.
#[unsafe(export_name = "__pender")]
fn pender(context: *mut ()) {
    // SAFETY: every executor is created by `block_on` with a context pointing at a leaked, hence
    // never freed, `AtomicBool`.
    let flag = unsafe { &*(context as *const AtomicBool) };
    flag.store(true, Ordering::Release);
}

/// Passes in a row with a task still runnable after which the run loop checks device
/// readiness without blocking. Answering one request takes a few passes (the stack takes the
/// frame, the connection task answers, the stack sends), so checks stay rare while the
/// executor works normally, and cost one check per this many passes when a task spins.
pub const BUSY_PASSES_BEFORE_READINESS_CHECK: u32 = 8;

/// A flag raised by a waker.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Runs a unikernel to completion; called by the backend once its devices are bound.
///
/// `args` are the application's arguments (the command line after any backend options); the
/// runtime takes `--logs=LEVEL` out of them first. `app` receives a [`Spawner`] for background
/// tasks and returns the main future. Never returns: the platform exits with 0 when main
/// returns `Ok`, with 1 after printing `error: E` when it returns `Err(E)`.
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
    match block_on(platform, app) {
        Ok(()) => platform.exit(EXIT_SUCCESS),
        Err(e) => crate::fail(format_args!("{e}")),
    }
}

/// Runs `app` and the tasks it spawns until `app`'s future completes, and returns its output.
///
/// This is [`run`] without the exit: tests use it (through their backend) to drive several
/// devices and stacks in one program. Spawned tasks that are still running when it returns are
/// left suspended.
pub fn block_on<F, Fut>(platform: &'static dyn Platform, app: F) -> Fut::Output
where
    F: FnOnce(Spawner) -> Fut,
    Fut: Future,
{
    install(platform);
    let tasks_pending: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let context = tasks_pending as *const AtomicBool as *mut ();
    let executor: &'static raw::Executor = Box::leak(Box::new(raw::Executor::new(context)));
    let mut main = Box::pin(app(executor.spawner()));
    let main_woken = Arc::new(Flag(AtomicBool::new(true)));
    let waker = Waker::from(main_woken.clone());
    let mut cx = Context::from_waker(&waker);
    // Passes since the platform last waited or checked readiness.
    let mut busy_passes = 0u32;

    loop {
        if tasks_pending.swap(false, Ordering::AcqRel) {
            // SAFETY: this loop is the only caller of `poll` on this executor, and the pender
            // never polls, so `poll` is not re-entered.
            unsafe { executor.poll() };
        }
        if main_woken.0.swap(false, Ordering::AcqRel)
            && let Poll::Ready(output) = main.as_mut().poll(&mut cx)
        {
            return output;
        }
        let deadline = time::expire_timers();
        if tasks_pending.load(Ordering::Acquire) || main_woken.0.load(Ordering::Acquire) {
            busy_passes += 1;
            if busy_passes >= BUSY_PASSES_BEFORE_READINESS_CHECK {
                busy_passes = 0;
                platform.check_ready();
            }
            continue;
        }
        busy_passes = 0;
        platform.wait(deadline);
    }
}
