//! `cargo xtask test --target kvmlab`: the conformance unikernels, examples and a network
//! exchange over a tap, booted in one lab run under nested KVM, each checked for its exact
//! output and exit status; plus the smoke report (nested KVM, SVM, SIMD flags, `/dev/kvm`).
//!
//! The expectations are those of the hvt boot tests (`tests/hvt/tests/boot.rs`) on the host's
//! KVM: the lab must give the same results under a KVM with hardware semantics.

use std::path::PathBuf;

use morgana_build::baremetal::Float;
use morgana_build::{Error, Profile, Result, Workspace, hvt};

use super::{Echo, Guest, Lab, Outcome, Run, State, connections, https, tools};

/// One expectation about a guest's results.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// The guest's own output (standard output without `Solo5: ` lines) is exactly this.
    Output(&'static [&'static str]),
    /// The guest's own output ends with these lines.
    OutputEnds(&'static [&'static str]),
    /// Standard output, `Solo5: ` lines included, is exactly this.
    Stdout(&'static [&'static str]),
    /// The first line of standard output.
    First(&'static str),
    /// The last line of standard output.
    Last(&'static str),
    /// Some line of standard output starts with the first text and ends with the second.
    Line(&'static str, &'static str),
    /// What the L1 scripts printed is exactly this.
    L1(&'static [&'static str]),
    /// Some line the L1 scripts printed contains this.
    L1Contains(&'static str),
}

/// One test: a unikernel, how it is booted, what L1 does around it, what must come out.
#[derive(Debug)]
pub struct Case {
    /// Test name, also the guest's name.
    pub name: &'static str,
    /// The package whose image is booted.
    pub package: &'static str,
    /// Its float mode: the lab runs hard-float images, and soft-float ones where the point is
    /// what a soft-float image is shown.
    pub float: Float,
    /// Tender options.
    pub options: &'static [&'static str],
    /// The guest's arguments.
    pub args: &'static [&'static str],
    /// L1 script before the guest.
    pub setup: Option<&'static str>,
    /// L1 script alongside the guest.
    pub during: Option<&'static str>,
    /// L1 script after the guest.
    pub after: Option<&'static str>,
    /// Block devices `storageN` (N from 0) on 512-byte files of zeros made in L1 first.
    pub disks: u8,
    /// Host programs the L1 scripts run (see [`super::tools`]).
    pub tools: &'static [&'static str],
    /// Files copied into L1, as (path there, path in Morgana's source tree).
    pub files: &'static [(&'static str, &'static str)],
    /// The test kit's `morgana-hold` is put in L1 ([`tools::hold_client`]).
    pub hold_client: bool,
    /// Seconds the guest may run before it is killed.
    pub timeout_s: u32,
    /// The image is [`https::lab_image`] (hard-float https-server with a certificate made for
    /// the lab) and its CA is copied to L1's `/https/ca.pem`.
    pub lab_certs: bool,
    /// How the tender must end: [`State::Exited`] by itself, or [`State::Stopped`] by the
    /// `during` script (a service that never exits; its status is then not checked).
    pub end: State,
    /// The tender's exit status when it exits by itself.
    pub status: u8,
    /// The expectations.
    pub expect: &'static [Expect],
}

/// The defaults cases start from.
pub const BASE: Case = Case {
    name: "",
    package: "",
    float: Float::Hard,
    options: &["--mem=4"],
    args: &[],
    setup: None,
    during: None,
    after: None,
    disks: 0,
    tools: &[],
    files: &[],
    hold_client: false,
    timeout_s: 60,
    lab_certs: false,
    end: State::Exited,
    status: 0,
    expect: &[],
};

/// Prints whether the guest wrote anything to a disk file (a file of zeros before).
const WROTE: &str =
    "[ \"$(tr -d '\\000' < /disks/blk | wc -c)\" -gt 0 ] && echo 'the guest wrote to the file'\n";

/// A tap at 10.0.0.1/24 inside L1 (`tunctl` makes it persistent, so the tender finds it up).
pub const TAP_UP: &str =
    "tunctl -t tap0 >/dev/null && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up\n";
/// Removes the tap [`TAP_UP`] made.
pub const TAP_DOWN: &str = "tunctl -d tap0 >/dev/null\n";

/// What `conformance-fpu` prints in every build: the same bits with or without SSE.
const FPU_H100: &str = "H(100) bits 0x4014bfdfe4591243";
const FPU_MASK: &str = "pcmpeqb mask 0x7ded";
const FPU_SCALAR: &str = "scalar mul-add bits 0xc038666666666666";

/// The suite.
pub const CASES: &[Case] = &[
    // SSE arithmetic, and AVX enabled at boot and used after detection by CPUID: the
    // counterpart of Solo5's `test_fpu`, which a KVM that cannot run SSE in a guest fails.
    Case {
        name: "conformance-fpu",
        package: "conformance-fpu",
        expect: &[Expect::Output(&[
            FPU_H100,
            FPU_MASK,
            "avx offered: yes",
            "avx mul-add bits 0xc038666666666666",
            FPU_SCALAR,
            "SUCCESS",
        ])],
        ..BASE
    },
    // The same program soft-float: the same numbers without vector instructions, and the
    // tender shows it no AVX although the CPU has it.
    Case {
        name: "conformance-fpu-soft",
        package: "conformance-fpu",
        float: Float::Soft,
        expect: &[Expect::Output(&[
            FPU_H100,
            FPU_MASK,
            "avx offered: no",
            FPU_SCALAR,
            "SUCCESS",
        ])],
        ..BASE
    },
    Case {
        name: "hello",
        package: "hello",
        options: &["--mem=2"],
        expect: &[
            Expect::Output(&["hello", "hello", "hello", "hello"]),
            Expect::First("Solo5: Morgana hvt guest, Solo5 ABI version 2"),
            Expect::Last("Solo5: solo5_exit(0) called"),
        ],
        ..BASE
    },
    Case {
        name: "conformance-hello",
        package: "conformance-hello",
        args: &["Hello_Solo5", "a", "", "b"],
        expect: &[Expect::Output(&[
            "Hello, World",
            "Command line is: 'Hello_Solo5 a b'",
            "SUCCESS",
        ])],
        ..BASE
    },
    Case {
        name: "conformance-getrandom",
        package: "conformance-getrandom",
        expect: &[Expect::Output(&[
            "getrandom 0.2: two different 32-byte draws",
            "getrandom 0.3: two different 32-byte draws",
            "rand_core OsRng: two different 32-byte draws",
            "SUCCESS",
        ])],
        ..BASE
    },
    Case {
        name: "conformance-quiet",
        package: "conformance-quiet",
        args: &["--solo5:quiet"],
        expect: &[Expect::Stdout(&["SUCCESS"])],
        ..BASE
    },
    Case {
        name: "conformance-globals",
        package: "conformance-globals",
        expect: &[Expect::OutputEnds(&["SUCCESS"])],
        ..BASE
    },
    Case {
        name: "conformance-entropy",
        package: "conformance-entropy",
        expect: &[Expect::OutputEnds(&["SUCCESS"])],
        ..BASE
    },
    Case {
        name: "conformance-time",
        package: "conformance-time",
        expect: &[Expect::OutputEnds(&["SUCCESS"])],
        ..BASE
    },
    Case {
        name: "conformance-exception",
        package: "conformance-exception",
        status: 255,
        expect: &[
            Expect::Line("Solo5: trap: type=#PF ec=0x2 ", "cr2=0x400000000"),
            Expect::Last("Solo5: ABORT: fatal trap"),
        ],
        ..BASE
    },
    Case {
        name: "conformance-zeropage",
        package: "conformance-zeropage",
        status: 255,
        expect: &[
            Expect::Line("Solo5: trap: type=#PF ec=0x2 ", "cr2=0x8"),
            Expect::Last("Solo5: ABORT: fatal trap"),
        ],
        ..BASE
    },
    // At --mem=4 the stack is 0x3c8000-0x400000 above its 32 KiB guard: the recursion's first
    // write below it is a page fault in the guard's top page, 0x3c7000-0x3c7fff.
    Case {
        name: "conformance-stackoverflow",
        package: "conformance-stackoverflow",
        status: 255,
        expect: &[
            Expect::Output(&["recursing until the stack overflows"]),
            Expect::Line(
                "Solo5: trap: stack overflow (page fault at 0x3c7",
                " in the guard page below the stack)",
            ),
            Expect::Last("Solo5: ABORT: fatal trap"),
        ],
        ..BASE
    },
    Case {
        name: "conformance-blk-512",
        package: "conformance-blk",
        options: &[
            "--mem=4",
            "--block:storage=/disks/blk",
            "--block-sector-size:storage=512",
        ],
        setup: Some("rm -f /disks/blk; truncate -s 8192 /disks/blk\n"),
        after: Some(WROTE),
        expect: &[
            Expect::Output(&["storage: 16 sectors of 512 bytes", "SUCCESS"]),
            Expect::L1(&["the guest wrote to the file"]),
        ],
        ..BASE
    },
    Case {
        name: "conformance-blk-4096",
        package: "conformance-blk",
        options: &[
            "--mem=4",
            "--block:storage=/disks/blk",
            "--block-sector-size:storage=4096",
        ],
        setup: Some("rm -f /disks/blk; truncate -s 16384 /disks/blk\n"),
        after: Some(WROTE),
        expect: &[
            Expect::Output(&["storage: 4 sectors of 4096 bytes", "SUCCESS"]),
            Expect::L1(&["the guest wrote to the file"]),
        ],
        ..BASE
    },
    Case {
        name: "conformance-mft_maxdevices",
        package: "conformance-mft_maxdevices",
        disks: 63,
        expect: &[Expect::OutputEnds(&["SUCCESS"])],
        ..BASE
    },
    Case {
        name: "block-example",
        package: "block",
        options: &["--mem=4", "--block:storage=/disks/blk"],
        args: &["--write=from-the-guest"],
        setup: Some("rm -f /disks/blk; truncate -s 4096 /disks/blk\n"),
        after: Some("head -c 14 /disks/blk; echo\n"),
        expect: &[
            Expect::Output(&[
                "storage: 8 sectors of 512 bytes",
                "sector 0: \"from-the-guest\"",
            ]),
            Expect::L1(&["from-the-guest"]),
        ],
        ..BASE
    },
    Case {
        name: "hello-key-missing",
        package: "hello-key",
        status: 1,
        expect: &[Expect::Output(&[
            "error: missing boot argument --hello=TEXT",
        ])],
        ..BASE
    },
    Case {
        name: "checksum",
        package: "checksum",
        args: &["--text=123456789"],
        expect: &[Expect::Output(&[
            "crc32=cbf43926 adler32=091e01de length=9",
        ])],
        ..BASE
    },
    // morgana-tls's provider, hard-float: the crates may take AES-NI/AVX code here.
    Case {
        name: "conformance-tls",
        package: "conformance-tls",
        options: &["--mem=64"],
        expect: &[Expect::Output(&[
            "record TLS13_AES_256_GCM_SHA384 ok",
            "open TLS13_AES_256_GCM_SHA384 ok",
            "record TLS13_CHACHA20_POLY1305_SHA256 ok",
            "open TLS13_CHACHA20_POLY1305_SHA256 ok",
            "sha256(abc) ok",
            "sha384(abc) ok",
            "hkdf-sha256 rfc5869 case 1 ok",
            "ECDSA_NISTP256_SHA256 signature ok",
            "RSA_PKCS1_SHA256 signature ok",
            "RSA_PSS_SHA256 signature ok",
            "handshake TLS13_AES_128_GCM_SHA256 Some(TLSv1_3): 40000 bytes each way ok",
            "handshake TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 Some(TLSv1_2): 40000 bytes each way ok",
            "handshake TLS13_AES_256_GCM_SHA384 Some(TLSv1_3): 40000 bytes each way ok",
            "handshake TLS13_CHACHA20_POLY1305_SHA256 Some(TLSv1_3): 40000 bytes each way ok",
            "handshake TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 Some(TLSv1_2): 40000 bytes each way ok",
            "handshake TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 Some(TLSv1_2): 40000 bytes each way ok",
            "SUCCESS",
        ])],
        ..BASE
    },
    Case {
        name: "conformance-net",
        package: "conformance-net",
        options: &["--mem=4", "--net:service0=tap0"],
        args: &["--limit=3"],
        setup: Some(TAP_UP),
        during: Some("ping -c 3 -W 20 10.0.0.2 | tail -n 2 | head -n 1\n"),
        after: Some(TAP_DOWN),
        expect: &[Expect::L1(&[
            "3 packets transmitted, 3 packets received, 0% packet loss",
        ])],
        ..BASE
    },
    Case {
        name: "echo-server",
        package: "echo-server",
        options: &["--mem=32", "--net:service=tap0"],
        args: &["--ipv4=10.0.0.2/24"],
        setup: Some(TAP_UP),
        // The service never exits: L1 talks to it over TCP (retrying until it listens), then
        // stops it.
        during: Some(
            "for i in $(seq 1 40); do \
               echo morgana-echo | timeout 10 nc 10.0.0.2 7 >/tmp/echo.out 2>/dev/null; \
               [ -s /tmp/echo.out ] && break; sleep 0.5; done; \
             echo \"echoed: $(cat /tmp/echo.out)\"; touch /tmp/stopped; kill $GUEST_PID\n",
        ),
        after: Some(TAP_DOWN),
        end: State::Stopped,
        expect: &[
            Expect::Line("echo-server: 10.0.0.2/24 listening on port 7", ""),
            Expect::L1(&["echoed: morgana-echo"]),
        ],
        ..BASE
    },
    connections::HTTP_SERVER,
    connections::ECHO_SERVER,
    https::TLS13,
    https::KEEP_ALIVE,
    https::TLS12,
    https::REDIRECT,
];

fn check(case: &Case, o: &Outcome) -> Vec<String> {
    let mut errors = Vec::new();
    let ended = match case.end {
        State::Exited => (o.state, o.status) == (State::Exited, Some(case.status)),
        other => o.state == other,
    };
    if !ended {
        errors.push(format!(
            "ended {:?} with status {:?}, expected {:?} (status {} when exited)",
            o.state, o.status, case.end, case.status
        ));
    }
    let output = o.guest_output();
    for e in case.expect {
        let ok = match *e {
            Expect::Output(lines) => output == lines,
            Expect::OutputEnds(lines) => output.ends_with(lines),
            Expect::Stdout(lines) => o.stdout == lines,
            Expect::First(line) => o.stdout.first().is_some_and(|l| l == line),
            Expect::Last(line) => o.stdout.last().is_some_and(|l| l == line),
            Expect::Line(start, end) => o
                .stdout
                .iter()
                .any(|l| l.starts_with(start) && l.ends_with(end)),
            Expect::L1(lines) => o.l1 == lines,
            Expect::L1Contains(text) => o.l1.iter().any(|l| l.contains(text)),
        };
        if !ok {
            errors.push(format!("expected {e:?}"));
        }
    }
    if !errors.is_empty() {
        errors.push(format!("stdout {:?}", o.stdout));
        errors.push(format!("stderr {:?}", o.stderr));
        errors.push(format!("L1 {:?}", o.l1));
    }
    errors
}

/// The cases for `only` (a package or case name; all when `None`).
pub fn select(only: Option<&str>) -> Vec<&'static Case> {
    CASES
        .iter()
        .filter(|c| only.is_none_or(|p| p == c.package || p == c.name))
        .collect()
}

/// The guests for `cases` of workspace `ws`, with images from `image` (the package's name and
/// float mode in, the image's path out), but [`https::lab_image`] for [`Case::lab_certs`].
pub fn guests(
    ws: &Workspace,
    cases: &[&Case],
    mut image: impl FnMut(&str, Float) -> Result<PathBuf>,
) -> Result<Vec<Guest>> {
    let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    cases
        .iter()
        .map(|c| {
            let mut options = strings(c.options);
            let mut setup = c.setup.map(str::to_string);
            if c.disks > 0 {
                options.extend((0..c.disks).map(|i| format!("--block:storage{i}=/disks/m{i}")));
                let make = format!(
                    "for i in $(seq 0 {}); do truncate -s 512 /disks/m$i; done\n",
                    c.disks - 1
                );
                setup = Some(setup.unwrap_or_default() + &make);
            }
            let mut files: Vec<(String, PathBuf)> = c
                .files
                .iter()
                .map(|(inside, file)| {
                    (inside.to_string(), morgana_build::morgana_root().join(file))
                })
                .collect();
            if c.hold_client {
                files.push((tools::HOLD_CLIENT.to_string(), tools::hold_client(ws)?));
            }
            let image = if c.lab_certs {
                let ca = https::lab_certs(ws)?.join("ca.pem");
                files.push((https::CA_IN_L1.to_string(), ca));
                https::lab_image(ws)?
            } else {
                image(c.package, c.float)?
            };
            Ok(Guest {
                name: c.name.to_string(),
                image,
                options,
                args: strings(c.args),
                files,
                tools: strings(c.tools),
                setup,
                during: c.during.map(str::to_string),
                after: c.after.map(str::to_string),
                timeout_s: c.timeout_s,
            })
        })
        .collect()
}

/// Checks the smoke report and each outcome, printing one line per test; returns the number
/// of failures.
pub fn report(cases: &[&Case], run: &Run) -> usize {
    super::print_smoke(run);
    let mut failed = 0;
    let s = &run.smoke;
    if s.nested_kvm() && s.has("sse2") && s.has("avx") {
        println!("kvmlab test smoke ... ok (nested KVM on SVM, SSE and AVX offered, /dev/kvm)");
    } else {
        failed += 1;
        println!("kvmlab test smoke ... FAILED ({s:?})");
    }
    for (c, o) in cases.iter().zip(&run.outcomes) {
        let errors = check(c, o);
        if errors.is_empty() {
            println!("kvmlab test {} ... ok ({} ms)", c.name, o.ms);
        } else {
            failed += 1;
            println!("kvmlab test {} ... FAILED ({} ms)", c.name, o.ms);
            for e in errors {
                println!("    {e}");
            }
        }
    }
    println!(
        "kvmlab: {} guests in {} ms from QEMU start ({} ms to /init)",
        run.outcomes.len(),
        run.total_ms,
        run.init_ms
    );
    failed
}

/// Builds the suite's images (release; hard-float unless a case says otherwise) and the lab,
/// boots them all in one lab run and checks each.
pub fn test(ws: &Workspace, only: Option<&str>) -> Result<()> {
    let cases = select(only);
    if cases.is_empty() {
        return Err(Error::Usage("no kvmlab test matches that package".into()));
    }
    let guests = guests(ws, &cases, |package, float| {
        hvt::build_in(ws, &ws.target_dir(), package, Profile::Release, float)
    })?;
    let lab = Lab::assemble(ws)?;
    let run = lab.run(&guests, Echo::Prefixed)?;
    match report(&cases, &run) {
        0 => Ok(()),
        n => Err(Error::Failed(format!("{n} kvmlab test(s)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(stdout: &[&str], status: u8) -> Outcome {
        Outcome {
            name: "t".into(),
            status: Some(status),
            stdout: stdout.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn names_are_unique_and_every_case_checks_something() {
        let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len());
        assert!(CASES.iter().all(|c| !c.expect.is_empty()));
        assert_eq!(select(Some("conformance-blk")).len(), 2);
        assert_eq!(select(Some("nothing")).len(), 0);
    }

    #[test]
    fn checks_catch_wrong_output_and_status() {
        let trap = CASES
            .iter()
            .find(|c| c.name == "conformance-exception")
            .expect("the trap case");
        assert_eq!(trap.name, "conformance-exception");
        let good = outcome(
            &[
                "Solo5: trap: type=#PF ec=0x2 rip=0x1 cr2=0x400000000",
                "Solo5: ABORT: fatal trap",
            ],
            255,
        );
        assert_eq!(check(trap, &good), Vec::<String>::new());
        let wrong_status = Outcome {
            status: Some(0),
            ..good.clone()
        };
        assert_eq!(check(trap, &wrong_status).len(), 4);
        let timed_out = Outcome {
            state: State::Timeout,
            ..good.clone()
        };
        assert!(!check(trap, &timed_out).is_empty());
        let hello = CASES
            .iter()
            .find(|c| c.name == "conformance-hello")
            .expect("the hello case");
        let out = outcome(
            &[
                "Solo5: banner",
                "Hello, World",
                "Command line is: 'Hello_Solo5 a b'",
                "SUCCESS",
            ],
            0,
        );
        assert!(check(hello, &out).is_empty());
        let short = outcome(&["Hello, World", "SUCCESS"], 0);
        assert!(!check(hello, &short).is_empty());
    }

    #[test]
    fn many_disks_become_options_and_files() {
        let cases = select(Some("conformance-mft_maxdevices"));
        let ws = Workspace {
            root: PathBuf::from("/nonexistent"),
        };
        let g = guests(&ws, &cases, |p, _| Ok(PathBuf::from(format!("{p}.hvt")))).unwrap();
        assert_eq!(g[0].options.len(), 64);
        assert_eq!(g[0].options[1], "--block:storage0=/disks/m0");
        assert_eq!(g[0].options[63], "--block:storage62=/disks/m62");
        assert_eq!(
            g[0].setup.as_deref(),
            Some("for i in $(seq 0 62); do truncate -s 512 /disks/m$i; done\n")
        );
        assert_eq!(g[0].image, PathBuf::from("conformance-mft_maxdevices.hvt"));
    }
}
