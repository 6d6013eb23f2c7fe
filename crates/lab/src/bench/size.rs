//! `cargo xtask bench size`: the stripped size of every example's hvt image and what its bytes
//! are.
//!
//! Each example under `examples/` is built as a release hvt image, soft-float (the variant
//! every example builds in: `compress`'s C library needs SSE headers hard-float),
//! a stripped copy is made with GNU `strip` (binutils), and the copy's bytes are split by its
//! program headers: the ELF and program headers, text (the executable segment), rodata (the
//! read-only one, the Solo5 notes included), data (the file part of the writable one), the
//! section table that `strip` keeps (section headers and their names), and padding (what is
//! left: bytes between segments in the file). Sizes are exact and do not depend on the machine.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use morgana_build::elf::{Image, PF_W, PF_X, PT_LOAD};
use morgana_build::{Error, Profile, Result, Workspace, hvt, io_error, run_checked};

/// The bytes of a stripped image, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Breakdown {
    /// The whole file.
    pub total: u64,
    /// The ELF header and the program headers.
    pub headers: u64,
    /// The executable segment's file bytes.
    pub text: u64,
    /// The read-only segments' file bytes.
    pub rodata: u64,
    /// The writable segments' file bytes.
    pub data: u64,
    /// From the end of the last segment's bytes to the end of the file.
    pub section_table: u64,
    /// Everything else: gaps between the headers and segments.
    pub padding: u64,
}

/// Splits the bytes of the ELF `image` of `total` bytes by kind.
pub fn breakdown(image: &Image, total: u64) -> Breakdown {
    let headers = 64 + 56 * image.segments.len() as u64;
    let mut b = Breakdown {
        total,
        headers,
        ..Breakdown::default()
    };
    let mut end_of_contents = headers;
    for s in image.segments.iter().filter(|s| s.kind == PT_LOAD) {
        if s.flags & PF_X != 0 {
            b.text += s.filesz;
        } else if s.flags & PF_W != 0 {
            b.data += s.filesz;
        } else {
            b.rodata += s.filesz;
        }
        if s.filesz > 0 {
            end_of_contents = end_of_contents.max(s.offset.saturating_add(s.filesz));
        }
    }
    b.section_table = total.saturating_sub(end_of_contents);
    b.padding = total.saturating_sub(b.headers + b.text + b.rodata + b.data + b.section_table);
    b
}

/// The binary packages under `examples/` (a `src/main.rs`; libraries have no image), sorted
/// by name.
fn examples(ws: &Workspace) -> Result<Vec<String>> {
    let dir = ws.root.join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| io_error(&dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .filter(|e| e.path().join("src/main.rs").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

fn stripped_copy(image: &Path, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let name = image
        .file_name()
        .ok_or_else(|| Error::Other(format!("{}: no file name", image.display())))?;
    let out = dir.join(name);
    run_checked(Command::new("strip").arg("-o").arg(&out).arg(image))?;
    Ok(out)
}

/// `cargo xtask bench size`: builds every example for hvt and prints the table to stdout.
pub fn run(ws: &Workspace, args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        return Err(Error::Usage(format!("unknown bench option '{arg}'")));
    }
    let strip_dir = ws.target_dir().join("bench-size");
    let mut out = String::from(
        "image size (hvt, release, soft-float), stripped with GNU strip; bytes:\n\
         image                  stripped   headers      text    rodata      data  sections   padding\n",
    );
    for package in examples(ws)? {
        let image = hvt::build_soft(ws, &package, Profile::Release)?;
        let stripped = stripped_copy(&image, &strip_dir)?;
        let total = std::fs::metadata(&stripped)
            .map_err(|e| io_error(&stripped, e))?
            .len();
        let b = breakdown(&Image::read(&stripped)?, total);
        let _ = writeln!(
            out,
            "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            format!("{package}.hvt"),
            b.total,
            b.headers,
            b.text,
            b.rodata,
            b.data,
            b.section_table,
            b.padding
        );
    }
    print!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use morgana_build::elf::{PF_R, Segment};

    fn load(flags: u32, offset: u64, filesz: u64) -> Segment {
        Segment {
            kind: PT_LOAD,
            flags,
            offset,
            vaddr: 0x100000 + offset,
            filesz,
            memsz: filesz + 16,
            align: 0x1000,
        }
    }

    #[test]
    fn bytes_are_split_by_segment_kind() {
        let mut image = Image::parse(std::fs::read(std::env::current_exe().unwrap()).unwrap())
            .expect("the test binary is an ELF file");
        image.segments = vec![
            load(PF_R | PF_X, 0x200, 0x1000),
            load(PF_R, 0x1200, 0x300),
            load(PF_R | PF_W, 0x2000, 0x40),
            load(PF_R | PF_W, 0x3000, 0),
        ];
        let b = breakdown(&image, 0x2040 + 0x400);
        assert_eq!(
            b,
            Breakdown {
                total: 0x2440,
                headers: 64 + 4 * 56,
                text: 0x1000,
                rodata: 0x300,
                data: 0x40,
                section_table: 0x400,
                padding: 0x2440 - (288 + 0x1000 + 0x300 + 0x40 + 0x400),
            }
        );
    }
}
