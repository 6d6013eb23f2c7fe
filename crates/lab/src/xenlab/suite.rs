//! `cargo xtask test --target xen`: the examples and the xen tests, booted in one lab run,
//! each checked for its exact console output, exit status and what dom0 saw.

use morgana_build::xen::{self, read_devices};
use morgana_build::{Error, Profile, Result, Workspace};

use super::{Guest, Lab, Outcome};

/// One test: a unikernel, its arguments, what dom0 does meanwhile, and the expectations.
#[derive(Debug)]
pub struct Case {
    /// Test name, also the domain name.
    pub name: &'static str,
    /// The package to build.
    pub package: &'static str,
    /// Its command line.
    pub args: &'static [&'static str],
    /// A dom0 shell command run while the guest runs.
    pub dom0: Option<&'static str>,
    /// The exit status the lab must report; `None` for a service that runs until dom0's
    /// command destroys it (the domain must then be gone, not crashed).
    pub status: Option<u8>,
    /// Exact console lines (`None`: not checked).
    pub console: Option<&'static [&'static str]>,
    /// A line the console must contain (for messages with variable parts).
    pub console_contains: Option<&'static str>,
    /// Text dom0 must read at the start of the disk afterwards.
    pub disk0: Option<&'static str>,
    /// Boots on the disks as the case before left them (see [`super::Guest::keep_disks`]).
    pub keep_disks: bool,
    /// A line dom0's command output must contain.
    pub dom0_contains: Option<&'static str>,
    /// The most CPU time the domain may use, ms: a guest that sleeps must not spin.
    pub max_cpu_ms: Option<u64>,
}

/// The suite.
pub const CASES: &[Case] = &[
    Case {
        name: "hello",
        package: "hello",
        args: &[],
        dom0: None,
        status: Some(0),
        console: Some(&["hello", "hello", "hello", "hello"]),
        console_contains: None,
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        // Four seconds of sleeping: spinning would use about four seconds of CPU.
        max_cpu_ms: Some(1500),
    },
    Case {
        name: "hello-key",
        package: "hello-key",
        args: &["--hello=xen"],
        dom0: None,
        status: Some(0),
        console: Some(&["xen", "xen", "xen", "xen"]),
        console_contains: None,
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "hello-key-missing",
        package: "hello-key",
        args: &[],
        dom0: None,
        status: Some(1),
        console: Some(&["error: missing boot argument --hello=TEXT"]),
        console_contains: None,
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "getrandom",
        package: "conformance-getrandom",
        args: &[],
        dom0: None,
        status: Some(0),
        console: Some(&[
            "getrandom 0.2: two different 32-byte draws",
            "getrandom 0.3: two different 32-byte draws",
            "rand_core OsRng: two different 32-byte draws",
            "SUCCESS",
        ]),
        console_contains: None,
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "clock",
        package: "xen-clock",
        args: &[],
        dom0: None,
        status: Some(0),
        console: Some(&["clock: wall clock plausible, 200 ms timer took 200-999 ms"]),
        console_contains: None,
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "crash",
        package: "xen-crash",
        args: &[],
        dom0: None,
        status: Some(255),
        console: None,
        console_contains: Some("panic: "),
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "trap",
        package: "xen-crash",
        args: &["--trap"],
        dom0: None,
        status: Some(255),
        console: None,
        console_contains: Some("trap: vector 14 (page fault), error 0x0"),
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "backtrace-panic",
        package: "conformance-backtrace",
        args: &["panic"],
        dom0: None,
        status: Some(255),
        console: None,
        // The frames are checked symbolised (`super::backtrace`).
        console_contains: Some("panic: panicked at tests/conformance/backtrace/src/main.rs:25:9:"),
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "backtrace-fault",
        package: "conformance-backtrace",
        args: &["fault"],
        dom0: None,
        status: Some(255),
        console: None,
        console_contains: Some("trap: vector 14 (page fault), error 0x2, rip 0x"),
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    // Checked further by `super::overflow`: the exact trap line, its address in the guard,
    // the recursion's frames.
    Case {
        name: super::overflow::CASE,
        package: "conformance-stackoverflow",
        args: &[],
        dom0: None,
        status: Some(255),
        console: None,
        console_contains: Some("trap: stack overflow (page fault"),
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "block-read",
        package: "block",
        args: &[],
        dom0: None,
        status: Some(0),
        console: Some(&[
            "storage: 8192 sectors of 512 bytes",
            "sector 0: \"xenlab disk 0\"",
        ]),
        console_contains: None,
        disk0: Some("xenlab disk 0"),
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "block-write",
        package: "block",
        args: &["--write=written-by-xen"],
        dom0: None,
        status: Some(0),
        console: Some(&[
            "storage: 8192 sectors of 512 bytes",
            "sector 0: \"written-by-xen\"",
        ]),
        console_contains: None,
        disk0: Some("written-by-xen"),
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "net-responder",
        package: "xen-net-responder",
        args: &["--ip=10.0.0.2", "--pings=3"],
        dom0: Some("ping -c 3 -W 5 10.0.0.2; ip neigh show 10.0.0.2"),
        status: Some(0),
        console: Some(&["net-responder: 10.0.0.2 answered 3 pings"]),
        console_contains: None,
        disk0: None,
        keep_disks: false,
        dom0_contains: Some("3 packets transmitted, 3 packets received, 0% packet loss"),
        max_cpu_ms: None,
    },
    Case {
        name: "echo-server",
        package: "echo-server",
        args: &["--ipv4=10.0.0.2/24"],
        // The service never exits: dom0 talks to it over TCP, then destroys it.
        dom0: Some(
            "for i in $(seq 1 60); do \
               echo morgana-echo | timeout 10 nc 10.0.0.2 7 > /tmp/echo.out 2>/dev/null; \
               [ -s /tmp/echo.out ] && break; sleep 0.5; done; \
             echo \"echoed: $(cat /tmp/echo.out)\"; xl destroy echo-server",
        ),
        status: None,
        console: None,
        console_contains: Some("echo-server: 10.0.0.2/24 listening on port 7"),
        disk0: None,
        keep_disks: false,
        dom0_contains: Some("echoed: morgana-echo"),
        max_cpu_ms: None,
    },
    Case {
        name: "storage-format",
        package: "storage",
        args: &["--format"],
        dom0: None,
        status: Some(0),
        console: Some(&["storage: boot 1", "storage: no previous boot"]),
        console_contains: None,
        disk0: None,
        keep_disks: false,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    // The same disk, booted again: the count and the time written by the boot before are read
    // back through blkfront.
    Case {
        name: "storage-again",
        package: "storage",
        args: &[],
        dom0: None,
        status: Some(0),
        console: None,
        console_contains: Some("storage: boot 2"),
        disk0: None,
        keep_disks: true,
        dom0_contains: None,
        max_cpu_ms: None,
    },
    Case {
        name: "kv-server",
        package: "kv-server",
        args: &["--format", "--ipv4=10.0.0.2/24"],
        // A PUT, then a GET of the same key, from dom0 over TCP; then dom0 destroys it.
        dom0: Some(
            "for i in $(seq 1 60); do \
               printf 'PUT /kv/greeting HTTP/1.1\\r\\nHost: kv\\r\\nContent-Length: 8\\r\\nConnection: close\\r\\n\\r\\nfrom-xen' \
                 | timeout 10 nc 10.0.0.2 80 > /tmp/put.out 2>/dev/null; \
               [ -s /tmp/put.out ] && break; sleep 0.5; done; \
             printf 'GET /kv/greeting HTTP/1.1\\r\\nHost: kv\\r\\nConnection: close\\r\\n\\r\\n' \
               | timeout 10 nc 10.0.0.2 80 > /tmp/get.out 2>/dev/null; \
             echo \"kv: $(head -n 1 /tmp/put.out | tr -d '\\r') / $(head -n 1 /tmp/get.out | tr -d '\\r') / $(tail -n 1 /tmp/get.out)\"; \
             xl destroy kv-server",
        ),
        status: None,
        console: None,
        console_contains: Some("kv-server: port 80"),
        disk0: None,
        keep_disks: false,
        dom0_contains: Some("kv: HTTP/1.1 201 Created / HTTP/1.1 200 OK / from-xen"),
        max_cpu_ms: None,
    },
];

fn check(case: &Case, o: &Outcome) -> Vec<String> {
    let mut errors = Vec::new();
    let ended_as_expected = match case.status {
        Some(status) => o.effective_status() == Some(status),
        None => o.state == "gone",
    };
    if !ended_as_expected {
        errors.push(format!(
            "status {:?} (state {}), expected {:?} (None: destroyed by dom0)",
            o.effective_status(),
            o.state,
            case.status
        ));
    }
    if let Some(lines) = case.console
        && o.console != lines
    {
        errors.push(format!("console {:?}, expected {lines:?}", o.console));
    }
    if let Some(text) = case.console_contains
        && !o.console.iter().any(|l| l.contains(text))
    {
        errors.push(format!("console {:?} lacks {text:?}", o.console));
    }
    if let Some(text) = case.disk0
        && o.disk0 != text
    {
        errors.push(format!("disk reads {:?}, expected {text:?}", o.disk0));
    }
    if let Some(max) = case.max_cpu_ms
        && o.cpu_ms.is_none_or(|c| c > max)
    {
        errors.push(format!(
            "used {:?} ms of CPU, at most {max} allowed",
            o.cpu_ms
        ));
    }
    if let Some(text) = case.dom0_contains
        && !o.dom0.iter().any(|l| l.contains(text))
    {
        errors.push(format!("dom0 saw {:?}, lacking {text:?}", o.dom0));
    }
    errors
}

/// The smoke tier: `hello-key` as PVH dom0 (console_io, memory map by hypercall, command line
/// from the boot module); returns the number of failures.
fn smoke_test(ws: &Workspace, lab: &Lab) -> Result<usize> {
    let image = xen::build(ws, "hello-key", Profile::Debug)?;
    let o = super::smoke::run(
        lab,
        &image,
        &["--hello=dom0".to_string()],
        std::time::Duration::from_secs(120),
    )?;
    let expected = ["dom0", "dom0", "dom0", "dom0"];
    if o.console == expected && o.status == Some(0) {
        println!("xen test dom0-smoke ... ok");
        Ok(0)
    } else {
        println!("xen test dom0-smoke ... FAILED");
        println!(
            "    console {:?} status {:?}, expected {expected:?} and 0",
            o.console, o.status
        );
        Ok(1)
    }
}

/// Builds the suite's unikernels, boots them all in one lab run and checks each.
pub fn test(ws: &Workspace, only: Option<&str>) -> Result<()> {
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|c| only.is_none_or(|p| p == c.package || p == c.name))
        .collect();
    if cases.is_empty() {
        return Err(Error::Usage("no xen test matches that package".into()));
    }
    let mut guests = Vec::new();
    for c in &cases {
        let image = xen::build(ws, c.package, Profile::Release)?;
        guests.push(Guest {
            name: c.name.to_string(),
            devices: read_devices(&image)?,
            image,
            args: c.args.iter().map(|s| s.to_string()).collect(),
            dom0: c.dom0.map(str::to_string),
            timeout_s: 60,
            keep_disks: c.keep_disks,
        });
    }
    let lab = Lab::assemble(ws)?;
    let mut failed = 0;
    if only.is_none_or(|p| p == "hello-key") {
        failed += smoke_test(ws, &lab)?;
    }
    let outcomes = lab.run(&guests, true)?;
    for ((c, o), g) in cases.iter().zip(&outcomes).zip(&guests) {
        let mut errors = check(c, o);
        errors.extend(super::backtrace::check(
            c.name, &g.image, &ws.root, &o.console,
        ));
        errors.extend(super::overflow::check(
            c.name, &g.image, &ws.root, &o.console,
        ));
        if errors.is_empty() {
            println!(
                "xen test {} ... ok ({} ms from unpause to exit, {} ms CPU)",
                c.name,
                o.ms,
                o.cpu_ms.map_or("?".into(), |c| c.to_string())
            );
        } else {
            failed += 1;
            println!("xen test {} ... FAILED", c.name);
            for e in errors {
                println!("    {e}");
            }
            for l in &o.xl {
                println!("    xl: {l}");
            }
        }
    }
    if failed > 0 {
        return Err(Error::Failed(format!("{failed} xen test(s)")));
    }
    Ok(())
}
