//! `--stats`: VM exits by hypercall and boot/run times, printed to stderr on exit.

use std::time::{Duration, Instant};

/// Exit counters and timestamps.
#[derive(Debug, Clone)]
pub struct Stats {
    start: Instant,
    first_run: Option<Instant>,
    halted: Option<Instant>,
    /// Exits per hypercall number (index 0..9).
    pub hypercalls: [u64; 9],
    /// Exits that were not hypercalls.
    pub other_exits: u64,
}

const NAMES: [&str; 9] = [
    "reserved",
    "walltime",
    "puts",
    "poll",
    "block_write",
    "block_read",
    "net_write",
    "net_read",
    "halt",
];

impl Stats {
    /// Starts the clock; call as early as possible in the process.
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            first_run: None,
            halted: None,
            hypercalls: [0; 9],
            other_exits: 0,
        }
    }

    /// Records the first KVM_RUN (later calls are ignored).
    pub fn mark_first_run(&mut self) {
        self.first_run.get_or_insert_with(Instant::now);
    }

    /// Records the halt (or the fatal exit).
    pub fn mark_halt(&mut self) {
        self.halted.get_or_insert_with(Instant::now);
    }

    /// Counts one hypercall exit.
    pub fn count(&mut self, number: u16) {
        if let Some(c) = self.hypercalls.get_mut(usize::from(number)) {
            *c += 1;
        } else {
            self.other_exits += 1;
        }
    }

    /// The report, one line per item.
    pub fn report(&self) -> String {
        let ms = |t: Option<Instant>| {
            t.map_or_else(
                || "n/a".to_string(),
                |t| format!("{:.3} ms", ms_of(t - self.start)),
            )
        };
        let mut out = String::from("morgana-hvt stats:\n");
        let total: u64 = self.hypercalls.iter().sum::<u64>() + self.other_exits;
        out += &format!("  vm exits: {total}\n");
        for (name, n) in NAMES.iter().zip(self.hypercalls) {
            if n > 0 {
                out += &format!("  hypercall {name}: {n}\n");
            }
        }
        out += &format!("  other exits: {}\n", self.other_exits);
        out += &format!(
            "  start to first guest instruction: {}\n",
            ms(self.first_run)
        );
        out += &format!("  start to halt: {}\n", ms(self.halted));
        out
    }
}

fn ms_of(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
