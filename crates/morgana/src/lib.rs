//! Morgana: write a unikernel once, run it as a Linux process or as a hypervisor image.
//!
//! An application is a `no_std`, `no_main` binary crate (`#![cfg_attr(not(test), no_std,
//! no_main)]`, so that `cargo test` can still build its unit tests) with one `async fn` as its
//! entry, declared with [`main!`] together with the devices it uses:
//!
//! ```ignore
//! #![cfg_attr(not(test), no_std, no_main)]
//!
//! morgana::main!(app, devices: { STORAGE: block = "storage" });
//!
//! async fn app(_spawner: morgana::Spawner) -> Result<(), morgana::Error> {
//!     let disk = morgana::block::acquire(STORAGE)?;
//!     morgana::println!("{} sectors", morgana::block::BlockDevice::info(&disk).sectors());
//!     Ok(())
//! }
//! ```
//!
//! The same source builds for the host (`cargo build`, `cargo test`: the unix backend) and for
//! the bare-metal targets (`cargo xtask build --target hvt`): the backend is chosen by the target
//! alone. Devices are values acquired by their declaration; time ([`time`], which is
//! `embassy-time`), randomness ([`entropy::rng`]), logging (`log`), the command line ([`args`])
//! and the console ([`println!`]) are ambient.
#![no_std]

extern crate alloc;

#[cfg(target_os = "hvt")]
use morgana_backend_hvt as backend;
#[cfg(morgana_hosted)]
use morgana_backend_unix as backend;
#[cfg(target_os = "xen")]
use morgana_backend_xen as backend;

pub use embassy_executor::Spawner;
pub use embassy_time as time;
pub use morgana_rt as rt;
pub use morgana_rt::args::{ArgError, BootArgs, args};
pub use morgana_rt::manifest::{Device, DeviceError, DeviceKind};
pub use morgana_rt::spawn;

/// The error type most applications return from `main`: any error, boxed.
pub type Error = alloc::boxed::Box<dyn core::error::Error>;

/// The console: [`println!`] and [`print!`] write here.
pub mod console {
    pub use morgana_console::*;

    /// The running platform's console.
    #[derive(Debug, Clone, Copy)]
    pub struct PlatformConsole;

    impl Console for PlatformConsole {
        fn write(&self, bytes: &[u8]) {
            morgana_rt::console_write(bytes)
        }
    }

    #[doc(hidden)]
    pub fn _print(args: core::fmt::Arguments<'_>) {
        // One write per call: on hvt every write is a hypercall.
        morgana_rt::console_write(alloc::fmt::format(args).as_bytes());
    }
}

/// Ethernet devices: the interface and this backend's device.
pub mod net {
    pub use crate::backend::devices::acquire_net as acquire;
    pub use crate::backend::net::Net;
    pub use morgana_net::*;
}

/// Block devices: the interface and this backend's device.
pub mod block {
    pub use crate::backend::block::Block;
    pub use crate::backend::devices::acquire_block as acquire;
    pub use morgana_block::*;
}

/// Monotonic and wall-clock time of the running platform.
pub mod clock {
    pub use morgana_clock::*;

    /// Nanoseconds since boot.
    pub fn monotonic_ns() -> u64 {
        morgana_rt::platform().monotonic_ns()
    }

    /// Nanoseconds since the Unix epoch.
    pub fn wall_ns() -> u64 {
        morgana_rt::platform().wall_ns()
    }
}

/// Randomness: a CSPRNG seeded from the platform.
pub mod entropy {
    pub use morgana_entropy::*;

    /// A new ChaCha20 generator seeded from the platform's entropy source.
    pub fn rng() -> Result<Csprng, EntropyError> {
        Csprng::from_source(morgana_rt::platform())
    }
}

/// Prints to the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::_print(format_args!($($arg)*)) };
}

/// Prints a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::console::_print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Declares the application's entry and devices.
///
/// `main!(app)` or `main!(app, devices: { NAME: kind = "name", ... })` with `kind` one of `net`
/// and `block`. Each device becomes a `const NAME: Device` to acquire it by; the list becomes
/// the image's manifest and is checked at compile time (1-67 alphanumeric characters per name,
/// no name twice, at most 63 devices). `app` is an `async fn(Spawner) -> Result<(), E>` with
/// `E: Display`.
#[macro_export]
macro_rules! main {
    ($app:path) => {
        $crate::main!($app, devices: {});
    };
    ($app:path, devices: { $($name:ident : $kind:ident = $label:literal),* $(,)? }) => {
        $(
            #[doc = concat!("The `", $label, "` device.")]
            #[allow(dead_code)]
            pub const $name: $crate::Device = $crate::Device::$kind($label);
        )*
        #[doc(hidden)]
        pub const __MORGANA_DEVICES: &[$crate::Device] = &[$($name),*];
        const _: () = $crate::rt::manifest::check_devices(__MORGANA_DEVICES);
        $crate::__entry!($app, __MORGANA_DEVICES);
    };
}

/// Runs `app` and the tasks it spawns on the host until it completes, for tests: several
/// in-memory devices and stacks can be driven in one `cargo test` (see `morgana-vnet`).
#[cfg(morgana_hosted)]
pub use backend::block_on;

#[cfg(not(morgana_hosted))]
mod getrandom_backend;

#[doc(hidden)]
pub mod __private {
    pub use crate::backend::start;
    #[cfg(target_os = "xen")]
    pub use alloc::{string::String, vec::Vec};
    #[cfg(target_os = "hvt")]
    pub use morgana_backend_hvt::notes;
    #[cfg(target_os = "xen")]
    pub use morgana_backend_xen::devices_note;
}

/// The hvt entry: the image's notes and `_start`.
///
/// The notes are statics of the application crate itself, so `#[used]` and the linker
/// script's `KEEP` place them whatever the linker pulls from libraries. The manifest has one
/// entry per declared device, in declaration order, after the reserved entry 0: the device
/// declared first is handle 1.
#[cfg(target_os = "hvt")]
#[doc(hidden)]
#[macro_export]
macro_rules! __entry {
    ($app:path, $devices:ident) => {
        #[used]
        #[unsafe(link_section = ".note.solo5.abi")]
        static __MORGANA_SOLO5_ABI: $crate::__private::notes::AbiNote =
            $crate::__private::notes::ABI_NOTE;

        #[used]
        #[unsafe(link_section = ".note.solo5.manifest")]
        static __MORGANA_SOLO5_MANIFEST: $crate::__private::notes::ManifestNote<
            { $devices.len() + 1 },
        > = $crate::__private::notes::manifest_note($devices);

        #[used]
        #[unsafe(link_section = ".note.solo5.not-openbsd")]
        static __MORGANA_NOT_OPENBSD: $crate::__private::notes::OpenBsdNote =
            $crate::__private::notes::NOT_OPENBSD_NOTE;

        // Whether the image may use vector instructions: the tender hides SIMD features from a
        // soft-float image (see `morgana_hvt_abi::notes::FloatNote`).
        #[used]
        #[unsafe(link_section = ".note.morgana.float")]
        static __MORGANA_FLOAT: $crate::__private::notes::FloatNote =
            $crate::__private::notes::FloatNote::new(cfg!(not(target_feature = "sse2")));

        #[used]
        #[unsafe(link_section = ".interp")]
        static __MORGANA_INTERP: [u8; 24] = $crate::__private::notes::INTERP;

        /// The entry point: the tender jumps here with the boot info's address in `%rdi`.
        #[unsafe(no_mangle)]
        extern "C" fn _start(boot_info: u64) -> ! {
            $crate::__private::start(boot_info, $devices, $app)
        }
    };
}

#[cfg(morgana_hosted)]
#[doc(hidden)]
#[macro_export]
macro_rules! __entry {
    ($app:path, $devices:ident) => {
        #[cfg(not(test))]
        #[unsafe(no_mangle)]
        extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
            $crate::__private::start($devices, $app)
        }
        // Under `cargo test` the entry is not built; this keeps `app` in use.
        #[cfg(test)]
        const _: () = {
            let _ = $app;
        };
    };
}

#[cfg(target_os = "xen")]
#[doc(hidden)]
#[macro_export]
macro_rules! __entry {
    ($app:path, $devices:ident) => {
        const __MORGANA_DEVICES_NOTE_LEN: usize =
            $crate::__private::devices_note::encoded_len($devices);
        // The declarations, for the build tool's xl config (the section is
        // `morgana_xen_abi::devices::SECTION`; an attribute needs the literal).
        #[used]
        #[unsafe(link_section = ".morgana.devices")]
        static __MORGANA_DEVICES_NOTE: [u8; __MORGANA_DEVICES_NOTE_LEN] =
            $crate::__private::devices_note::encode($devices);
        /// The application's entry: the boot code calls it with the command line's arguments.
        #[unsafe(no_mangle)]
        fn __morgana_xen_main(args: $crate::__private::Vec<$crate::__private::String>) -> ! {
            $crate::__private::start(args, $devices, $app)
        }
    };
}
