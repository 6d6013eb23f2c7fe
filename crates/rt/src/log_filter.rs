//! Which log records are shown: the `--logs=` boot argument.
//!
//! The value is a comma-separated list of items (MirageOS's `-l` syntax), each either
//!
//! - `LEVEL`: the default level, for every source no other item names, or
//! - `SOURCE:LEVEL`: the level for records whose target is `SOURCE` or below it
//!   (`embassy_net` covers `embassy_net::tcp`); `*:LEVEL` is the default level too.
//!
//! Levels are `off`, `error`, `warn`, `info`, `debug` and `trace` (any case). When several
//! items cover a target, the longest source wins. With no `--logs`, the default is
//! [`DEFAULT_LEVEL`]: warnings and errors, not the libraries' INFO lines (an application's own
//! output goes to the console, not the log). Examples: `--logs=info`,
//! `--logs=embassy_net:debug,warn`, `--logs=debug,embassy_net:off`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use log::LevelFilter;

/// The level when `--logs` is not given.
pub const DEFAULT_LEVEL: LevelFilter = LevelFilter::Warn;

/// A parsed `--logs=` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    default: LevelFilter,
    /// (source, level), in the order given.
    sources: Vec<(String, LevelFilter)>,
}

impl Default for LogFilter {
    fn default() -> Self {
        LogFilter {
            default: DEFAULT_LEVEL,
            sources: Vec::new(),
        }
    }
}

/// Why a `--logs=` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFilterError {
    /// An empty item (`info,,warn`, a trailing comma, or nothing at all).
    EmptyItem,
    /// `:LEVEL` with no source before it.
    EmptySource,
    /// Not one of the levels.
    BadLevel(String),
    /// Two items set the same source (or the default) to a level.
    Repeated(String),
}

impl fmt::Display for LogFilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogFilterError::EmptyItem => {
                f.write_str("expected LEVEL or SOURCE:LEVEL items separated by commas")
            }
            LogFilterError::EmptySource => f.write_str("a source name is missing before ':'"),
            LogFilterError::BadLevel(l) => write!(
                f,
                "'{l}' is not a level: expected off, error, warn, info, debug or trace"
            ),
            LogFilterError::Repeated(s) => write!(f, "the level of {s} is given twice"),
        }
    }
}

fn level(s: &str) -> Result<LevelFilter, LogFilterError> {
    s.parse()
        .map_err(|_| LogFilterError::BadLevel(s.to_string()))
}

impl FromStr for LogFilter {
    type Err = LogFilterError;

    fn from_str(spec: &str) -> Result<Self, LogFilterError> {
        let mut default = None;
        let mut sources: Vec<(String, LevelFilter)> = Vec::new();
        for item in spec.split(',') {
            let item = item.trim_ascii();
            if item.is_empty() {
                return Err(LogFilterError::EmptyItem);
            }
            match item.rsplit_once(':') {
                None | Some(("*", _)) => {
                    let lvl = level(item.strip_prefix("*:").unwrap_or(item))?;
                    if default.replace(lvl).is_some() {
                        return Err(LogFilterError::Repeated("the default".to_string()));
                    }
                }
                Some((source, lvl)) => {
                    let source = source.trim_ascii();
                    if source.is_empty() {
                        return Err(LogFilterError::EmptySource);
                    }
                    let lvl = level(lvl.trim_ascii())?;
                    if sources.iter().any(|(s, _)| s == source) {
                        return Err(LogFilterError::Repeated(source.to_string()));
                    }
                    sources.push((source.to_string(), lvl));
                }
            }
        }
        Ok(LogFilter {
            default: default.unwrap_or(DEFAULT_LEVEL),
            sources,
        })
    }
}

/// True when `target` is `source` or a module below it.
fn covers(source: &str, target: &str) -> bool {
    target
        .strip_prefix(source)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

impl LogFilter {
    /// The level records from `target` (a `log` target, usually a module path) are shown at.
    pub fn level_for(&self, target: &str) -> LevelFilter {
        self.sources
            .iter()
            .filter(|(source, _)| covers(source, target))
            .max_by_key(|(source, _)| source.len())
            .map_or(self.default, |(_, level)| *level)
    }

    /// The most verbose level any source is shown at (for `log::set_max_level`).
    pub fn max_level(&self) -> LevelFilter {
        self.sources
            .iter()
            .map(|(_, l)| *l)
            .fold(self.default, core::cmp::Ord::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LevelFilter::*;

    fn parse(s: &str) -> Result<LogFilter, LogFilterError> {
        s.parse()
    }

    #[test]
    fn default_is_warn_everywhere() {
        let f = LogFilter::default();
        assert_eq!(f.level_for("embassy_net::tcp"), Warn);
        assert_eq!(f.level_for("hello"), Warn);
        assert_eq!(f.max_level(), Warn);
    }

    #[test]
    fn a_global_level() {
        for (spec, want) in [
            ("info", Info),
            ("DEBUG", Debug),
            ("off", Off),
            ("*:trace", Trace),
        ] {
            let f = parse(spec).unwrap();
            assert_eq!(
                (f.level_for("any::thing"), f.max_level()),
                (want, want),
                "{spec}"
            );
        }
    }

    #[test]
    fn per_source_levels_longest_match_wins() {
        let f = parse("embassy_net:debug,warn").unwrap();
        assert_eq!(f.level_for("embassy_net"), Debug);
        assert_eq!(f.level_for("embassy_net::tcp"), Debug);
        assert_eq!(
            f.level_for("embassy_net_driver"),
            Warn,
            "not a module of it"
        );
        assert_eq!(f.level_for("smoltcp::iface"), Warn);
        assert_eq!(f.max_level(), Debug);

        let f = parse("debug, smoltcp:off, smoltcp::iface:info").unwrap();
        assert_eq!(f.level_for("smoltcp::socket"), Off);
        assert_eq!(f.level_for("smoltcp::iface::neighbor"), Info);
        assert_eq!(f.level_for("hello"), Debug);

        // A source alone keeps the default for the rest.
        let f = parse("morgana_tcpip:info").unwrap();
        assert_eq!(
            (f.level_for("morgana_tcpip"), f.level_for("x")),
            (Info, Warn)
        );
    }

    #[test]
    fn malformed_filters_are_named() {
        let err = |s: &str| parse(s).unwrap_err().to_string();
        assert_eq!(
            err("loud"),
            "'loud' is not a level: expected off, error, warn, info, debug or trace"
        );
        assert_eq!(
            err("embassy_net:verbose"),
            "'verbose' is not a level: expected off, error, warn, info, debug or trace"
        );
        for s in ["", "info,", ",info", "info,,warn"] {
            assert_eq!(
                err(s),
                "expected LEVEL or SOURCE:LEVEL items separated by commas",
                "{s:?}"
            );
        }
        assert_eq!(err(":info"), "a source name is missing before ':'");
        assert_eq!(err("info,warn"), "the level of the default is given twice");
        assert_eq!(err("a:info,a:debug"), "the level of a is given twice");
    }
}
