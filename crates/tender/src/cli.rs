//! The `solo5-hvt` command line:
//! `morgana-hvt [--mem=MiB] [device options] [--stats] [--] KERNEL [ARGS...]`.
//!
//! Parsing here is syntactic. Device names are checked against the image's manifest later
//! (the "second pass"), once KERNEL has been read.

use std::path::PathBuf;

/// Default guest memory in MiB.
pub const DEFAULT_MEM_MIB: u64 = 512;
/// Largest guest memory in bytes (4 GiB).
pub const MAX_MEM_BYTES: u64 = 1 << 32;
/// Guest memory granularity in bytes (2 MiB).
pub const MEM_GRANULE: u64 = 2 << 20;
/// Longest guest command line in characters (the buffer holds one more for the NUL).
pub const CMDLINE_MAX: usize = 8191;

/// Usage text printed by `--help` and after usage errors.
pub const USAGE: &str = "\
usage: morgana-hvt [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]
KERNEL is the filename of the unikernel to run.
ARGS are optional arguments passed to the unikernel.
Core options:
  [ --mem=512 ] (guest memory in MB)
    --help (display this help)
    --version (display version information)
    --stats (print VM exit counts and boot/run times to stderr on exit)
    --dumpcore[=DIR] (on a trap, abort or panic, write an ELF core file to DIR, default .)
    --gdb[=PORT] (wait at the first instruction for gdb on 127.0.0.1:PORT, default 1234)
Compiled-in modules: net block
Module options:
  [ --net:NAME=IFACE | @NN ] (attach tap at IFACE or at fd @NN as network NAME)
  [ --net-mac:NAME=HWADDR ] (set HWADDR for network NAME)
  [ --block:NAME=PATH ] (attach block device/file at PATH as block storage NAME)
  [ --block-sector-size:NAME=SIZE ] (set sector size for block device NAME)
  [ --block-mode:NAME=ro|rw ] (attach block device NAME read-only or read-write)";

/// Where a network interface comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetSource {
    /// An existing tap interface, by name.
    Tap(String),
    /// An already-open tap file descriptor.
    Fd(i32),
}

/// A validated run request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunOptions {
    /// Guest memory in bytes: a multiple of 2 MiB in `[2 MiB, 4 GiB]`.
    pub mem_bytes: u64,
    /// Warning to print about rounding `--mem`, if it was rounded.
    pub mem_warning: Option<String>,
    /// `--net:NAME=...` in command-line order.
    pub nets: Vec<(String, NetSource)>,
    /// `--net-mac:NAME=...`.
    pub net_macs: Vec<(String, [u8; 6])>,
    /// `--block:NAME=PATH`.
    pub blocks: Vec<(String, PathBuf)>,
    /// `--block-sector-size:NAME=N` (validated power of two, at least 512).
    pub sector_sizes: Vec<(String, u16)>,
    /// `--block-mode:NAME=ro|rw`: true for read-only.
    pub block_read_only: Vec<(String, bool)>,
    /// `--stats`.
    pub stats: bool,
    /// `--dumpcore[=DIR]`: the directory for a core file (`.` without `=DIR`).
    pub dumpcore: Option<PathBuf>,
    /// `--gdb[=PORT]`: the port of the gdb stub.
    pub gdb: Option<u16>,
    /// The unikernel image.
    pub kernel: PathBuf,
    /// Guest arguments joined by single spaces.
    pub cmdline: String,
}

/// What the command line asks for.
// Parsed once per process: the size of `Run` costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print usage and exit 0.
    Help,
    /// Print version information and exit 0.
    Version,
    /// Run a unikernel.
    Run(RunOptions),
}

/// A command-line error. `usage()` tells whether the usage text should follow the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// An option this tender does not know.
    #[error("Invalid option: {0}")]
    UnknownOption(String),
    /// No KERNEL argument.
    #[error("Missing KERNEL operand")]
    MissingKernel,
    /// A known option with a value that does not parse.
    #[error("Malformed argument to {0}")]
    Malformed(&'static str),
    /// `--mem` beyond 4 GiB.
    #[error("guest memory size {0} bytes exceeds the max size {MAX_MEM_BYTES} bytes")]
    MemTooLarge(u128),
    /// A sector size that is not a power of two of at least 512.
    #[error("Block size must be a multiple of 2 greater than or equal 512")]
    SectorSize,
    /// Guest arguments longer than the command-line buffer.
    #[error("Guest command line too long (max={CMDLINE_MAX} characters)")]
    CmdlineTooLong,
}

impl CliError {
    /// Whether to print the usage text after the message.
    pub fn wants_usage(&self) -> bool {
        matches!(self, Self::UnknownOption(_) | Self::MissingKernel)
    }
}

/// Splits `--opt:NAME=VALUE` after its prefix into `(NAME, VALUE)`.
fn name_value<'a>(rest: &'a str, opt: &'static str) -> Result<(&'a str, &'a str), CliError> {
    let (name, value) = rest.split_once('=').ok_or(CliError::Malformed(opt))?;
    if name.is_empty() || value.is_empty() {
        return Err(CliError::Malformed(opt));
    }
    Ok((name, value))
}

/// Parses `xx:xx:xx:xx:xx:xx` (hex digits).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for byte in &mut mac {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *byte = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

fn parse_mem(value: &str) -> Result<(u64, Option<String>), CliError> {
    let mib: u64 = value.parse().map_err(|_| CliError::Malformed("--mem"))?;
    if mib == 0 {
        return Err(CliError::Malformed("--mem"));
    }
    let bytes = u128::from(mib) << 20;
    if bytes > u128::from(MAX_MEM_BYTES) {
        return Err(CliError::MemTooLarge(bytes));
    }
    let bytes = bytes as u64;
    let rounded = (bytes / MEM_GRANULE * MEM_GRANULE).max(MEM_GRANULE);
    let warning = (rounded != bytes).then(|| {
        format!(
            "guest memory size {mib} MiB is not a multiple of 2 MiB, using {} MiB",
            rounded >> 20
        )
    });
    Ok((rounded, warning))
}

fn parse_option(arg: &str, o: &mut RunOptions) -> Result<(), CliError> {
    if let Some(v) = arg.strip_prefix("--mem=") {
        (o.mem_bytes, o.mem_warning) = parse_mem(v)?;
    } else if arg == "--stats" {
        o.stats = true;
    } else if arg == "--gdb" {
        o.gdb = Some(crate::gdb::DEFAULT_PORT);
    } else if let Some(port) = arg.strip_prefix("--gdb=") {
        let port: u16 = port.parse().map_err(|_| CliError::Malformed("--gdb"))?;
        if port == 0 {
            return Err(CliError::Malformed("--gdb"));
        }
        o.gdb = Some(port);
    } else if arg == "--dumpcore" {
        o.dumpcore = Some(PathBuf::from("."));
    } else if let Some(dir) = arg.strip_prefix("--dumpcore=") {
        if dir.is_empty() {
            return Err(CliError::Malformed("--dumpcore"));
        }
        o.dumpcore = Some(PathBuf::from(dir));
    } else if let Some(rest) = arg.strip_prefix("--net-mac:") {
        let (name, value) = name_value(rest, "--net-mac")?;
        let mac = parse_mac(value).ok_or(CliError::Malformed("--net-mac"))?;
        o.net_macs.push((name.to_owned(), mac));
    } else if let Some(rest) = arg.strip_prefix("--net:") {
        let (name, value) = name_value(rest, "--net")?;
        let source = match value.strip_prefix('@') {
            Some(fd) => NetSource::Fd(fd.parse().map_err(|_| CliError::Malformed("--net"))?),
            None => NetSource::Tap(value.to_owned()),
        };
        o.nets.push((name.to_owned(), source));
    } else if let Some(rest) = arg.strip_prefix("--block-sector-size:") {
        let (name, value) = name_value(rest, "--block-sector-size")?;
        let size: u64 = value
            .parse()
            .map_err(|_| CliError::Malformed("--block-sector-size"))?;
        if size < 512 || !size.is_power_of_two() || size > 1 << 15 {
            return Err(CliError::SectorSize);
        }
        o.sector_sizes.push((name.to_owned(), size as u16));
    } else if let Some(rest) = arg.strip_prefix("--block-mode:") {
        let (name, value) = name_value(rest, "--block-mode")?;
        let read_only = match value {
            "ro" => true,
            "rw" => false,
            _ => return Err(CliError::Malformed("--block-mode")),
        };
        o.block_read_only.push((name.to_owned(), read_only));
    } else if let Some(rest) = arg.strip_prefix("--block:") {
        let (name, value) = name_value(rest, "--block")?;
        o.blocks.push((name.to_owned(), PathBuf::from(value)));
    } else {
        return Err(CliError::UnknownOption(arg.to_owned()));
    }
    Ok(())
}

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, CliError> {
    let args: Vec<String> = args.into_iter().collect();
    // First pass: find KERNEL (the first argument that is not an option, or the one after
    // "--"); everything after it belongs to the guest.
    let mut kernel_at = None;
    let mut options_end = args.len();
    for (i, arg) in args.iter().enumerate() {
        if arg == "--" {
            options_end = i;
            kernel_at = (i + 1 < args.len()).then_some(i + 1);
            break;
        }
        if !arg.starts_with("--") {
            options_end = i;
            kernel_at = Some(i);
            break;
        }
    }
    // Second pass over the options themselves.
    let mut o = RunOptions {
        mem_bytes: DEFAULT_MEM_MIB << 20,
        ..RunOptions::default()
    };
    for arg in &args[..options_end] {
        match arg.as_str() {
            "--help" => return Ok(Command::Help),
            "--version" => return Ok(Command::Version),
            _ => parse_option(arg, &mut o)?,
        }
    }
    let k = kernel_at.ok_or(CliError::MissingKernel)?;
    o.kernel = PathBuf::from(&args[k]);
    o.cmdline = args[k + 1..].join(" ");
    if o.cmdline.len() > CMDLINE_MAX {
        return Err(CliError::CmdlineTooLong);
    }
    Ok(Command::Run(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<RunOptions, CliError> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Command::Run(o) => Ok(o),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn gdb_takes_an_optional_port() {
        assert_eq!(run(&["k"]).expect("valid").gdb, None);
        assert_eq!(run(&["--gdb", "k"]).expect("valid").gdb, Some(1234));
        assert_eq!(run(&["--gdb=4321", "k"]).expect("valid").gdb, Some(4321));
        for bad in ["--gdb=", "--gdb=0", "--gdb=65536", "--gdb=x"] {
            assert_eq!(run(&[bad, "k"]).unwrap_err(), CliError::Malformed("--gdb"));
        }
    }

    #[test]
    fn dumpcore_takes_an_optional_directory() {
        assert_eq!(run(&["k"]).expect("valid").dumpcore, None);
        let o = run(&["--dumpcore", "k"]).expect("valid");
        assert_eq!(o.dumpcore, Some(PathBuf::from(".")));
        let o = run(&["--dumpcore=/tmp/cores", "k"]).expect("valid");
        assert_eq!(o.dumpcore, Some(PathBuf::from("/tmp/cores")));
        assert_eq!(
            run(&["--dumpcore=", "k"]).unwrap_err(),
            CliError::Malformed("--dumpcore")
        );
    }

    #[test]
    fn defaults_and_guest_arguments() {
        let o = run(&["kernel.hvt", "a", "--mem=2", "b"]).expect("valid");
        assert_eq!(o.mem_bytes, 512 << 20);
        assert_eq!(o.kernel, PathBuf::from("kernel.hvt"));
        assert_eq!(o.cmdline, "a --mem=2 b");
        let o = run(&["--mem=4", "--", "--odd-name", "x"]).expect("valid");
        assert_eq!(o.mem_bytes, 4 << 20);
        assert_eq!(o.kernel, PathBuf::from("--odd-name"));
        assert_eq!(o.cmdline, "x");
    }

    #[test]
    fn memory_rules() {
        assert_eq!(
            run(&["--mem=0", "k"]).unwrap_err().to_string(),
            "Malformed argument to --mem"
        );
        assert_eq!(
            run(&["--mem=x", "k"]).unwrap_err(),
            CliError::Malformed("--mem")
        );
        assert_eq!(
            run(&["--mem=8192", "k"]).unwrap_err().to_string(),
            "guest memory size 8589934592 bytes exceeds the max size 4294967296 bytes"
        );
        assert!(matches!(
            run(&["--mem=99999999999999999", "k"]),
            Err(CliError::MemTooLarge(_))
        ));
        let o = run(&["--mem=5", "k"]).expect("valid");
        assert_eq!(o.mem_bytes, 4 << 20);
        assert!(o.mem_warning.is_some());
        assert_eq!(run(&["--mem=1", "k"]).expect("valid").mem_bytes, 2 << 20);
        let o = run(&["--mem=4096", "k"]).expect("valid");
        assert_eq!((o.mem_bytes, o.mem_warning), (1 << 32, None));
    }

    #[test]
    fn device_options() {
        let o = run(&[
            "--net:service=tap0",
            "--net:other=@5",
            "--net-mac:service=02:00:00:aa:bb:cc",
            "--block:storage=/tmp/disk.img",
            "--block-sector-size:storage=4096",
            "--block-mode:storage=ro",
            "--block-mode:other=rw",
            "--stats",
            "k",
        ])
        .expect("valid");
        assert_eq!(o.nets[0], ("service".into(), NetSource::Tap("tap0".into())));
        assert_eq!(o.nets[1], ("other".into(), NetSource::Fd(5)));
        assert_eq!(o.net_macs[0].1, [2, 0, 0, 0xaa, 0xbb, 0xcc]);
        assert_eq!(o.blocks[0].1, PathBuf::from("/tmp/disk.img"));
        assert_eq!(o.sector_sizes[0], ("storage".into(), 4096));
        assert_eq!(
            o.block_read_only,
            [("storage".into(), true), ("other".into(), false)]
        );
        assert!(o.stats);
    }

    #[test]
    fn device_option_errors() {
        assert_eq!(
            run(&["--block-sector-size:s=521", "k"]).unwrap_err(),
            CliError::SectorSize
        );
        assert_eq!(
            run(&["--block-sector-size:s=256", "k"]).unwrap_err(),
            CliError::SectorSize
        );
        assert_eq!(
            run(&["--block-mode:s=readonly", "k"]).unwrap_err(),
            CliError::Malformed("--block-mode")
        );
        assert_eq!(
            run(&["--net:s", "k"]).unwrap_err(),
            CliError::Malformed("--net")
        );
        assert_eq!(
            run(&["--net:s=@x", "k"]).unwrap_err(),
            CliError::Malformed("--net")
        );
        assert_eq!(
            run(&["--net-mac:s=01:02", "k"]).unwrap_err(),
            CliError::Malformed("--net-mac")
        );
        assert_eq!(
            run(&["--block:=x", "k"]).unwrap_err(),
            CliError::Malformed("--block")
        );
        let e = run(&["--frobnicate", "k"]).unwrap_err();
        assert!(e.wants_usage());
        assert_eq!(e.to_string(), "Invalid option: --frobnicate");
        assert_eq!(run(&["--mem=4"]).unwrap_err(), CliError::MissingKernel);
        assert_eq!(run(&["--"]).unwrap_err(), CliError::MissingKernel);
    }

    #[test]
    fn help_version_and_long_cmdline() {
        assert_eq!(parse(vec!["--help".to_string()]), Ok(Command::Help));
        assert_eq!(
            parse(vec!["--version".to_string(), "k".to_string()]),
            Ok(Command::Version)
        );
        let long = "x".repeat(8192);
        assert_eq!(run(&["k", &long]).unwrap_err(), CliError::CmdlineTooLong);
        let max = "x".repeat(8191);
        assert_eq!(run(&["k", &max]).expect("fits").cmdline.len(), 8191);
    }

    #[test]
    fn mac_parsing() {
        assert_eq!(parse_mac("0a:0B:c:d:e:f"), Some([10, 11, 12, 13, 14, 15]));
        assert_eq!(parse_mac("00:11:22:33:44:55:66"), None);
        assert_eq!(parse_mac("00:11:22:33:44:zz"), None);
        assert_eq!(parse_mac("000:11:22:33:44:55"), None);
    }
}
