//! The contract between the runtime and a backend.

use core::cell::Cell;
use critical_section::Mutex;
use morgana_clock::Clock;
use morgana_console::Console;
use morgana_entropy::SeedSource;

/// What a backend provides to the runtime.
///
/// `Console`, `Clock` and `SeedSource` are the ambient services; `wait` and `exit` are the two
/// operations only the runtime calls.
pub trait Platform: Console + Clock + SeedSource + Sync {
    /// Blocks until the monotonic clock reaches `deadline_ns` (`None`: no deadline) or until a
    /// device may be ready, waking the wakers registered for ready devices before returning.
    ///
    /// May return early (spurious wake-ups are allowed); must not spin while nothing happens.
    /// A deadline in the past returns at once.
    fn wait(&self, deadline_ns: Option<u64>);

    /// Wakes the wakers registered for devices that are ready now, without blocking.
    ///
    /// The run loop calls it after
    /// [`BUSY_PASSES_BEFORE_READINESS_CHECK`](crate::BUSY_PASSES_BEFORE_READINESS_CHECK)
    /// passes in a row with a task runnable, so that no task can keep device readiness from
    /// the others. Defaults to [`wait`](Self::wait) with a deadline in the past, which returns
    /// at once.
    fn check_ready(&self) {
        self.wait(Some(0));
    }

    /// Ends the unikernel with `status` (0 success, 1 failure, 255 abort).
    fn exit(&self, status: u8) -> !;

    /// Writes an error report. Defaults to the console; a process writes to standard error.
    fn write_error(&self, bytes: &[u8]) {
        self.write(bytes)
    }

    /// Writes the caller's call stack on the error output, one frame a line, in the format of
    /// `morgana_x86::backtrace`; called after a panic message. Defaults to nothing.
    fn write_backtrace(&self) {}
}

static PLATFORM: Mutex<Cell<Option<&'static dyn Platform>>> = Mutex::new(Cell::new(None));

/// Installs the platform; called once by [`crate::run`].
pub(crate) fn install(p: &'static dyn Platform) {
    critical_section::with(|cs| PLATFORM.borrow(cs).set(Some(p)));
}

/// The running platform, if one was installed.
pub(crate) fn try_platform() -> Option<&'static dyn Platform> {
    critical_section::with(|cs| PLATFORM.borrow(cs).get())
}

/// The running platform.
///
/// # Panics
/// Before [`crate::run`] installed one: that is a backend bug, not an input error.
pub fn platform() -> &'static dyn Platform {
    try_platform().expect("morgana-rt: no platform installed (run() was not called)")
}
