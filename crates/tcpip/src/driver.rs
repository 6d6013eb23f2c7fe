//! The adapter from a [`NetDevice`] to [`embassy_net_driver::Driver`].
//!
//! embassy-net asks its driver for *tokens*: a receive token holds one received frame, a
//! transmit token lends a buffer that becomes one frame. [`DeviceDriver`] keeps one receive
//! buffer of [`NetDevice::max_receive_len`] and one transmit buffer of
//! [`NetDevice::max_frame_len`] bytes and moves frames through the
//! device's non-blocking `poll_receive`/`poll_transmit`, so the stack's runner task sleeps on the
//! device's wakers like any other task.
//!
//! A frame the device cannot take at once (`Pending`) is kept and sent first on the next poll;
//! until it leaves, the driver hands out no further tokens (back-pressure instead of loss). A
//! device error on receive or transmit drops that one frame, is logged, and the driver retries
//! after [`ERROR_RETRY`] rather than spinning.
//!
//! With a [`SynGate`](crate::gate) (the direct stack's listen backlog), each received SYN is
//! shown to the gate first, which may hold it back; and before reading the device the driver
//! takes from the gate a held SYN that a socket listens for now, so that it reaches the stack
//! on the stack's next run (embassy-net runs it when a socket starts listening).

use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState, RxToken, TxToken};
use embassy_time::{Duration, Instant, Timer};
use morgana_net::NetDevice;

use crate::gate::SynGate;

/// How long the driver waits before polling a device again after it reported an error.
pub const ERROR_RETRY: Duration = Duration::from_millis(10);

/// A [`NetDevice`] as an embassy-net driver; see the [module documentation](self).
#[derive(Debug)]
pub struct DeviceDriver<D> {
    device: D,
    rx: Vec<u8>,
    tx: Vec<u8>,
    /// Length of a frame in `tx` that the device has not taken yet.
    tx_pending: Option<usize>,
    /// Connection requests held back for the listen backlog (see [`crate::gate`]).
    syn_gate: Option<Rc<SynGate>>,
}

impl<D: NetDevice> DeviceDriver<D> {
    /// Wraps `device`; allocates a receive buffer of its largest received frame and a
    /// transmit buffer of its maximum frame length.
    pub fn new(device: D) -> Self {
        let (rx, tx) = (device.max_receive_len(), device.max_frame_len());
        DeviceDriver {
            device,
            rx: vec![0; rx],
            tx: vec![0; tx],
            tx_pending: None,
            syn_gate: None,
        }
    }

    /// Holds back the SYNs `gate` does not admit yet, and hands them to the stack when it
    /// releases them.
    pub(crate) fn with_syn_gate(mut self, gate: Rc<SynGate>) -> Self {
        self.syn_gate = Some(gate);
        self
    }

    /// The wrapped device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// Sends the kept frame, if any; true when nothing is left waiting.
    fn flush(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(len) = self.tx_pending else {
            return true;
        };
        match self.device.poll_transmit(cx, &self.tx[..len]) {
            Poll::Pending => false,
            Poll::Ready(result) => {
                if let Err(e) = result {
                    log::warn!("net: dropped a {len}-byte frame: {e}");
                }
                self.tx_pending = None;
                true
            }
        }
    }
}

/// Arranges for `cx`'s task to be woken after [`ERROR_RETRY`].
fn retry_later(cx: &mut Context<'_>) {
    // The timer queue keeps the waker after the timer value is dropped.
    let timer = pin!(Timer::after(ERROR_RETRY));
    if timer.poll(cx).is_ready() {
        cx.waker().wake_by_ref();
    }
}

/// One received frame, lent to the stack.
#[derive(Debug)]
pub struct DeviceRxToken<'a> {
    frame: &'a mut [u8],
}

impl RxToken for DeviceRxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// A transmit buffer, lent to the stack; the frame goes to the device when consumed.
#[derive(Debug)]
pub struct DeviceTxToken<'a, D> {
    device: &'a mut D,
    buf: &'a mut Vec<u8>,
    pending: &'a mut Option<usize>,
    waker: Waker,
}

impl<D: NetDevice> TxToken for DeviceTxToken<'_, D> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        if self.buf.len() < len {
            // The stack never asks for more than the MTU; the device refuses it below if it does.
            self.buf.resize(len, 0);
        }
        let result = f(&mut self.buf[..len]);
        let mut cx = Context::from_waker(&self.waker);
        match self.device.poll_transmit(&mut cx, &self.buf[..len]) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => log::warn!("net: dropped a {len}-byte frame: {e}"),
            Poll::Pending => *self.pending = Some(len),
        }
        result
    }
}

impl<D: NetDevice> Driver for DeviceDriver<D> {
    type RxToken<'a>
        = DeviceRxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = DeviceTxToken<'a, D>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if !self.flush(cx) {
            return None;
        }
        // A held SYN whose port listens again goes first: it arrived before anything unread.
        let gate = self.syn_gate.as_ref();
        let released = gate.and_then(|g| g.release(Instant::now, &mut self.rx));
        let mut received = match released {
            Some(len) => Poll::Ready(Ok(len)),
            None => self.device.poll_receive(cx, &mut self.rx),
        };
        while let (None, Poll::Ready(Ok(len)), Some(gate)) = (released, &received, gate) {
            if gate.admit(&self.rx[..*len], Instant::now) {
                break;
            }
            received = self.device.poll_receive(cx, &mut self.rx);
        }
        match received {
            Poll::Ready(Ok(len)) => Some((
                DeviceRxToken {
                    frame: &mut self.rx[..len],
                },
                DeviceTxToken {
                    device: &mut self.device,
                    buf: &mut self.tx,
                    pending: &mut self.tx_pending,
                    waker: cx.waker().clone(),
                },
            )),
            Poll::Ready(Err(e)) => {
                log::warn!("net: receive failed: {e}");
                retry_later(cx);
                None
            }
            Poll::Pending => None,
        }
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<Self::TxToken<'_>> {
        if !self.flush(cx) {
            return None;
        }
        Some(DeviceTxToken {
            device: &mut self.device,
            buf: &mut self.tx,
            pending: &mut self.tx_pending,
            waker: cx.waker().clone(),
        })
    }

    fn link_state(&mut self, _cx: &mut Context<'_>) -> LinkState {
        // Our devices have no carrier to lose: a tap or a hypervisor queue is always "up".
        LinkState::Up
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        // For Ethernet, smoltcp's "MTU" is the whole frame, header included.
        caps.max_transmission_unit = self.device.max_frame_len();
        caps.max_burst_size = None;
        if self.device.offloads_tcp_checksums() {
            caps.checksum.tcp = embassy_net_driver::Checksum::None;
        }
        caps
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.device.mac().0)
    }
}
