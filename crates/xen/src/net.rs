//! netfront: Ethernet over a Xen vif, behind [`morgana_net::NetDevice`].
//!
//! One event channel, a transmit and a receive ring (one page each), [`RX_BUFFERS`] granted
//! receive pages kept posted to the back end (`request-rx-copy`: netback copies each frame into
//! them) and [`TX_BUFFERS`] transmit pages granted read-only. No scatter-gather, no offloads:
//! every frame fits one page.

use alloc::format;
use alloc::vec::Vec;
use core::sync::atomic::{Ordering, fence};
use core::task::{Context, Poll};

use morgana_net::{MacAddress, NetDevice, NetError, check_frame_len, check_receive_buffer};

use crate::abi::{
    self, NETRXF_EXTRA_INFO, NETRXF_MORE_DATA, NetifRxRequest, NetifRxResponse, NetifTxRequest,
    NetifTxResponse, SringHeader, xenbus_state,
};
use crate::ring::{self, FrontRing};
use crate::xenbus::{self, ConnectError};
use crate::{events, gnttab, pages, wait};

/// Receive pages kept posted.
pub const RX_BUFFERS: usize = 32;
/// Transmit pages.
pub const TX_BUFFERS: usize = 16;
/// The MTU netback offers without scatter-gather.
pub const MTU: usize = 1500;

/// A connected netfront device.
#[derive(Debug)]
pub struct Net {
    port: u32,
    mac: MacAddress,
    tx_sring: *mut SringHeader,
    rx_sring: *mut SringHeader,
    tx: FrontRing,
    rx: FrontRing,
    tx_pages: Vec<(*mut u8, u32)>,
    tx_free: Vec<u16>,
    rx_pages: Vec<(*mut u8, u32)>,
    /// Skipping the remaining slots of a multi-slot frame we cannot take.
    dropping: bool,
}

// SAFETY: the raw pointers are to pages this device owns alone; the unikernel has one vCPU.
unsafe impl Send for Net {}

fn new_ring(backend_id: u16) -> Result<(*mut SringHeader, u32), ConnectError> {
    let page = pages::alloc_page().ok_or(ConnectError::Grants)?;
    let sring = page.cast::<SringHeader>();
    // SAFETY: a fresh, zeroed page we own; SHARED_RING_INIT sets both event indices to 1.
    unsafe {
        (*sring).req_event = 1;
        (*sring).rsp_event = 1;
    }
    let gref = gnttab::grant(backend_id, page as u64, false).map_err(|_| ConnectError::Grants)?;
    Ok((sring, gref))
}

fn entry<T>(sring: *mut SringHeader, ring: &FrontRing, idx: u32) -> *mut T {
    // SAFETY: entries start after the 64-byte header and `slot` is below the ring size, which
    // `ring_slots` computed to fit the page.
    unsafe {
        sring
            .cast::<u8>()
            .add(64 + ring::slot(idx, ring.size) * core::mem::size_of::<T>())
            .cast()
    }
}

/// Publishes queued requests; notifies the back end when it asked for it.
fn push(sring: *mut SringHeader, ring: &FrontRing, port: u32) {
    // SAFETY: the ring page is ours and shared with the back end; indices are accessed
    // volatile, requests are made visible before `req_prod` and `req_event` is read after.
    let notify = unsafe {
        let old = core::ptr::read_volatile(core::ptr::addr_of!((*sring).req_prod));
        fence(Ordering::Release);
        core::ptr::write_volatile(
            core::ptr::addr_of_mut!((*sring).req_prod),
            ring.req_prod_pvt,
        );
        fence(Ordering::SeqCst);
        let event = core::ptr::read_volatile(core::ptr::addr_of!((*sring).req_event));
        ring::needs_notify(old, ring.req_prod_pvt, event)
    };
    if notify {
        events::send(port);
    }
}

fn rsp_prod(sring: *mut SringHeader) -> u32 {
    // SAFETY: shared ring index written by the back end; read volatile, then an acquire fence
    // orders the entry reads after it.
    let p = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*sring).rsp_prod)) };
    fence(Ordering::Acquire);
    p
}

/// Asks for an event at the next response; true when one arrived meanwhile.
fn arm(sring: *mut SringHeader, ring: &FrontRing) -> bool {
    // SAFETY: as in `push`; `rsp_event` is ours to write.
    unsafe {
        core::ptr::write_volatile(
            core::ptr::addr_of_mut!((*sring).rsp_event),
            ring.rsp_cons.wrapping_add(1),
        );
    }
    fence(Ordering::SeqCst);
    rsp_prod(sring) != ring.rsp_cons
}

impl Net {
    /// Connects to the `index`-th vif of this domain.
    pub(crate) fn connect(index: usize) -> Result<Net, ConnectError> {
        let path = xenbus::device_path("vif", index)?;
        let backend = xenbus::read(&format!("{path}/backend"), "backend")?;
        let backend_id = xenbus::read_u64(&format!("{path}/backend-id"), "backend-id")? as u16;
        let mac_text = xenbus::read(&format!("{path}/mac"), "mac")?;
        let mac = mac_text
            .trim()
            .parse()
            .map_err(|_| ConnectError::Bad("mac", mac_text.clone()))?;
        xenbus::wait_backend_state(&backend, xenbus_state::INIT_WAIT)?;

        let (tx_sring, tx_ref) = new_ring(backend_id)?;
        let (rx_sring, rx_ref) = new_ring(backend_id)?;
        let port = events::alloc_unbound(backend_id)
            .map_err(|rc| ConnectError::Hypercall("evtchn alloc_unbound", rc))?;
        let grant_pages = |n: usize, readonly: bool| {
            (0..n)
                .map(|_| {
                    let p = pages::alloc_page().ok_or(ConnectError::Grants)?;
                    let g = gnttab::grant(backend_id, p as u64, readonly)
                        .map_err(|_| ConnectError::Grants)?;
                    Ok((p, g))
                })
                .collect::<Result<Vec<_>, ConnectError>>()
        };
        let tx_pages = grant_pages(TX_BUFFERS, true)?;
        let rx_pages = grant_pages(RX_BUFFERS, false)?;

        for (key, value) in [
            ("tx-ring-ref", format!("{tx_ref}")),
            ("rx-ring-ref", format!("{rx_ref}")),
            ("event-channel", format!("{port}")),
            ("request-rx-copy", "1".into()),
            ("feature-rx-notify", "1".into()),
            ("feature-sg", "0".into()),
            ("feature-gso-tcpv4", "0".into()),
            // We never see partial checksums: the backend (and dom0's stack) must fill them in,
            // or every TCP segment from dom0 fails the checksum check of our stack.
            ("feature-no-csum-offload", "1".into()),
            ("state", format!("{}", xenbus_state::CONNECTED)),
        ] {
            xenbus::write(&format!("{path}/{key}"), &value, "netfront details")?;
        }
        xenbus::wait_backend_state(&backend, xenbus_state::CONNECTED)?;

        let mut net = Net {
            port,
            mac,
            tx_sring,
            rx_sring,
            tx: FrontRing::new(ring::ring_slots(12)),
            rx: FrontRing::new(ring::ring_slots(8)),
            tx_pages,
            tx_free: (0..TX_BUFFERS as u16).rev().collect(),
            rx_pages,
            dropping: false,
        };
        for id in 0..RX_BUFFERS {
            net.post_rx(id as u16);
        }
        push(net.rx_sring, &net.rx, net.port);
        Ok(net)
    }

    fn post_rx(&mut self, id: u16) {
        let gref = self.rx_pages[id as usize].1;
        let e = entry::<NetifRxRequest>(self.rx_sring, &self.rx, self.rx.req_prod_pvt);
        // SAFETY: `e` is a free request slot of our receive ring (at most RX_BUFFERS requests
        // are ever outstanding, fewer than the ring's slots).
        unsafe { core::ptr::write_volatile(e, NetifRxRequest { id, pad: 0, gref }) };
        self.rx.req_prod_pvt = self.rx.req_prod_pvt.wrapping_add(1);
    }

    fn reap_tx(&mut self) {
        let prod = rsp_prod(self.tx_sring);
        while self.tx.rsp_cons != prod {
            let e = entry::<NetifTxResponse>(self.tx_sring, &self.tx, self.tx.rsp_cons);
            // SAFETY: a response slot the back end published (before `rsp_prod`).
            let rsp = unsafe { core::ptr::read_volatile(e) };
            self.tx.rsp_cons = self.tx.rsp_cons.wrapping_add(1);
            if (rsp.id as usize) < TX_BUFFERS && !self.tx_free.contains(&rsp.id) {
                self.tx_free.push(rsp.id);
            }
        }
    }
}

impl NetDevice for Net {
    fn mac(&self) -> MacAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        MTU
    }

    fn poll_receive(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, NetError>> {
        check_receive_buffer(buf.len(), self.max_frame_len())?;
        loop {
            let prod = rsp_prod(self.rx_sring);
            if self.rx.rsp_cons == prod {
                if arm(self.rx_sring, &self.rx) {
                    continue;
                }
                wait::register(self.port, cx.waker());
                return Poll::Pending;
            }
            let e = entry::<NetifRxResponse>(self.rx_sring, &self.rx, self.rx.rsp_cons);
            // SAFETY: a response slot the back end published (before `rsp_prod`).
            let rsp: NetifRxResponse = unsafe { core::ptr::read_volatile(e) };
            self.rx.rsp_cons = self.rx.rsp_cons.wrapping_add(1);
            let id = rsp.id as usize;
            if id >= RX_BUFFERS {
                continue;
            }
            let multi = rsp.flags & (NETRXF_MORE_DATA | NETRXF_EXTRA_INFO) != 0;
            let was_dropping = core::mem::replace(&mut self.dropping, multi);
            let len = rsp.status.max(0) as usize;
            let offset = rsp.offset as usize;
            let good = !was_dropping
                && !multi
                && rsp.status > 0
                && offset + len <= abi::PAGE_SIZE
                && len <= buf.len();
            if good {
                // SAFETY: the back end has finished with the page (it published the response);
                // `offset + len` was checked to be inside it.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        self.rx_pages[id].0.add(offset),
                        buf.as_mut_ptr(),
                        len,
                    )
                };
            }
            self.post_rx(id as u16);
            push(self.rx_sring, &self.rx, self.port);
            if good {
                return Poll::Ready(Ok(len));
            }
        }
    }

    fn poll_transmit(&mut self, cx: &mut Context<'_>, frame: &[u8]) -> Poll<Result<(), NetError>> {
        check_frame_len(frame.len(), self.max_frame_len())?;
        self.reap_tx();
        let Some(id) = self.tx_free.pop() else {
            if arm(self.tx_sring, &self.tx) {
                cx.waker().wake_by_ref();
            } else {
                wait::register(self.port, cx.waker());
            }
            return Poll::Pending;
        };
        let (page, gref) = self.tx_pages[id as usize];
        // SAFETY: a page of ours not currently lent to the back end (its id was free); the
        // frame is at most MTU + 14 bytes, less than a page.
        unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), page, frame.len()) };
        let e = entry::<NetifTxRequest>(self.tx_sring, &self.tx, self.tx.req_prod_pvt);
        // SAFETY: a free request slot (at most TX_BUFFERS requests are outstanding).
        unsafe {
            core::ptr::write_volatile(
                e,
                NetifTxRequest {
                    gref,
                    offset: 0,
                    flags: 0,
                    id,
                    size: frame.len() as u16,
                },
            )
        };
        self.tx.req_prod_pvt = self.tx.req_prod_pvt.wrapping_add(1);
        push(self.tx_sring, &self.tx, self.port);
        Poll::Ready(Ok(()))
    }
}
