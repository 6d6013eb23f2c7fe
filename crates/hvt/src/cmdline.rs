//! The command line: leading `--solo5:LEVEL` options, then the application's arguments.
//!
//! The tender passes everything after the image name joined by single spaces. Options of the
//! bindings come first (`--solo5:quiet|error|warn|info|debug`, the last one wins); they set how
//! much this backend itself prints (its `Solo5:` lines) and are removed. The rest is split on
//! spaces into the application's arguments.

use alloc::string::String;
use alloc::vec::Vec;

/// How much the backend prints about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Nothing at all, not even errors.
    Quiet,
    /// Fatal errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// The banner, the memory map and the exit status too (the default).
    Info,
    /// Device and clock details too.
    Debug,
}

/// A `--solo5:` option this backend does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown option '{0}': expected --solo5:quiet, error, warn, info or debug")]
pub struct UnknownOption<'a>(pub &'a str);

/// Takes the leading `--solo5:` options off a command line: the log level and the rest.
///
/// Allocates nothing, so it runs before the heap exists.
pub fn strip_options(cmdline: &str) -> Result<(LogLevel, &str), UnknownOption<'_>> {
    let mut level = LogLevel::Info;
    let mut rest = cmdline.trim_start_matches(' ');
    while rest.starts_with("--solo5:") {
        let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
        // `strip_prefix`, not slicing: no string-slicing panic path (and its formatting code)
        // in every image.
        level = match word.strip_prefix("--solo5:").unwrap_or(word) {
            "quiet" => LogLevel::Quiet,
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            _ => return Err(UnknownOption(word)),
        };
        rest = after.trim_start_matches(' ');
    }
    Ok((level, rest))
}

/// The application's arguments: the words of `rest`, split on spaces.
pub fn split_args(rest: &str) -> Vec<String> {
    // By hand rather than with `str::split`, whose searcher would be about 400 bytes of every
    // image. A space is one byte in UTF-8, so every word is a whole `str` (`get` never fails).
    let mut args = Vec::new();
    let mut start = 0;
    for end in 0..=rest.len() {
        if matches!(rest.as_bytes().get(end), Some(b' ') | None) {
            if let Some(word) = rest.get(start..end).filter(|w| !w.is_empty()) {
                args.push(String::from(word));
            }
            start = end + 1;
        }
    }
    args
}

/// [`strip_options`] then [`split_args`].
pub fn parse(cmdline: &str) -> Result<(LogLevel, Vec<String>), UnknownOption<'_>> {
    let (level, rest) = strip_options(cmdline)?;
    Ok((level, split_args(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString as _;
    use alloc::vec;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_are_stripped_and_set_the_level() {
        assert_eq!(parse(""), Ok((LogLevel::Info, vec![])));
        assert_eq!(
            parse("Hello_Solo5"),
            Ok((LogLevel::Info, args(&["Hello_Solo5"])))
        );
        assert_eq!(
            parse("--solo5:quiet --hello=x y"),
            Ok((LogLevel::Quiet, args(&["--hello=x", "y"])))
        );
        assert_eq!(
            parse("--solo5:quiet --solo5:debug"),
            Ok((LogLevel::Debug, vec![]))
        );
        assert_eq!(parse("--solo5:error"), Ok((LogLevel::Error, vec![])));
        assert_eq!(parse("--solo5:warn  a"), Ok((LogLevel::Warn, args(&["a"]))));
        assert_eq!(parse("--solo5:info"), Ok((LogLevel::Info, vec![])));
    }

    #[test]
    fn only_leading_options_are_the_backends() {
        assert_eq!(
            parse("a --solo5:quiet"),
            Ok((LogLevel::Info, args(&["a", "--solo5:quiet"])))
        );
        assert_eq!(parse("  a   b "), Ok((LogLevel::Info, args(&["a", "b"]))));
    }

    #[test]
    fn words_are_split_on_spaces_only_and_keep_every_character() {
        assert_eq!(split_args("é  ü\tñx ∂ "), args(&["é", "ü\tñx", "∂"]));
        assert_eq!(split_args(" "), Vec::<String>::new());
        assert_eq!(split_args("€"), args(&["€"]));
    }

    #[test]
    fn unknown_options_are_refused() {
        let err = parse("--solo5:loud x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown option '--solo5:loud': expected --solo5:quiet, error, warn, info or debug"
        );
        assert!(parse("--solo5: x").is_err());
    }
}
