//! `cargo xtask disk`: littlefs disk images from the host, in the geometry the unikernels'
//! store uses (see `morgana-littlefs`: 4096-byte blocks, block count = size / 4096, 512-byte
//! sectors).
//!
//! ```text
//! disk create --size SIZE [--from DIR] FILE   new image (SIZE like 16M, 1G, 65536); with
//!                                             DIR, its files become keys (relative paths)
//! disk ls FILE [KEY]                          every value under KEY: size, then key
//! disk get FILE KEY                           the value of KEY on standard output
//! ```
//!
//! Any problem is one `error: ...` line on standard error and status 1; `create` never
//! overwrites an existing file.
#![forbid(unsafe_code)]

mod bench;

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::process::ExitCode;
use std::task::{Context, Poll, Waker};

use morgana_block::{BlockDevice, BlockError, BlockInfo, check_request};
use morgana_kv::{Kind, KvRead, KvWrite};
use morgana_littlefs::LittleFs;

const SECTOR: u32 = 512;

/// An image file as a block device.
struct FileDisk {
    file: File,
    info: BlockInfo,
}

impl FileDisk {
    fn open(path: &Path, write: bool) -> Result<FileDisk, String> {
        let file = OpenOptions::new()
            .read(true)
            .write(write)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let len = file
            .metadata()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        Ok(FileDisk {
            file,
            info: BlockInfo {
                capacity: len - len % u64::from(SECTOR),
                sector_size: SECTOR,
                read_only: !write,
            },
        })
    }
}

fn io(e: std::io::Error) -> BlockError {
    BlockError::Device(e.raw_os_error().unwrap_or(-1))
}

impl BlockDevice for FileDisk {
    fn info(&self) -> BlockInfo {
        self.info
    }
    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), false)?;
        self.file.read_exact_at(buf, offset).map_err(io)
    }
    async fn write(&mut self, offset: u64, buf: &[u8]) -> Result<(), BlockError> {
        check_request(&self.info, offset, buf.len(), true)?;
        self.file.write_all_at(buf, offset).map_err(io)
    }
    async fn flush(&mut self) -> Result<(), BlockError> {
        self.file.sync_data().map_err(io)
    }
}

/// The store's futures over a file complete at once.
fn now<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("file I/O is synchronous"),
    }
}

fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// `16M`, `1G`, `512K` or plain bytes.
fn parse_size(s: &str) -> Option<u64> {
    let (digits, unit) = match s.char_indices().last()? {
        (i, 'K' | 'k') => (&s[..i], 1u64 << 10),
        (i, 'M' | 'm') => (&s[..i], 1 << 20),
        (i, 'G' | 'g') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

fn usage() -> String {
    "usage: disk create --size SIZE [--from DIR] FILE | disk ls FILE [KEY] | disk get FILE KEY"
        .into()
}

fn add_dir(store: &mut LittleFs<FileDisk>, root: &Path, dir: &Path) -> Result<usize, String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    let mut count = 0;
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            count += add_dir(store, root, &path)?;
            continue;
        }
        let key = path
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .ok_or_else(|| format!("{}: the name is not UTF-8", path.display()))?
            .to_string();
        let value = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        now(store.set(&key, &value)).map_err(|e| e.to_string())?;
        count += 1;
    }
    Ok(count)
}

fn create(args: &[String]) -> Result<(), String> {
    let (mut size, mut from, mut file) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--size" => size = Some(it.next().ok_or_else(usage)?.clone()),
            "--from" => from = Some(PathBuf::from(it.next().ok_or_else(usage)?)),
            f if !f.starts_with('-') && file.is_none() => file = Some(PathBuf::from(f)),
            _ => return Err(usage()),
        }
    }
    let (Some(size), Some(file)) = (size, file) else {
        return Err(usage());
    };
    let bytes = parse_size(&size)
        .filter(|b| *b >= 8192 && b % 4096 == 0)
        .ok_or_else(|| format!("--size {size}: need a multiple of 4096 bytes, at least 8192"))?;
    let out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    out.set_len(bytes)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    drop(out);
    let result = (|| {
        let disk = FileDisk::open(&file, true)?;
        let mut store = LittleFs::format(disk, &file.display().to_string(), wall_ns)
            .map_err(|e| e.to_string())?;
        if let Some(dir) = from {
            add_dir(&mut store, &dir, &dir)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&file);
    }
    result
}

fn mount(file: &str) -> Result<LittleFs<FileDisk>, String> {
    let disk = FileDisk::open(Path::new(file), false)?;
    LittleFs::mount(disk, file, wall_ns).map_err(|e| e.to_string())
}

fn ls(store: &mut LittleFs<FileDisk>, key: &str, out: &mut String) -> Result<(), String> {
    let entries = now(store.list(key)).map_err(|e| e.to_string())?;
    for (name, kind) in entries {
        let child = if key.is_empty() {
            name
        } else {
            format!("{key}/{name}")
        };
        match kind {
            Kind::Dictionary => ls(store, &child, out)?,
            Kind::Value => {
                let size = now(store.size(&child)).map_err(|e| e.to_string())?;
                out.push_str(&format!("{size}\t{child}\n"));
            }
        }
    }
    Ok(())
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("create") => create(&args[1..]),
        Some("ls") if (2..=3).contains(&args.len()) => {
            let mut store = mount(&args[1])?;
            let key = args.get(2).map_or("", String::as_str);
            let key = key.trim_matches('/');
            let mut out = String::new();
            match now(store.exists(key)).map_err(|e| e.to_string())? {
                Some(Kind::Value) => {
                    let size = now(store.size(key)).map_err(|e| e.to_string())?;
                    out.push_str(&format!("{size}\t{key}\n"));
                }
                Some(Kind::Dictionary) => ls(&mut store, key, &mut out)?,
                None => return Err(format!("no key '{key}'")),
            }
            std::io::stdout()
                .write_all(out.as_bytes())
                .map_err(|e| e.to_string())
        }
        // `bench FILE OPS SETS`: for `cargo xtask bench storage` (see the bench module).
        Some("bench") if args.len() == 4 => {
            let number = |s: &String| s.parse::<u64>().map_err(|_| usage());
            bench::run(Path::new(&args[1]), number(&args[2])?, number(&args[3])?)
        }
        Some("get") if args.len() == 3 => {
            let mut store = mount(&args[1])?;
            let value = now(store.get(&args[2])).map_err(|e| e.to_string())?;
            std::io::stdout()
                .write_all(&value)
                .map_err(|e| e.to_string())
        }
        _ => Err(usage()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
