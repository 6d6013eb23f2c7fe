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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// The device is not of the kind asked for.
    #[error("device '{name}' is a {declared} device")]
    WrongKind {
        /// The device's name.
        name: &'static str,
        /// The kind it was declared with.
        declared: DeviceKind,
    },
    /// The device was acquired before; each device has one owner.
    #[error("device '{name}' was already acquired")]
    AlreadyAcquired {
        /// The device's name.
        name: &'static str,
    },
    /// The application did not declare the device.
    #[error("device '{name}' is not declared")]
    NotDeclared {
        /// The device's name.
        name: &'static str,
    },
}

/// A bound device's place in [`Bindings`]: its kind is the declaration's, so a net device is
/// only ever handed out as an `N` and a block device as a `B`.
#[derive(Debug)]
enum Slot<N, B> {
    Net(Option<N>),
    Block(Option<B>),
}

/// The devices a backend bound at boot, each waiting to be acquired once, typed by kind.
///
/// `N` and `B` are the backend's net and block device types. The table is built from the
/// declaration list with [`bind`](Bindings::bind), which opens each declared device with the
/// opener of its declared kind, so a device can only be bound as what it was declared as; the
/// kind an application asks for is checked here, against the declaration, by
/// [`take_net`](Bindings::take_net) and [`take_block`](Bindings::take_block).
#[derive(Debug)]
pub struct Bindings<N, B> {
    entries: alloc::vec::Vec<(Device, Slot<N, B>)>,
}

impl<N, B> Bindings<N, B> {
    /// A table with nothing bound: every device is [`DeviceError::NotDeclared`].
    pub const fn empty() -> Self {
        Bindings {
            entries: alloc::vec::Vec::new(),
        }
    }

    /// Opens every device of `declared`, in order, with `open_net` or `open_block` according to
    /// its declared kind, and keeps them for acquisition.
    ///
    /// Stops at the first opener error and returns it; the devices opened before it are
    /// dropped.
    pub fn bind<E>(
        declared: &[Device],
        mut open_net: impl FnMut(Device) -> Result<N, E>,
        mut open_block: impl FnMut(Device) -> Result<B, E>,
    ) -> Result<Self, E> {
        let mut entries = alloc::vec::Vec::with_capacity(declared.len());
        for &device in declared {
            let slot = match device.kind {
                DeviceKind::Net => Slot::Net(Some(open_net(device)?)),
                DeviceKind::Block => Slot::Block(Some(open_block(device)?)),
            };
            entries.push((device, slot));
        }
        Ok(Bindings { entries })
    }

    fn entry(&mut self, device: Device) -> Result<&mut (Device, Slot<N, B>), DeviceError> {
        self.entries
            .iter_mut()
            .find(|(d, _)| d.name == device.name)
            .ok_or(DeviceError::NotDeclared { name: device.name })
    }

    /// Takes the net device `device` out of the table; an error if it is not declared, was
    /// declared as a block device, or was taken before.
    pub fn take_net(&mut self, device: Device) -> Result<N, DeviceError> {
        match self.entry(device)? {
            (decl, Slot::Net(net)) => net
                .take()
                .ok_or(DeviceError::AlreadyAcquired { name: decl.name }),
            (decl, Slot::Block(_)) => Err(DeviceError::WrongKind {
                name: decl.name,
                declared: DeviceKind::Block,
            }),
        }
    }

    /// Takes the block device `device` out of the table; an error if it is not declared, was
    /// declared as a net device, or was taken before.
    pub fn take_block(&mut self, device: Device) -> Result<B, DeviceError> {
        match self.entry(device)? {
            (decl, Slot::Block(block)) => block
                .take()
                .ok_or(DeviceError::AlreadyAcquired { name: decl.name }),
            (decl, Slot::Net(_)) => Err(DeviceError::WrongKind {
                name: decl.name,
                declared: DeviceKind::Net,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET: Device = Device::net("service");
    const DISK: Device = Device::block("storage");
    const DECLARED: &[Device] = &[NET, DISK];

    /// Binds `DECLARED` with openers that record what they were asked to open.
    fn bound() -> (Bindings<&'static str, u32>, alloc::vec::Vec<&'static str>) {
        let opened = core::cell::RefCell::new(alloc::vec::Vec::new());
        let table = Bindings::bind(
            DECLARED,
            |d| -> Result<_, ()> {
                opened.borrow_mut().push(d.name);
                Ok("tap0")
            },
            |d| {
                opened.borrow_mut().push(d.name);
                Ok(4096)
            },
        )
        .unwrap();
        (table, opened.into_inner())
    }

    #[test]
    fn bind_opens_each_declared_device_by_its_kind_in_order() {
        let (_, opened) = bound();
        assert_eq!(opened, ["service", "storage"]);
    }

    #[test]
    fn bind_stops_at_the_first_error() {
        let mut blocks_opened = 0;
        let result = Bindings::<(), ()>::bind(
            DECLARED,
            |d| Err(d.name),
            |_| {
                blocks_opened += 1;
                Ok(())
            },
        );
        assert_eq!(result.err(), Some("service"));
        assert_eq!(blocks_opened, 0);
    }

    #[test]
    fn take_checks_the_declared_kind() {
        let (mut b, _) = bound();
        assert_eq!(
            b.take_net(DISK),
            Err(DeviceError::WrongKind {
                name: "storage",
                declared: DeviceKind::Block
            })
        );
        assert_eq!(
            b.take_block(NET),
            Err(DeviceError::WrongKind {
                name: "service",
                declared: DeviceKind::Net
            })
        );
        // A failed take leaves the device in place.
        assert_eq!(b.take_block(DISK), Ok(4096));
        assert_eq!(b.take_net(NET), Ok("tap0"));
    }

    #[test]
    fn take_hands_out_each_device_once() {
        let (mut b, _) = bound();
        assert_eq!(b.take_block(DISK), Ok(4096));
        assert_eq!(
            b.take_block(DISK),
            Err(DeviceError::AlreadyAcquired { name: "storage" })
        );
        assert_eq!(b.take_net(NET), Ok("tap0"));
        assert_eq!(
            b.take_net(NET),
            Err(DeviceError::AlreadyAcquired { name: "service" })
        );
    }

    #[test]
    fn take_refuses_undeclared_devices() {
        let (mut b, _) = bound();
        assert_eq!(
            b.take_net(Device::net("other")),
            Err(DeviceError::NotDeclared { name: "other" })
        );
        assert_eq!(
            Bindings::<(), ()>::empty().take_block(DISK),
            Err(DeviceError::NotDeclared { name: "storage" })
        );
    }

    #[test]
    fn device_errors_name_the_device() {
        let (mut b, _) = bound();
        let message = |e: DeviceError| alloc::format!("{e}");
        assert_eq!(
            message(b.take_net(DISK).unwrap_err()),
            "device 'storage' is a block device"
        );
        b.take_net(NET).unwrap();
        assert_eq!(
            message(b.take_net(NET).unwrap_err()),
            "device 'service' was already acquired"
        );
        assert_eq!(
            message(b.take_net(Device::net("x")).unwrap_err()),
            "device 'x' is not declared"
        );
    }

    #[test]
    fn declarations_accept_valid_lists() {
        const DEVICES: &[Device] = &[Device::net("service"), Device::block("storage")];
        const _: () = check_devices(DEVICES);
        assert_eq!(DEVICES[1].kind, DeviceKind::Block);
    }
}
