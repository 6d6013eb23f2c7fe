//! The `log` backend: records on the console, stamped with monotonic time since boot.
//!
//! The level comes from the `--logs=LEVEL` boot argument (`off`, `error`, `warn`, `info`,
//! `debug`, `trace`; default `info`), which the runtime consumes before the application sees its
//! arguments.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;
use log::{LevelFilter, Log, Metadata, Record};

use crate::platform::try_platform;

struct ConsoleLogger;

static LOGGER: ConsoleLogger = ConsoleLogger;

impl Log for ConsoleLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        let Some(p) = try_platform() else { return };
        if !self.enabled(record.metadata()) {
            return;
        }
        let ns = p.monotonic_ns();
        let mut line = String::new();
        let _ = writeln!(
            line,
            "[{:>5}.{:06}] {:<5} {}: {}",
            ns / 1_000_000_000,
            ns % 1_000_000_000 / 1000,
            record.level(),
            record.target(),
            record.args()
        );
        p.write(line.as_bytes());
    }

    fn flush(&self) {}
}

/// Takes `--logs=LEVEL` out of `args`, installs the logger at that level, returns the rest.
pub(crate) fn init_from_args(args: Vec<String>) -> Result<Vec<String>, String> {
    let mut level = LevelFilter::Info;
    let mut rest = Vec::with_capacity(args.len());
    for arg in args {
        match arg.strip_prefix("--logs=") {
            Some(value) => {
                level = value.parse().map_err(|_| {
                    alloc::format!(
                        "malformed boot argument --logs={value}: expected off, error, warn, info, debug or trace"
                    )
                })?;
            }
            None => rest.push(arg),
        }
    }
    // A second call (only possible in tests) keeps the first logger; the level still applies.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
    Ok(rest)
}
