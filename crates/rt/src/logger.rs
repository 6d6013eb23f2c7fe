//! The `log` backend: records on the console, stamped with monotonic time since boot.
//!
//! What is shown comes from the `--logs=` boot argument, a default level plus per-source levels
//! ([`crate::log_filter`]; warnings and errors only when it is absent), which the runtime
//! consumes before the application sees its arguments.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt::Write as _;
use critical_section::Mutex;
use log::{Log, Metadata, Record};

use crate::log_filter::LogFilter;
use crate::platform::try_platform;

/// The filter in force; the default one until boot installs the `--logs=` one.
static FILTER: Mutex<RefCell<Option<LogFilter>>> = Mutex::new(RefCell::new(None));

struct ConsoleLogger;

static LOGGER: ConsoleLogger = ConsoleLogger;

impl Log for ConsoleLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
            && critical_section::with(|cs| {
                let filter = FILTER.borrow_ref(cs);
                let level = match filter.as_ref() {
                    Some(f) => f.level_for(metadata.target()),
                    None => crate::log_filter::DEFAULT_LEVEL,
                };
                metadata.level() <= level
            })
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

/// Takes `--logs=FILTER` out of `args` (the last one counts), installs the logger with that
/// filter, returns the rest; a malformed filter is the boot error's message.
pub(crate) fn init_from_args(args: Vec<String>) -> Result<Vec<String>, String> {
    let mut filter = LogFilter::default();
    let mut rest = Vec::with_capacity(args.len());
    for arg in args {
        match arg.strip_prefix("--logs=") {
            Some(value) => {
                filter = value
                    .parse()
                    .map_err(|e| alloc::format!("malformed boot argument --logs={value}: {e}"))?;
            }
            None => rest.push(arg),
        }
    }
    // A second call (only possible in tests) keeps the first logger; the filter still applies.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(filter.max_level());
    critical_section::with(|cs| *FILTER.borrow_ref_mut(cs) = Some(filter));
    Ok(rest)
}
