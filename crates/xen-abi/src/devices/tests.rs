use super::*;

const LINES: &[DeviceLine<'static>] = &[
    DeviceLine {
        kind: DeviceKind::Net,
        name: "service",
    },
    DeviceLine {
        kind: DeviceKind::Block,
        name: "storage",
    },
];
// Evaluated at compile time, as the facade's macro does: a wrong length would not build.
const NOTE: [u8; encoded_len(LINES)] = encode(LINES);

fn decoded(bytes: &[u8]) -> Result<Vec<DeviceLine<'_>>, DecodeError> {
    decode(bytes).collect()
}

#[test]
fn one_line_per_device_in_order() {
    assert_eq!(&NOTE, b"net:service\nblock:storage\n");
    assert_eq!(encoded_len(LINES), 26);
    assert_eq!(encoded_len(&[]), 0);
    assert_eq!(encode::<0>(&[]), []);
}

#[test]
fn encoding_decodes_to_the_same_lines() {
    assert_eq!(decoded(&NOTE).unwrap(), LINES);
    let one = [DeviceLine {
        kind: DeviceKind::Block,
        name: "a:b",
    }];
    let bytes: [u8; 10] = encode(&one);
    assert_eq!(&bytes, b"block:a:b\n");
    assert_eq!(decoded(&bytes).unwrap(), one);
}

#[test]
fn encoder_builds_line_by_line() {
    let mut encoder = Encoder::<8>::new();
    encoder.push(DeviceLine {
        kind: DeviceKind::Net,
        name: "eth",
    });
    assert_eq!(&encoder.finish(), b"net:eth\n");
}

#[test]
#[should_panic(expected = "device list: shorter than its declared length")]
fn encoder_refuses_a_short_list() {
    let _: [u8; 27] = encode(LINES);
}

#[test]
#[should_panic(expected = "device list: longer than its declared length")]
fn encoder_refuses_a_long_list() {
    let _: [u8; 25] = encode(LINES);
}

#[test]
#[should_panic(expected = "device list: empty device name")]
fn encoder_refuses_an_empty_name() {
    let _: [u8; 5] = encode(&[DeviceLine {
        kind: DeviceKind::Net,
        name: "",
    }]);
}

#[test]
#[should_panic(expected = "device list: newline in a device name")]
fn encoder_refuses_a_newline_in_a_name() {
    let _: [u8; 7] = encode(&[DeviceLine {
        kind: DeviceKind::Net,
        name: "a\n",
    }]);
}

#[test]
fn kinds_have_their_names() {
    assert_eq!(DeviceKind::Net.name(), "net");
    assert_eq!(DeviceKind::Block.to_string(), "block");
    assert_eq!(DeviceKind::from_name("block"), Some(DeviceKind::Block));
    assert_eq!(DeviceKind::from_name("Net"), None);
    assert_eq!(SECTION, ".morgana.devices");
}

#[test]
fn empty_list_has_no_lines() {
    assert_eq!(decoded(b"").unwrap(), []);
}

#[test]
fn malformed_lines_are_refused_with_their_number() {
    assert_eq!(
        decoded(b"tape:x\n"),
        Err(DecodeError::UnknownKind { line: 1 })
    );
    assert_eq!(
        decoded(b"net\n"),
        Err(DecodeError::MissingColon { line: 1 })
    );
    assert_eq!(
        decoded(b"net:a\nblock:\n"),
        Err(DecodeError::EmptyName { line: 2 })
    );
    assert_eq!(
        decoded(b"net:a\nblock:\xff\n"),
        Err(DecodeError::NotUtf8 { line: 2 })
    );
    assert_eq!(
        decoded(b"net:a"),
        Err(DecodeError::Unterminated { line: 1 })
    );
    assert_eq!(decoded(b"\n"), Err(DecodeError::MissingColon { line: 1 }));
    assert_eq!(decoded(b":x\n"), Err(DecodeError::UnknownKind { line: 1 }));
    // Padding is not part of the format.
    assert_eq!(
        decoded(b"net:a\n\0\0"),
        Err(DecodeError::Unterminated { line: 2 })
    );
}

#[test]
fn decoding_stops_at_the_first_error() {
    let mut lines = decode(b"net:a\nbad\nblock:b\n");
    assert_eq!(
        lines.next(),
        Some(Ok(DeviceLine {
            kind: DeviceKind::Net,
            name: "a"
        }))
    );
    assert_eq!(
        lines.next(),
        Some(Err(DecodeError::MissingColon { line: 2 }))
    );
    assert_eq!(lines.next(), None);
}

#[test]
fn errors_say_which_line() {
    assert_eq!(
        DecodeError::UnknownKind { line: 3 }.to_string(),
        "line 3: unknown device kind (net or block expected)"
    );
    assert_eq!(
        DecodeError::Unterminated { line: 1 }.to_string(),
        "line 1: no newline at its end (list cut short)"
    );
}
