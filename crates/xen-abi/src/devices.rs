//! The `.morgana.devices` section: the devices the application declares, so that the build
//! tool can write the matching xl config (`vif` and `disk` lines) without running the image.
//!
//! The section holds one line per device, in declaration order, and nothing else (no header,
//! no padding):
//!
//! ```text
//! KIND:NAME\n
//! ```
//!
//! `KIND` is `net` or `block` ([`DeviceKind`]); `NAME` is non-empty UTF-8 without a newline
//! (the runtime allows only ASCII letters and digits, a stricter rule this format does not
//! need). The first `:` ends the kind. Every line ends with `\n`, so a list whose last line
//! lacks it was cut short. No devices is an empty section (or none at all).
//!
//! The guest writes the section at compile time with [`encode`] or an [`Encoder`], both
//! `const fn`; the host reads it with [`decode`].

use core::fmt;

/// The name of the ELF section that holds the list.
pub const SECTION: &str = ".morgana.devices";

/// The kinds of device a line can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// An Ethernet device: `net`, a `vif` in the xl config.
    Net,
    /// A block device: `block`, a `disk` in the xl config.
    Block,
}

impl DeviceKind {
    /// The kind as written in a line: `net` or `block`.
    pub const fn name(self) -> &'static str {
        match self {
            DeviceKind::Net => "net",
            DeviceKind::Block => "block",
        }
    }

    /// The kind written `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "net" => Some(DeviceKind::Net),
            "block" => Some(DeviceKind::Block),
            _ => None,
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of the list: a declared device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceLine<'a> {
    /// What kind of device it is.
    pub kind: DeviceKind,
    /// Its name: non-empty, no newline.
    pub name: &'a str,
}

impl DeviceLine<'_> {
    /// Length of the line in bytes, newline included.
    pub const fn encoded_len(&self) -> usize {
        self.kind.name().len() + 1 + self.name.len() + 1
    }
}

/// Length in bytes of the encoding of `lines`.
pub const fn encoded_len(lines: &[DeviceLine<'_>]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < lines.len() {
        len += lines[i].encoded_len();
        i += 1;
    }
    len
}

/// The encoding of `lines`. `N` must be [`encoded_len`]`(lines)`; a wrong `N` or an invalid
/// name (empty, or with a newline) panics, which fails the build when the result initialises a
/// `const` or `static`.
pub const fn encode<const N: usize>(lines: &[DeviceLine<'_>]) -> [u8; N] {
    let mut encoder = Encoder::<N>::new();
    let mut i = 0;
    while i < lines.len() {
        encoder.push(lines[i]);
        i += 1;
    }
    encoder.finish()
}

/// Writes the list one line at a time into exactly `N` bytes, for callers that hold their
/// devices in another type and convert each to a [`DeviceLine`] (a `const fn` cannot take an
/// iterator). Misuse panics, which fails the build in a `const` context.
#[derive(Debug, Clone)]
pub struct Encoder<const N: usize> {
    out: [u8; N],
    at: usize,
}

impl<const N: usize> Encoder<N> {
    /// An encoder with nothing written.
    pub const fn new() -> Self {
        Encoder { out: [0; N], at: 0 }
    }

    /// Appends `line`; panics if its name is empty or holds a newline, or if it does not fit in
    /// `N` bytes.
    pub const fn push(&mut self, line: DeviceLine<'_>) {
        let name = line.name.as_bytes();
        if name.is_empty() {
            panic!("device list: empty device name");
        }
        let mut i = 0;
        while i < name.len() {
            if name[i] == b'\n' {
                panic!("device list: newline in a device name");
            }
            i += 1;
        }
        if line.encoded_len() > N - self.at {
            panic!("device list: longer than its declared length");
        }
        self.put(line.kind.name().as_bytes());
        self.put(b":");
        self.put(name);
        self.put(b"\n");
    }

    /// The encoding; panics unless exactly `N` bytes were written.
    pub const fn finish(self) -> [u8; N] {
        if self.at != N {
            panic!("device list: shorter than its declared length");
        }
        self.out
    }

    const fn put(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            self.out[self.at] = bytes[i];
            self.at += 1;
            i += 1;
        }
    }
}

impl<const N: usize> Default for Encoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a list cannot be read. `line` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The last line has no `\n`: the list was cut short.
    Unterminated {
        /// The line.
        line: usize,
    },
    /// The line is not UTF-8.
    NotUtf8 {
        /// The line.
        line: usize,
    },
    /// The line has no `:` between kind and name.
    MissingColon {
        /// The line.
        line: usize,
    },
    /// The kind is neither `net` nor `block`.
    UnknownKind {
        /// The line.
        line: usize,
    },
    /// Nothing follows the `:`.
    EmptyName {
        /// The line.
        line: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Unterminated { line } => {
                write!(f, "line {line}: no newline at its end (list cut short)")
            }
            DecodeError::NotUtf8 { line } => write!(f, "line {line}: not UTF-8"),
            DecodeError::MissingColon { line } => write!(f, "line {line}: no ':' after the kind"),
            DecodeError::UnknownKind { line } => {
                write!(
                    f,
                    "line {line}: unknown device kind (net or block expected)"
                )
            }
            DecodeError::EmptyName { line } => write!(f, "line {line}: empty device name"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// The lines of the list in `bytes` (a section's contents), in order. The iterator yields each
/// valid line, stops at the first invalid one with its error, and yields nothing after it.
pub fn decode(bytes: &[u8]) -> Lines<'_> {
    Lines {
        rest: bytes,
        line: 0,
    }
}

/// The iterator returned by [`decode`].
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    rest: &'a [u8],
    /// The number of the line last read, from 1.
    line: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Result<DeviceLine<'a>, DecodeError> {
        let line = self.line;
        let end = self
            .rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(DecodeError::Unterminated { line })?;
        let (text, rest) = (&self.rest[..end], &self.rest[end + 1..]);
        self.rest = rest;
        let text = core::str::from_utf8(text).map_err(|_| DecodeError::NotUtf8 { line })?;
        let (kind, name) = text
            .split_once(':')
            .ok_or(DecodeError::MissingColon { line })?;
        let kind = DeviceKind::from_name(kind).ok_or(DecodeError::UnknownKind { line })?;
        if name.is_empty() {
            return Err(DecodeError::EmptyName { line });
        }
        Ok(DeviceLine { kind, name })
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<DeviceLine<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.line += 1;
        let result = self.next_line();
        if result.is_err() {
            // Nothing after a malformed line can be trusted to be a line.
            self.rest = &[];
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests;
