//! The Xen lab's stack overflow check: `conformance-stackoverflow` must run into the unmapped
//! guard below the boot stack and say so in the exact words of `morgana_x86::guard`, with a
//! faulting address (or stack pointer) in the guard's top page (its frames are smaller than a
//! page), followed by the recursion's call stack; it must never reach its last line.

use std::path::Path;

use morgana_build::symbolize::debug_info_path;
use morgana_testkit::backtrace::find_frames;
use object::{Object, ObjectSymbol};

/// The suite case this checks.
pub const CASE: &str = "stackoverflow";

const FILE: &str = "tests/conformance/stackoverflow/src/main.rs";

/// The address of `name` in the symbol table of `image` (or of its split debug information).
fn symbol_address(image: &Path, name: &str) -> Result<u64, String> {
    let split = debug_info_path(image);
    let source = if split.is_file() { &split } else { image };
    let bytes = std::fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", source.display()))?;
    file.symbols()
        .find(|s| s.name() == Ok(name))
        .map(|s| s.address())
        .ok_or_else(|| format!("{}: no symbol {name}", source.display()))
}

/// Whether `trap` is the overflow report with the faulting address inside the page below
/// `stack` or, where QEMU's emulation loses CR2 (docs/xen.md), with the stack pointer there or
/// at `stack` itself.
fn reports_overflow_below(trap: &str, stack: u64) -> bool {
    let between = |prefix: &str, suffix: &str| {
        trap.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
    };
    let top_page = stack - 4096..stack;
    between(
        "trap: stack overflow (page fault at 0x",
        " in the guard page below the stack)",
    )
    .is_some_and(|a| top_page.contains(&a))
        || between(
            "trap: stack overflow (page fault, stack pointer 0x",
            " at the guard page below the stack)",
        )
        .is_some_and(|sp| top_page.contains(&sp) || sp == stack)
}

/// What is wrong with the console of the stack overflow case booted from `image` (nothing
/// for any other case).
pub fn check(case: &str, image: &Path, root: &Path, console: &[String]) -> Vec<String> {
    if case != CASE {
        return Vec::new();
    }
    let stack = match symbol_address(image, "morgana_stack") {
        Ok(a) => a,
        Err(e) => return vec![e],
    };
    let mut errors = Vec::new();
    if console.first().map(String::as_str) != Some("recursing until the stack overflows") {
        errors.push(format!(
            "console {console:?} does not start with the program's line"
        ));
    }
    let trap = console.get(1).map(String::as_str).unwrap_or_default();
    if !reports_overflow_below(trap, stack) {
        errors.push(format!(
            "second line {trap:?}: not a stack overflow in the page below {stack:#x}"
        ));
    }
    if console.iter().any(|l| l.contains("FAILURE")) {
        errors.push(format!("the recursion ended: {console:?}"));
    }
    let text = match super::backtrace::symbolised(image, root, console) {
        Ok(t) => t,
        Err(e) => return vec![e],
    };
    let call = format!("{FILE}:29");
    let frames = [("stackoverflow_descend", call.as_str()); 3];
    match find_frames(&text, &frames) {
        Ok(1) => {}
        Ok(n) => errors.push(format!(
            "the recursion starts at frame #{n}, not #1:\n{text}"
        )),
        Err(e) => errors.push(format!("{e} in the symbolised console:\n{text}")),
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_must_name_the_page_below_the_stack() {
        let stack = 0x19c000;
        assert!(reports_overflow_below(
            "trap: stack overflow (page fault at 0x19beb0 in the guard page below the stack)",
            stack
        ));
        assert!(reports_overflow_below(
            "trap: stack overflow (page fault, stack pointer 0x19c000 at the guard page below \
             the stack)",
            stack
        ));
        assert!(!reports_overflow_below(
            "trap: stack overflow (page fault at 0x19c000 in the guard page below the stack)",
            stack
        ));
        assert!(!reports_overflow_below(
            "trap: stack overflow (page fault at 0x19a000 in the guard page below the stack)",
            stack
        ));
        assert!(!reports_overflow_below(
            "trap: vector 14 (page fault), error 0x2, rip 0x101406, cr2 0x0",
            stack
        ));
    }
}
