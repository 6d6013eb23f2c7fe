//! The device table: the application's declaration, the tender's manifest copy, and which
//! devices were acquired.

use core::cell::RefCell;

use critical_section::Mutex;
use morgana_rt::manifest::{Device, DeviceError, DeviceKind};

use crate::console::abort;
use crate::mft;
use morgana_hvt_abi::mft::MftEntry;

struct Table {
    declared: &'static [Device],
    manifest: &'static [MftEntry],
    /// Bit `h` set once handle `h` was acquired.
    acquired: u64,
}

static TABLE: Mutex<RefCell<Option<Table>>> = Mutex::new(RefCell::new(None));

/// Installs the table at boot; `manifest` is the validated copy from the tender.
pub(crate) fn install(declared: &'static [Device], manifest: &'static [MftEntry]) {
    critical_section::with(|cs| {
        *TABLE.borrow_ref_mut(cs) = Some(Table {
            declared,
            manifest,
            acquired: 0,
        })
    });
}

/// Acquires `device` as a `kind` device: its handle and the tender's entry for it.
///
/// Errors for what the application got wrong; aborts for what the tender got wrong (a
/// declared device missing from its manifest copy, or not attached).
pub(crate) fn acquire(device: Device, kind: DeviceKind) -> Result<(u64, MftEntry), DeviceError> {
    let found = critical_section::with(|cs| {
        let mut table = TABLE.borrow_ref_mut(cs);
        let Some(table) = table.as_mut() else {
            abort(format_args!("devices acquired before boot"))
        };
        let Some(decl) = table.declared.iter().find(|d| d.name == device.name) else {
            return Err(DeviceError::NotDeclared { name: device.name });
        };
        if decl.kind != kind {
            return Err(DeviceError::WrongKind {
                name: decl.name,
                declared: decl.kind,
            });
        }
        let Some((handle, entry)) = mft::find(table.manifest, decl.name) else {
            abort(format_args!(
                "device '{}' is missing from the tender's manifest",
                decl.name
            ))
        };
        if entry.kind != mft::entry_kind(kind) {
            abort(format_args!(
                "device '{}' has type {:#x} in the tender's manifest, expected a {kind} device",
                decl.name, entry.kind
            ))
        }
        if entry.attached == 0 {
            abort(format_args!(
                "device '{}' of type {kind} declared but not attached",
                decl.name
            ))
        }
        if table.acquired & (1 << handle) != 0 {
            return Err(DeviceError::AlreadyAcquired { name: decl.name });
        }
        table.acquired |= 1 << handle;
        Ok((handle as u64, *entry))
    })?;
    crate::console::log(
        crate::cmdline::LogLevel::Debug,
        format_args!("{kind} device '{}' is handle {}", device.name, found.0),
    );
    Ok(found)
}
