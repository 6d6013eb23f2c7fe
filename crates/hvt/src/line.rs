//! [`LineBuf`]: one line of the backend's own output (`Solo5: ...`), formatted on the stack.
//!
//! No heap, so it also works before the heap exists and after it is corrupted; and no
//! `core::fmt` for numbers, since under instruction emulation (KVM-PVM) every guest
//! instruction is what a boot costs.

use core::fmt;

/// Bytes of a line: the `Solo5: ` prefix, 240 of text and the newline.
const LEN: usize = 248;

/// A line of at most 240 bytes, formatted without allocating; longer text is cut.
pub struct LineBuf {
    buf: [u8; LEN],
    len: usize,
}

impl LineBuf {
    /// An empty line starting with `Solo5: `.
    /// Inlined so that the line is built in its caller's frame rather than moved there.
    #[inline(always)]
    pub fn new() -> LineBuf {
        let mut line = LineBuf {
            buf: [0; LEN],
            len: 0,
        };
        line.push_bytes(b"Solo5: ");
        line
    }

    /// Appends `bytes`, or as much of them as fits.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        // One byte is kept for the newline.
        let room = self.buf.len() - 1 - self.len;
        let n = bytes.len().min(room);
        if let (Some(dest), Some(src)) = (self.buf.get_mut(self.len..self.len + n), bytes.get(..n))
        {
            copy(dest, src);
        }
        self.len += n;
    }

    /// Appends `text`.
    #[inline(always)]
    pub fn push_str(&mut self, text: &str) {
        self.push_bytes(text.as_bytes());
    }

    /// Appends `value` as `0x` and lower-case hex digits, as `{:#x}` does, without
    /// `core::fmt`: the guest's instructions are what a boot costs under instruction
    /// emulation (KVM-PVM), and the memory map line is made of such numbers. The digits are
    /// written in place, last first, with no copy (`memcpy` is a call and a string
    /// instruction, dearer there than the few digits).
    pub fn push_hex(&mut self, value: u64) {
        let digits = (64 - (value | 1).leading_zeros()).div_ceil(4) as usize;
        self.push_bytes(b"0x");
        let mut v = value;
        self.push_digits(digits, || {
            let d = b"0123456789abcdef"[(v & 0xf) as usize];
            v >>= 4;
            d
        });
    }

    /// Appends `value` in decimal, without `core::fmt`, in place as [`push_hex`](Self::push_hex).
    pub fn push_decimal(&mut self, value: u64) {
        let mut digits = 1;
        let mut rest = value / 10;
        while rest != 0 {
            digits += 1;
            rest /= 10;
        }
        let mut v = value;
        self.push_digits(digits, || {
            let d = b'0' + (v % 10) as u8;
            v /= 10;
            d
        });
    }

    /// Appends `count` digits that `next` yields last first; the line is cut as `push_bytes`
    /// cuts it (the leading digits are kept).
    #[inline(always)]
    fn push_digits(&mut self, count: usize, mut next: impl FnMut() -> u8) {
        let kept = count.min(self.buf.len() - 1 - self.len);
        // The trailing digits that do not fit.
        for _ in kept..count {
            next();
        }
        // One bounds check for the whole number, none a digit.
        if let Some(digits) = self.buf.get_mut(self.len..self.len + kept) {
            for digit in digits.iter_mut().rev() {
                *digit = next();
            }
        }
        self.len += kept;
    }

    /// Ends the line with a newline and returns all of it, prefix included.
    pub fn terminated(&mut self) -> &[u8] {
        self.buf[self.len] = b'\n';
        &self.buf[..self.len + 1]
    }

    /// The text after the `Solo5: ` prefix.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[7..self.len]
    }
}

/// Copies `src` into `dest` (the same length) with one `rep movsb`: under instruction
/// emulation (KVM-PVM) a `memcpy` call of a few bytes costs about 35 instructions, and a line
/// is made of such pieces.
fn copy(dest: &mut [u8], src: &[u8]) {
    let n = dest.len().min(src.len());
    // SAFETY: `rep movsb` copies `rcx` = `n` bytes from `rsi` to `rdi`, upwards (DF is clear:
    // the ABI's rule, which the trap entry restores too); `n` is within both slices, and
    // `dest` is borrowed mutably, so the two do not overlap.
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rsi") src.as_ptr() => _,
            inout("rdi") dest.as_mut_ptr() => _,
            options(nostack, preserves_flags),
        );
    }
}

impl Default for LineBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LineBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LineBuf").field(&self.as_bytes()).finish()
    }
}

impl fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;

    #[test]
    fn numbers_are_written_as_core_fmt_writes_them() {
        for v in [
            0,
            1,
            9,
            10,
            15,
            16,
            255,
            0x10_0000,
            0x106d23,
            u64::MAX,
            1 << 63,
        ] {
            let mut line = LineBuf::new();
            line.push_hex(v);
            line.push_str(" ");
            line.push_decimal(v);
            assert_eq!(line.as_bytes(), format!("{v:#x} {v}").as_bytes());
        }
    }

    #[test]
    fn a_long_line_is_cut_keeping_the_leading_digits() {
        let mut line = LineBuf::new();
        line.push_str(&String::from("x").repeat(230));
        line.push_hex(0x123456789abcdef0);
        line.push_decimal(987654321);
        let text = format!("{}0x12345678", String::from("x").repeat(230));
        assert_eq!(line.as_bytes(), text.as_bytes());
        assert_eq!(line.len, line.buf.len() - 1);
    }
}
