//! The unikernel and the host's littlefs (PyPI's littlefs-python) on the same image, both
//! ways: what `storage` wrote, the host reads; what the host wrote, `storage` reads and counts on.

use std::process::Command;
use std::time::Duration;

use morgana_testkit::{Prereq, require, run};

const EXE: &str = env!("CARGO_BIN_EXE_storage");

const READ_COUNT: &str = "import sys, littlefs
data = open(sys.argv[1], 'rb').read()
fs = littlefs.LittleFS(block_size=4096, block_count=len(data) // 4096, mount=False)
fs.context.buffer = bytearray(data)
fs.mount()
print(sorted(fs.listdir('/boots')))
with fs.open('boots/count', 'rb') as fh:
    print(fh.read().decode())
with fs.open('boots/last', 'rb') as fh:
    print(int(fh.read()) > 1_700_000_000 * 10**9)
";

const WRITE_COUNT: &str = "import sys, littlefs
fs = littlefs.LittleFS(block_size=4096, block_count=64)
fs.makedirs('boots', exist_ok=True)
with fs.open('boots/count', 'wb') as fh:
    fh.write(b'41')
open(sys.argv[1], 'wb').write(fs.context.buffer)
";

fn python(script: &str, image: &str) -> String {
    let out = run(
        Command::new("python3").args(["-c", script, image]),
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(0), "python: {}", out.stderr);
    out.stdout
}

fn storage(image: &str, args: &[&str]) -> String {
    let out = run(
        Command::new(EXE)
            .arg(format!("--block:storage={image}"))
            .arg("--")
            .args(args),
        Duration::from_secs(60),
    );
    assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""));
    out.stdout.lines().next().unwrap_or("").to_string()
}

#[test]
fn the_host_reads_the_unikernels_disk_and_the_unikernel_the_hosts() {
    require!(Prereq::PythonModule("littlefs"));
    let image = std::env::temp_dir().join(format!("morgana-interop-{}.img", std::process::id()));
    let path = image.to_str().unwrap();
    std::fs::write(&image, vec![0u8; 256 * 1024]).unwrap();
    assert_eq!(storage(path, &["--format"]), "storage: boot 1");
    assert_eq!(storage(path, &[]), "storage: boot 2");
    assert_eq!(python(READ_COUNT, path), "['count', 'last']\n2\nTrue\n");

    python(WRITE_COUNT, path);
    assert_eq!(storage(path, &[]), "storage: boot 42");
    assert_eq!(python(READ_COUNT, path), "['count', 'last']\n42\nTrue\n");
    std::fs::remove_file(&image).unwrap();
}
