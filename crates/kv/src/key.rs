//! Keys: `/`-separated paths of non-empty segments.

use alloc::string::String;
use core::fmt;

/// Longest segment, in bytes (littlefs's default name limit).
pub const MAX_SEGMENT: usize = 255;

/// Longest key, in bytes.
pub const MAX_KEY: usize = 1023;

/// A checked key: `/`-separated segments, none empty, `.` or `..`, none holding NUL or
/// control characters, each at most [`MAX_SEGMENT`] bytes and the whole at most [`MAX_KEY`].
/// A leading `/` is accepted and dropped; the empty key (or `/`) is the root dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key<'a>(&'a str);

/// Why a string is not a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// Two `/` in a row or a trailing `/`.
    EmptySegment,
    /// A `.` or `..` segment.
    DotSegment,
    /// A NUL or other control character.
    ControlCharacter,
    /// A segment longer than [`MAX_SEGMENT`] bytes.
    SegmentTooLong,
    /// A key longer than [`MAX_KEY`] bytes.
    TooLong,
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyProblem::EmptySegment => "it has an empty segment",
            KeyProblem::DotSegment => "it has a '.' or '..' segment",
            KeyProblem::ControlCharacter => "it holds a control character",
            KeyProblem::SegmentTooLong => "a segment is longer than 255 bytes",
            KeyProblem::TooLong => "it is longer than 1023 bytes",
        })
    }
}

impl<'a> Key<'a> {
    /// The root dictionary.
    pub const ROOT: Key<'static> = Key("");

    /// Checks `s` as a key.
    pub fn parse(s: &'a str) -> Result<Key<'a>, KeyProblem> {
        let path = s.strip_prefix('/').unwrap_or(s);
        if path.len() > MAX_KEY {
            return Err(KeyProblem::TooLong);
        }
        if path.is_empty() {
            return Ok(Key(""));
        }
        for segment in path.split('/') {
            if segment.is_empty() {
                return Err(KeyProblem::EmptySegment);
            }
            if segment == "." || segment == ".." {
                return Err(KeyProblem::DotSegment);
            }
            if segment.chars().any(char::is_control) {
                return Err(KeyProblem::ControlCharacter);
            }
            if segment.len() > MAX_SEGMENT {
                return Err(KeyProblem::SegmentTooLong);
            }
        }
        Ok(Key(path))
    }

    /// The path without a leading `/` (empty for the root).
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// True for the root dictionary.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The dictionary holding this key (the root for a top-level key); `None` for the root.
    pub fn parent(&self) -> Option<Key<'a>> {
        if self.is_root() {
            return None;
        }
        Some(Key(self.0.rsplit_once('/').map_or("", |(p, _)| p)))
    }

    /// The last segment (empty for the root).
    pub fn name(&self) -> &'a str {
        self.0.rsplit_once('/').map_or(self.0, |(_, n)| n)
    }

    /// `self/name` as an owned path.
    pub fn join(&self, name: &str) -> String {
        if self.is_root() {
            String::from(name)
        } else {
            alloc::format!("{}/{name}", self.0)
        }
    }

    /// True when `other` is this key or lies under it.
    pub fn contains(&self, other: &Key<'_>) -> bool {
        self.is_root()
            || other.0 == self.0
            || (other.0.starts_with(self.0) && other.0.as_bytes().get(self.0.len()) == Some(&b'/'))
    }
}

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_and_refuses_bad_ones() {
        assert_eq!(Key::parse("a/b").map(|k| k.as_str()), Ok("a/b"));
        assert_eq!(Key::parse("/a/b").map(|k| k.as_str()), Ok("a/b"));
        assert_eq!(Key::parse("/").map(|k| k.is_root()), Ok(true));
        assert_eq!(Key::parse("a//b"), Err(KeyProblem::EmptySegment));
        assert_eq!(Key::parse("a/"), Err(KeyProblem::EmptySegment));
        assert_eq!(Key::parse("a/../b"), Err(KeyProblem::DotSegment));
        assert_eq!(Key::parse("./b"), Err(KeyProblem::DotSegment));
        assert_eq!(Key::parse("a\0b"), Err(KeyProblem::ControlCharacter));
        let long = "x".repeat(256);
        assert_eq!(Key::parse(&long), Err(KeyProblem::SegmentTooLong));
        let longer = "x/".repeat(600);
        assert_eq!(Key::parse(&longer), Err(KeyProblem::TooLong));
    }

    #[test]
    fn parents_names_and_containment() {
        let k = Key::parse("a/b/c").unwrap();
        assert_eq!(k.parent().map(|p| p.as_str()), Some("a/b"));
        assert_eq!(k.name(), "c");
        assert_eq!(Key::parse("a").unwrap().parent(), Some(Key::ROOT));
        assert_eq!(Key::ROOT.parent(), None);
        let a = Key::parse("a").unwrap();
        assert!(a.contains(&k));
        assert!(!Key::parse("a/b/c/d").unwrap().contains(&k));
        assert!(Key::parse("a/b/").is_err());
        assert!(
            !Key::parse("ab")
                .unwrap()
                .contains(&Key::parse("abc").unwrap())
        );
        assert_eq!(Key::ROOT.join("x"), "x");
        assert_eq!(a.join("x"), "a/x");
        assert_eq!(alloc::format!("{k}"), "/a/b/c");
    }
}
