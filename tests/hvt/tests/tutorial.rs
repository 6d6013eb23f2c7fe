//! `docs/tutorial.md` runs as written: every ```` ```console ```` block's commands are run in
//! order inside a network namespace made by the test, and what they print must be the text
//! under them.
//!
//! The rules are the tutorial's own: a line starting with `$ ` is a command (run with `bash -c`
//! from the workspace root); the lines under it are its standard output without the tender's
//! `Solo5: ` lines, followed by its `error: ` lines from standard error; a command showing an
//! `error: ` line must fail and any other must succeed. A command ending in `&` runs in the
//! background (its own process group) and its lines must come, in order, before the next
//! command runs; `kill %N` interrupts the Nth background command of the block as Ctrl-C would
//! (SIGINT to its process group) and waits for it to end.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use hvt_tests::workspace;
use morgana_testkit::{Netns, Outcome, Prereq, Process, require, run};

/// Long enough for a first build of a target.
const BUILD_LIMIT: Duration = Duration::from_secs(1200);

/// One line of a console block.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A command and the lines it prints.
    Run {
        command: String,
        background: bool,
        output: Vec<String>,
    },
    /// `kill %N`.
    Kill(usize),
}

/// The console blocks of `markdown`, each a list of steps.
fn console_blocks(markdown: &str) -> Vec<Vec<Step>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<Step>> = None;
    for line in markdown.lines() {
        match (&mut current, line) {
            (None, "```console") => current = Some(Vec::new()),
            (None, _) => {}
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(steps), line) => match line.strip_prefix("$ ") {
                Some(cmd) => steps.push(match cmd.strip_prefix("kill %") {
                    Some(n) => Step::Kill(n.parse().expect("kill %N with a number")),
                    None => Step::Run {
                        command: cmd.trim_end_matches(" &").to_string(),
                        background: cmd.ends_with(" &"),
                        output: Vec::new(),
                    },
                }),
                None => match steps.last_mut() {
                    Some(Step::Run { output, .. }) => output.push(line.to_string()),
                    _ => panic!("output line {line:?} follows no command"),
                },
            },
        }
    }
    assert!(current.is_none(), "a console block is not closed");
    blocks
}

/// What a finished command shows, by the tutorial's rules.
fn shown(out: &Outcome) -> Vec<String> {
    let stdout = out.stdout.lines().filter(|l| !l.starts_with("Solo5: "));
    let errors = out.stderr.lines().filter(|l| l.starts_with("error: "));
    stdout.chain(errors).map(str::to_string).collect()
}

fn root() -> PathBuf {
    workspace().root
}

fn tutorial() -> String {
    let path = root().join("docs/tutorial.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A background command: the leader of its own process group, which is killed whole when the
/// value is dropped (after a failed assertion too), so no unikernel outlives the test.
struct Job(Process);

impl Job {
    fn signal_group(&self, signal: &str) {
        let group = format!("-{}", self.0.pid());
        let _ = Command::new("kill").args([signal, "--", &group]).output();
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // Whether or not the leader still runs: the group outlives a leader that ended first
        // (as cargo may on SIGINT) while its unikernel runs on, and the id of a group is not
        // given to another while the group has members.
        self.signal_group("-KILL");
    }
}

/// Interrupts the process group of `job` and waits for it to end.
fn interrupt(job: &mut Job) {
    job.signal_group("-INT");
    assert!(
        job.0.wait(Duration::from_secs(60)).is_some(),
        "an interrupted background command did not end"
    );
}

fn run_block(ns: &Netns, steps: &[Step]) {
    let mut jobs: Vec<Job> = Vec::new();
    for step in steps {
        match step {
            Step::Kill(n) => interrupt(jobs.get_mut(n - 1).expect("kill %N names a job")),
            Step::Run {
                command,
                background: false,
                output,
            } => {
                let mut cmd = ns.command("bash");
                cmd.current_dir(root()).args(["-c", command]);
                let out = run(&mut cmd, BUILD_LIMIT);
                assert_eq!(&shown(&out), output, "$ {command}\n{}", out.stderr);
                let fails = output.iter().any(|l| l.starts_with("error: "));
                assert_eq!(out.code == Some(0), !fails, "$ {command}: {:?}", out.code);
            }
            Step::Run {
                command,
                background: true,
                output,
            } => {
                // With SIGINT at its default action, as in an interactive shell, so that
                // `kill %1` ends it even when the tests themselves were started in the
                // background by a script (which makes them inherit SIGINT ignored).
                let mut cmd = ns.command("env");
                std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
                cmd.current_dir(root()).args([
                    "--default-signal=INT",
                    "bash",
                    "-c",
                    &format!("exec {command}"),
                ]);
                let mut job = Job(Process::start(&mut cmd));
                for want in output {
                    let line = loop {
                        let (_, line) = job
                            .0
                            .next_line(BUILD_LIMIT)
                            .unwrap_or_else(|| panic!("$ {command}: no line {want:?}"));
                        if !line.starts_with("Solo5: ") {
                            break line;
                        }
                    };
                    assert_eq!(&line, want, "$ {command}");
                }
                jobs.push(job);
            }
        }
    }
    // A background command the block forgot to stop is stopped all the same.
    for job in &mut jobs {
        if job.0.is_running() {
            interrupt(job);
        }
    }
}

#[test]
fn the_tutorials_blocks_are_read_as_written() {
    let blocks = console_blocks(tutorial().as_str());
    assert_eq!(blocks.len(), 11, "{blocks:#?}");
    let Step::Run {
        command,
        background,
        output,
    } = &blocks[0][0]
    else {
        panic!("{:?}", blocks[0]);
    };
    assert_eq!(
        (command.as_str(), *background, output.len()),
        ("cargo xtask run --target unix -p hello", false, 4)
    );
    assert!(matches!(
        blocks[7][0],
        Step::Run {
            background: true,
            ..
        }
    ));
    assert_eq!(blocks[7].last(), Some(&Step::Kill(1)));
}

#[test]
fn every_tutorial_command_prints_what_the_text_says() {
    require!(
        Prereq::Tap,
        Prereq::Kvm,
        Prereq::Tool("curl"),
        Prereq::Tool("nc")
    );
    let ns = Netns::new("tutorial");
    for block in console_blocks(tutorial().as_str()) {
        run_block(&ns, &block);
    }
}
