//! Archives written by GNU tar (gnu, pax and ustar formats) read back with the same keys and
//! bytes; bad archives refused.

use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::process::Command;
use std::task::{Context, Poll, Waker};

use morgana_block::{BlockDevice, BlockError, BlockInfo, check_request};
use morgana_kv::{Kind, KvError, KvRead};
use morgana_tar::{TarError, TarKv};
use morgana_testkit::{Prereq, require};

#[derive(Debug)]
struct Mem(Vec<u8>, u32);
impl BlockDevice for Mem {
    fn info(&self) -> BlockInfo {
        BlockInfo {
            capacity: self.0.len() as u64,
            sector_size: self.1,
            read_only: true,
        }
    }
    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_request(&self.info(), offset, buf.len(), false)?;
        buf.copy_from_slice(&self.0[offset as usize..offset as usize + buf.len()]);
        Ok(())
    }
    async fn write(&mut self, _: u64, _: &[u8]) -> Result<(), BlockError> {
        Err(BlockError::ReadOnly)
    }
    async fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

fn now<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("memory never waits"),
    }
}

fn padded(mut bytes: Vec<u8>, sector: usize) -> Vec<u8> {
    bytes.resize(bytes.len().div_ceil(sector) * sector, 0);
    bytes
}

struct Site(PathBuf);
impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const LONG: &str = "a-directory-name-that-is-long-enough/and-a-file-name-that-makes-the-path-longer-than-one-hundred-bytes.txt";

fn site(label: &str) -> Site {
    let dir = std::env::temp_dir().join(format!("morgana-tar-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("css")).unwrap();
    std::fs::create_dir_all(dir.join(LONG).parent().unwrap()).unwrap();
    std::fs::write(dir.join("index.html"), "<p>tar</p>\n").unwrap();
    std::fs::write(dir.join("css/site.css"), vec![b'c'; 1500]).unwrap();
    std::fs::write(dir.join("empty"), "").unwrap();
    std::fs::write(dir.join(LONG), "long\n").unwrap();
    Site(dir)
}

#[test]
fn gnu_pax_and_ustar_archives_read_back() {
    require!(Prereq::Tool("tar"));
    let site = site("formats");
    for format in ["gnu", "pax", "ustar"] {
        let out = Command::new("tar")
            .args(["-c", "-f", "-", &format!("--format={format}"), "-C"])
            .arg(&site.0)
            .arg(".")
            .output()
            .unwrap();
        // ustar holds the long path too: split between its prefix and name fields.
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for sector in [512, 4096] {
            let disk = Mem(padded(out.stdout.clone(), sector), sector as u32);
            let mut kv = now(TarKv::open(disk, "site")).unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!(now(kv.get("index.html")).unwrap(), b"<p>tar</p>\n");
            assert_eq!(now(kv.get("css/site.css")).unwrap(), vec![b'c'; 1500]);
            assert_eq!(now(kv.get("empty")).unwrap(), b"");
            let mut buf = [0u8; 10];
            assert_eq!(now(kv.get_range("css/site.css", 1495, &mut buf)), Ok(5));
            assert_eq!(now(kv.exists("css")), Ok(Some(Kind::Dictionary)));
            assert_eq!(
                now(kv.get("css")),
                Err(KvError::ValueExpected("css".into()))
            );
            assert_eq!(now(kv.get("nope")), Err(KvError::NotFound("nope".into())));
            assert!(now(kv.last_modified("index.html")).unwrap() > 1_600_000_000_000_000_000);
            let root = now(kv.list("")).unwrap();
            assert_eq!(now(kv.get(LONG)).unwrap(), b"long\n", "{format}");
            assert_eq!(kv.len(), 4);
            let long_dir = (
                "a-directory-name-that-is-long-enough".into(),
                Kind::Dictionary,
            );
            assert!(root.contains(&long_dir));
            assert!(root.contains(&("css".into(), Kind::Dictionary)));
            assert!(root.contains(&("index.html".into(), Kind::Value)));
        }
    }
}

#[test]
fn bad_archives_are_refused() {
    let err = now(TarKv::open(Mem(vec![0x41; 4096], 512), "site")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "'site' holds no tar archive (bad header at byte 0)"
    );
    require!(Prereq::Tool("tar"));
    let site = site("bad");
    let out = Command::new("tar")
        .args(["-c", "-f", "-", "-C"])
        .arg(&site.0)
        .args(["./css"])
        .output()
        .unwrap();
    let mut cut = out.stdout.clone();
    cut.truncate(1024);
    let err = now(TarKv::open(Mem(cut, 512), "site")).unwrap_err();
    assert_eq!(
        err,
        TarError::Truncated {
            name: "site".into(),
            entry: "./css/site.css".into()
        }
    );
    let mut flipped = out.stdout.clone();
    flipped[512 + 3] ^= 1;
    assert!(matches!(
        now(TarKv::open(Mem(flipped, 512), "site")),
        Err(TarError::NotTar { offset: 512, .. })
    ));
}
