//! blkfront: a Xen vbd behind [`morgana_block::BlockDevice`].
//!
//! One ring page, one event channel and one granted data page: each request moves one page
//! (eight 512-byte sectors) at most, and one request is in flight at a time.

use alloc::format;
use core::future::poll_fn;
use core::sync::atomic::{Ordering, fence};
use core::task::Poll;

use morgana_block::{BlockDevice, BlockError, BlockInfo, check_request};

use crate::abi::{
    BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_READ, BLKIF_OP_WRITE, BlkifRequest, BlkifResponse,
    BlkifSegment, PAGE_SIZE, SringHeader, xenbus_state,
};
use crate::ring::{self, FrontRing};
use crate::xenbus::{self, ConnectError};
use crate::{events, gnttab, pages, wait};

/// A connected blkfront device.
#[derive(Debug)]
pub struct Block {
    port: u32,
    handle: u16,
    sring: *mut SringHeader,
    ring: FrontRing,
    data: *mut u8,
    data_ref: u32,
    info: BlockInfo,
    flush: bool,
    next_id: u64,
}

// SAFETY: the raw pointers are to pages this device owns alone; the unikernel has one vCPU.
unsafe impl Send for Block {}

impl Block {
    /// Connects to the `index`-th vbd of this domain.
    pub(crate) fn connect(index: usize) -> Result<Block, ConnectError> {
        let path = xenbus::device_path("vbd", index)?;
        let handle = path
            .rsplit('/')
            .next()
            .and_then(|id| id.parse::<u16>().ok())
            .ok_or_else(|| ConnectError::Bad("vbd id", path.clone()))?;
        let backend = xenbus::read(&format!("{path}/backend"), "backend")?;
        let backend_id = xenbus::read_u64(&format!("{path}/backend-id"), "backend-id")? as u16;
        xenbus::wait_backend_state(&backend, xenbus_state::INIT_WAIT)?;

        let page = pages::alloc_page().ok_or(ConnectError::Grants)?;
        let sring = page.cast::<SringHeader>();
        // SAFETY: a fresh, zeroed page we own; SHARED_RING_INIT sets both event indices to 1.
        unsafe {
            (*sring).req_event = 1;
            (*sring).rsp_event = 1;
        }
        let ring_ref =
            gnttab::grant(backend_id, page as u64, false).map_err(|_| ConnectError::Grants)?;
        let data = pages::alloc_page().ok_or(ConnectError::Grants)?;
        let data_ref =
            gnttab::grant(backend_id, data as u64, false).map_err(|_| ConnectError::Grants)?;
        let port = events::alloc_unbound(backend_id)
            .map_err(|rc| ConnectError::Hypercall("evtchn alloc_unbound", rc))?;
        for (key, value) in [
            ("ring-ref", format!("{ring_ref}")),
            ("event-channel", format!("{port}")),
            ("protocol", "x86_64-abi".into()),
            ("state", format!("{}", xenbus_state::INITIALISED)),
        ] {
            xenbus::write(&format!("{path}/{key}"), &value, "blkfront details")?;
        }
        xenbus::wait_backend_state(&backend, xenbus_state::CONNECTED)?;
        let sectors = xenbus::read_u64(&format!("{backend}/sectors"), "sectors")?;
        let sector_size =
            xenbus::read_u64(&format!("{backend}/sector-size"), "sector-size").unwrap_or(512);
        let sector_size = u32::try_from(sector_size)
            .ok()
            .filter(|s| *s >= 512 && s.is_power_of_two() && *s as usize <= PAGE_SIZE)
            .ok_or_else(|| ConnectError::Bad("sector-size", format!("{sector_size}")))?;
        let read_only = xenbus::read(&format!("{backend}/mode"), "mode").is_ok_and(|m| m == "r");
        let flush = xenbus::read(&format!("{backend}/feature-flush-cache"), "flush")
            .is_ok_and(|v| v.trim() == "1");
        xenbus::write(
            &format!("{path}/state"),
            &format!("{}", xenbus_state::CONNECTED),
            "blkfront state",
        )?;
        Ok(Block {
            port,
            handle,
            sring,
            ring: FrontRing::new(ring::ring_slots(112)),
            data,
            data_ref,
            info: BlockInfo {
                capacity: sectors.saturating_mul(u64::from(sector_size)),
                sector_size,
                read_only,
            },
            flush,
            next_id: 0,
        })
    }

    /// Sends one request for `sectors` 512-byte sectors at `sector` through the data page and
    /// waits for its response.
    async fn transfer(
        &mut self,
        operation: u8,
        sector: u64,
        sectors: u8,
    ) -> Result<(), BlockError> {
        self.next_id = self.next_id.wrapping_add(1);
        let id = self.next_id;
        let mut req = BlkifRequest {
            operation,
            nr_segments: if sectors > 0 { 1 } else { 0 },
            handle: self.handle,
            id,
            sector_number: sector,
            ..Default::default()
        };
        if sectors > 0 {
            req.seg[0] = BlkifSegment {
                gref: self.data_ref,
                first_sect: 0,
                last_sect: sectors - 1,
                pad: 0,
            };
        }
        // SAFETY: the slot at `req_prod_pvt` is free (one request in flight at most); entries
        // start after the 64-byte header and fit the page.
        unsafe {
            let e = self
                .sring
                .cast::<u8>()
                .add(64 + ring::slot(self.ring.req_prod_pvt, self.ring.size) * 112)
                .cast::<BlkifRequest>();
            core::ptr::write_volatile(e, req);
            self.ring.req_prod_pvt = self.ring.req_prod_pvt.wrapping_add(1);
            let old = core::ptr::read_volatile(core::ptr::addr_of!((*self.sring).req_prod));
            fence(Ordering::Release);
            core::ptr::write_volatile(
                core::ptr::addr_of_mut!((*self.sring).req_prod),
                self.ring.req_prod_pvt,
            );
            fence(Ordering::SeqCst);
            let event = core::ptr::read_volatile(core::ptr::addr_of!((*self.sring).req_event));
            if ring::needs_notify(old, self.ring.req_prod_pvt, event) {
                events::send(self.port);
            }
        }
        let status = poll_fn(|cx| {
            loop {
                // SAFETY: shared indices read volatile; response entries are read only below
                // `rsp_prod`, after an acquire fence.
                unsafe {
                    let prod =
                        core::ptr::read_volatile(core::ptr::addr_of!((*self.sring).rsp_prod));
                    fence(Ordering::Acquire);
                    if self.ring.rsp_cons != prod {
                        let e = self
                            .sring
                            .cast::<u8>()
                            .add(64 + ring::slot(self.ring.rsp_cons, self.ring.size) * 112)
                            .cast::<BlkifResponse>();
                        let rsp = core::ptr::read_volatile(e);
                        self.ring.rsp_cons = self.ring.rsp_cons.wrapping_add(1);
                        if rsp.id == id {
                            return Poll::Ready(rsp.status);
                        }
                        continue;
                    }
                    core::ptr::write_volatile(
                        core::ptr::addr_of_mut!((*self.sring).rsp_event),
                        self.ring.rsp_cons.wrapping_add(1),
                    );
                    fence(Ordering::SeqCst);
                    if core::ptr::read_volatile(core::ptr::addr_of!((*self.sring).rsp_prod))
                        != self.ring.rsp_cons
                    {
                        continue;
                    }
                }
                wait::register(self.port, cx.waker());
                return Poll::Pending;
            }
        })
        .await;
        if status == 0 {
            Ok(())
        } else {
            Err(BlockError::Device(i32::from(status)))
        }
    }
}

impl BlockDevice for Block {
    fn info(&self) -> BlockInfo {
        self.info
    }

    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), false)?;
        let mut at = offset;
        for chunk in buf.chunks_mut(PAGE_SIZE) {
            self.transfer(BLKIF_OP_READ, at / 512, (chunk.len() / 512) as u8)
                .await?;
            // SAFETY: the back end completed the read into the data page; `chunk` is at most
            // a page long.
            unsafe { core::ptr::copy_nonoverlapping(self.data, chunk.as_mut_ptr(), chunk.len()) };
            at += chunk.len() as u64;
        }
        Ok(())
    }

    async fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), true)?;
        let mut at = offset;
        for chunk in buf.chunks(PAGE_SIZE) {
            // SAFETY: no request is in flight, so the data page is ours; `chunk` fits in it.
            unsafe { core::ptr::copy_nonoverlapping(chunk.as_ptr(), self.data, chunk.len()) };
            self.transfer(BLKIF_OP_WRITE, at / 512, (chunk.len() / 512) as u8)
                .await?;
            at += chunk.len() as u64;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), BlockError> {
        if self.info.read_only || !self.flush {
            return Ok(());
        }
        self.transfer(BLKIF_OP_FLUSH_DISKCACHE, 0, 0).await
    }
}
