//! The boot command line: the application's arguments and a small typed `--key=value` parser.
//!
//! Arguments take MirageOS's shape, `--key=value`, with `--key` alone for a true flag. A parser
//! is built from the arguments, the application asks it for the keys it knows, then
//! [`BootArgs::finish`] reports anything left over, so a misspelt key is an error rather than
//! silently ignored:
//!
//! ```
//! use morgana_rt::args::BootArgs;
//! let mut p = BootArgs::parse(["--port=8080", "--verbose"]);
//! let port: u16 = p.with_default("port", 80).unwrap();
//! let verbose = p.flag("verbose").unwrap();
//! let name: Option<String> = p.optional("name").unwrap();
//! p.finish().unwrap();
//! assert_eq!((port, verbose, name), (8080, true, None));
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;
use core::str::FromStr;
use critical_section::Mutex;

static ARGS: Mutex<Cell<&'static [String]>> = Mutex::new(Cell::new(&[]));

/// Stores the application's arguments for [`args`]; called once at boot.
pub(crate) fn install(args: Vec<String>) {
    let leaked: &'static [String] = args.leak();
    critical_section::with(|cs| ARGS.borrow(cs).set(leaked));
}

/// The application's arguments, in order, without the program name or backend options.
pub fn args() -> &'static [String] {
    critical_section::with(|cs| ARGS.borrow(cs).get())
}

/// A boot argument the application could not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// A required key was not given.
    #[error("missing boot argument --{key}={what}")]
    Missing {
        /// The key, without dashes.
        key: String,
        /// What the value should be, for the message (`TEXT`, `PORT`...).
        what: String,
    },
    /// A value did not parse.
    #[error("malformed boot argument --{key}={value}: {reason}")]
    Malformed {
        /// The key, without dashes.
        key: String,
        /// The value as given (empty when `--key` had no `=`).
        value: String,
        /// Why it did not parse.
        reason: String,
    },
    /// A key was given twice.
    #[error("boot argument --{key} given more than once")]
    Duplicate {
        /// The key, without dashes.
        key: String,
    },
    /// An argument no one asked for, or one not of the form `--key[=value]`.
    #[error("unknown boot argument '{arg}'")]
    Unknown {
        /// The argument as given.
        arg: String,
    },
}

/// A boot argument value that is a positive whole number of seconds (`--idle-timeout=30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub u32);

impl FromStr for Seconds {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Seconds(n)),
            _ => Err("expected a whole number of seconds, at least 1"),
        }
    }
}

#[derive(Debug)]
struct Entry<'a> {
    raw: &'a str,
    key: Option<&'a str>,
    value: Option<&'a str>,
    used: bool,
}

/// A typed view of `--key=value` arguments; see the [module documentation](self).
#[derive(Debug)]
pub struct BootArgs<'a> {
    entries: Vec<Entry<'a>>,
}

impl BootArgs<'static> {
    /// Parses the unikernel's own arguments (see [`args`]).
    pub fn from_boot() -> Self {
        BootArgs::parse(args().iter().map(String::as_str))
    }
}

impl<'a> BootArgs<'a> {
    /// Splits `args` into keys and values; nothing is rejected until asked for or [`finish`]ed.
    ///
    /// [`finish`]: BootArgs::finish
    pub fn parse<I: IntoIterator<Item = &'a str>>(args: I) -> Self {
        let entries = args
            .into_iter()
            .map(|raw| {
                let (key, value) = match raw.strip_prefix("--") {
                    Some(rest) if !rest.is_empty() => match rest.split_once('=') {
                        Some((k, v)) => (Some(k), Some(v)),
                        None => (Some(rest), None),
                    },
                    _ => (None, None),
                };
                Entry {
                    raw,
                    key,
                    value,
                    used: false,
                }
            })
            .collect();
        BootArgs { entries }
    }

    /// The entry for `key`, marked used; an error if the key was given twice.
    fn take(&mut self, key: &str) -> Result<Option<&Entry<'a>>, ArgError> {
        let mut found = None;
        for (i, e) in self.entries.iter_mut().enumerate() {
            if e.key == Some(key) {
                if found.is_some() {
                    return Err(ArgError::Duplicate {
                        key: key.to_string(),
                    });
                }
                e.used = true;
                found = Some(i);
            }
        }
        Ok(found.map(|i| &self.entries[i]))
    }

    /// The value of `--key=VALUE` parsed as `T`, or `None` when the key is absent.
    pub fn optional<T>(&mut self, key: &str) -> Result<Option<T>, ArgError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let Some(entry) = self.take(key)? else {
            return Ok(None);
        };
        let Some(value) = entry.value else {
            return Err(ArgError::Malformed {
                key: key.to_string(),
                value: String::new(),
                reason: "a value is required".to_string(),
            });
        };
        value
            .parse::<T>()
            .map(Some)
            .map_err(|e| ArgError::Malformed {
                key: key.to_string(),
                value: value.to_string(),
                reason: e.to_string(),
            })
    }

    /// The value of `--key=VALUE` parsed as `T`; `what` names the value in the error message.
    pub fn required<T>(&mut self, key: &str, what: &str) -> Result<T, ArgError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.optional(key)?.ok_or_else(|| ArgError::Missing {
            key: key.to_string(),
            what: what.to_string(),
        })
    }

    /// The value of `--key=VALUE` parsed as `T`, or `default` when the key is absent.
    pub fn with_default<T>(&mut self, key: &str, default: T) -> Result<T, ArgError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        Ok(self.optional(key)?.unwrap_or(default))
    }

    /// A boolean flag: `--key` or `--key=true` is true, `--key=false` or absence is false.
    pub fn flag(&mut self, key: &str) -> Result<bool, ArgError> {
        let Some(entry) = self.take(key)? else {
            return Ok(false);
        };
        match entry.value {
            None | Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(ArgError::Malformed {
                key: key.to_string(),
                value: other.to_string(),
                reason: "expected true or false".to_string(),
            }),
        }
    }

    /// Fails on the first argument that no call asked for.
    pub fn finish(self) -> Result<(), ArgError> {
        match self.entries.iter().find(|e| !e.used) {
            Some(e) => Err(ArgError::Unknown {
                arg: e.raw.to_string(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn typed_values_flags_and_defaults() {
        let mut p = BootArgs::parse(["--hello=Hi there", "--n=-3", "--on", "--off=false"]);
        assert_eq!(p.required::<String>("hello", "TEXT").unwrap(), "Hi there");
        assert_eq!(p.required::<i32>("n", "N").unwrap(), -3);
        assert!(p.flag("on").unwrap());
        assert!(!p.flag("off").unwrap());
        assert_eq!(p.with_default::<u16>("port", 7).unwrap(), 7);
        p.finish().unwrap();
    }

    #[test]
    fn seconds_are_positive_whole_numbers() {
        let mut p = BootArgs::parse(["--t=30", "--z=0", "--h=1.5"]);
        assert_eq!(p.required::<Seconds>("t", "S").unwrap(), Seconds(30));
        let expected = "expected a whole number of seconds, at least 1";
        assert_eq!(
            p.required::<Seconds>("z", "S").unwrap_err().to_string(),
            alloc::format!("malformed boot argument --z=0: {expected}")
        );
        assert_eq!(
            p.required::<Seconds>("h", "S").unwrap_err().to_string(),
            alloc::format!("malformed boot argument --h=1.5: {expected}")
        );
    }

    #[test]
    fn empty_value_is_a_value() {
        let mut p = BootArgs::parse(["--hello="]);
        assert_eq!(p.required::<String>("hello", "TEXT").unwrap(), "");
    }

    #[test]
    fn errors_name_the_problem() {
        let mut p = BootArgs::parse(["--port=http"]);
        assert_eq!(
            p.required::<u16>("port", "PORT").unwrap_err().to_string(),
            "malformed boot argument --port=http: invalid digit found in string"
        );
        let mut p = BootArgs::parse(["--port=70000"]);
        assert_eq!(
            p.optional::<u16>("port").unwrap_err().to_string(),
            "malformed boot argument --port=70000: number too large to fit in target type"
        );
        let mut p = BootArgs::parse(["--hello"]);
        assert_eq!(
            p.required::<String>("hello", "TEXT")
                .unwrap_err()
                .to_string(),
            "malformed boot argument --hello=: a value is required"
        );
        let mut p = BootArgs::parse::<[&str; 0]>([]);
        assert_eq!(
            p.required::<String>("hello", "TEXT")
                .unwrap_err()
                .to_string(),
            "missing boot argument --hello=TEXT"
        );
        let mut p = BootArgs::parse(["--a=1", "--a=2"]);
        assert_eq!(
            p.optional::<u8>("a").unwrap_err().to_string(),
            "boot argument --a given more than once"
        );
        let mut p = BootArgs::parse(["--a=1", "--helo=x"]);
        p.optional::<u8>("a").unwrap();
        assert_eq!(
            p.finish().unwrap_err().to_string(),
            "unknown boot argument '--helo=x'"
        );
        assert_eq!(
            BootArgs::parse(["stray"]).finish().unwrap_err().to_string(),
            "unknown boot argument 'stray'"
        );
        assert_eq!(
            BootArgs::parse(["--"]).finish().unwrap_err().to_string(),
            "unknown boot argument '--'"
        );
        let mut p = BootArgs::parse(["--on=yes"]);
        assert_eq!(
            p.flag("on").unwrap_err().to_string(),
            "malformed boot argument --on=yes: expected true or false"
        );
    }
}
