//! The lab's serial console: `@@kvmlab` marker lines from `/init` turned into the smoke report
//! and one [`Outcome`] per guest, with the guest's lines handed out as they arrive.

/// What the smoke phase found in L1 before any guest ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Smoke {
    /// The kernel's `kvm: Nested Virtualization enabled` message, when it printed one.
    pub nested: Option<String>,
    /// The CPU flags of [`super::init::SMOKE_FLAGS`] `/proc/cpuinfo` lists.
    pub flags: Vec<String>,
    /// `/dev/kvm`'s device number (`10:232`) when it is a character device.
    pub kvm_dev: Option<String>,
    /// Modules that failed to load.
    pub warnings: Vec<String>,
}

impl Smoke {
    /// True when L1 offers a working nested KVM: the kernel says so, the CPU has SVM, and
    /// `/dev/kvm` exists.
    pub fn nested_kvm(&self) -> bool {
        self.nested.is_some() && self.has("svm") && self.kvm_dev.is_some()
    }

    /// True when `/proc/cpuinfo` lists `flag`.
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// How a guest's tender ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum State {
    /// It exited by itself.
    #[default]
    Exited,
    /// The guest's `during` script stopped it.
    Stopped,
    /// It overran its time limit and was killed.
    Timeout,
}

/// What became of a guest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The guest's name.
    pub name: String,
    /// How it ended.
    pub state: State,
    /// The tender's exit status (the guest's own, 255 after a trap; 128 + signal when killed).
    pub status: Option<u8>,
    /// The tender's standard output (the guest's console and the `Solo5:` lines), by line.
    pub stdout: Vec<String>,
    /// The tender's standard error, by line.
    pub stderr: Vec<String>,
    /// What the guest's L1 scripts printed, by line.
    pub l1: Vec<String>,
    /// Host wall time from the tender's start to its exit, ms (as the serial console shows
    /// them, so within a few ms).
    pub ms: u64,
}

impl Outcome {
    /// The guest's own output: standard output without the tender's `Solo5: ` lines.
    pub fn guest_output(&self) -> Vec<&str> {
        self.stdout
            .iter()
            .map(String::as_str)
            .filter(|l| !l.starts_with("Solo5: "))
            .collect()
    }
}

/// What one console line meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Not a marker (kernel messages and such).
    Noise,
    /// `/init` started.
    Init,
    /// The modules are loaded and the smoke report is complete.
    Ready,
    /// A guest's tender was started.
    Start,
    /// A guest's standard output line (to be shown live).
    Output(String),
    /// A guest's standard error line (to be shown live).
    Error(String),
    /// The tender exited.
    Exit,
    /// A guest is complete.
    End(Outcome),
    /// Every guest ran.
    Done,
}

/// Reads the console line by line.
#[derive(Debug, Default)]
pub struct Parser {
    /// The smoke report so far.
    pub smoke: Smoke,
    current: Option<Outcome>,
}

impl Parser {
    /// The name of the guest being run, if one is.
    pub fn guest(&self) -> Option<&str> {
        self.current.as_ref().map(|o| o.name.as_str())
    }

    /// Interprets one line (without its line end).
    pub fn line(&mut self, line: &str) -> Event {
        // The kernel may start a line with its own output; the marker can follow it.
        let Some(rest) = line.find("@@kvmlab ").map(|i| &line[i + 9..]) else {
            return Event::Noise;
        };
        let (word, arg) = rest.split_once(' ').unwrap_or((rest, ""));
        match word {
            "init" => Event::Init,
            "ready" => Event::Ready,
            "done" => Event::Done,
            "warning" => {
                self.smoke.warnings.push(arg.to_string());
                Event::Noise
            }
            "smoke" => {
                let (what, value) = arg.split_once(' ').unwrap_or((arg, ""));
                match what {
                    "nested" => self.smoke.nested = Some(value.to_string()),
                    "flags" => {
                        self.smoke.flags = value.split_whitespace().map(str::to_string).collect()
                    }
                    "kvm" => self.smoke.kvm_dev = Some(value.to_string()),
                    _ => {}
                }
                Event::Noise
            }
            "begin" => {
                self.current = Some(Outcome {
                    name: arg.to_string(),
                    ..Default::default()
                });
                Event::Noise
            }
            "start" if self.current.is_some() => Event::Start,
            "out" => self.push(arg, |o| &mut o.stdout, Event::Output),
            "err" => self.push(arg, |o| &mut o.stderr, Event::Error),
            "l1" => self.push(arg, |o| &mut o.l1, |_| Event::Noise),
            "exit" => {
                let Some(o) = self.current.as_mut() else {
                    return Event::Noise;
                };
                for field in arg.split(' ') {
                    match field.split_once('=') {
                        Some(("state", "stopped")) => o.state = State::Stopped,
                        Some(("state", "timeout")) => o.state = State::Timeout,
                        Some(("status", v)) => o.status = v.parse().ok(),
                        _ => {}
                    }
                }
                Event::Exit
            }
            "end" => self.current.take().map_or(Event::Noise, Event::End),
            _ => Event::Noise,
        }
    }

    fn push(
        &mut self,
        text: &str,
        field: fn(&mut Outcome) -> &mut Vec<String>,
        event: fn(String) -> Event,
    ) -> Event {
        match self.current.as_mut() {
            Some(o) => {
                field(o).push(text.to_string());
                event(text.to_string())
            }
            None => Event::Noise,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke_lines_make_the_report() {
        let mut p = Parser::default();
        for l in [
            "@@kvmlab init",
            "[    1.2] random kernel line",
            "@@kvmlab smoke nested kvm: Nested Virtualization enabled",
            "@@kvmlab smoke flags svm sse2 avx avx2",
            "@@kvmlab smoke kvm 10:232",
        ] {
            p.line(l);
        }
        assert_eq!(p.line("\x1b[0m@@kvmlab ready"), Event::Ready);
        assert_eq!(
            p.smoke,
            Smoke {
                nested: Some("kvm: Nested Virtualization enabled".into()),
                flags: vec!["svm".into(), "sse2".into(), "avx".into(), "avx2".into()],
                kvm_dev: Some("10:232".into()),
                warnings: vec![],
            }
        );
        assert!(p.smoke.nested_kvm());
        let without_kvm = Smoke {
            kvm_dev: None,
            ..p.smoke.clone()
        };
        assert!(!without_kvm.nested_kvm());
    }

    #[test]
    fn a_guest_is_collected_with_its_live_lines() {
        let mut p = Parser::default();
        assert_eq!(p.line("@@kvmlab out before any guest"), Event::Noise);
        assert_eq!(p.line("@@kvmlab begin hello"), Event::Noise);
        assert_eq!(p.guest(), Some("hello"));
        assert_eq!(p.line("@@kvmlab start"), Event::Start);
        assert_eq!(
            p.line("@@kvmlab out Solo5: Morgana hvt guest"),
            Event::Output("Solo5: Morgana hvt guest".into())
        );
        assert_eq!(p.line("@@kvmlab out hello"), Event::Output("hello".into()));
        // An empty line stays a line.
        assert_eq!(p.line("@@kvmlab out "), Event::Output("".into()));
        assert_eq!(p.line("@@kvmlab err warn"), Event::Error("warn".into()));
        assert_eq!(p.line("@@kvmlab exit state=exited status=0"), Event::Exit);
        assert_eq!(p.line("@@kvmlab l1 from-the-guest"), Event::Noise);
        let Event::End(o) = p.line("@@kvmlab end hello") else {
            panic!("no outcome");
        };
        assert_eq!(o.name, "hello");
        assert_eq!((o.state, o.status), (State::Exited, Some(0)));
        assert_eq!(o.stdout, ["Solo5: Morgana hvt guest", "hello", ""]);
        assert_eq!(o.guest_output(), ["hello", ""]);
        assert_eq!(o.stderr, ["warn"]);
        assert_eq!(o.l1, ["from-the-guest"]);
        assert_eq!(p.line("@@kvmlab done"), Event::Done);
    }

    #[test]
    fn timeouts_and_stops_are_told_apart() {
        let mut p = Parser::default();
        p.line("@@kvmlab begin net");
        p.line("@@kvmlab exit state=timeout status=137");
        let Event::End(o) = p.line("@@kvmlab end net") else {
            panic!("no outcome");
        };
        assert_eq!((o.state, o.status), (State::Timeout, Some(137)));
        p.line("@@kvmlab begin echo");
        p.line("@@kvmlab exit state=stopped status=none");
        let Event::End(o) = p.line("@@kvmlab end echo") else {
            panic!("no outcome");
        };
        assert_eq!((o.state, o.status), (State::Stopped, None));
    }
}
