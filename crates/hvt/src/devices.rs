//! The device table: the devices bound at boot, until the application acquires them.
//!
//! [`crate::boot`] fills the table once, before the application starts, from the tender's
//! manifest copy; the application takes each device out of it once, by its declaration. The
//! kind check against the declaration is the runtime's ([`Bindings`]).

use core::cell::RefCell;

use critical_section::Mutex;
use morgana_rt::manifest::{Bindings, Device, DeviceError};

use crate::block::Block;
use crate::net::Net;

static TABLE: Mutex<RefCell<Bindings<Net, Block>>> = Mutex::new(RefCell::new(Bindings::empty()));

/// Replaces the table with the devices bound at boot.
pub(crate) fn install(bound: Bindings<Net, Block>) {
    critical_section::with(|cs| *TABLE.borrow_ref_mut(cs) = bound);
}

/// Acquires the declared net device `device`, attached with the tender's `--net:NAME=TAP`.
pub fn acquire_net(device: Device) -> Result<Net, DeviceError> {
    critical_section::with(|cs| TABLE.borrow_ref_mut(cs).take_net(device))
}

/// Acquires the declared block device `device`, attached with the tender's
/// `--block:NAME=FILE`.
pub fn acquire_block(device: Device) -> Result<Block, DeviceError> {
    critical_section::with(|cs| TABLE.borrow_ref_mut(cs).take_block(device))
}
