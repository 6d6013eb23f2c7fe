//! Checks on symbolised backtraces (the `backtrace: #N ...` lines images and processes print).

/// Finds in `output`, on consecutive backtrace frames innermost first, each of `frames`:
/// `(FUNCTION, FILE:LINE)`, where the line names the function by its path ending in FUNCTION
/// and gives the position as `(...FILE:LINE)` (the file may be printed with more directories
/// before it). The function may also be inlined into the frame (joined by ` in `). Returns the
/// index of the first frame, or what is wrong.
pub fn find_frames(output: &str, frames: &[(&str, &str)]) -> Result<usize, String> {
    let lines: Vec<(usize, &str)> = output
        .lines()
        .filter_map(|l| {
            let rest = &l[l.find("backtrace: #")? + "backtrace: #".len()..];
            let (index, rest) = rest.split_once(' ')?;
            Some((index.parse().ok()?, rest))
        })
        .collect();
    let names = |rest: &str, (function, place): (&str, &str)| {
        rest.split(" in ").any(|part| {
            part.split_once(" (").is_some_and(|(name, at)| {
                (name == function || name.ends_with(&format!("::{function}")))
                    && at.ends_with(&format!("{place})"))
            })
        })
    };
    let Some(&first) = frames.first() else {
        return Ok(0);
    };
    let start = lines
        .iter()
        .position(|&(_, rest)| names(rest, first))
        .ok_or_else(|| format!("no frame {first:?}"))?;
    for (k, &frame) in frames.iter().enumerate() {
        let found = lines.get(start + k);
        if !found.is_some_and(|&(index, rest)| index == lines[start].0 + k && names(rest, frame)) {
            return Err(format!(
                "frame {frame:?} does not follow {:?}",
                frames[..k].last()
            ));
        }
    }
    Ok(lines[start].0)
}

/// [`find_frames`], panicking with the whole output when the frames are not there.
pub fn assert_frames(output: &str, frames: &[(&str, &str)]) -> usize {
    find_frames(output, frames).unwrap_or_else(|e| panic!("{e} in:\n{output}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_found_in_order() {
        let out = "panic: x\n\
            backtrace: #0 ret 0x1 core::panicking::panic_fmt (/src/core/panicking.rs:80)\n\
            Solo5: backtrace: #1 ret 0x2 write_volatile<u32> (/a/ptr.rs:2) in app::inner (t/src/main.rs:25)\n\
            Solo5: backtrace: #2 ret 0x3 app::outer (t/src/main.rs:50)\n";
        assert_eq!(
            assert_frames(
                out,
                &[("inner", "src/main.rs:25"), ("outer", "t/src/main.rs:50")]
            ),
            1
        );
        let wrong = std::panic::catch_unwind(|| {
            assert_frames(
                out,
                &[("outer", "src/main.rs:50"), ("inner", "src/main.rs:25")],
            )
        });
        assert!(wrong.is_err());
        let wrong_line =
            std::panic::catch_unwind(|| assert_frames(out, &[("inner", "src/main.rs:26")]));
        assert!(wrong_line.is_err());
    }
}
