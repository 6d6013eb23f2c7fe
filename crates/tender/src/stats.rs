//! `--stats`: VM exits by hypercall and where the time went, printed to stderr on exit.
//!
//! Times are kept as `CLOCK_MONOTONIC` readings. Each setup phase is reported as its own
//! duration, in the order the tender goes through them; the start of `main` and the halt are
//! also printed as absolute monotonic readings, so that a parent process reading the same
//! clock can measure what the tender cannot see itself (exec before `main`, and the process
//! teardown after the halt).

use std::fmt::Write as _;
use std::time::Duration;

/// A point the tender passes on its way from `main` to the halt, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The image file read, its notes checked and the devices opened.
    ImageRead = 0,
    /// Guest memory mapped (anonymous, untouched).
    MemoryMapped,
    /// KVM opened, the VM and its vCPU created, guest memory registered, CPUID set.
    VmCreated,
    /// Segments copied, page tables, boot info and registers written.
    ImageLoaded,
    /// The seccomp filter built and installed.
    SeccompInstalled,
    /// The first KVM_RUN entered.
    FirstRun,
    /// The guest halted (or the run ended with an error).
    Halt,
}

const PHASES: usize = 7;

/// The label of the interval that ends at each [`Phase`].
const PHASE_LABELS: [&str; PHASES] = [
    "phase read image and open devices",
    "phase map guest memory",
    "phase create vm and vcpu",
    "phase load image",
    "phase install seccomp",
    // The first KVM_RUN is marked just before it is entered: no interval of its own.
    "",
    "phase run guest",
];

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

/// Reads `CLOCK_MONOTONIC` (the clock of [`std::time::Instant`] on Linux).
pub fn monotonic_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Exit counters and timestamps.
#[derive(Debug, Clone)]
pub struct Stats {
    start: Duration,
    marks: [Option<Duration>; PHASES],
    /// Exits per hypercall number (index 0..9).
    pub hypercalls: [u64; 9],
    /// Exits that were not hypercalls.
    pub other_exits: u64,
}

impl Stats {
    /// Starts the clock at `start` (a [`monotonic_now`] reading taken first thing in `main`).
    pub fn new(start: Duration) -> Self {
        Self {
            start,
            marks: [None; PHASES],
            hypercalls: [0; 9],
            other_exits: 0,
        }
    }

    /// Records that `phase` was reached now (later calls for the same phase are ignored).
    pub fn mark(&mut self, phase: Phase) {
        self.marks[phase as usize].get_or_insert_with(monotonic_now);
    }

    /// Records the first KVM_RUN (later calls are ignored).
    pub fn mark_first_run(&mut self) {
        self.mark(Phase::FirstRun);
    }

    /// Records the halt (or the fatal exit).
    pub fn mark_halt(&mut self) {
        self.mark(Phase::Halt);
    }

    /// Counts one hypercall exit.
    pub fn count(&mut self, number: u16) {
        if let Some(c) = self.hypercalls.get_mut(usize::from(number)) {
            *c += 1;
        } else {
            self.other_exits += 1;
        }
    }

    /// The report, one `key: value` line per item. Phases not reached are left out.
    pub fn report(&self) -> String {
        let ms = |t: Option<Duration>| {
            t.map_or_else(
                || "n/a".to_string(),
                |t| format!("{:.3} ms", ms_of(t.saturating_sub(self.start))),
            )
        };
        let mut out = String::from("morgana-hvt stats:\n");
        let total: u64 = self.hypercalls.iter().sum::<u64>() + self.other_exits;
        let _ = writeln!(out, "  vm exits: {total}");
        for (name, n) in NAMES.iter().zip(self.hypercalls) {
            if n > 0 {
                let _ = writeln!(out, "  hypercall {name}: {n}");
            }
        }
        let _ = writeln!(out, "  other exits: {}", self.other_exits);
        let mut previous = self.start;
        for (label, mark) in PHASE_LABELS.iter().zip(self.marks) {
            if let Some(t) = mark {
                if label.is_empty() {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "  {label}: {:.3} ms",
                    ms_of(t.saturating_sub(previous))
                );
                previous = t;
            }
        }
        let first = self.marks[Phase::FirstRun as usize];
        let halt = self.marks[Phase::Halt as usize];
        let _ = writeln!(out, "  start to first guest instruction: {}", ms(first));
        let _ = writeln!(out, "  start to halt: {}", ms(halt));
        let _ = writeln!(
            out,
            "  monotonic clock at start: {} ns",
            self.start.as_nanos()
        );
        if let Some(h) = halt {
            let _ = writeln!(out, "  monotonic clock at halt: {} ns", h.as_nanos());
        }
        out
    }
}

fn ms_of(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_reported_as_intervals_in_order() {
        let start = Duration::from_millis(100);
        let mut s = Stats::new(start);
        let ms = Duration::from_millis;
        s.marks[Phase::ImageRead as usize] = Some(ms(101));
        s.marks[Phase::VmCreated as usize] = Some(ms(104));
        s.marks[Phase::Halt as usize] = Some(ms(110));
        s.count(2);
        s.count(8);
        let r = s.report();
        assert_eq!(
            r,
            "morgana-hvt stats:\n  vm exits: 2\n  hypercall puts: 1\n  hypercall halt: 1\n  \
             other exits: 0\n  phase read image and open devices: 1.000 ms\n  \
             phase create vm and vcpu: 3.000 ms\n  phase run guest: 6.000 ms\n  \
             start to first guest instruction: n/a\n  start to halt: 10.000 ms\n  \
             monotonic clock at start: 100000000 ns\n  monotonic clock at halt: 110000000 ns\n"
        );
    }
}
