//! The unix backend: a Morgana unikernel as an ordinary Linux process.
//!
//! | device  | here                                                        |
//! |---------|-------------------------------------------------------------|
//! | console | standard output (error reports on standard error)           |
//! | clock   | `clock_gettime(CLOCK_MONOTONIC / CLOCK_REALTIME)`            |
//! | entropy | `getrandom(2)`                                              |
//! | net     | a TAP device (`/dev/net/tun`, `IFF_TAP | IFF_NO_PI | IFF_VNET_HDR`), or the host's own TCP/IP (`--net:NAME=socket`, [`sockets`]) |
//! | block   | a file, with `pread`/`pwrite`                               |
//! | wait    | `ppoll(2)` on the tap and socket descriptors with the timer deadline |
//!
//! Devices are bound on the command line with the hvt tender's flags (`--net:NAME=TAP`,
//! `--block:NAME=FILE`, `--block-sector-size:NAME=N`), then `--` and the application's own
//! arguments; see [`boot`].
#![warn(missing_docs)]

pub mod backtrace;
pub mod block;
pub mod boot;
pub mod clock;
pub mod console;
pub mod devices;
pub mod entropy;
pub mod net;
pub mod offload;
pub mod sockets;
pub mod tcp_checksum;
pub mod wait;

pub use boot::{block_on, start};
