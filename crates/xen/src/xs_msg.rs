//! Xenstore wire messages: a 16-byte header (type, request id, transaction id, payload length,
//! all little-endian `u32`) followed by the payload. Requests carry NUL-terminated arguments;
//! `XS_WRITE`'s value is the unterminated tail. Pure encoding and decoding, tested on the host.

use alloc::string::String;
use alloc::vec::Vec;

/// Size of a message header, bytes.
pub const HEADER_LEN: usize = 16;
/// Largest payload xenstored accepts, bytes.
pub const MAX_PAYLOAD: usize = 4096;

/// Message types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum MsgType {
    /// List a directory's children.
    Directory = 1,
    /// Read a value.
    Read = 2,
    /// Write a value.
    Write = 11,
    /// Create a directory.
    Mkdir = 12,
    /// Remove a node.
    Rm = 13,
    /// A watch fired (unsolicited).
    WatchEvent = 15,
    /// The request failed; the payload names the errno (`ENOENT`...).
    Error = 16,
}

/// A decoded message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Message type (raw, so unknown types can be skipped).
    pub kind: u32,
    /// Request id, echoed in the reply.
    pub req_id: u32,
    /// Transaction id, 0 for none.
    pub tx_id: u32,
    /// Payload length in bytes.
    pub len: u32,
}

impl Header {
    /// Decodes a header; `None` when the payload length exceeds [`MAX_PAYLOAD`].
    pub fn decode(b: &[u8; HEADER_LEN]) -> Option<Header> {
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let h = Header {
            kind: word(0),
            req_id: word(4),
            tx_id: word(8),
            len: word(12),
        };
        (h.len as usize <= MAX_PAYLOAD).then_some(h)
    }
}

/// Why a request could not be built or a reply not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XsError {
    /// The request's payload would exceed [`MAX_PAYLOAD`].
    #[error("xenstore request too long")]
    TooLong,
    /// A path or value contains a NUL byte.
    #[error("xenstore path or value contains NUL")]
    Nul,
    /// xenstored answered with an error (`ENOENT`, `EACCES`...).
    #[error("xenstore error {0}")]
    Store(String),
    /// The reply was not of the expected form.
    #[error("malformed xenstore reply")]
    Malformed,
    /// xenstore is not available (no ring, or it did not answer in time).
    #[error("xenstore is not available")]
    Unavailable,
}

/// Encodes a request of type `kind` with id `req_id`: each of `args` NUL-terminated, then `tail`
/// unterminated (the value of a write).
pub fn encode(kind: MsgType, req_id: u32, args: &[&str], tail: &[u8]) -> Result<Vec<u8>, XsError> {
    if args.iter().any(|a| a.as_bytes().contains(&0)) || tail.contains(&0) {
        return Err(XsError::Nul);
    }
    let len = args.iter().map(|a| a.len() + 1).sum::<usize>() + tail.len();
    if len > MAX_PAYLOAD {
        return Err(XsError::TooLong);
    }
    let mut out = Vec::with_capacity(HEADER_LEN + len);
    for w in [kind as u32, req_id, 0, len as u32] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for a in args {
        out.extend_from_slice(a.as_bytes());
        out.push(0);
    }
    out.extend_from_slice(tail);
    Ok(out)
}

/// Interprets a reply payload: an `XS_ERROR` becomes [`XsError::Store`].
pub fn check_reply(h: &Header, payload: &[u8]) -> Result<(), XsError> {
    if h.kind == MsgType::Error as u32 {
        let name = payload.split(|&b| b == 0).next().unwrap_or_default();
        return Err(XsError::Store(String::from_utf8_lossy(name).into_owned()));
    }
    Ok(())
}

/// Splits an `XS_DIRECTORY` reply into its NUL-separated entries.
pub fn split_directory(payload: &[u8]) -> Result<Vec<String>, XsError> {
    payload
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| {
            core::str::from_utf8(e)
                .map(String::from)
                .map_err(|_| XsError::Malformed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reads_and_writes() {
        let m = encode(MsgType::Read, 7, &["domid"], &[]).unwrap();
        assert_eq!(
            m,
            [
                2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, b'd', b'o', b'm', b'i', b'd', 0
            ]
        );
        let w = encode(MsgType::Write, 1, &["data/x"], b"42").unwrap();
        assert_eq!(&w[..4], &11u32.to_le_bytes());
        assert_eq!(&w[12..16], &9u32.to_le_bytes());
        assert_eq!(&w[16..], b"data/x\x0042");
    }

    #[test]
    fn refuses_bad_requests() {
        assert_eq!(encode(MsgType::Read, 1, &["a\0b"], &[]), Err(XsError::Nul));
        let long = "x".repeat(MAX_PAYLOAD);
        assert_eq!(
            encode(MsgType::Read, 1, &[&long], &[]),
            Err(XsError::TooLong)
        );
    }

    #[test]
    fn decodes_headers_and_replies() {
        let raw = encode(MsgType::Error, 3, &["ENOENT"], &[]).unwrap();
        let h = Header::decode(raw[..16].try_into().unwrap()).unwrap();
        assert_eq!((h.kind, h.req_id, h.len), (16, 3, 7));
        assert_eq!(
            check_reply(&h, &raw[16..]),
            Err(XsError::Store("ENOENT".into()))
        );
        let mut big = [0u8; 16];
        big[12..].copy_from_slice(&(MAX_PAYLOAD as u32 + 1).to_le_bytes());
        assert_eq!(Header::decode(&big), None);
        assert_eq!(
            split_directory(b"0\x0051712\x00").unwrap(),
            ["0".to_string(), "51712".to_string()]
        );
        assert_eq!(split_directory(b"").unwrap(), Vec::<String>::new());
        assert_eq!(split_directory(b"\xff\x00"), Err(XsError::Malformed));
    }
}
