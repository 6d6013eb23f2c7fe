//! Every way the tender can fail. Each one is printed as one line on stderr and ends the
//! process with status 1.

use crate::cli::CliError;
use crate::elf::ElfError;
use crate::manifest::ManifestError;
use crate::memory::InvalidGuestAccess;
use std::io;
use std::path::PathBuf;

/// A tender error; `Display` is the message printed after "morgana-hvt: ".
///
/// Where `solo5-hvt` reports the same failure, the message contains its wording (Solo5's test
/// suite and users' scripts look for those substrings); docs/debugging.md lists the messages
/// and the differences kept on purpose.
#[derive(Debug, thiserror::Error)]
pub enum TenderError {
    /// SIGINT or SIGTERM arrived while the guest ran.
    #[error("Exiting on signal {0}")]
    Signal(i32),
    /// Bad command line.
    #[error(transparent)]
    Cli(#[from] CliError),
    /// KERNEL could not be read.
    #[error("{}: {err}", path.display())]
    Kernel {
        /// The path given as KERNEL.
        path: PathBuf,
        /// Why it could not be read.
        err: io::Error,
    },
    /// The image failed an ELF check.
    #[error("invalid executable: {0}")]
    Elf(#[from] ElfError),
    /// No ABI1 note.
    #[error("No Solo5 ABI information found in executable")]
    NoAbiNote,
    /// ABI1 note for another target.
    #[error("Executable is not for the solo5-hvt target")]
    WrongTarget,
    /// ABI1 note with a version other than 2.
    #[error("Executable requests unsupported ABI version {0}")]
    AbiVersion(u32),
    /// No MFT1 note.
    #[error("No Solo5 manifest found in executable")]
    NoManifest,
    /// The MFT1 note is too small to hold a manifest header. Solo5 reports this as a note
    /// size error, and its test suite looks for that wording.
    #[error(
        "invalid executable: INV_EXE: phdr[{0}] note does not fall within valid size (Solo5 \
         manifest is invalid: note too small)"
    )]
    ManifestTooSmall(usize),
    /// The MFT1 note failed validation.
    #[error("Solo5 manifest is invalid: {0}")]
    Manifest(#[from] ManifestError),
    /// A device option names no manifest entry of that type.
    #[error("Resource not declared in manifest: '{0}'")]
    NotDeclared(String),
    /// The same device given twice.
    #[error("Device '{0}' attached more than once")]
    AttachedTwice(String),
    /// A declared device without a host resource.
    #[error(
        "Device '{0}' of type {1} declared but not attached. All declared devices must be attached"
    )]
    NotAttached(String, &'static str),
    /// A tap could not be attached.
    #[error("Could not attach interface: {0}: {1}")]
    Tap(String, io::Error),
    /// A block file could not be opened or sized.
    #[error("Could not open block device: {}: {err}", path.display())]
    BlockOpen {
        /// The path given on the command line.
        path: PathBuf,
        /// Why it failed.
        err: io::Error,
    },
    /// Block capacity is not a multiple of the sector size.
    #[error(
        "Backing storage size must be block aligned ({capacity} bytes, block size {block_size})"
    )]
    BlockAlign {
        /// File size in bytes.
        capacity: u64,
        /// Sector size in bytes.
        block_size: u16,
    },
    /// Block capacity is below one sector.
    #[error("Backing storage must be at least one block ({block_size} bytes) in size")]
    BlockTooSmall {
        /// Sector size in bytes.
        block_size: u16,
    },
    /// Guest memory could not be mapped.
    #[error("Could not allocate guest memory: {0}")]
    Memory(io::Error),
    /// A KVM ioctl failed.
    #[error("KVM: {0}: {1}")]
    Kvm(&'static str, io::Error),
    /// Unexpected KVM API version.
    #[error("KVM: unsupported API version {0}, expected 12")]
    KvmApi(i32),
    /// A required KVM capability is missing.
    #[error("KVM: missing capability {0}")]
    KvmCap(&'static str),
    /// KVM reported an unstable TSC.
    #[error("KVM: host TSC is unstable, refusing to start")]
    UnstableTsc,
    /// Writing the guest's low memory failed.
    #[error("Could not set up guest memory: {0}")]
    Setup(io::Error),
    /// A guest address failed the checked translation.
    #[error(transparent)]
    GuestAccess(#[from] InvalidGuestAccess),
    /// A VM exit that is not a valid hypercall port access.
    #[error("Invalid guest port access: port={port:#x}, size={size}")]
    InvalidPort {
        /// The port.
        port: u16,
        /// Access size in bytes (0 for an input).
        size: usize,
    },
    /// Hypercall 0 or one with no handler.
    #[error("Invalid guest hypercall: num={0}")]
    InvalidHypercall(u16),
    /// The guest touched memory the host refused (EFAULT or, under KVM-PVM, MMIO).
    #[error("host/guest translation fault: rip={0:#x}")]
    TranslationFault(u64),
    /// Any other VM exit.
    #[error("KVM: unhandled exit: {0}, rip={1:#x}")]
    UnhandledExit(&'static str, u64),
    /// A hard-float guest stopped at an instruction this host's KVM cannot run.
    #[error(
        "KVM: internal error exit at rip={0:#x}: this host's KVM could not run an instruction of \
         this hard-float image (KVM-PVM cannot run SSE in a guest); build it with --float=soft, \
         or run it in the KVM lab (cargo xtask kvmlab)"
    )]
    VectorInstruction(u64),
    /// A host I/O operation on behalf of the guest failed.
    #[error("{0}: {1}")]
    HostIo(&'static str, io::Error),
    /// A host I/O operation transferred fewer bytes than asked.
    #[error("{0}: short transfer ({1} of {2} bytes)")]
    ShortIo(&'static str, usize, usize),
    /// The process runs with READ_IMPLIES_EXEC.
    #[error("Refusing to run with the READ_IMPLIES_EXEC personality")]
    ReadImpliesExec,
    /// `--dumpcore` could not prepare its file.
    #[error(transparent)]
    Dumpcore(#[from] crate::dumpcore::DumpcoreError),
    /// `--gdb` could not start.
    #[error(transparent)]
    GdbStart(#[from] crate::gdb::GdbError),
    /// The gdb session ended the guest, or failed.
    #[error("{0}")]
    Gdb(String),
    /// The seccomp filter could not be built or installed.
    #[error("Could not install seccomp filter: {0}")]
    Seccomp(String),
}
