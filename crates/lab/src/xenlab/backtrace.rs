//! The Xen lab's backtrace checks: a guest's console symbolised with its image's debug
//! information must show the expected frames.

use std::path::Path;

use morgana_build::symbolize::Symbolizer;
use morgana_testkit::backtrace::find_frames;

const FILE: &str = "tests/conformance/backtrace/src/main.rs";

/// The frames (innermost first) the suite case `case` must print, if it is a backtrace case.
fn expected(case: &str) -> Option<[(&'static str, String); 3]> {
    match case {
        "backtrace-panic" => Some([
            ("backtrace_inner_panic", format!("{FILE}:25")),
            ("backtrace_middle", format!("{FILE}:42")),
            ("backtrace_outer", format!("{FILE}:50")),
        ]),
        "backtrace-fault" => Some([
            ("backtrace_inner_fault", format!("{FILE}:34")),
            ("backtrace_middle", format!("{FILE}:43")),
            ("backtrace_outer", format!("{FILE}:50")),
        ]),
        _ => None,
    }
}

/// `console`, one line per entry, with its backtrace lines symbolised against `image`.
pub(crate) fn symbolised(image: &Path, root: &Path, console: &[String]) -> Result<String, String> {
    let symbolizer = Symbolizer::for_image(image, Some(root)).map_err(|e| e.to_string())?;
    Ok(console
        .iter()
        .map(|l| format!("{}\n", symbolizer.line(l)))
        .collect())
}

/// What is wrong with the symbolised `console` of suite case `case`, booted from `image`
/// (nothing for a case that checks no backtrace).
pub fn check(case: &str, image: &Path, root: &Path, console: &[String]) -> Vec<String> {
    let Some(frames) = expected(case) else {
        return Vec::new();
    };
    let text = match symbolised(image, root, console) {
        Ok(t) => t,
        Err(e) => return vec![e],
    };
    let frames: Vec<(&str, &str)> = frames.iter().map(|(f, p)| (*f, p.as_str())).collect();
    match find_frames(&text, &frames) {
        Ok(_) => Vec::new(),
        Err(e) => vec![format!("{e} in the symbolised console:\n{text}")],
    }
}
