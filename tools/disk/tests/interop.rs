//! Images made by `disk create` read by the host's littlefs (PyPI's littlefs-python) with the
//! same keys and bytes, images made by littlefs-python read by `disk ls|get`, and bad input
//! refused with one line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Outcome, Prereq, require, run};

const DISK: &str = env!("CARGO_BIN_EXE_morgana-disk");

/// Prints every file of the littlefs image argv[1] as `path hex`, sorted; block size 4096 and
/// block count = size / 4096, the store's geometry.
const READ: &str = "import sys, littlefs
data = open(sys.argv[1], 'rb').read()
fs = littlefs.LittleFS(block_size=4096, block_count=len(data) // 4096, mount=False)
fs.context.buffer = bytearray(data)
fs.mount()
out = []
for root, dirs, files in fs.walk('/'):
    for f in files:
        p = (root.rstrip('/') + '/' + f).lstrip('/')
        with fs.open(p, 'rb') as fh:
            out.append(p + ' ' + fh.read().hex())
print('\\n'.join(sorted(out)))
";

/// Writes a 64-block image to argv[1] holding argv[2:] as `key=value` pairs.
const WRITE: &str = "import sys, os, littlefs
fs = littlefs.LittleFS(block_size=4096, block_count=64)
for pair in sys.argv[2:]:
    key, value = pair.split('=', 1)
    if '/' in key:
        fs.makedirs(os.path.dirname(key), exist_ok=True)
    with fs.open(key, 'wb') as fh:
        fh.write(value.encode())
open(sys.argv[1], 'wb').write(fs.context.buffer)
";

struct Temp(PathBuf);
impl Temp {
    fn new(label: &str) -> Temp {
        let p = std::env::temp_dir().join(format!("morgana-disk-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Temp(p)
    }
}
impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn disk(args: &[&str]) -> Outcome {
    run(Command::new(DISK).args(args), Duration::from_secs(60))
}

fn python(script: &str, args: &[&str]) -> String {
    let out = run(
        Command::new("python3").arg("-c").arg(script).args(args),
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(0), "python: {}", out.stderr);
    out.stdout
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn host_littlefs_reads_what_disk_create_wrote() {
    require!(Prereq::PythonModule("littlefs"));
    let t = Temp::new("create");
    let site = t.0.join("site");
    std::fs::create_dir_all(site.join("css/deep")).unwrap();
    let binary: Vec<u8> = (0..=255u8).cycle().take(9000).collect();
    std::fs::write(site.join("index.html"), "<p>hi</p>\n").unwrap();
    std::fs::write(site.join("css/deep/x.bin"), &binary).unwrap();
    std::fs::write(site.join("empty"), "").unwrap();
    let image = t.0.join("disk.img");
    let out = disk(&["create", "--size", "256K", "--from", s(&site), s(&image)]);
    assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""));
    assert_eq!(std::fs::metadata(&image).unwrap().len(), 256 * 1024);
    assert_eq!(
        python(READ, &[s(&image)]),
        format!(
            "css/deep/x.bin {}\nempty \nindex.html {}\n",
            hex(&binary),
            hex(b"<p>hi</p>\n")
        )
    );
    let out = disk(&["ls", s(&image)]);
    assert_eq!(
        out.stdout,
        "9000\tcss/deep/x.bin\n0\tempty\n10\tindex.html\n"
    );
    let out = disk(&["get", s(&image), "css/deep/x.bin"]);
    assert_eq!(out.stdout_bytes, binary);
}

#[test]
fn disk_ls_and_get_read_what_host_littlefs_wrote() {
    require!(Prereq::PythonModule("littlefs"));
    let t = Temp::new("python");
    let image = t.0.join("py.img");
    python(WRITE, &[s(&image), "a/b/c=deep value", "top=1"]);
    let out = disk(&["ls", s(&image)]);
    assert_eq!(
        (out.stdout.as_str(), out.code),
        ("10\ta/b/c\n1\ttop\n", Some(0))
    );
    assert_eq!(disk(&["ls", s(&image), "a/b"]).stdout, "10\ta/b/c\n");
    assert_eq!(disk(&["get", s(&image), "a/b/c"]).stdout, "deep value");
}

#[test]
fn bad_input_is_one_line_and_status_1() {
    let t = Temp::new("bad");
    let blank = t.0.join("blank.img");
    std::fs::write(&blank, vec![0u8; 65536]).unwrap();
    let made = t.0.join("made.img");
    let never = t.0.join("n.img");
    assert_eq!(disk(&["create", "--size", "64K", s(&made)]).code, Some(0));
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["create", "--size", "64K", s(&made)],
            format!("error: {}: File exists (os error 17)\n", made.display()),
        ),
        (
            vec!["create", "--size", "5000", s(&never)],
            "error: --size 5000: need a multiple of 4096 bytes, at least 8192\n".into(),
        ),
        (
            vec!["ls", s(&blank)],
            format!(
                "error: storage: no littlefs file system on '{}' (use --format to create one)\n",
                blank.display()
            ),
        ),
        (
            vec!["get", s(&made), "missing"],
            "error: no key 'missing'\n".into(),
        ),
        (
            vec!["get", s(&made), "a/../b"],
            "error: invalid key 'a/../b': it has a '.' or '..' segment\n".into(),
        ),
        (
            vec!["frobnicate"],
            "error: usage: disk create --size SIZE [--from DIR] FILE | disk ls FILE [KEY] | disk get FILE KEY\n".into(),
        ),
    ];
    for (args, expected) in cases {
        let out = disk(&args);
        assert_eq!(
            (out.stderr.as_str(), out.code),
            (expected.as_str(), Some(1)),
            "{args:?}"
        );
    }
    assert!(std::fs::read(&blank).unwrap().iter().all(|&b| b == 0));
    assert!(!never.exists());
}
