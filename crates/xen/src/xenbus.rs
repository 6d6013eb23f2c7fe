//! The xenbus handshake helpers shared by netfront and blkfront: reading the back end's
//! details, publishing ours, and waiting for the back end's state.

use alloc::format;
use alloc::string::String;

use crate::xs_msg::XsError;
use crate::{clock, events, xenstore};

/// How long a back end may take to reach a state, ns.
pub const STATE_TIMEOUT_NS: u64 = 20_000_000_000;

/// Why a front end could not connect.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A xenstore operation failed.
    #[error("{0}: {1}")]
    Store(&'static str, XsError),
    /// A value in xenstore was not what the protocol says.
    #[error("unexpected {0} '{1}'")]
    Bad(&'static str, String),
    /// The back end did not reach the state in time.
    #[error("back end did not reach state {0}")]
    Timeout(u32),
    /// A hypercall failed.
    #[error("{0} failed ({1})")]
    Hypercall(&'static str, isize),
    /// Out of grant references.
    #[error("out of grant references")]
    Grants,
}

/// Reads `path` from xenstore.
pub fn read(path: &str, what: &'static str) -> Result<String, ConnectError> {
    xenstore::read(path).map_err(|e| ConnectError::Store(what, e))
}

/// Writes `value` at `path`.
pub fn write(path: &str, value: &str, what: &'static str) -> Result<(), ConnectError> {
    xenstore::write(path, value.as_bytes()).map_err(|e| ConnectError::Store(what, e))
}

/// Reads an integer at `path`.
pub fn read_u64(path: &str, what: &'static str) -> Result<u64, ConnectError> {
    let v = read(path, what)?;
    v.trim().parse().map_err(|_| ConnectError::Bad(what, v))
}

/// The front end's device directory for the `index`-th device of class `class` ("vif",
/// "vbd"), in numeric order of the device ids.
pub fn device_path(class: &str, index: usize) -> Result<String, ConnectError> {
    let mut ids: alloc::vec::Vec<u64> = xenstore::directory(&format!("device/{class}"))
        .map_err(|e| ConnectError::Store("device list", e))?
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    ids.sort_unstable();
    let id = ids
        .get(index)
        .ok_or_else(|| ConnectError::Bad("device count", format!("{} {class}", ids.len())))?;
    Ok(format!("device/{class}/{id}"))
}

/// Sleeps briefly between two looks at xenstore (no watch is used: a short nap in
/// `SCHEDOP_poll` with no ports).
fn nap() {
    events::poll(&[], clock::system_time() + 5_000_000);
}

/// Waits until the back end at `backend` reaches at least `state`; returns the state seen.
pub fn wait_backend_state(backend: &str, state: u32) -> Result<u32, ConnectError> {
    let deadline = clock::system_time() + STATE_TIMEOUT_NS;
    let path = format!("{backend}/state");
    loop {
        if let Ok(s) = xenstore::read(&path)
            && let Ok(s) = s.trim().parse::<u32>()
            && s >= state
        {
            return Ok(s);
        }
        if clock::system_time() >= deadline {
            return Err(ConnectError::Timeout(state));
        }
        nap();
    }
}
