//! A task that keeps itself runnable forever does not keep device readiness from the others:
//! the run loop checks readiness without blocking after
//! `BUSY_PASSES_BEFORE_READINESS_CHECK` busy passes, and only then.
//!
//! The device double is always ready (a frame waits in the tap) but, like every device, tells
//! its waiting task so only when the platform waits. Without the check the loop never waits,
//! the main future never learns of the frame, and the spinning task gives up with a panic.
//!
//! One test in its own binary, because the running platform is process-wide.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Context, Poll, Waker};

use morgana_entropy::{EntropyError, SeedSource};
use morgana_rt::{BUSY_PASSES_BEFORE_READINESS_CHECK, Platform};

/// Polls after which the spinning task decides the loop will never check readiness.
const SPINS_BEFORE_GIVING_UP: u32 = 100_000;

/// A platform with one device that is always ready; it records the deadline of every wait.
struct ReadyDevicePlatform {
    waits: Mutex<Vec<Option<u64>>>,
    device_waker: Mutex<Option<Waker>>,
    device_reported_ready: AtomicBool,
}

impl morgana_console::Console for ReadyDevicePlatform {
    fn write(&self, _bytes: &[u8]) {}
}

impl morgana_clock::Clock for ReadyDevicePlatform {
    fn monotonic_ns(&self) -> u64 {
        1_000
    }
    fn wall_ns(&self) -> u64 {
        0
    }
}

impl SeedSource for ReadyDevicePlatform {
    fn fill_seed(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
        dest.fill(0);
        Ok(())
    }
}

impl Platform for ReadyDevicePlatform {
    fn wait(&self, deadline_ns: Option<u64>) {
        self.waits.lock().expect("not poisoned").push(deadline_ns);
        if let Some(waker) = self.device_waker.lock().expect("not poisoned").take() {
            self.device_reported_ready.store(true, Ordering::SeqCst);
            waker.wake();
        }
    }
    fn exit(&self, status: u8) -> ! {
        panic!("the platform double was asked to exit with {status}")
    }
}

impl ReadyDevicePlatform {
    fn leak() -> &'static ReadyDevicePlatform {
        Box::leak(Box::new(ReadyDevicePlatform {
            waits: Mutex::new(Vec::new()),
            device_waker: Mutex::new(None),
            device_reported_ready: AtomicBool::new(false),
        }))
    }

    fn waits(&self) -> Vec<Option<u64>> {
        self.waits.lock().expect("not poisoned").clone()
    }
}

/// Waits until the platform reports the device ready, as a net device's receive does.
struct DeviceReady(&'static ReadyDevicePlatform);

impl Future for DeviceReady {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.device_reported_ready.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *self.0.device_waker.lock().expect("not poisoned") = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Wakes itself on every poll and never finishes, counting its polls in `polls`.
struct Spin(&'static AtomicU32);

impl Future for Spin {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let polls = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(
            polls < SPINS_BEFORE_GIVING_UP,
            "the device's readiness never reached its task while another task spun"
        );
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn a_spinning_task_cannot_starve_device_readiness() {
    // Nothing spins: the loop blocks in one wait with no deadline, and makes no check.
    let calm = ReadyDevicePlatform::leak();
    morgana_rt::block_on(calm, |_spawner| DeviceReady(calm));
    assert_eq!(calm.waits(), vec![None]);

    // A task spins: after the allowed busy passes one non-blocking check (a deadline in the
    // past) reports the device, and the loop never blocked.
    let busy = ReadyDevicePlatform::leak();
    let spins: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    morgana_rt::block_on(busy, |spawner| {
        morgana_rt::spawn(spawner, Spin(spins)).expect("the executor takes the task");
        DeviceReady(busy)
    });
    assert_eq!(busy.waits(), vec![Some(0)]);
    // The pass that made the check, and the one in which the main future finished.
    assert_eq!(
        spins.load(Ordering::SeqCst),
        BUSY_PASSES_BEFORE_READINESS_CHECK + 1
    );
}
