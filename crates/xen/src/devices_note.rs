//! The application's device declarations in the image's `.morgana.devices` section, written
//! at compile time in the format `morgana_xen_abi::devices` defines, so the build tool can
//! write the matching xl config without running the image.

use morgana_rt::manifest::{Device, DeviceKind};
use morgana_xen_abi::devices::{self as abi, DeviceLine, Encoder};

const fn line(device: &Device) -> DeviceLine<'static> {
    DeviceLine {
        kind: match device.kind {
            DeviceKind::Net => abi::DeviceKind::Net,
            DeviceKind::Block => abi::DeviceKind::Block,
        },
        name: device.name,
    }
}

/// Length in bytes of the encoding of `devices`.
pub const fn encoded_len(devices: &[Device]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < devices.len() {
        len += line(&devices[i]).encoded_len();
        i += 1;
    }
    len
}

/// The encoding of `devices`; `N` must be [`encoded_len`]`(devices)` (checked at compile time
/// when evaluated in a `const` or `static`).
pub const fn encode<const N: usize>(devices: &[Device]) -> [u8; N] {
    let mut encoder = Encoder::<N>::new();
    let mut i = 0;
    while i < devices.len() {
        encoder.push(line(&devices[i]));
        i += 1;
    }
    encoder.finish()
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
        let decoded: Vec<_> = abi::decode(&NOTE).map(Result::unwrap).collect();
        assert_eq!(
            decoded,
            [
                DeviceLine {
                    kind: abi::DeviceKind::Net,
                    name: "service"
                },
                DeviceLine {
                    kind: abi::DeviceKind::Block,
                    name: "storage"
                }
            ]
        );
    }

    #[test]
    fn linker_script_keeps_the_section() {
        let script = include_str!("../link/xen.ld");
        let keep = format!("KEEP(*({}))", abi::SECTION);
        assert!(script.contains(&keep), "xen.ld lacks {keep}");
    }
}
