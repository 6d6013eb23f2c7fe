//! Symbolised backtraces: the addresses in an image's backtrace lines turned into
//! `FUNCTION (FILE:LINE)` with the image's own debug information.
//!
//! Images print their call stacks in the line format of [`morgana_x86::backtrace`]
//! (`backtrace: #1 ret 0x00000000001014f2`). [`Symbolizer::line`] appends to such a line the
//! function and source position of the address (for a return address, of the call before it),
//! with every inlined function at that place, innermost first:
//!
//! ```text
//! backtrace: #1 ret 0x00000000001014f2 app::backtrace_middle (tests/conformance/backtrace/src/main.rs:43)
//! backtrace: #2 ret 0x0000000000101f0b core::option::Option<T>::map (.../option.rs:1113) in app::main (src/main.rs:9)
//! ```
//!
//! A frame the debug information does not cover gets ` ??`; any other line, and a line that
//! already names its function, is left as it is. File names under the workspace are printed
//! relative to it (images record it as `.`; older ones named it in full).
//!
//! The debug information is read from the image's split debug file ([`debug_info_path`]) when
//! there is one, else from the image itself.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use morgana_x86::backtrace::Frame;

use crate::{Error, Result};

/// Where the debug information of `image` is kept once split off: `IMAGE.debug` beside it
/// (`target/hvt/debug/hello.hvt` -> `target/hvt/debug/hello.hvt.debug`).
pub fn debug_info_path(image: &Path) -> PathBuf {
    let mut name = image.as_os_str().to_owned();
    name.push(".debug");
    PathBuf::from(name)
}

/// An image's debug information, ready to answer address queries.
pub struct Symbolizer {
    loader: addr2line::Loader,
    /// Prefix stripped from file names (the workspace root, with a trailing `/`).
    root: Option<String>,
}

impl std::fmt::Debug for Symbolizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Symbolizer")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Symbolizer {
    /// Loads the debug information of `image` (its `.debug` file when present); file names
    /// under `root` are printed relative to it.
    pub fn for_image(image: &Path, root: Option<&Path>) -> Result<Symbolizer> {
        if !image.is_file() {
            return Err(Error::Other(format!("{}: no such image", image.display())));
        }
        let split = debug_info_path(image);
        let source = if split.is_file() {
            split
        } else {
            image.to_path_buf()
        };
        let loader = addr2line::Loader::new(&source).map_err(|e| {
            Error::Other(format!(
                "{}: cannot read debug information: {e}",
                source.display()
            ))
        })?;
        let root = root.map(|r| {
            let mut s = r.to_string_lossy().into_owned();
            if !s.ends_with('/') {
                s.push('/');
            }
            s
        });
        Ok(Symbolizer { loader, root })
    }

    /// `FUNCTION (FILE:LINE)` for the code at `address` (inlined functions first, joined by
    /// ` in `), or `??` when nothing is known about it.
    pub fn describe(&self, address: u64) -> String {
        let mut found = Vec::new();
        if let Ok(mut frames) = self.loader.find_frames(address) {
            while let Ok(Some(frame)) = frames.next() {
                let name = frame
                    .function
                    .as_ref()
                    .and_then(|f| f.demangle().ok().map(|n| n.into_owned()));
                let place = frame
                    .location
                    .and_then(|l| Some((self.file(l.file?).to_string(), l.line?)));
                found.push((name, place));
            }
        }
        // The outermost is the function the code belongs to: its symbol has the full path
        // (line-tables-only debug information names functions without it).
        let symbol = self.symbol(address);
        match found.last_mut() {
            Some((name, _)) => *name = symbol.or(name.take()),
            None => return symbol.unwrap_or_else(|| "??".into()),
        }
        let parts: Vec<String> = found
            .into_iter()
            .map(|(name, place)| {
                let name = name.unwrap_or_else(|| "??".into());
                match place {
                    Some((file, line)) => format!("{name} ({file}:{line})"),
                    None => name,
                }
            })
            .collect();
        parts.join(" in ")
    }

    fn symbol(&self, address: u64) -> Option<String> {
        let name = self.loader.find_symbol(address)?;
        // `{:#}`: without the hash.
        Some(format!("{:#}", rustc_demangle::demangle(name)))
    }

    fn file<'a>(&self, file: &'a str) -> &'a str {
        let file = match &self.root {
            Some(root) => file.strip_prefix(root.as_str()).unwrap_or(file),
            None => file,
        };
        // Images record the workspace as `.` (see `baremetal::IMAGE_RUSTFLAGS`).
        file.strip_prefix("./").unwrap_or(file)
    }

    /// `line` with its frame symbolised, when it is a backtrace line that is not yet.
    pub fn line(&self, line: &str) -> String {
        match Frame::parse(line) {
            Some((frame, end)) if line[end..].trim().is_empty() => {
                format!("{} {}", &line[..end], self.describe(frame.lookup_address()))
            }
            _ => line.to_string(),
        }
    }

    /// Copies `input` to `output` line by line, symbolising backtrace lines; flushes after
    /// every line, so a running guest's console is passed on as it comes.
    pub fn copy(&self, input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
        for line in input.split(b'\n') {
            let line = line?;
            let text = String::from_utf8_lossy(&line);
            if Frame::parse(&text).is_some() {
                writeln!(output, "{}", self.line(&text))?;
            } else {
                output.write_all(&line)?;
                output.write_all(b"\n")?;
            }
            output.flush()?;
        }
        Ok(())
    }
}

/// Splits the debug information of `image` into [`debug_info_path`] and strips it from the
/// image, which keeps its symbol table. Uses binutils' `objcopy`.
///
/// The image gets no `.gnu_debuglink`: its checksum of the debug file would make the image
/// depend on the directory it was built in (the debug information names it). gdb is given
/// the debug file itself (`gdb X.hvt.debug`, or `symbol-file X.hvt.debug`).
pub fn split_debug_info(image: &Path) -> Result<PathBuf> {
    let debug = debug_info_path(image);
    let objcopy = |args: &[&std::ffi::OsStr]| {
        let mut cmd = std::process::Command::new("objcopy");
        cmd.args(args);
        crate::run_captured(&mut cmd).map_err(|e| match e {
            Error::Spawn { .. } => Error::Missing(
                "objcopy (binutils) is needed to split an image's debug information: \
                 install binutils (scripts/setup-host does)"
                    .into(),
            ),
            e => e,
        })
    };
    objcopy(&[
        "--only-keep-debug".as_ref(),
        image.as_os_str(),
        debug.as_os_str(),
    ])?;
    objcopy(&["--strip-debug".as_ref(), image.as_os_str()])?;
    Ok(debug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_debug_file_sits_beside_the_image() {
        assert_eq!(
            debug_info_path(Path::new("target/hvt/release/hello.hvt")),
            Path::new("target/hvt/release/hello.hvt.debug")
        );
    }

    #[test]
    fn a_missing_image_is_one_clear_error() {
        let err = Symbolizer::for_image(Path::new("no/such/image.hvt"), None).unwrap_err();
        assert_eq!(err.to_string(), "no/such/image.hvt: no such image");
    }
}
