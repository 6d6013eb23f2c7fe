//! A synchronous xenstore client over the xenstore ring (`HVM_PARAM_STORE_PFN`/`_EVTCHN`).
//!
//! One request at a time: write it to the request ring, notify, then sleep in `SCHEDOP_poll`
//! on the store's port until the whole reply is in the response ring. Paths without a leading
//! `/` are relative to the domain's home, `/local/domain/<domid>`.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

use crate::abi::{self, XenstoreInterface};
use crate::xs_msg::{self, HEADER_LEN, Header, MsgType, XsError};
use crate::{clock, console, events, ring};

static RING: AtomicU64 = AtomicU64::new(0);
static PORT: AtomicU32 = AtomicU32::new(0);
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

const SIZE: u32 = 1024;
/// How long one request may take before xenstore counts as unavailable, ns.
pub const REQUEST_TIMEOUT_NS: u64 = 10_000_000_000;

/// Finds the xenstore ring; false when the domain has none (a dom0 without xenstored).
pub fn init() -> bool {
    match (
        console::hvm_param(abi::HVM_PARAM_STORE_PFN),
        console::hvm_param(abi::HVM_PARAM_STORE_EVTCHN),
    ) {
        (Ok(pfn), Ok(port)) if pfn != 0 && pfn < (1 << 20) => {
            PORT.store(port as u32, Ordering::Relaxed);
            RING.store(pfn << 12, Ordering::Release);
            true
        }
        _ => false,
    }
}

fn ring() -> Result<*mut XenstoreInterface, XsError> {
    let r = RING.load(Ordering::Acquire);
    if r == 0 {
        Err(XsError::Unavailable)
    } else {
        Ok(r as *mut XenstoreInterface)
    }
}

fn wait_for_store(deadline: u64) -> Result<(), XsError> {
    let port = PORT.load(Ordering::Relaxed);
    if clock::system_time() >= deadline {
        return Err(XsError::Unavailable);
    }
    events::poll(&[port], deadline);
    events::take_pending(port);
    Ok(())
}

fn send(r: *mut XenstoreInterface, mut msg: &[u8], deadline: u64) -> Result<(), XsError> {
    let port = PORT.load(Ordering::Relaxed);
    while !msg.is_empty() {
        // SAFETY: the ring page is mapped for the program's lifetime; xenstored moves
        // `req_cons` concurrently, hence volatile index accesses and fences around the copy.
        let room = unsafe {
            let cons = core::ptr::read_volatile(core::ptr::addr_of!((*r).req_cons));
            let prod = core::ptr::read_volatile(core::ptr::addr_of!((*r).req_prod));
            fence(Ordering::Acquire);
            let room = ring::free(prod, cons, SIZE);
            if room > 0 {
                let n = ring::contiguous(prod, SIZE, room.min(msg.len() as u32));
                let dst = core::ptr::addr_of_mut!((*r).req)
                    .cast::<u8>()
                    .add(ring::slot(prod, SIZE));
                core::ptr::copy_nonoverlapping(msg.as_ptr(), dst, n as usize);
                fence(Ordering::Release);
                core::ptr::write_volatile(
                    core::ptr::addr_of_mut!((*r).req_prod),
                    prod.wrapping_add(n),
                );
                msg = &msg[n as usize..];
            }
            room
        };
        events::send(port);
        if room == 0 {
            wait_for_store(deadline)?;
        }
    }
    Ok(())
}

/// Copies `out.len()` bytes from the response ring once they are all there.
fn receive(r: *mut XenstoreInterface, out: &mut [u8], deadline: u64) -> Result<(), XsError> {
    let port = PORT.load(Ordering::Relaxed);
    loop {
        // SAFETY: as in `send`, for the response ring and `rsp_prod`.
        let done = unsafe {
            let cons = core::ptr::read_volatile(core::ptr::addr_of!((*r).rsp_cons));
            let prod = core::ptr::read_volatile(core::ptr::addr_of!((*r).rsp_prod));
            fence(Ordering::Acquire);
            if ring::used(prod, cons) as usize >= out.len() {
                let mut idx = cons;
                let mut filled = 0;
                while filled < out.len() {
                    let n = ring::contiguous(idx, SIZE, (out.len() - filled) as u32) as usize;
                    let src = core::ptr::addr_of!((*r).rsp)
                        .cast::<u8>()
                        .add(ring::slot(idx, SIZE));
                    core::ptr::copy_nonoverlapping(src, out[filled..].as_mut_ptr(), n);
                    filled += n;
                    idx = idx.wrapping_add(n as u32);
                }
                fence(Ordering::Release);
                core::ptr::write_volatile(core::ptr::addr_of_mut!((*r).rsp_cons), idx);
                true
            } else {
                false
            }
        };
        if done {
            events::send(port);
            return Ok(());
        }
        wait_for_store(deadline)?;
    }
}

/// Sends one request and returns its reply's payload.
pub fn request(kind: MsgType, args: &[&str], tail: &[u8]) -> Result<Vec<u8>, XsError> {
    let r = ring()?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let msg = xs_msg::encode(kind, id, args, tail)?;
    let deadline = clock::system_time().saturating_add(REQUEST_TIMEOUT_NS);
    send(r, &msg, deadline)?;
    loop {
        let mut head = [0u8; HEADER_LEN];
        receive(r, &mut head, deadline)?;
        let h = Header::decode(&head).ok_or(XsError::Malformed)?;
        let mut payload = vec![0u8; h.len as usize];
        receive(r, &mut payload, deadline)?;
        if h.kind == MsgType::WatchEvent as u32 || h.req_id != id {
            continue;
        }
        xs_msg::check_reply(&h, &payload)?;
        return Ok(payload);
    }
}

/// Reads the value at `path`.
pub fn read(path: &str) -> Result<String, XsError> {
    let v = request(MsgType::Read, &[path], &[])?;
    String::from_utf8(v).map_err(|_| XsError::Malformed)
}

/// Writes `value` at `path`.
pub fn write(path: &str, value: &[u8]) -> Result<(), XsError> {
    request(MsgType::Write, &[path], value).map(drop)
}

/// Lists the children of `path`.
pub fn directory(path: &str) -> Result<Vec<String>, XsError> {
    xs_msg::split_directory(&request(MsgType::Directory, &[path], &[])?)
}
