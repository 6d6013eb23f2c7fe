//! Device declarations: the one list of devices an application uses.
//!
//! An application declares each device once, with a name and a kind (the facade's `main!`
//! macro does it). The list becomes the hvt image's manifest note and is what backends check
//! the command line's `--net:NAME=` / `--block:NAME=` bindings against; the application then
//! acquires each device by its declaration.

use core::fmt;

/// The kinds of device an application can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// An Ethernet device (`--net:NAME=`).
    Net,
    /// A block device (`--block:NAME=`).
    Block,
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceKind::Net => "net",
            DeviceKind::Block => "block",
        })
    }
}

/// One declared device: its name and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// The name bound on the command line and stored in the manifest: 1 to 67 ASCII letters or
    /// digits.
    pub name: &'static str,
    /// What kind of device it is.
    pub kind: DeviceKind,
}

/// The most devices one application may declare (the hvt manifest's limit).
pub const MAX_DEVICES: usize = 63;
/// The longest device name, in bytes.
pub const MAX_NAME_LEN: usize = 67;

impl Device {
    /// Declares an Ethernet device; an invalid name fails at compile time in a `const`.
    pub const fn net(name: &'static str) -> Self {
        check_name(name);
        Device {
            name,
            kind: DeviceKind::Net,
        }
    }

    /// Declares a block device; an invalid name fails at compile time in a `const`.
    pub const fn block(name: &'static str) -> Self {
        check_name(name);
        Device {
            name,
            kind: DeviceKind::Block,
        }
    }
}

const fn check_name(name: &str) {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_NAME_LEN {
        panic!("device names must be 1 to 67 characters long");
    }
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            panic!("device names may contain only ASCII letters and digits");
        }
        i += 1;
    }
}

/// Checks a whole declaration list: at most 63 devices, no name twice. Fails at compile time
/// when evaluated in a `const`.
pub const fn check_devices(devices: &[Device]) {
    if devices.len() > MAX_DEVICES {
        panic!("too many devices declared: the maximum is 63");
    }
    let mut i = 0;
    while i < devices.len() {
        let mut j = i + 1;
        while j < devices.len() {
            if str_eq(devices[i].name, devices[j].name) {
                panic!("a device name is declared twice");
            }
            j += 1;
        }
        i += 1;
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Why a device could not be acquired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceError {
    /// The device is not of the kind asked for.
    WrongKind {
        /// The device's name.
        name: &'static str,
        /// The kind it was declared with.
        declared: DeviceKind,
    },
    /// The device was acquired before; each device has one owner.
    AlreadyAcquired {
        /// The device's name.
        name: &'static str,
    },
    /// The application did not declare the device.
    NotDeclared {
        /// The device's name.
        name: &'static str,
    },
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::WrongKind { name, declared } => {
                write!(f, "device '{name}' is a {declared} device")
            }
            DeviceError::AlreadyAcquired { name } => {
                write!(f, "device '{name}' was already acquired")
            }
            DeviceError::NotDeclared { name } => write!(f, "device '{name}' is not declared"),
        }
    }
}

impl core::error::Error for DeviceError {}

/// The devices a backend bound at boot, each waiting to be acquired once.
///
/// Backends keep their opened devices here, in declaration order, and hand each out to the
/// first [`take`](Bindings::take) that names it with the right kind.
#[derive(Debug)]
pub struct Bindings<T> {
    entries: alloc::vec::Vec<(Device, Option<T>)>,
}

impl<T> Bindings<T> {
    /// A table with nothing bound.
    pub const fn empty() -> Self {
        Bindings {
            entries: alloc::vec::Vec::new(),
        }
    }

    /// A table of opened devices with their declarations.
    pub fn new(bound: impl IntoIterator<Item = (Device, T)>) -> Self {
        Bindings {
            entries: bound.into_iter().map(|(d, t)| (d, Some(t))).collect(),
        }
    }

    /// Takes `device` out of the table; an error if it is not declared, not of `kind`, or was
    /// taken before.
    pub fn take(&mut self, device: Device, kind: DeviceKind) -> Result<T, DeviceError> {
        let Some((decl, slot)) = self.entries.iter_mut().find(|(d, _)| d.name == device.name)
        else {
            return Err(DeviceError::NotDeclared { name: device.name });
        };
        if decl.kind != kind {
            return Err(DeviceError::WrongKind {
                name: decl.name,
                declared: decl.kind,
            });
        }
        slot.take()
            .ok_or(DeviceError::AlreadyAcquired { name: decl.name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_hand_out_each_device_once_and_check_kind() {
        const NET: Device = Device::net("service");
        const DISK: Device = Device::block("storage");
        let mut b = Bindings::new([(NET, 1), (DISK, 2)]);
        assert_eq!(
            b.take(DISK, DeviceKind::Net),
            Err(DeviceError::WrongKind {
                name: "storage",
                declared: DeviceKind::Block
            })
        );
        assert_eq!(b.take(DISK, DeviceKind::Block), Ok(2));
        assert_eq!(
            b.take(DISK, DeviceKind::Block),
            Err(DeviceError::AlreadyAcquired { name: "storage" })
        );
        assert_eq!(
            b.take(Device::net("other"), DeviceKind::Net),
            Err(DeviceError::NotDeclared { name: "other" })
        );
        assert_eq!(b.take(NET, DeviceKind::Net), Ok(1));
    }

    #[test]
    fn declarations_accept_valid_lists() {
        const DEVICES: &[Device] = &[Device::net("service"), Device::block("storage")];
        const _: () = check_devices(DEVICES);
        assert_eq!(DEVICES[1].kind, DeviceKind::Block);
    }
}
