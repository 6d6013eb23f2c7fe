//! Net devices over `NET_READ` / `NET_WRITE`.
//!
//! Reads never block: `NET_READ` answers `AGAIN` when no frame is waiting, and the task's
//! waker is then registered for the device's handle so the next `POLL` that reports the
//! handle ready wakes it. A device is read only when a frame may be waiting (see
//! [`crate::rx_pacing`]). Writes complete at once (the tender writes the frame to the tap or
//! ends).

use core::task::{Context, Poll};

use morgana_net::{MacAddress, NetDevice, NetError, check_frame_len, check_receive_buffer};

use crate::rx_pacing::{RxPacing, Step};
use crate::{hypercall, wait};
use morgana_hvt_abi::hypercall::{SOLO5_R_AGAIN, SOLO5_R_OK};
use morgana_hvt_abi::mft::MftEntry;

/// A net device attached by the tender (`--net:NAME=TAP`).
#[derive(Debug)]
pub struct Net {
    handle: u64,
    mac: MacAddress,
    mtu: usize,
    pacing: RxPacing,
}

impl Net {
    /// The net device with manifest handle `handle`, as the tender describes it in `entry`.
    pub(crate) fn attach(handle: u64, entry: &MftEntry) -> Net {
        Net {
            handle,
            mac: MacAddress(entry.net_mac()),
            mtu: usize::from(entry.net_mtu()),
            pacing: RxPacing::default(),
        }
    }
}

impl NetDevice for Net {
    fn mac(&self) -> MacAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn poll_receive(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, NetError>> {
        check_receive_buffer(buf.len(), self.max_frame_len())?;
        if wait::take_ready(self.handle as usize) {
            self.pacing.polled_ready();
        }
        if self.pacing.next() == Step::WaitForPoll {
            wait::register(self.handle as usize, cx.waker());
            return Poll::Pending;
        }
        match hypercall::net_read(self.handle, buf) {
            (SOLO5_R_OK, len) => {
                self.pacing.got_frame();
                Poll::Ready(Ok(len))
            }
            (SOLO5_R_AGAIN, _) => {
                self.pacing.got_nothing();
                wait::register(self.handle as usize, cx.waker());
                Poll::Pending
            }
            (ret, _) => {
                self.pacing.got_nothing();
                Poll::Ready(Err(NetError::Device(ret as i32)))
            }
        }
    }

    fn poll_transmit(&mut self, _cx: &mut Context<'_>, frame: &[u8]) -> Poll<Result<(), NetError>> {
        check_frame_len(frame.len(), self.max_frame_len())?;
        match hypercall::net_write(self.handle, frame) {
            SOLO5_R_OK => Poll::Ready(Ok(())),
            ret => Poll::Ready(Err(NetError::Device(ret as i32))),
        }
    }
}
