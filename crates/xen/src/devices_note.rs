//! The application's device declarations as bytes in the image's `.morgana.devices` section,
//! so the build tool can write the matching xl config (`vif` and `disk` lines) without running
//! the image: one `KIND:NAME\n` line per device, in declaration order.

use morgana_rt::manifest::{Device, DeviceKind};

const fn kind_name(kind: DeviceKind) -> &'static [u8] {
    match kind {
        DeviceKind::Net => b"net",
        DeviceKind::Block => b"block",
    }
}

/// Length in bytes of the encoding of `devices`.
pub const fn encoded_len(devices: &[Device]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < devices.len() {
        len += kind_name(devices[i].kind).len() + 1 + devices[i].name.len() + 1;
        i += 1;
    }
    len
}

/// The encoding of `devices`; `N` must be [`encoded_len`]`(devices)` (checked at compile time
/// when evaluated in a `const` or `static`).
pub const fn encode<const N: usize>(devices: &[Device]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    let mut i = 0;
    while i < devices.len() {
        at = put(&mut out, at, kind_name(devices[i].kind));
        at = put(&mut out, at, b":");
        at = put(&mut out, at, devices[i].name.as_bytes());
        at = put(&mut out, at, b"\n");
        i += 1;
    }
    if at != N {
        panic!("device note length mismatch");
    }
    out
}

const fn put<const N: usize>(out: &mut [u8; N], mut at: usize, bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        out[at] = bytes[i];
        at += 1;
        i += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICES: &[Device] = &[Device::net("service"), Device::block("storage")];
    const NOTE: [u8; encoded_len(DEVICES)] = encode(DEVICES);

    #[test]
    fn one_line_per_device_in_order() {
        assert_eq!(&NOTE, b"net:service\nblock:storage\n");
        assert_eq!(encoded_len(&[]), 0);
    }
}
