//! The `--stats` block of `morgana-hvt` (and of `morgana-kvm-floor`, which prints the same
//! format), parsed for the boot benchmark.

use morgana_build::{Error, Result};

/// What one run's `--stats` block reported.
#[derive(Debug, Clone, PartialEq)]
pub struct TenderStats {
    /// All VM exits.
    pub exits: u64,
    /// Exits per hypercall name, in the order printed (only those that happened).
    pub hypercalls: Vec<(String, u64)>,
    /// Milliseconds from the tender's start to the first KVM_RUN.
    pub first_instruction_ms: f64,
    /// Milliseconds from the tender's start to the halt.
    pub halt_ms: f64,
    /// The setup and run phases, in the order printed: (name, milliseconds).
    pub phases: Vec<(String, f64)>,
    /// `CLOCK_MONOTONIC` at the start of the tender's `main`, in nanoseconds.
    pub start_clock_ns: Option<u64>,
    /// `CLOCK_MONOTONIC` at the halt, in nanoseconds.
    pub halt_clock_ns: Option<u64>,
}

fn stats_error(what: &str) -> Error {
    Error::Other(format!("unexpected --stats output: {what}"))
}

/// Parses the `PROGRAM stats:` block in `stderr`.
pub fn parse_stats(stderr: &str, program: &str) -> Result<TenderStats> {
    let header = format!("{program} stats:\n");
    let block = stderr
        .split_once(&header)
        .ok_or_else(|| stats_error(&format!("no '{program} stats:' block")))?
        .1;
    let mut exits = None;
    let mut hypercalls = Vec::new();
    let mut phases = Vec::new();
    let (mut first, mut halt, mut start_clock_ns, mut halt_clock_ns) = (None, None, None, None);
    for line in block.lines().map(str::trim) {
        let Some((key, value)) = line.split_once(": ") else {
            return Err(stats_error(line));
        };
        let count = || value.parse::<u64>().map_err(|_| stats_error(line));
        let millis = || {
            value
                .strip_suffix(" ms")
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| stats_error(line))
        };
        let nanos = || {
            value
                .strip_suffix(" ns")
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| stats_error(line))
        };
        match key {
            "vm exits" => exits = Some(count()?),
            "other exits" => {
                let n = count()?;
                if n > 0 {
                    hypercalls.push(("other".to_string(), n));
                }
            }
            "start to first guest instruction" => first = Some(millis()?),
            "start to halt" => halt = Some(millis()?),
            "monotonic clock at start" => start_clock_ns = Some(nanos()?),
            "monotonic clock at halt" => halt_clock_ns = Some(nanos()?),
            _ => {
                if let Some(name) = key.strip_prefix("hypercall ") {
                    hypercalls.push((name.to_string(), count()?));
                } else if let Some(name) = key.strip_prefix("phase ") {
                    phases.push((name.to_string(), millis()?));
                } else {
                    return Err(stats_error(line));
                }
            }
        }
    }
    Ok(TenderStats {
        exits: exits.ok_or_else(|| stats_error("no 'vm exits' line"))?,
        hypercalls,
        first_instruction_ms: first.ok_or_else(|| stats_error("no first-instruction time"))?,
        halt_ms: halt.ok_or_else(|| stats_error("no halt time"))?,
        phases,
        start_clock_ns,
        halt_clock_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = "Solo5: solo5_exit(0) called\nmorgana-hvt stats:\n  vm exits: 12\n  \
        hypercall puts: 7\n  hypercall poll: 4\n  hypercall halt: 1\n  other exits: 0\n  \
        phase map guest memory: 0.012 ms\n  phase run guest: 4214.300 ms\n  \
        start to first guest instruction: 7.299 ms\n  start to halt: 4221.609 ms\n  \
        monotonic clock at start: 1000 ns\n  monotonic clock at halt: 4221610000 ns\n";

    fn parse(text: &str) -> Result<TenderStats> {
        parse_stats(text, "morgana-hvt")
    }

    #[test]
    fn parses_the_stats_block() {
        let st = parse(STATS).unwrap();
        assert_eq!(st.exits, 12);
        assert_eq!(
            st.hypercalls,
            vec![
                ("puts".to_string(), 7),
                ("poll".to_string(), 4),
                ("halt".to_string(), 1)
            ]
        );
        assert_eq!(st.first_instruction_ms, 7.299);
        assert_eq!(st.halt_ms, 4221.609);
        assert_eq!(
            st.phases,
            vec![
                ("map guest memory".to_string(), 0.012),
                ("run guest".to_string(), 4214.3)
            ]
        );
        assert_eq!(st.start_clock_ns, Some(1000));
        assert_eq!(st.halt_clock_ns, Some(4_221_610_000));
        let other = STATS.replace("other exits: 0", "other exits: 2");
        assert_eq!(parse(&other).unwrap().hypercalls[3], ("other".into(), 2));
    }

    #[test]
    fn rejects_broken_stats() {
        let err = |t: &str| parse(t).unwrap_err().to_string();
        assert_eq!(
            err("no stats"),
            "unexpected --stats output: no 'morgana-hvt stats:' block"
        );
        assert_eq!(
            err(&STATS.replace("7.299 ms", "n/a")),
            "unexpected --stats output: start to first guest instruction: n/a"
        );
        assert_eq!(
            err(&STATS.replace("  vm exits: 12\n", "")),
            "unexpected --stats output: no 'vm exits' line"
        );
        assert_eq!(
            err(&STATS.replace("hypercall puts", "hypercall puts: x")),
            "unexpected --stats output: hypercall puts: x: 7"
        );
        assert_eq!(
            err(&STATS.replace("1000 ns", "1000 ms")),
            "unexpected --stats output: monotonic clock at start: 1000 ms"
        );
        assert_eq!(
            err(&format!("{STATS}  frobs: 3\n")),
            "unexpected --stats output: frobs: 3"
        );
    }
}
