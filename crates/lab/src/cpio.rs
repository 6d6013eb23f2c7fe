//! A writer for the `newc` cpio format, which Linux unpacks as its initramfs (both labs' L1
//! systems are made of one). Several archives may be concatenated into one initrd; later files
//! override earlier ones.

/// An archive being built in memory.
#[derive(Debug, Default)]
pub struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.entry_with_rdev(name, mode, data, (0, 0));
    }

    /// `rdev` is the (major, minor) of a device node, zero otherwise.
    fn entry_with_rdev(&mut self, name: &str, mode: u32, data: &[u8], rdev: (u32, u32)) {
        self.ino += 1;
        let name = name.trim_start_matches('/');
        let fields = [
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// Adds a directory.
    pub fn dir(&mut self, name: &str) {
        self.entry(name, 0o040755, &[]);
    }

    /// Adds a regular file with permissions `perm` (e.g. `0o755`).
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, 0o100000 | perm, data);
    }

    /// Adds a symbolic link `name` -> `target`.
    pub fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120777, target.as_bytes());
    }

    /// Adds a character device node (permissions 0600), e.g. `dev/console`, 5, 1: the kernel
    /// opens `/dev/console` for `/init` before anything could mount devtmpfs.
    pub fn char_device(&mut self, name: &str, major: u32, minor: u32) {
        self.entry_with_rdev(name, 0o020600, &[], (major, minor));
    }

    /// Adds every parent directory of `path` (`a/b/c` gives `a` and `a/b`).
    pub fn parents(&mut self, path: &str, seen: &mut std::collections::BTreeSet<String>) {
        let path = path.trim_start_matches('/');
        let mut acc = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for p in &parts[..parts.len().saturating_sub(1)] {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(p);
            if seen.insert(acc.clone()) {
                self.dir(&acc);
            }
        }
    }

    /// Ends the archive and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[]);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_headers_and_padding() {
        let mut c = Cpio::default();
        c.file("/init", 0o755, b"abc");
        let out = c.finish();
        assert_eq!(&out[..6], b"070701");
        // mode field (second) = 0o100755
        assert_eq!(&out[14..22], b"000081ed");
        // file size field
        assert_eq!(&out[54..62], b"00000003");
        // name "init\0" starts at 110, header + name padded to 4 bytes: 116, then data.
        assert_eq!(&out[110..115], b"init\0");
        assert_eq!(&out[116..119], b"abc");
        assert_eq!(out.len() % 4, 0);
        assert!(out.windows(10).any(|w| w == b"TRAILER!!!"));
    }

    #[test]
    fn device_nodes_carry_their_numbers() {
        let mut c = Cpio::default();
        c.char_device("dev/console", 5, 1);
        let out = c.finish();
        // mode 0o020600, then rdevmajor and rdevminor (fields 10 and 11).
        assert_eq!(&out[14..22], b"00002180");
        assert_eq!(&out[78..86], b"00000005");
        assert_eq!(&out[86..94], b"00000001");
        assert_eq!(&out[110..122], b"dev/console\0");
    }
}
