//! Call stacks of the bare-metal images, walked by frame pointer, and the one line format in
//! which every backend prints them.
//!
//! Bare-metal images are built with frame pointers (`"frame-pointer": "always"` in the target
//! JSONs, which also covers `core` and `alloc` built with them): every function starts with
//! `push rbp; mov rbp, rsp`, so `[rbp]` is the caller's `rbp` and `[rbp + 8]` the return
//! address into the caller. The walk stops at a null or misaligned frame pointer, one outside
//! the stack, one that does not move up the stack, or after [`MAX_FRAMES`].
//!
//! # Line format
//!
//! One frame a line, innermost first, anywhere in a console line (the hvt backend prefixes its
//! log lines with `Solo5: `):
//!
//! ```text
//! backtrace: #0 pc 0x0000000000101486
//! backtrace: #1 ret 0x00000000001014f2
//! ```
//!
//! `pc` is the exact address of an instruction (the trapping one); `ret` is a return address,
//! which points just past a call, so a symboliser looks up `address - 1`. A symboliser appends
//! ` FUNCTION (FILE:LINE)` to the line; a backend that symbolises itself (unix) prints it so.

use core::fmt;

/// The deepest stack printed; deeper frames are left out.
pub const MAX_FRAMES: usize = 64;

/// The marker every backtrace line carries.
pub const MARKER: &str = "backtrace: #";

/// What a frame's address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The address of an instruction that was executing (a trap's `rip`).
    Pc,
    /// A return address: the instruction after a call.
    Ret,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Pc => "pc",
            Kind::Ret => "ret",
        }
    }
}

/// One frame of a backtrace, as printed and parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// 0 for the innermost frame.
    pub index: usize,
    /// What `address` is.
    pub kind: Kind,
    /// The address.
    pub address: u64,
}

impl Frame {
    /// The address to look up in line tables: inside the call instruction for a return address.
    pub fn lookup_address(&self) -> u64 {
        match self.kind {
            Kind::Pc => self.address,
            Kind::Ret => self.address.saturating_sub(1),
        }
    }

    /// Finds a frame in a console line; returns it and the byte offset just past its address
    /// (where a symboliser appends the function), or `None` for any other line.
    pub fn parse(line: &str) -> Option<(Frame, usize)> {
        let start = line.find(MARKER)?;
        let rest = &line[start + MARKER.len()..];
        let (index, rest) = rest.split_once(' ')?;
        let (kind, rest) = rest.split_once(' ')?;
        let kind = match kind {
            "pc" => Kind::Pc,
            "ret" => Kind::Ret,
            _ => return None,
        };
        let hex = rest.strip_prefix("0x")?;
        let digits = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
        if digits == 0 || digits > 16 {
            return None;
        }
        let address = u64::from_str_radix(&hex[..digits], 16).ok()?;
        let end = line.len() - rest.len() + 2 + digits;
        let frame = Frame {
            index: index.parse().ok()?,
            kind,
            address,
        };
        Some((frame, end))
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{MARKER}{} {} {:#018x}",
            self.index,
            self.kind.word(),
            self.address
        )
    }
}

/// The frame pointer (`rbp`) of the function this is inlined into.
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let rbp: u64;
    // SAFETY: reads a register only.
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags))
    };
    rbp
}

/// Calls `each` with the return addresses of the frames from frame pointer `rbp` outwards,
/// numbered from `first_index`. Reads memory only inside `stack` (a range that must be mapped
/// and readable), so a corrupt chain ends the walk and never faults.
pub fn walk(
    rbp: u64,
    stack: core::ops::Range<u64>,
    first_index: usize,
    mut each: impl FnMut(Frame),
) {
    let mut fp = rbp;
    for index in first_index..MAX_FRAMES {
        let inside = fp >= stack.start && fp.checked_add(16).is_some_and(|end| end <= stack.end);
        if fp == 0 || !fp.is_multiple_of(8) || !inside {
            return;
        }
        // SAFETY: [fp, fp + 16) is 8-aligned and inside `stack`, which the caller guarantees
        // mapped and readable; the words are plain integers.
        let (next, ret) = unsafe {
            let p = fp as *const u64;
            (p.read_volatile(), p.add(1).read_volatile())
        };
        if ret == 0 {
            return;
        }
        each(Frame {
            index,
            kind: Kind::Ret,
            address: ret,
        });
        if next <= fp {
            return;
        }
        fp = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn lines_print_and_parse_back() {
        let f = Frame {
            index: 3,
            kind: Kind::Ret,
            address: 0x1014f2,
        };
        let line = std::format!("Solo5: {f}");
        assert_eq!(line, "Solo5: backtrace: #3 ret 0x00000000001014f2");
        assert_eq!(Frame::parse(&line), Some((f, line.len())));
        assert_eq!(f.lookup_address(), 0x1014f1);
        let pc = "backtrace: #0 pc 0x10 main (src/main.rs:3)";
        let (frame, end) = Frame::parse(pc).unwrap();
        assert_eq!(
            (frame.kind, frame.address, &pc[end..]),
            (Kind::Pc, 0x10, " main (src/main.rs:3)")
        );
        for bad in [
            "backtrace: #x ret 0x10",
            "backtrace: #1 sp 0x10",
            "backtrace: #1 ret 10",
            "hello",
        ] {
            assert_eq!(Frame::parse(bad), None, "{bad}");
        }
        assert_eq!(Frame::parse("backtrace: #1 ret 0x11111111111111111"), None);
        assert_eq!(Kind::Pc.word().to_string(), "pc");
    }

    #[test]
    fn walk_follows_the_chain_and_stops_at_its_end_or_outside_the_stack() {
        // Three frames laid out as a real stack: [saved rbp, return address] pairs going up.
        let mut stack = [0u64; 8];
        let base = stack.as_ptr() as u64;
        let frames = |stack: &[u64; 8], from: u64| {
            let stack = core::hint::black_box(stack);
            let top = stack.as_ptr() as u64 + 64;
            let mut seen = Vec::new();
            walk(from, stack.as_ptr() as u64..top, 1, |f| {
                seen.push((f.index, f.address))
            });
            seen
        };
        stack[..6].copy_from_slice(&[base + 16, 0xa, base + 32, 0xb, 0, 0xc]);
        // The outermost frame has a null saved rbp.
        assert_eq!(frames(&stack, base), [(1, 0xa), (2, 0xb), (3, 0xc)]);
        // A chain that points below itself, or leaves the stack, ends there.
        stack[2] = base;
        assert_eq!(frames(&stack, base), [(1, 0xa), (2, 0xb)]);
        assert!(frames(&stack, base + 56).is_empty());
    }
}
